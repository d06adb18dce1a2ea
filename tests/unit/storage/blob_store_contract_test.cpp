// The contract every BlobStore implementation passes.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/blob_store.h"
#include "storage/local/local_blob_store.h"
#include "storage/s3/s3_blob_store.h"
#include "support/fake_blob_store.h"
#include "support/s3_server.h"
#include "support/temp_dir.h"

namespace garret::storage {
namespace {

struct LocalFactory {
  static constexpr const char* kName = "Local";
  std::unique_ptr<BlobStore> make() {
    auto store = LocalBlobStore::open(dir.path() / "store");
    return store.ok() ? std::move(store).value() : nullptr;
  }
  garret::testing::TempDir dir;
};

struct FakeFactory {
  static constexpr const char* kName = "Fake";
  std::unique_ptr<BlobStore> make() { return std::make_unique<FakeBlobStore>(); }
};

// s3rver behind the harness proxy (which checks every signature); 5 MiB
// parts, so LargeStreamingWrite is a four-part multipart upload. Each store
// has its own key prefix, so tests sharing the server see only their keys.
struct S3Factory {
  static constexpr const char* kName = "S3";
  std::unique_ptr<BlobStore> make() {
    auto* server = garret::testing::sharedS3Server();
    if (server == nullptr) {
      ADD_FAILURE() << garret::testing::sharedS3ServerError();
      return nullptr;
    }
    std::string prefix = garret::testing::S3TestServer::uniquePrefix("contract");
    auto store = S3BlobStore::open(server->options(prefix));
    if (!store.ok()) ADD_FAILURE() << store.error().message;
    return store.ok() ? std::move(store).value() : nullptr;
  }
};

template <class Factory>
class BlobStoreContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = factory_.make();
    ASSERT_NE(store_, nullptr);
  }

  void put(std::string_view key, std::string_view data) {
    ASSERT_TRUE(store_->put(key, asBytes(data)).ok()) << key;
  }
  std::string get(std::string_view key) {
    auto r = store_->get(key);
    EXPECT_TRUE(r.ok()) << key << ": " << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : "";
  }
  bool exists(std::string_view key) {
    auto r = store_->exists(key);
    EXPECT_TRUE(r.ok()) << key;
    return r.ok() && *r;
  }
  std::vector<std::string> list(std::string_view prefix) {
    auto r = store_->list(prefix);
    EXPECT_TRUE(r.ok()) << prefix;
    return r.ok() ? *r : std::vector<std::string>{};
  }

  Factory factory_;
  std::unique_ptr<BlobStore> store_;
};

struct FactoryNames {
  template <class T>
  static std::string GetName(int) {
    return T::kName;
  }
};

using Factories = ::testing::Types<LocalFactory, FakeFactory, S3Factory>;
TYPED_TEST_SUITE(BlobStoreContractTest, Factories, FactoryNames);

std::string pattern(std::size_t size, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

TYPED_TEST(BlobStoreContractTest, PutThenGet) {
  this->put("nar/ab/abcdef.nar.zst", "hello");
  EXPECT_EQ(this->get("nar/ab/abcdef.nar.zst"), "hello");
}

TYPED_TEST(BlobStoreContractTest, EmptyBlob) {
  this->put("empty", "");
  EXPECT_TRUE(this->exists("empty"));
  EXPECT_EQ(this->get("empty"), "");
}

TYPED_TEST(BlobStoreContractTest, MissingBlobIsNotFound) {
  auto got = this->store_->get("nar/missing");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
  auto opened = this->store_->open("nar/missing");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(this->exists("nar/missing"));
}

TYPED_TEST(BlobStoreContractTest, ExistsFollowsPutAndRemove) {
  EXPECT_FALSE(this->exists("a/b"));
  this->put("a/b", "x");
  EXPECT_TRUE(this->exists("a/b"));
  ASSERT_TRUE(this->store_->remove("a/b").ok());
  EXPECT_FALSE(this->exists("a/b"));
  EXPECT_EQ(this->store_->get("a/b").error().code, ErrorCode::kNotFound);
}

TYPED_TEST(BlobStoreContractTest, RemovingMissingKeyIsOk) {
  EXPECT_TRUE(this->store_->remove("never/there").ok());
}

TYPED_TEST(BlobStoreContractTest, ListByPrefixIsSorted) {
  for (const char* key : {"nar/cd/3", "nar/ab/2", "narinfo/x", "nar/ab/1", "other"}) {
    this->put(key, key);
  }
  using Keys = std::vector<std::string>;
  EXPECT_EQ(this->list(""), (Keys{"nar/ab/1", "nar/ab/2", "nar/cd/3", "narinfo/x", "other"}));
  EXPECT_EQ(this->list("nar/"), (Keys{"nar/ab/1", "nar/ab/2", "nar/cd/3"}));
  EXPECT_EQ(this->list("nar"), (Keys{"nar/ab/1", "nar/ab/2", "nar/cd/3", "narinfo/x"}));
  EXPECT_EQ(this->list("nar/ab/"), (Keys{"nar/ab/1", "nar/ab/2"}));
  EXPECT_EQ(this->list("nar/a"), (Keys{"nar/ab/1", "nar/ab/2"}));
  EXPECT_EQ(this->list("nar/ab/2"), (Keys{"nar/ab/2"}));
  EXPECT_TRUE(this->list("zzz/").empty());
  EXPECT_TRUE(this->list("nar/zz/").empty());
}

TYPED_TEST(BlobStoreContractTest, ListRejectsBadPrefix) {
  for (const char* prefix : {"../", "/abs", "a//", "a b", "./x"}) {
    auto r = this->store_->list(prefix);
    ASSERT_FALSE(r.ok()) << prefix;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << prefix;
  }
}

TYPED_TEST(BlobStoreContractTest, ReadsRanges) {
  std::string data = pattern(1000, 7);
  this->put("blob", data);
  auto reader = this->store_->open("blob");
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->size(), 1000u);
  std::uint8_t buf[64];
  auto n = (*reader)->read(0, buf, 10);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 10u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 10), data.substr(0, 10));
  n = (*reader)->read(500, buf, 64);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), *n), data.substr(500, 64));
  n = (*reader)->read(995, buf, 64);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 5u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 5), data.substr(995));
  EXPECT_EQ(*(*reader)->read(1000, buf, 64), 0u);
  EXPECT_EQ(*(*reader)->read(5000, buf, 64), 0u);
}

TYPED_TEST(BlobStoreContractTest, UncommittedWriterIsInvisible) {
  auto writer = this->store_->create("pending");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->write(asBytes("data")).ok());
  ASSERT_TRUE((*writer)->finish().ok());
  EXPECT_FALSE(this->exists("pending"));
  EXPECT_TRUE(this->list("").empty());
  ASSERT_TRUE((*writer)->commit().ok());
  EXPECT_EQ(this->get("pending"), "data");
}

TYPED_TEST(BlobStoreContractTest, DestroyedWriterLeavesNothing) {
  {
    auto writer = this->store_->create("dropped");
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->write(asBytes(pattern(1 << 20, 1))).ok());
    ASSERT_TRUE((*writer)->finish().ok());
  }
  EXPECT_FALSE(this->exists("dropped"));
  EXPECT_TRUE(this->list("").empty());
}

TYPED_TEST(BlobStoreContractTest, DestroyedWriterKeepsPreviousBlob) {
  this->put("k", "old");
  {
    auto writer = this->store_->create("k");
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->write(asBytes("new")).ok());
  }
  EXPECT_EQ(this->get("k"), "old");
}

TYPED_TEST(BlobStoreContractTest, CommitWithoutFinishFinishes) {
  auto writer = this->store_->create("k");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->write(asBytes("abc")).ok());
  ASSERT_TRUE((*writer)->commit().ok());
  EXPECT_EQ(this->get("k"), "abc");
}

TYPED_TEST(BlobStoreContractTest, WriteAfterFinishFails) {
  auto writer = this->store_->create("k");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->finish().ok());
  EXPECT_FALSE((*writer)->write(asBytes("late")).ok());
}

TYPED_TEST(BlobStoreContractTest, InvalidKeysAreRejected) {
  for (const char* key :
       {"", "/abs", "a/../b", "..", ".", "a//b", "a/", "a b", "a\\b", "ü", "a/./b"}) {
    auto expect_invalid = [&](const Error& e) {
      EXPECT_EQ(e.code, ErrorCode::kInvalidArgument) << "key \"" << key << "\"";
    };
    auto created = this->store_->create(key);
    ASSERT_FALSE(created.ok()) << key;
    expect_invalid(created.error());
    expect_invalid(this->store_->open(key).error());
    expect_invalid(this->store_->exists(key).error());
    expect_invalid(this->store_->remove(key).error());
    expect_invalid(this->store_->put(key, asBytes("x")).error());
  }
  EXPECT_FALSE(this->store_->create(std::string(1025, 'a')).ok());
}

TYPED_TEST(BlobStoreContractTest, OverwriteLastWins) {
  this->put("k", "first, longer value");
  this->put("k", "second");
  EXPECT_EQ(this->get("k"), "second");
  EXPECT_EQ(this->list(""), std::vector<std::string>{"k"});
}

TYPED_TEST(BlobStoreContractTest, LargeStreamingWrite) {
  constexpr std::size_t kSize = 20 * 1024 * 1024;
  constexpr std::size_t kPiece = 64 * 1024;
  std::string data = pattern(kSize, 42);
  auto writer = this->store_->create("nar/big/blob.nar");
  ASSERT_TRUE(writer.ok());
  for (std::size_t off = 0; off < kSize; off += kPiece) {
    ASSERT_TRUE((*writer)->write(asBytes(std::string_view(data).substr(off, kPiece))).ok());
  }
  ASSERT_TRUE((*writer)->finish().ok());
  ASSERT_TRUE((*writer)->commit().ok());

  auto reader = this->store_->open("nar/big/blob.nar");
  ASSERT_TRUE(reader.ok());
  ASSERT_EQ((*reader)->size(), kSize);
  std::string back(kSize, '\0');
  std::size_t done = 0;
  while (done < kSize) {
    auto n = (*reader)->read(done, reinterpret_cast<std::uint8_t*>(back.data() + done), 1 << 20);
    ASSERT_TRUE(n.ok());
    ASSERT_GT(*n, 0u);
    done += *n;
  }
  EXPECT_TRUE(back == data);
}

TYPED_TEST(BlobStoreContractTest, SmallPiecesAreConcatenated) {
  auto writer = this->store_->create("k");
  ASSERT_TRUE(writer.ok());
  std::string expected;
  for (int i = 0; i < 10000; ++i) {
    std::string piece = std::to_string(i) + ",";
    expected += piece;
    ASSERT_TRUE((*writer)->write(asBytes(piece)).ok());
  }
  ASSERT_TRUE((*writer)->commit().ok());
  EXPECT_EQ(this->get("k"), expected);
}

TYPED_TEST(BlobStoreContractTest, ConcurrentWritersOfOneKeyLeaveOneWholeBlob) {
  constexpr int kThreads = 4;
  std::vector<std::string> values;
  for (int i = 0; i < kThreads; ++i) values.push_back(pattern(256 * 1024 + i, i));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back(
        [&, i] { EXPECT_TRUE(this->store_->put("same", asBytes(values[i])).ok()); });
  }
  for (auto& t : threads) t.join();
  std::string got = this->get("same");
  EXPECT_NE(std::find(values.begin(), values.end(), got), values.end());
}

TYPED_TEST(BlobStoreContractTest, InterleavedWritersOfDifferentKeys) {
  auto a = this->store_->create("x/a");
  auto b = this->store_->create("x/b");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->write(asBytes("a1")).ok());
  ASSERT_TRUE((*b)->write(asBytes("b1")).ok());
  ASSERT_TRUE((*a)->write(asBytes("a2")).ok());
  ASSERT_TRUE((*b)->commit().ok());
  ASSERT_TRUE((*a)->commit().ok());
  EXPECT_EQ(this->get("x/a"), "a1a2");
  EXPECT_EQ(this->get("x/b"), "b1");
}

TYPED_TEST(BlobStoreContractTest, PingSucceeds) { EXPECT_TRUE(this->store_->ping().ok()); }

}  // namespace
}  // namespace garret::storage
