// S3BlobStore against s3rver behind the harness proxy (tests/support/
// s3_server.h): what the contract suite cannot see — request counts,
// multipart, aborts, pagination, the concurrency bound, error messages —
// and, with injected faults, that retries keep data whole.

#include "storage/s3/s3_blob_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "core/hash.h"
#include "support/s3_server.h"

namespace garret::storage {
namespace {

using garret::testing::S3TestServer;

constexpr std::size_t kPart = S3Options::kMinPartSize;

std::string pattern(std::size_t size, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

class S3BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = garret::testing::sharedS3Server();
    GARRET_REQUIRE_S3(server_);
    ASSERT_TRUE(server_->reset());
    store_ = open(options());
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    if (server_ == nullptr) return;
    auto failures = server_->stats()["signature_failures"];
    EXPECT_TRUE(failures.empty() || expect_signature_failures_) << failures.dump(2);
    server_->reset();
  }

  S3Options options() const {
    return server_->options(S3TestServer::uniquePrefix(
        ::testing::UnitTest::GetInstance()->current_test_info()->name()));
  }
  static std::unique_ptr<S3BlobStore> open(S3Options o) {
    auto store = S3BlobStore::open(std::move(o));
    EXPECT_TRUE(store.ok()) << store.error().message;
    return store.ok() ? std::move(store).value() : nullptr;
  }
  // Streams `data` through a writer in 64 KiB pieces.
  static Status write(BlobStore& store, std::string_view key, std::string_view data) {
    GARRET_ASSIGN_OR_RETURN(auto writer, store.create(key));
    for (std::size_t off = 0; off < data.size(); off += 65536) {
      GARRET_TRY(writer->write(asBytes(data.substr(off, 65536))));
    }
    return writer->commit();
  }
  void expectBlob(BlobStore& store, std::string_view key, const std::string& data) {
    auto got = store.get(key);
    ASSERT_TRUE(got.ok()) << got.error().message;
    ASSERT_EQ(got->size(), data.size());
    EXPECT_EQ(Hash::of(*got), Hash::of(data)) << key;
  }
  int op(const char* name) { return server_->opCount(name); }
  void faults(const std::string& json) { ASSERT_TRUE(server_->setFaults(json)); }

  S3TestServer* server_ = nullptr;
  std::unique_ptr<S3BlobStore> store_;
  bool expect_signature_failures_ = false;
};

TEST_F(S3BlobStoreTest, OnePartIsOnePutObject) {
  std::string data = pattern(kPart, 1);  // exactly one part: no multipart
  ASSERT_TRUE(write(*store_, "one", data).ok());
  EXPECT_EQ(op("PutObject"), 1);
  EXPECT_EQ(op("CreateMultipartUpload"), 0);
  expectBlob(*store_, "one", data);
}

TEST_F(S3BlobStoreTest, LargerBlobsAreMultipart) {
  std::string data = pattern(2 * kPart + 12345, 2);
  ASSERT_TRUE(write(*store_, "nar/big", data).ok());
  EXPECT_EQ(op("PutObject"), 0);
  EXPECT_EQ(op("CreateMultipartUpload"), 1);
  EXPECT_EQ(op("UploadPart"), 3);
  EXPECT_EQ(op("CompleteMultipartUpload"), 1);
  EXPECT_EQ(server_->stats()["open_uploads"], 0);
  expectBlob(*store_, "nar/big", data);
}

TEST_F(S3BlobStoreTest, DestroyedMultipartWriterAbortsItsUpload) {
  {
    auto writer = store_->create("dropped");
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->write(asBytes(pattern(2 * kPart + 1, 3))).ok());
    EXPECT_EQ(server_->stats()["open_uploads"], 1);
  }
  EXPECT_EQ(op("AbortMultipartUpload"), 1);
  EXPECT_EQ(server_->stats()["open_uploads"], 0);
  EXPECT_FALSE(*store_->exists("dropped"));
}

TEST_F(S3BlobStoreTest, ListFollowsContinuationTokens) {
  S3Options o = options();
  o.list_page_size = 2;
  auto store = open(o);
  std::vector<std::string> keys;
  for (int i = 6; i >= 0; --i) keys.push_back("nar/k" + std::to_string(i));
  for (const auto& key : keys) ASSERT_TRUE(store->put(key, asBytes(key)).ok());
  ASSERT_TRUE(store->put("other", asBytes("x")).ok());
  auto listed = store->list("nar/");
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(*listed, keys);
  EXPECT_EQ(op("ListObjectsV2"), 4);  // 7 keys, 2 per page
}

TEST_F(S3BlobStoreTest, PrefixesSeparateStores) {
  S3Options a = options(), b = options();
  auto store_a = open(a), store_b = open(b);
  ASSERT_TRUE(store_a->put("k", asBytes("a")).ok());
  ASSERT_TRUE(store_b->put("k", asBytes("b")).ok());
  EXPECT_EQ(*store_a->get("k"), "a");
  EXPECT_EQ(*store_b->get("k"), "b");
  EXPECT_EQ(*store_a->list(""), std::vector<std::string>{"k"});
  // Without a prefix, the objects show under their full names.
  S3Options whole = options();
  whole.prefix = "";
  auto all = open(whole)->list(a.prefix.substr(0, a.prefix.size() - 1));
  ASSERT_TRUE(all.ok());
  EXPECT_NE(std::find(all->begin(), all->end(), a.prefix + "k"), all->end());
}

TEST_F(S3BlobStoreTest, ConcurrentRequestsAreBounded) {
  S3Options o = options();
  o.max_connections = 2;
  auto store = open(o);
  ASSERT_TRUE(store->put("k", asBytes(pattern(256 * 1024, 4))).ok());
  ASSERT_TRUE(server_->reset());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) failures += store->get("k").ok() ? 0 : 1;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(op("GetObject"), 40);
  EXPECT_LE(server_->stats()["max_in_flight"].get<int>(), 2);
}

TEST_F(S3BlobStoreTest, OneReaderServesThreadsReadingRanges) {
  std::string data = pattern(1 << 20, 5);
  ASSERT_TRUE(store_->put("blob", asBytes(data)).ok());
  auto reader = store_->open("blob");
  ASSERT_TRUE(reader.ok());
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 8; ++i) {
        std::size_t offset = static_cast<std::size_t>(t * 250000 + i * 1000);
        std::string buf(4096, '\0');
        auto n = (*reader)->read(offset, reinterpret_cast<std::uint8_t*>(buf.data()), buf.size());
        if (!n.ok() || buf.substr(0, *n) != data.substr(offset, 4096)) ++bad;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad, 0);
  EXPECT_FALSE((*reader)->nativeHandle() >= 0);
  EXPECT_FALSE(store_->openIsCheap());
}

TEST_F(S3BlobStoreTest, WrongSecretIsUnavailableAndSaysWhatToCheck) {
  expect_signature_failures_ = true;
  S3Options o = options();
  o.secret_access_key = "wrong";
  auto store = open(o);
  Status put = store->put("k", asBytes("x"));
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(put.error().message.find("SignatureDoesNotMatch"), std::string::npos)
      << put.error().message;
  EXPECT_NE(put.error().message.find("secret access key"), std::string::npos)
      << put.error().message;
  EXPECT_NE(put.error().message.find("s3://garret-test/"), std::string::npos)
      << put.error().message;
  // HEAD carries no error document; the message still names the suspects.
  auto exists = store->exists("k");
  ASSERT_FALSE(exists.ok());
  EXPECT_EQ(exists.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(exists.error().message.find("clock"), std::string::npos) << exists.error().message;
  Status ping = store->ping();
  ASSERT_FALSE(ping.ok());
  EXPECT_EQ(ping.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(store->stats().retries, 0u);  // 4xx are not retried
}

TEST_F(S3BlobStoreTest, UnknownAccessKeyIsNamed) {
  expect_signature_failures_ = true;
  S3Options o = options();
  o.access_key_id = "NOBODY";
  Status ping = open(o)->ping();
  ASSERT_FALSE(ping.ok());
  EXPECT_NE(ping.error().message.find("InvalidAccessKeyId"), std::string::npos)
      << ping.error().message;
}

TEST_F(S3BlobStoreTest, MissingBucketSaysSo) {
  S3Options o = options();
  o.bucket = "no-such-bucket";
  auto store = open(o);
  Status ping = store->ping();
  ASSERT_FALSE(ping.ok());
  EXPECT_EQ(ping.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(ping.error().message.find("bucket does not exist"), std::string::npos)
      << ping.error().message;
  auto list = store->list("");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().code, ErrorCode::kUnavailable);
}

TEST_F(S3BlobStoreTest, UnreachableServerIsUnavailable) {
  S3Options o = options();
  o.endpoint = "http://127.0.0.1:1";
  o.retry.max_attempts = 2;
  Status ping = open(o)->ping();
  ASSERT_FALSE(ping.ok());
  EXPECT_EQ(ping.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(ping.error().message.find("cannot reach http://127.0.0.1:1"), std::string::npos)
      << ping.error().message;
  EXPECT_NE(ping.error().message.find("after 2 attempts"), std::string::npos)
      << ping.error().message;
}

TEST_F(S3BlobStoreTest, OptionsAreChecked) {
  auto bad = [&](auto mutate, std::string_view needle) {
    S3Options o = options();
    mutate(o);
    auto store = S3BlobStore::open(o);
    ASSERT_FALSE(store.ok()) << needle;
    EXPECT_EQ(store.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(store.error().message.find(needle), std::string::npos) << store.error().message;
  };
  bad([](S3Options& o) { o.bucket.clear(); }, "bucket");
  bad([](S3Options& o) { o.region.clear(); }, "region");
  bad([](S3Options& o) { o.secret_access_key.clear(); }, "AWS_SECRET_ACCESS_KEY");
  bad([](S3Options& o) { o.part_size = 1 << 20; }, "part size");
  bad([](S3Options& o) { o.max_connections = 0; }, "connections");
  bad([](S3Options& o) { o.endpoint = "minio:9000"; }, "endpoint");
  bad([](S3Options& o) { o.prefix = "../x"; }, "prefix");
  S3Options o = options();
  o.prefix = "no-slash";
  auto store = S3BlobStore::open(o);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->options().prefix, "no-slash/");
}

// --- Faults injected by the harness proxy -----------------------------------

TEST_F(S3BlobStoreTest, TransientFailuresAreRetried) {
  faults(R"([{"op": "PutObject", "action": "503", "count": 2},
             {"op": "HeadObject", "action": "500"},
             {"op": "GetObject", "action": "drop"},
             {"op": "ListObjectsV2", "action": "429", "count": 2},
             {"op": "DeleteObject", "action": "drop-after"}])");
  std::string data = pattern(300000, 6);
  ASSERT_TRUE(store_->put("k", asBytes(data)).ok());
  expectBlob(*store_, "k", data);
  auto listed = store_->list("");
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_EQ(*listed, std::vector<std::string>{"k"});
  ASSERT_TRUE(store_->remove("k").ok());  // the retry finds it gone: fine
  EXPECT_FALSE(*store_->exists("k"));
  EXPECT_EQ(server_->stats()["faults"], 7);
  // The five error responses are retried here; a connection dropped before
  // any answer may instead be resent by curl itself on a fresh connection.
  EXPECT_GE(store_->stats().retries, 5u);
}

TEST_F(S3BlobStoreTest, RetriedPartsLeaveTheObjectIntact) {
  // Part 2's response is lost after S3 stored it (so it is sent twice), part
  // 3's connection drops, part 1 gets a 500; creating and completing the
  // upload fail once too.
  faults(R"([{"op": "CreateMultipartUpload", "action": "500"},
             {"op": "UploadPart", "action": "500", "count": 1},
             {"op": "UploadPart", "action": "drop-after", "skip": 1, "count": 1},
             {"op": "UploadPart", "action": "drop", "skip": 2, "count": 1},
             {"op": "CompleteMultipartUpload", "action": "503"}])");
  std::string data = pattern(3 * kPart - 7, 7);
  ASSERT_TRUE(write(*store_, "nar/retried", data).ok());
  expectBlob(*store_, "nar/retried", data);
  EXPECT_EQ(server_->stats()["faults"], 5);
  EXPECT_EQ(server_->stats()["open_uploads"], 0);
}

TEST_F(S3BlobStoreTest, BrokenDownloadsAreRetried) {
  std::string data = pattern(2 << 20, 8);
  ASSERT_TRUE(store_->put("k", asBytes(data)).ok());
  faults(R"([{"op": "GetObject", "action": "truncate", "count": 2},
             {"op": "GetObject", "action": "drop-after"}])");
  expectBlob(*store_, "k", data);
  EXPECT_EQ(server_->stats()["faults"], 3);
}

TEST_F(S3BlobStoreTest, StalledRequestsTimeOutAndAreRetried) {
  S3Options o = options();
  o.stall_timeout = std::chrono::milliseconds(1000);
  auto store = open(o);
  ASSERT_TRUE(store->put("k", asBytes("value")).ok());
  faults(R"([{"op": "GetObject", "action": "hang"}])");
  EXPECT_EQ(*store->get("k"), "value");
  EXPECT_EQ(store->stats().retries, 1u);
}

TEST_F(S3BlobStoreTest, ClientErrorsAreNotRetried) {
  faults(R"([{"op": "PutObject", "action": "403"}])");
  Status put = store_->put("k", asBytes("x"));
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(put.error().message.find("AccessDenied"), std::string::npos) << put.error().message;
  EXPECT_EQ(op("PutObject"), 1);
  EXPECT_FALSE(*store_->exists("k"));
}

TEST_F(S3BlobStoreTest, RetriesAreBounded) {
  faults(R"([{"op": "PutObject", "action": "500", "count": 100}])");
  Status put = store_->put("k", asBytes("x"));
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(op("PutObject"), S3Options().retry.max_attempts);
  EXPECT_FALSE(*store_->exists("k"));
}

TEST_F(S3BlobStoreTest, FailedCompleteLeavesNothingVisible) {
  faults(R"([{"op": "CompleteMultipartUpload", "action": "500", "count": 100}])");
  Status written = write(*store_, "nar/never", pattern(kPart + 1, 9));
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(*store_->exists("nar/never"));
  EXPECT_TRUE(store_->list("")->empty());
  EXPECT_EQ(op("AbortMultipartUpload"), 1);
  EXPECT_EQ(server_->stats()["open_uploads"], 0);
}

TEST_F(S3BlobStoreTest, FailedPartLeavesNothingVisible) {
  faults(R"([{"op": "UploadPart", "action": "400"}])");
  auto writer = store_->create("nar/never");
  ASSERT_TRUE(writer.ok());
  std::string data = pattern(3 * kPart, 10);
  Status status;
  for (std::size_t off = 0; off < data.size() && status.ok(); off += kPart / 4) {
    status = (*writer)->write(asBytes(std::string_view(data).substr(off, kPart / 4)));
  }
  if (status.ok()) status = (*writer)->commit();
  ASSERT_FALSE(status.ok());
  EXPECT_FALSE((*writer)->commit().ok());  // the writer stays dead
  EXPECT_FALSE(*store_->exists("nar/never"));
  EXPECT_EQ(server_->stats()["open_uploads"], 0);
}

TEST_F(S3BlobStoreTest, LostCompleteResponseNeverShowsAPartialObject) {
  // The upload completes but its answer is lost; the retry finds no upload.
  // On AWS the ETag check recognizes our object; s3rver's ETags differ, so
  // here the writer may report failure — but the object is whole either way.
  faults(R"([{"op": "CompleteMultipartUpload", "action": "drop-after"}])");
  std::string data = pattern(kPart + 100, 11);
  Status written = write(*store_, "nar/maybe", data);
  auto exists = store_->exists("nar/maybe");
  ASSERT_TRUE(exists.ok());
  EXPECT_TRUE(*exists);
  expectBlob(*store_, "nar/maybe", data);
  if (!written.ok()) {
    EXPECT_NE(written.error().message.find("CompleteMultipartUpload"), std::string::npos);
  }
}

}  // namespace
}  // namespace garret::storage
