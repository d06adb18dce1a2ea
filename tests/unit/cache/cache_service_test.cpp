#include "cache/cache_service.h"

#include <gtest/gtest.h>

#include "codec/codec.h"
#include "core/narinfo.h"
#include "db/sqlite/sqlite_metadata_db.h"
#include "support/fake_blob_store.h"
#include "unit/cache/cache_test_util.h"
#include "unit/nar/nar_test_util.h"

namespace garret::cache {
namespace {

using nar::testing::CollectingSink;
using testing::narInfoText;
using testing::readAll;

constexpr const char* kPathHash = "4cn93dv2h2m1dqjy6myjlhv70myv19aa";
constexpr const char* kOtherHash = "0c6kzph7l0dcbqmjhp8wdr0zafn6q8r4";

std::string sampleNar(std::string_view contents) {
  return nar::testing::nar(nar::testing::regularNode(contents));
}

std::string nixNarName(std::string_view sent_bytes, std::string_view ext = "") {
  return Hash::of(sent_bytes).toNixBase32() + ".nar" + std::string(ext);
}


class CacheServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = testing::memoryDb();
    ASSERT_NE(db_, nullptr);
    svc_ = std::make_unique<CacheService>(*db_, blobs_, clock_, ServiceOptions{.zstd_level = 3});
    auto created = svc_->createCache("main", {});
    ASSERT_TRUE(created.ok()) << created.error().message;
    main_ = *created;
  }

  Status upload(const CacheView& cache, const std::string& name, std::string_view bytes) {
    auto ingest = svc_->beginNarUpload(cache, name);
    if (!ingest.ok()) return ingest.error();
    GARRET_TRY((*ingest)->write(asBytes(bytes)));
    GARRET_TRY((*ingest)->finish());
    return svc_->completeNarUpload(cache, name, **ingest);
  }

  // Uploads `nar_bytes` uncompressed and binds kPathHash to it.
  void push(const CacheView& cache, const std::string& nar_bytes) {
    std::string name = nixNarName(nar_bytes);
    ASSERT_TRUE(upload(cache, name, nar_bytes).ok());
    Status s = svc_->putNarInfo(cache, kPathHash, narInfoText(kPathHash, nar_bytes, "nar/" + name),
                                "alice");
    ASSERT_TRUE(s.ok()) << s.error().message;
  }

  // The bytes served for the NAR named by the narinfo (compressed).
  std::string servedFile(const CacheView& cache, const NarInfo& info) {
    auto nar = svc_->narForFile(cache, info.url.substr(4));
    EXPECT_TRUE(nar.ok() && nar->has_value());
    if (!nar.ok() || !*nar) return "";
    auto opened = svc_->openNar(**nar);
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    return opened.ok() ? readAll(*opened) : "";
  }

  std::string servedNar(const CacheView& cache, const NarInfo& info) {
    auto blob = std::optional<std::string>(servedFile(cache, info));
    CollectingSink out;
    auto dec = codec::makeDecompressor(codec::Compression::kZstd, out);
    EXPECT_TRUE(dec->write(asBytes(*blob)).ok());
    EXPECT_TRUE(dec->finish().ok());
    return out.data();
  }

  FakeClock clock_;
  storage::FakeBlobStore blobs_;
  std::unique_ptr<db::SqliteMetadataDb> db_;
  std::unique_ptr<CacheService> svc_;
  CachePtr main_;
};

TEST_F(CacheServiceTest, PushThenServeSignedNarInfoAndZstdNar) {
  std::string nar_bytes = sampleNar("hello world");
  auto before = svc_->narInfo(*main_, kPathHash);
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(before->has_value());  // and now cached as a miss
  push(*main_, nar_bytes);
  auto text = svc_->narInfo(*main_, kPathHash);
  ASSERT_TRUE(text.ok() && text->has_value());
  auto info = NarInfo::parse(**text, "/nix/store");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->compression, "zstd");
  EXPECT_TRUE(info->url.ends_with(".nar.zst"));
  EXPECT_EQ(info->nar_hash, Hash::of(nar_bytes));
  ASSERT_EQ(info->sigs.size(), 1u);
  auto pub = PublicKey::parse(main_->public_key);
  ASSERT_TRUE(pub.ok());
  EXPECT_TRUE(pub->verify(info->fingerprint("/nix/store"), info->sigs[0]));
  std::string served = servedNar(*main_, *info);
  EXPECT_EQ(served, nar_bytes);
  auto blob = std::optional<std::string>(servedFile(*main_, *info));
  EXPECT_EQ(Hash::of(*blob), *info->file_hash);
  EXPECT_EQ(blob->size(), *info->file_size);
}

TEST_F(CacheServiceTest, ClientSignaturesAreKeptAndServed) {
  std::string nar_bytes = sampleNar("signed");
  std::string name = nixNarName(nar_bytes);
  ASSERT_TRUE(upload(*main_, name, nar_bytes).ok());
  std::string sig = "client-1:" + std::string(86, 'A') + "==";
  ASSERT_TRUE(svc_->putNarInfo(*main_, kPathHash,
                               narInfoText(kPathHash, nar_bytes, "nar/" + name, "Sig: " + sig + "\n"),
                               "alice")
                  .ok());
  auto text = svc_->narInfo(*main_, kPathHash);
  ASSERT_TRUE(text.ok() && text->has_value());
  EXPECT_NE((*text)->find("Sig: " + sig), std::string::npos);
  EXPECT_NE((*text)->find("Sig: " + main_->key.name() + ":"), std::string::npos);
}

TEST_F(CacheServiceTest, RefusesLiesAndLeavesNothingVisible) {
  std::string nar_bytes = sampleNar("truth");
  std::string name = nixNarName(nar_bytes);
  ASSERT_TRUE(upload(*main_, name, nar_bytes).ok());
  std::string other = sampleNar("lie");
  const std::pair<const char*, std::string> cases[] = {
      {"NarHash lies", "StorePath: /nix/store/" + std::string(kPathHash) + "-hello\nURL: nar/" +
                           name + "\nNarHash: " + Hash::of(other).toNix() + "\nNarSize: " +
                           std::to_string(nar_bytes.size()) + "\nReferences: \n"},
      {"NarSize lies", "StorePath: /nix/store/" + std::string(kPathHash) + "-hello\nURL: nar/" +
                           name + "\nNarHash: " + Hash::of(nar_bytes).toNix() +
                           "\nNarSize: 999\nReferences: \n"},
      {"FileHash lies", narInfoText(kPathHash, nar_bytes, "nar/" + name,
                                    "FileHash: " + Hash::of(other).toNix() + "\n")},
      {"URL hash differs", narInfoText(kOtherHash, nar_bytes, "nar/" + name)},
      {"never uploaded", narInfoText(kPathHash, other, "nar/" + nixNarName(other))},
      {"malformed", "garbage\n"},
      {"URL outside nar/", narInfoText(kPathHash, nar_bytes, "../" + name)},
  };
  for (const auto& [label, text] : cases) {
    Status s = svc_->putNarInfo(*main_, kPathHash, text, "mallory");
    ASSERT_FALSE(s.ok()) << label;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument) << label << ": " << s.error().message;
    auto found = svc_->narInfo(*main_, kPathHash);
    ASSERT_TRUE(found.ok());
    EXPECT_FALSE(found->has_value()) << label;
  }
}

TEST_F(CacheServiceTest, RefusesBadNarUploadsWithoutLeavingBlobs) {
  std::string nar_bytes = sampleNar("payload");
  std::size_t blobs_before = blobs_.blobCount();
  // Bytes that do not hash to the name.
  Status tampered = upload(*main_, nixNarName(sampleNar("other")), nar_bytes);
  ASSERT_FALSE(tampered.ok());
  EXPECT_EQ(tampered.error().code, ErrorCode::kInvalidArgument);
  // A truncated NAR named by its own hash.
  std::string cut = nar_bytes.substr(0, nar_bytes.size() / 2);
  Status truncated = upload(*main_, nixNarName(cut), cut);
  ASSERT_FALSE(truncated.ok());
  // Not a NAR at all.
  Status garbage = upload(*main_, nixNarName("garbage"), "garbage");
  ASSERT_FALSE(garbage.ok());
  // Unsupported compression and malformed names.
  EXPECT_FALSE(svc_->beginNarUpload(*main_, nixNarName(nar_bytes, ".br")).ok());
  EXPECT_FALSE(svc_->beginNarUpload(*main_, "nothash.nar").ok());
  EXPECT_EQ(blobs_.blobCount(), blobs_before);
}

TEST_F(CacheServiceTest, CompressedUploadsAreVerifiedAfterDecompression) {
  std::string nar_bytes = sampleNar("compressed payload");
  CollectingSink zst;
  auto comp = codec::makeZstdCompressor(zst, 3);
  ASSERT_TRUE(comp->write(asBytes(nar_bytes)).ok());
  ASSERT_TRUE(comp->finish().ok());
  std::string name = nixNarName(zst.data(), ".zst");
  ASSERT_TRUE(upload(*main_, name, zst.data()).ok());
  std::string text = narInfoText(kPathHash, nar_bytes, "nar/" + name);
  ASSERT_TRUE(svc_->putNarInfo(*main_, kPathHash, text, "alice").ok());
  // The client's own name keeps answering (HEAD before a re-push).
  auto staged = svc_->narForFile(*main_, name);
  ASSERT_TRUE(staged.ok());
  EXPECT_TRUE(staged->has_value());
}

TEST_F(CacheServiceTest, SameNarInTwoCachesIsStoredOnceButNeedsProofOfPossession) {
  std::string nar_bytes = sampleNar("shared");
  push(*main_, nar_bytes);
  auto b = svc_->createCache("b", {});
  ASSERT_TRUE(b.ok());
  auto info = NarInfo::parse(**svc_->narInfo(*main_, kPathHash), "/nix/store");
  ASSERT_TRUE(info.ok());
  // Knowing main's served URL and hashes does not bind the NAR in b.
  Status stolen = svc_->putNarInfo(**b, kPathHash, narInfoText(kPathHash, nar_bytes, info->url),
                                   "mallory");
  ASSERT_FALSE(stolen.ok());
  std::size_t blobs_before = blobs_.blobCount();
  push(**b, nar_bytes);
  EXPECT_EQ(blobs_.blobCount(), blobs_before);  // deduplicated
  auto in_b = svc_->narInfo(**b, kPathHash);
  ASSERT_TRUE(in_b.ok() && in_b->has_value());
}

TEST_F(CacheServiceTest, KeyChangeResignsCachedNarInfos) {
  push(*main_, sampleNar("resign"));
  auto first = svc_->narInfo(*main_, kPathHash);
  ASSERT_TRUE(first.ok() && first->has_value());
  clock_.advance(10);
  CacheSettings change;
  change.keypair = "";
  auto updated = svc_->updateCache("main", change);
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  EXPECT_NE((*updated)->public_key, main_->public_key);
  auto second = svc_->narInfo(**updated, kPathHash);
  ASSERT_TRUE(second.ok() && second->has_value());
  auto info = NarInfo::parse(**second, "/nix/store");
  ASSERT_TRUE(info.ok());
  auto pub = PublicKey::parse((*updated)->public_key);
  ASSERT_TRUE(pub.ok());
  EXPECT_TRUE(pub->verify(info->fingerprint("/nix/store"), info->sigs[0]));
}

TEST_F(CacheServiceTest, CacheLifecycle) {
  EXPECT_EQ(svc_->createCache("main", {}).error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(svc_->createCache("-bad", {}).error().code, ErrorCode::kInvalidArgument);
  CacheSettings s;
  s.is_public = true;
  s.priority = 30;
  ASSERT_TRUE(svc_->updateCache("main", s).ok());
  auto found = svc_->findCache("main");
  ASSERT_TRUE(found.ok() && *found);
  EXPECT_TRUE((*found)->record.is_public);
  EXPECT_EQ((*found)->record.priority, 30);
  ASSERT_TRUE(svc_->deleteCache("main").ok());
  auto gone = svc_->findCache("main");
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(*gone, nullptr);
  EXPECT_EQ(svc_->deleteCache("main").error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace garret::cache
