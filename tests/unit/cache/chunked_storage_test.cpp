// Chunked storage through CacheService with small chunking parameters, so
// that NARs of a few hundred KiB are many chunks in several packs: round
// trips, deduplication within and across NARs and caches, cleanup of failed
// uploads, garbage collection (retention, pins, pack rewrites) and fsck.

#include <gtest/gtest.h>

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>

#include "cache/cache_service.h"
#include "cache/fsck.h"
#include "cache/garbage_collector.h"
#include "codec/codec.h"
#include "core/narinfo.h"
#include "db/sqlite/sqlite_metadata_db.h"
#include "support/fake_blob_store.h"
#include "support/temp_dir.h"
#include "unit/cache/cache_test_util.h"
#include "unit/nar/nar_test_util.h"

namespace garret::cache {
namespace {

using nar::testing::CollectingSink;

constexpr const char* kHashA = "4cn93dv2h2m1dqjy6myjlhv70myv19aa";
constexpr const char* kHashB = "0c6kzph7l0dcbqmjhp8wdr0zafn6q8r4";
constexpr const char* kHashC = "1ab3kzph7l0dcbqmjhp8wdr0zafn6q8r";

std::string randomBytes(std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

std::string narOf(std::string_view contents) {
  return nar::testing::nar(nar::testing::regularNode(contents));
}

NarInfo claimFor(std::string_view hash, std::string_view nar_bytes) {
  auto info = NarInfo::parse(testing::narInfoText(hash, nar_bytes, "nar/x.nar"), "/nix/store");
  EXPECT_TRUE(info.ok()) << info.error().message;
  return *info;
}

class ChunkedStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = testing::memoryDb();
    ASSERT_NE(db_, nullptr);
    ServiceOptions options;
    options.zstd_level = 3;
    options.chunking = chunk::ChunkingParams{1024, 512, 2048, 8192};
    options.pack_size = 64 * 1024;
    options.ingest_threads = 2;
    svc_ = std::make_unique<CacheService>(*db_, blobs_, clock_, options);
    for (const char* name : {"a", "b"}) {
      auto created = svc_->createCache(name, {});
      ASSERT_TRUE(created.ok()) << created.error().message;
      caches_.push_back(*created);
    }
  }

  Result<PathUploadOutcome> push(const CacheView& cache, std::string_view hash,
                                 const std::string& nar_bytes, bool pin = false) {
    return push(*svc_, cache, hash, nar_bytes, pin);
  }
  Result<PathUploadOutcome> push(CacheService& svc, const CacheView& cache, std::string_view hash,
                                 const std::string& nar_bytes, bool pin = false) {
    GARRET_ASSIGN_OR_RETURN(auto ingest, svc.beginPathUpload(cache));
    // Odd-sized writes, as a network delivers them.
    for (std::size_t at = 0; at < nar_bytes.size(); at += 7777) {
      GARRET_TRY(ingest->write(asBytes(std::string_view(nar_bytes).substr(at, 7777))));
    }
    GARRET_TRY(ingest->finish());
    return svc.completePathUpload(cache, claimFor(hash, nar_bytes), *ingest, "tester", pin);
  }

  // The served bytes of the path's NAR and its narinfo.
  std::string served(const CacheView& cache, std::string_view hash, NarInfo* info_out = nullptr) {
    auto text = svc_->narInfo(cache, hash);
    EXPECT_TRUE(text.ok() && text->has_value());
    if (!text.ok() || !*text) return "";
    auto info = NarInfo::parse(**text, "/nix/store");
    EXPECT_TRUE(info.ok());
    auto nar = svc_->narForFile(cache, info->url.substr(4));
    EXPECT_TRUE(nar.ok() && nar->has_value());
    if (!nar.ok() || !*nar) return "";
    auto opened = svc_->openNar(**nar);
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    if (info_out) *info_out = *info;
    return opened.ok() ? testing::readAll(*opened) : "";
  }

  std::string decompressed(const std::string& zstd_bytes) {
    CollectingSink out;
    auto dec = codec::makeDecompressor(codec::Compression::kZstd, out);
    EXPECT_TRUE(dec->write(asBytes(zstd_bytes)).ok());
    EXPECT_TRUE(dec->finish().ok());
    return out.data();
  }

  std::uint64_t storedBytes() {
    std::uint64_t total = 0;
    auto keys = blobs_.list("");
    EXPECT_TRUE(keys.ok());
    for (const auto& k : *keys) total += blobs_.get(k)->size();
    return total;
  }

  std::size_t blobCount() { return blobs_.list("")->size(); }

  Result<GcResult> gc(GcOptions options = {}) {
    options.grace_period = 0;
    GarbageCollector collector(*db_, blobs_, clock_, options);
    auto result = collector.run();
    svc_->forgetAll();
    return result;
  }

  FakeClock clock_;
  storage::FakeBlobStore blobs_;
  std::unique_ptr<db::SqliteMetadataDb> db_;
  std::unique_ptr<CacheService> svc_;
  std::vector<CachePtr> caches_;
};

TEST_F(ChunkedStorageTest, MultiChunkNarRoundTripsAsOneZstdStream) {
  std::string nar_bytes = narOf(randomBytes(300 * 1024, 1) + std::string(100 * 1024, 'z'));
  auto pushed = push(*caches_[0], kHashA, nar_bytes);
  ASSERT_TRUE(pushed.ok()) << pushed.error().message;
  EXPECT_FALSE(pushed->deduplicated);
  NarInfo info;
  std::string file = served(*caches_[0], kHashA, &info);
  EXPECT_EQ(info.compression, "zstd");
  EXPECT_EQ(Hash::of(file), *info.file_hash);
  EXPECT_EQ(file.size(), *info.file_size);
  EXPECT_EQ(decompressed(file), nar_bytes);
  auto nar = db_->findNarByHash(Hash::of(nar_bytes));
  ASSERT_TRUE(nar.ok() && nar->has_value());
  auto chunks = db_->narChunks((**nar).id);
  ASSERT_TRUE(chunks.ok());
  EXPECT_GT(chunks->size(), 40u);  // ~400 KiB at ~2 KiB a chunk
  auto packs = db_->listPacks();
  ASSERT_TRUE(packs.ok());
  EXPECT_GE(packs->size(), 2u);  // 64 KiB packs
  EXPECT_EQ(blobCount(), packs->size());
  for (const auto& p : *packs) EXPECT_EQ(p.state, db::PackState::kLive);
}

TEST_F(ChunkedStorageTest, SmallNarIsOneChunkHashedAsTheNar) {
  std::string nar_bytes = narOf("small");
  ASSERT_TRUE(push(*caches_[0], kHashA, nar_bytes).ok());
  auto claimed = db_->claimChunk(Hash::of(nar_bytes), clock_.now());
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  EXPECT_EQ((**claimed).size, nar_bytes.size());
  EXPECT_EQ(decompressed(served(*caches_[0], kHashA)), nar_bytes);
}

TEST_F(ChunkedStorageTest, SecondVersionStoresOnlyWhatChanged) {
  std::string base = randomBytes(256 * 1024, 2);
  std::string v1 = narOf(base);
  std::string v2 = narOf(base.substr(0, 128 * 1024) + "inserted!" + base.substr(128 * 1024));
  ASSERT_TRUE(push(*caches_[0], kHashA, v1).ok());
  std::uint64_t after_v1 = storedBytes();
  auto second = push(*caches_[0], kHashB, v2);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_FALSE(second->deduplicated);
  EXPECT_GT(second->frac_deduplicated, 0.9);
  EXPECT_LT(storedBytes() - after_v1, after_v1 / 10);
  EXPECT_EQ(decompressed(served(*caches_[0], kHashB)), v2);
  EXPECT_EQ(decompressed(served(*caches_[0], kHashA)), v1);
}

TEST_F(ChunkedStorageTest, SameNarInAnotherCacheIsDeduplicatedAfterItsBytes) {
  std::string nar_bytes = narOf(randomBytes(64 * 1024, 3));
  ASSERT_TRUE(push(*caches_[0], kHashA, nar_bytes).ok());
  std::uint64_t before = storedBytes();
  std::size_t blobs_before = blobCount();
  auto again = push(*caches_[1], kHashA, nar_bytes);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->deduplicated);
  EXPECT_EQ(again->frac_deduplicated, 1.0);
  EXPECT_EQ(storedBytes(), before);
  EXPECT_EQ(blobCount(), blobs_before);
  EXPECT_EQ(decompressed(served(*caches_[1], kHashA)), nar_bytes);
}

TEST_F(ChunkedStorageTest, RepeatedContentWithinANarIsStoredOnce) {
  std::string block = randomBytes(16 * 1024, 4);
  std::string contents;
  for (int i = 0; i < 16; ++i) contents += block;
  std::string nar_bytes = narOf(contents);
  auto pushed = push(*caches_[0], kHashA, nar_bytes);
  ASSERT_TRUE(pushed.ok());
  EXPECT_GT(pushed->frac_deduplicated, 0.7);
  EXPECT_LT(storedBytes(), 3 * block.size());
  EXPECT_EQ(decompressed(served(*caches_[0], kHashA)), nar_bytes);
}

TEST_F(ChunkedStorageTest, RefusedUploadLeavesNoPacks) {
  std::string nar_bytes = narOf(randomBytes(200 * 1024, 5));
  {
    auto ingest = svc_->beginPathUpload(*caches_[0]);
    ASSERT_TRUE(ingest.ok());
    ASSERT_TRUE((*ingest)->write(asBytes(nar_bytes)).ok());
    ASSERT_TRUE((*ingest)->finish().ok());
    NarInfo lie = claimFor(kHashA, nar_bytes);
    lie.nar_hash = Hash::of("something else");
    EXPECT_FALSE(svc_->completePathUpload(*caches_[0], lie, **ingest, "liar").ok());
  }
  EXPECT_EQ(blobCount(), 0u);
  EXPECT_TRUE(db_->listPacks()->empty());
  {  // truncated: the stream ends inside the NAR
    auto ingest = svc_->beginPathUpload(*caches_[0]);
    ASSERT_TRUE(ingest.ok());
    ASSERT_TRUE((*ingest)->write(asBytes(std::string_view(nar_bytes).substr(0, 150000))).ok());
    EXPECT_FALSE((*ingest)->finish().ok());
  }
  EXPECT_EQ(blobCount(), 0u);
  EXPECT_TRUE(db_->listPacks()->empty());
  EXPECT_FALSE(svc_->narInfo(*caches_[0], kHashA)->has_value());
}

TEST_F(ChunkedStorageTest, GcAfterDeletingCachesReturnsStorageToEmpty) {
  ASSERT_TRUE(push(*caches_[0], kHashA, narOf(randomBytes(200 * 1024, 6))).ok());
  ASSERT_TRUE(push(*caches_[1], kHashB, narOf(randomBytes(100 * 1024, 7))).ok());
  auto dry = [&] {
    GcOptions o;
    o.dry_run = true;
    return gc(o);
  }();
  ASSERT_TRUE(dry.ok());
  EXPECT_EQ(dry->db.nars, 0u);  // both caches still use their NARs
  ASSERT_TRUE(svc_->deleteCache("a").ok());
  ASSERT_TRUE(svc_->deleteCache("b").ok());
  std::uint64_t before = storedBytes();
  GcOptions o;
  o.dry_run = true;
  auto would = gc(o);
  ASSERT_TRUE(would.ok());
  EXPECT_EQ(would->db.nars, 2u);
  EXPECT_EQ(would->pack_bytes_deleted, before);
  EXPECT_EQ(storedBytes(), before);  // a dry run changes nothing
  auto done = gc();
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->db.nars, 2u);
  EXPECT_EQ(blobCount(), 0u);
  EXPECT_TRUE(db_->listPacks()->empty());
  EXPECT_TRUE(db_->listChunks(0, 10)->empty());
}

TEST_F(ChunkedStorageTest, OnlyOneCollectorRunsAtATime) {
  ASSERT_TRUE(push(*caches_[0], kHashA, narOf("to collect")).ok());
  ASSERT_TRUE(svc_->deleteCache("a").ok());
  ASSERT_TRUE(*db_->acquireGcLease("another-replica", clock_.now(), 600));
  auto skipped = gc();
  ASSERT_TRUE(skipped.ok());
  EXPECT_TRUE(skipped->skipped);
  EXPECT_GT(blobCount(), 0u);  // nothing was collected
  ASSERT_TRUE(db_->releaseGcLease("another-replica").ok());
  auto done = gc();
  ASSERT_TRUE(done.ok());
  EXPECT_FALSE(done->skipped);
  EXPECT_EQ(blobCount(), 0u);
  // The pass gave its lease back.
  EXPECT_TRUE(*db_->acquireGcLease("another-replica", clock_.now(), 600));
}

TEST_F(ChunkedStorageTest, LeaseOfAKilledLocalCollectorIsTakenOver) {
  // A collector on this host whose process is gone (killed with -9).
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ::waitpid(child, nullptr, 0);
  char host[256] = "";
  ::gethostname(host, sizeof host - 1);
  std::string dead = std::string(host) + ":" + std::to_string(child) + ":0badf00d";
  ASSERT_TRUE(*db_->acquireGcLease(dead, clock_.now(), 600));
  auto done = gc();
  ASSERT_TRUE(done.ok());
  EXPECT_FALSE(done->skipped);
  // A live one is respected.
  std::string alive = std::string(host) + ":" + std::to_string(::getpid()) + ":0badf00d";
  ASSERT_TRUE(*db_->acquireGcLease(alive, clock_.now(), 600));
  auto skipped = gc();
  ASSERT_TRUE(skipped.ok());
  EXPECT_TRUE(skipped->skipped);
}

TEST_F(ChunkedStorageTest, RetentionSparesPinnedAndRecentlyAccessedPaths) {
  ASSERT_TRUE(push(*caches_[0], kHashA, narOf("pinned one"), /*pin=*/true).ok());
  ASSERT_TRUE(push(*caches_[0], kHashB, narOf("read recently")).ok());
  ASSERT_TRUE(push(*caches_[0], kHashC, narOf("forgotten")).ok());
  clock_.advance(1000);
  svc_->recordAccess(*caches_[0], kHashB);
  ASSERT_TRUE(svc_->flushAccesses().ok());
  clock_.advance(100);
  GcOptions o;
  o.default_retention_period = 500;
  auto done = gc(o);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->db.objects, 1u);
  EXPECT_TRUE(db_->findObject(caches_[0]->record.id, kHashA)->has_value());
  EXPECT_TRUE(db_->findObject(caches_[0]->record.id, kHashB)->has_value());
  EXPECT_FALSE(db_->findObject(caches_[0]->record.id, kHashC)->has_value());
  // Unpinned, the pinned path goes too.
  ASSERT_TRUE(svc_->setPinned(*caches_[0], kHashA, false).ok());
  clock_.advance(1000);
  ASSERT_TRUE(gc(o).ok());
  EXPECT_FALSE(db_->findObject(caches_[0]->record.id, kHashA)->has_value());
}

TEST_F(ChunkedStorageTest, SparsePacksAreRewrittenAndStillServe) {
  // A interleaves blocks of X and Y, B is X's blocks alone: once A is gone,
  // every pack of A is about half dead.
  std::string x, y, both;
  for (unsigned i = 0; i < 24; ++i) {
    std::string xi = randomBytes(12 * 1024, 100 + i), yi = randomBytes(12 * 1024, 200 + i);
    x += xi;
    both += xi + yi;
  }
  std::string nar_a = narOf(both);
  std::string nar_b = narOf(x);
  ASSERT_TRUE(push(*caches_[0], kHashA, nar_a).ok());
  ASSERT_TRUE(push(*caches_[1], kHashB, nar_b).ok());
  ASSERT_TRUE(svc_->deleteCache("a").ok());
  GcOptions o;
  o.pack_size = 64 * 1024;
  o.rewrite_threshold = 0.9;
  auto done = gc(o);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_GT(done->packs_rewritten, 0u);
  EXPECT_GT(done->packs_written, 0u);
  EXPECT_EQ(decompressed(served(*caches_[1], kHashB)), nar_b);
  // What is left is about B's size, not A's.
  EXPECT_LT(storedBytes(), nar_b.size() + nar_b.size() / 5);
  auto report = runFsck(*db_, blobs_, FsckOptions{});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->clean()) << summarize(*report);
}

TEST_F(ChunkedStorageTest, FsckFindsDamageAndRepairMakesThePathUploadableAgain) {
  std::string nar_bytes = narOf(randomBytes(100 * 1024, 10));
  ASSERT_TRUE(push(*caches_[0], kHashA, nar_bytes).ok());
  auto clean = runFsck(*db_, blobs_, FsckOptions{});
  ASSERT_TRUE(clean.ok());
  EXPECT_TRUE(clean->clean());
  EXPECT_GT(clean->chunks_checked, 10u);
  // Flip a byte in the first pack and add an orphan.
  auto packs = db_->listPacks();
  ASSERT_TRUE(packs.ok() && !packs->empty());
  std::string bytes = *blobs_.get(packs->front().blob_key);
  bytes[bytes.size() / 2] ^= 0x40;
  ASSERT_TRUE(blobs_.put(packs->front().blob_key, asBytes(bytes)).ok());
  ASSERT_TRUE(blobs_.put("pack/zz/orphan.pack", asBytes("junk")).ok());
  auto damaged = runFsck(*db_, blobs_, FsckOptions{});
  ASSERT_TRUE(damaged.ok());
  EXPECT_FALSE(damaged->clean());
  EXPECT_EQ(damaged->orphan_blobs, std::vector<std::string>{"pack/zz/orphan.pack"});
  EXPECT_EQ(damaged->damaged_chunks.size(), 1u);
  EXPECT_EQ(damaged->damaged_nars, 1u);
  EXPECT_FALSE(damaged->repaired);
  EXPECT_TRUE(db_->findObject(caches_[0]->record.id, kHashA)->has_value());  // not repaired
  FsckOptions repair;
  repair.repair = true;
  auto repaired = runFsck(*db_, blobs_, repair);
  ASSERT_TRUE(repaired.ok());
  EXPECT_TRUE(repaired->repaired);
  EXPECT_FALSE(*blobs_.exists("pack/zz/orphan.pack"));
  EXPECT_FALSE(db_->findObject(caches_[0]->record.id, kHashA)->has_value());
  EXPECT_EQ(*db_->missingPaths(caches_[0]->record.id, {kHashA}),
            std::vector<std::string>{kHashA});
  // Pushed again, the damaged chunk is stored anew and everything reads.
  auto again = push(*caches_[0], kHashA, nar_bytes);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->deduplicated);
  EXPECT_EQ(decompressed(served(*caches_[0], kHashA)), nar_bytes);
  auto after = runFsck(*db_, blobs_, FsckOptions{});
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->clean()) << summarize(*after);
}

TEST_F(ChunkedStorageTest, MissingPackIsReported) {
  ASSERT_TRUE(push(*caches_[0], kHashA, narOf(randomBytes(50 * 1024, 11))).ok());
  auto packs = db_->listPacks();
  ASSERT_TRUE(packs.ok() && !packs->empty());
  ASSERT_TRUE(blobs_.remove(packs->front().blob_key).ok());
  FsckOptions quick;
  quick.verify_chunks = false;
  auto report = runFsck(*db_, blobs_, quick);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->missing_packs, std::vector<std::string>{packs->front().blob_key});
  EXPECT_EQ(report->damaged_nars, 1u);
}

TEST_F(ChunkedStorageTest, ChangesByAnotherProcessShowWithinTheMemoryTtl) {
  // A second service on the same database stands for another process (a
  // replica, or `garretd gc`).
  ServiceOptions options;
  options.memory_ttl = 60;
  CacheService other(*db_, blobs_, clock_, options);
  auto other_a = other.findCache("a");
  ASSERT_TRUE(other_a.ok() && *other_a);
  std::string nar_bytes = narOf("seen late");
  // A miss is remembered here ...
  EXPECT_FALSE(svc_->narInfo(*caches_[0], kHashA)->has_value());
  ASSERT_TRUE(push(other, **other_a, kHashA, nar_bytes).ok());
  EXPECT_FALSE(svc_->narInfo(*caches_[0], kHashA)->has_value());
  // ... for at most the TTL.
  clock_.advance(61);
  EXPECT_TRUE(svc_->narInfo(*caches_[0], kHashA)->has_value());
  // A path deleted elsewhere disappears the same way.
  GcOptions expire;
  expire.default_retention_period = 10;
  clock_.advance(20);
  GarbageCollector collector(*db_, blobs_, clock_, expire);
  ASSERT_TRUE(collector.run().ok());
  clock_.advance(61);
  EXPECT_FALSE(svc_->narInfo(*caches_[0], kHashA)->has_value());
}

// Data written before chunked storage: one zstd blob per NAR, compressed as
// a stream. Migration 2 makes each a one-chunk pack; it must serve, pass
// fsck and be collected like any other.
TEST(ChunkedStorageMigration, FirstLayoutDataServesChecksAndCollects) {
  garret::testing::TempDir dir;
  std::string path = (dir.path() / "garret.db").string();
  auto opened = db::SqliteMetadataDb::open(path);
  ASSERT_TRUE(opened.ok());
  auto& db = **opened;
  ASSERT_TRUE(db.migrateTo(1).ok());
  db::CacheRecord cache;
  cache.name = "old";
  cache.keypair = SecretKey::generate("old-1")->toString();
  auto created = db.createCache(cache);
  ASSERT_TRUE(created.ok());
  std::string nar_bytes = narOf(randomBytes(300 * 1024, 12));
  CollectingSink compressed;
  auto zstd = codec::makeZstdCompressor(compressed, 3);
  ASSERT_TRUE(zstd->write(asBytes(nar_bytes)).ok());
  ASSERT_TRUE(zstd->finish().ok());
  storage::FakeBlobStore blobs;
  ASSERT_TRUE(blobs.put("nar/ab/old.nar.zst", asBytes(compressed.data())).ok());
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    std::string sql =
        "INSERT INTO nar (nar_hash, nar_size, compression, file_hash, file_size, blob_key, "
        "created_at) VALUES ('" + Hash::of(nar_bytes).toHex() + "', " +
        std::to_string(nar_bytes.size()) + ", 'zstd', '" + Hash::of(compressed.data()).toHex() +
        "', " + std::to_string(compressed.data().size()) + ", 'nar/ab/old.nar.zst', 1000);"
        "INSERT INTO object (cache_id, store_path_hash, store_path, nar_id, created_at, "
        "last_accessed_at) VALUES (" + std::to_string(created->id) + ", '" + kHashA +
        "', '/nix/store/" + kHashA + "-old', 1, 1000, 1000);";
    EXPECT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
  }
  ASSERT_TRUE(db.migrate().ok());
  FakeClock clock;
  CacheService svc(db, blobs, clock, ServiceOptions{});
  auto view = svc.findCache("old");
  ASSERT_TRUE(view.ok() && *view);
  auto text = svc.narInfo(**view, kHashA);
  ASSERT_TRUE(text.ok() && text->has_value());
  auto info = NarInfo::parse(**text, "/nix/store");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(*info->file_hash, Hash::of(compressed.data()));
  auto nar = svc.narForFile(**view, info->url.substr(4));
  ASSERT_TRUE(nar.ok() && nar->has_value());
  auto bytes = svc.openNar(**nar);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_EQ(testing::readAll(*bytes), compressed.data());
  auto report = runFsck(db, blobs, FsckOptions{});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->clean()) << summarize(*report);
  EXPECT_EQ(report->chunks_checked, 1u);
  ASSERT_TRUE(svc.deleteCache("old").ok());
  GcOptions options;
  options.grace_period = 0;
  ASSERT_TRUE(GarbageCollector(db, blobs, clock, options).run().ok());
  EXPECT_FALSE(*blobs.exists("nar/ab/old.nar.zst"));
}

}  // namespace
}  // namespace garret::cache
