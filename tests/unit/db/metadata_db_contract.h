#pragma once

// The contract every MetadataDb implementation passes, as a typed test
// suite over a factory. A backend instantiates it once:
//
//   struct MyFactory {
//     static constexpr const char* kName = "My";
//     // A fresh, empty, migrated database, owned by the factory's fixture.
//     std::unique_ptr<MetadataDb> make();
//     // Another connection to the database make() created.
//     std::unique_ptr<MetadataDb> connect();
//     // make() fails the test (and returns null) when its server is
//     // unavailable.
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, MetadataDbContractTest,
//                                  ::testing::Types<MyFactory>, FactoryNames);
//
// Include it from the .cpp that instantiates it, one per backend.

#include <algorithm>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "db/metadata_db.h"
#include "unit/db/nar_fixture.h"

namespace garret::db {

struct FactoryNames {
  template <class T>
  static std::string GetName(int) {
    return T::kName;
  }
};

// A 32-character nix-base32 store path hash, distinct for each `n`.
inline std::string pathHash(int n) {
  static constexpr char kAlphabet[] = "0123456789abcdfghijklmnpqrsvwxyz";
  std::string out(32, '0');
  unsigned value = static_cast<unsigned>(n);
  for (int i = 31; i >= 0 && value != 0; --i, value /= 32) out[i] = kAlphabet[value % 32];
  return out;
}

// --- chunk store helpers -------------------------------------------------------

inline Hash chunkHash(const std::string& name) { return Hash::of("chunk " + name); }

// A new chunk (id 0) named `name`, written at `offset` of `pack`.
inline ChunkRecord newChunk(const std::string& name, const PackRecord& pack,
                            std::uint64_t offset, std::uint64_t length) {
  ChunkRecord chunk;
  chunk.chunk_hash = chunkHash(name);
  chunk.size = length * 4;
  chunk.pack_id = pack.id;
  chunk.offset = offset;
  chunk.length = length;
  return chunk;
}

// `pack` with its final size, as an upload commits it.
inline PackRecord sized(PackRecord pack, std::uint64_t size) {
  pack.size = size;
  return pack;
}

inline std::vector<std::int64_t> sortedIds(const std::vector<PackRecord>& packs) {
  std::vector<std::int64_t> ids;
  for (const PackRecord& pack : packs) ids.push_back(pack.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}
inline std::vector<std::int64_t> sorted(std::vector<std::int64_t> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

// Every field of every pack, comparable and printable.
inline std::vector<std::string> packSnapshot(const std::vector<PackRecord>& packs) {
  std::vector<std::string> out;
  for (const PackRecord& p : packs) {
    out.push_back(std::to_string(p.id) + " " + p.blob_key + " " + std::to_string(p.size) + " " +
                  std::string(packStateName(p.state)) + " " + std::to_string(p.created_at) +
                  " " + std::to_string(p.dead_at));
  }
  return out;
}
inline std::vector<std::string> chunkSnapshot(const std::vector<ChunkRecord>& chunks) {
  std::vector<std::string> out;
  for (const ChunkRecord& c : chunks) {
    out.push_back(std::to_string(c.id) + " " + c.chunk_hash.toHex() + " " +
                  std::to_string(c.pack_id) + " " + std::to_string(c.offset) + " " +
                  std::to_string(c.length) + " " + std::to_string(c.last_used_at));
  }
  return out;
}

inline void expectSameReport(const GcReport& a, const GcReport& b) {
  EXPECT_EQ(a.objects, b.objects);
  EXPECT_EQ(a.staged, b.staged);
  EXPECT_EQ(a.nars, b.nars);
  EXPECT_EQ(a.nar_bytes, b.nar_bytes);
  EXPECT_EQ(a.chunks, b.chunks);
  EXPECT_EQ(a.chunk_bytes, b.chunk_bytes);
  EXPECT_EQ(packSnapshot(a.packs), packSnapshot(b.packs));
}

template <class Factory>
class MetadataDbContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = factory_.make();
    ASSERT_NE(db_, nullptr);
  }

  CacheRecord newCache(const std::string& name) {
    CacheRecord cache;
    cache.name = name;
    cache.keypair = name + ":secret";
    cache.created_at = 1000;
    return cache;
  }
  std::int64_t createCache(const std::string& name) {
    auto created = db_->createCache(newCache(name));
    EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().message);
    return created.ok() ? created->id : 0;
  }

  NarRecord newNar(int n) {
    NarRecord nar;
    nar.nar_hash = Hash::of("nar " + std::to_string(n));
    nar.nar_size = 1000 + n;
    nar.file_hash = Hash::of("file " + std::to_string(n));
    nar.file_size = 500 + n;
    nar.created_at = 2000;
    return nar;
  }
  NarRecord insertNar(int n) {
    auto nar = commitWholeNar(*db_, newNar(n));
    EXPECT_TRUE(nar.ok()) << (nar.ok() ? "" : nar.error().message);
    return nar.ok() ? *nar : NarRecord{};
  }

  ObjectRecord newObject(std::int64_t cache_id, int n, std::int64_t nar_id) {
    ObjectRecord object;
    object.cache_id = cache_id;
    object.store_path_hash = pathHash(n);
    object.store_path = "/nix/store/" + pathHash(n) + "-pkg-" + std::to_string(n);
    object.nar_id = nar_id;
    object.references = {pathHash(n) + "-pkg-" + std::to_string(n), pathHash(n + 1) + "-dep"};
    object.deriver = pathHash(n + 2) + "-pkg.drv";
    object.system = "x86_64-linux";
    object.sigs = {"cache.example.org-1:c2lnbmF0dXJl"};
    object.created_at = 3000;
    object.last_accessed_at = 3000;
    object.created_by = "ci";
    return object;
  }
  ObjectRecord upsertObject(const ObjectRecord& object) {
    auto stored = db_->upsertObject(object);
    EXPECT_TRUE(stored.ok()) << (stored.ok() ? "" : stored.error().message);
    return stored.ok() ? *stored : ObjectRecord{};
  }

  std::optional<ObjectWithNar> findObject(std::int64_t cache_id, int n) {
    auto found = db_->findObject(cache_id, pathHash(n));
    EXPECT_TRUE(found.ok());
    return found.ok() ? *found : std::nullopt;
  }

  // --- chunk store helpers ---

  // A pack in state writing.
  PackRecord createPack(const std::string& blob_key, std::int64_t created_at = 2000) {
    PackRecord pack;
    pack.blob_key = blob_key;
    pack.created_at = created_at;
    auto created = db_->createPack(pack);
    EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().message);
    return created.ok() ? *created : PackRecord{};
  }

  // NAR n (see newNar) made of `chunks`, written into `packs`.
  NarCommit narCommit(int n, std::vector<ChunkRecord> chunks, std::vector<PackRecord> packs) {
    NarCommit commit;
    commit.nar = newNar(n);
    commit.chunks = std::move(chunks);
    commit.packs = std::move(packs);
    return commit;
  }
  CommittedNar commitNar(const NarCommit& commit) {
    auto committed = db_->commitNar(commit);
    EXPECT_TRUE(committed.ok()) << (committed.ok() ? "" : committed.error().message);
    return committed.ok() ? *committed : CommittedNar{};
  }

  std::vector<ChunkRecord> allChunks() {
    auto chunks = db_->listChunks(0, 100000);
    EXPECT_TRUE(chunks.ok()) << (chunks.ok() ? "" : chunks.error().message);
    return chunks.ok() ? *chunks : std::vector<ChunkRecord>{};
  }
  // Looks a chunk up without refreshing its last_used_at (unlike claimChunk).
  std::optional<ChunkRecord> findChunk(const Hash& hash) {
    for (const ChunkRecord& chunk : allChunks()) {
      if (chunk.chunk_hash == hash) return chunk;
    }
    return std::nullopt;
  }
  std::optional<ChunkRecord> findChunk(const std::string& name) {
    return findChunk(chunkHash(name));
  }

  std::vector<PackRecord> listPacks() {
    auto packs = db_->listPacks();
    EXPECT_TRUE(packs.ok()) << (packs.ok() ? "" : packs.error().message);
    return packs.ok() ? *packs : std::vector<PackRecord>{};
  }
  std::optional<PackRecord> findPack(std::int64_t pack_id) {
    for (const PackRecord& pack : listPacks()) {
      if (pack.id == pack_id) return pack;
    }
    return std::nullopt;
  }
  std::vector<ChunkRecord> packChunks(std::int64_t pack_id) {
    auto chunks = db_->packChunks(pack_id);
    EXPECT_TRUE(chunks.ok()) << (chunks.ok() ? "" : chunks.error().message);
    return chunks.ok() ? *chunks : std::vector<ChunkRecord>{};
  }

  std::vector<ChunkLocation> narChunks(std::int64_t nar_id) {
    auto chunks = db_->narChunks(nar_id);
    EXPECT_TRUE(chunks.ok()) << (chunks.ok() ? "" : chunks.error().message);
    return chunks.ok() ? *chunks : std::vector<ChunkLocation>{};
  }
  // The pack holding a one-chunk NAR made by insertNar().
  PackRecord packOf(const NarRecord& nar) {
    auto chunks = narChunks(nar.id);
    EXPECT_EQ(chunks.size(), 1u);
    if (chunks.empty()) return PackRecord{};
    return findPack(chunks[0].pack_id).value_or(PackRecord{});
  }

  GcReport collect(const GcRequest& request) {
    auto report = db_->collectGarbage(request);
    EXPECT_TRUE(report.ok()) << (report.ok() ? "" : report.error().message);
    return report.ok() ? *report : GcReport{};
  }

  bool hasStaged(std::int64_t cache_id, const std::string& file_name, std::int64_t now) {
    auto found = db_->findStaged(cache_id, file_name, now);
    EXPECT_TRUE(found.ok());
    return found.ok() && found->has_value();
  }
  bool hasNar(const NarRecord& nar) {
    auto found = db_->findNarById(nar.id);
    EXPECT_TRUE(found.ok());
    return found.ok() && found->has_value();
  }

  Factory factory_;
  std::unique_ptr<MetadataDb> db_;
};

TYPED_TEST_SUITE_P(MetadataDbContractTest);

inline void expectSameCache(const CacheRecord& a, const CacheRecord& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.keypair, b.keypair);
  EXPECT_EQ(a.is_public, b.is_public);
  EXPECT_EQ(a.store_dir, b.store_dir);
  EXPECT_EQ(a.priority, b.priority);
  EXPECT_EQ(a.upstream_cache_key_names, b.upstream_cache_key_names);
  EXPECT_EQ(a.retention_period, b.retention_period);
  EXPECT_EQ(a.created_at, b.created_at);
}

inline void expectSameNar(const NarRecord& a, const NarRecord& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.nar_hash, b.nar_hash);
  EXPECT_EQ(a.nar_size, b.nar_size);
  EXPECT_EQ(a.compression, b.compression);
  EXPECT_EQ(a.file_hash, b.file_hash);
  EXPECT_EQ(a.file_size, b.file_size);
  EXPECT_EQ(a.created_at, b.created_at);
}

inline void expectSameObject(const ObjectRecord& a, const ObjectRecord& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.cache_id, b.cache_id);
  EXPECT_EQ(a.store_path_hash, b.store_path_hash);
  EXPECT_EQ(a.store_path, b.store_path);
  EXPECT_EQ(a.nar_id, b.nar_id);
  EXPECT_EQ(a.references, b.references);
  EXPECT_EQ(a.deriver, b.deriver);
  EXPECT_EQ(a.system, b.system);
  EXPECT_EQ(a.ca, b.ca);
  EXPECT_EQ(a.sigs, b.sigs);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.last_accessed_at, b.last_accessed_at);
  EXPECT_EQ(a.created_by, b.created_by);
  EXPECT_EQ(a.pinned, b.pinned);
}

// --- schema ------------------------------------------------------------------

TYPED_TEST_P(MetadataDbContractTest, MigrateIsIdempotent) {
  std::int64_t id = this->createCache("main");
  ASSERT_TRUE(this->db_->migrate().ok());
  ASSERT_TRUE(this->db_->migrate().ok());
  auto found = this->db_->findCache("main");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, id);
}

TYPED_TEST_P(MetadataDbContractTest, PingSucceeds) { EXPECT_TRUE(this->db_->ping().ok()); }

TYPED_TEST_P(MetadataDbContractTest, DataSurvivesReconnect) {
  std::int64_t cache_id = this->createCache("kept");
  NarRecord nar = this->insertNar(1);
  this->upsertObject(this->newObject(cache_id, 1, nar.id));
  this->db_.reset();
  auto other = this->factory_.connect();
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->migrate().ok());
  auto cache = other->findCache("kept");
  ASSERT_TRUE(cache.ok() && cache->has_value());
  auto object = other->findObject(cache_id, pathHash(1));
  ASSERT_TRUE(object.ok() && object->has_value());
  EXPECT_EQ((*object)->nar.id, nar.id);
}

// --- caches ------------------------------------------------------------------

TYPED_TEST_P(MetadataDbContractTest, CreateAndFindCacheRoundTrips) {
  CacheRecord cache = this->newCache("main");
  cache.is_public = true;
  cache.store_dir = "/custom/store";
  cache.priority = 7;
  cache.upstream_cache_key_names = {"cache.nixos.org-1", "other-1"};
  cache.retention_period = 86400;
  auto created = this->db_->createCache(cache);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_GT(created->id, 0);
  cache.id = created->id;
  expectSameCache(*created, cache);
  auto found = this->db_->findCache("main");
  ASSERT_TRUE(found.ok() && found->has_value());
  expectSameCache(**found, cache);
}

TYPED_TEST_P(MetadataDbContractTest, CreateCacheFillsCreatedAt) {
  CacheRecord cache = this->newCache("fresh");
  cache.created_at = 0;
  auto created = this->db_->createCache(cache);
  ASSERT_TRUE(created.ok());
  EXPECT_GT(created->created_at, 1'600'000'000);
}

TYPED_TEST_P(MetadataDbContractTest, RetentionPeriodDistinguishesUnsetAndZero) {
  CacheRecord unset = this->newCache("unset");
  CacheRecord never = this->newCache("never");
  never.retention_period = 0;
  ASSERT_TRUE(this->db_->createCache(unset).ok());
  ASSERT_TRUE(this->db_->createCache(never).ok());
  EXPECT_EQ((*this->db_->findCache("unset"))->retention_period, std::nullopt);
  EXPECT_EQ((*this->db_->findCache("never"))->retention_period, std::optional<std::int64_t>(0));
}

TYPED_TEST_P(MetadataDbContractTest, FindMissingCacheIsNullopt) {
  auto found = this->db_->findCache("nope");
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
}

TYPED_TEST_P(MetadataDbContractTest, DuplicateCacheNameIsAlreadyExists) {
  this->createCache("main");
  auto again = this->db_->createCache(this->newCache("main"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_NE(again.error().message.find("main"), std::string::npos);
}

TYPED_TEST_P(MetadataDbContractTest, ListCachesIsSortedAndSkipsDeleted) {
  std::int64_t b = this->createCache("b");
  this->createCache("c");
  this->createCache("a");
  ASSERT_TRUE(this->db_->deleteCache(b, /*soft=*/true, 5000).ok());
  auto caches = this->db_->listCaches();
  ASSERT_TRUE(caches.ok());
  ASSERT_EQ(caches->size(), 2u);
  EXPECT_EQ((*caches)[0].name, "a");
  EXPECT_EQ((*caches)[1].name, "c");
}

TYPED_TEST_P(MetadataDbContractTest, UpdateCacheChangesEverythingButIdentity) {
  auto created = this->db_->createCache(this->newCache("main"));
  ASSERT_TRUE(created.ok());
  CacheRecord changed = *created;
  changed.name = "renamed";
  changed.created_at = 99;
  changed.keypair = "main:other";
  changed.is_public = true;
  changed.store_dir = "/other/store";
  changed.priority = 10;
  changed.upstream_cache_key_names = {"x-1"};
  changed.retention_period = 60;
  ASSERT_TRUE(this->db_->updateCache(changed).ok());
  auto found = this->db_->findCache("main");
  ASSERT_TRUE(found.ok() && found->has_value());
  changed.name = "main";
  changed.created_at = created->created_at;
  expectSameCache(**found, changed);
  EXPECT_FALSE(this->db_->findCache("renamed")->has_value());
  changed.retention_period = std::nullopt;
  ASSERT_TRUE(this->db_->updateCache(changed).ok());
  EXPECT_EQ((*this->db_->findCache("main"))->retention_period, std::nullopt);
}

TYPED_TEST_P(MetadataDbContractTest, UpdateMissingCacheIsNotFound) {
  CacheRecord ghost = this->newCache("ghost");
  ghost.id = 12345;
  auto status = this->db_->updateCache(ghost);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kNotFound);

  std::int64_t id = this->createCache("gone");
  ASSERT_TRUE(this->db_->deleteCache(id, /*soft=*/true, 5000).ok());
  CacheRecord gone = this->newCache("gone");
  gone.id = id;
  EXPECT_EQ(this->db_->updateCache(gone).error().code, ErrorCode::kNotFound);
}

TYPED_TEST_P(MetadataDbContractTest, SoftDeleteHidesCacheAndFreesName) {
  std::int64_t old_id = this->createCache("main");
  NarRecord nar = this->insertNar(1);
  this->upsertObject(this->newObject(old_id, 1, nar.id));
  ASSERT_TRUE(this->db_->deleteCache(old_id, /*soft=*/true, 5000).ok());
  EXPECT_FALSE(this->db_->findCache("main")->has_value());
  // The rows stay until a hard delete.
  EXPECT_TRUE(this->findObject(old_id, 1).has_value());

  std::int64_t new_id = this->createCache("main");
  EXPECT_NE(new_id, old_id);
  EXPECT_EQ((*this->db_->findCache("main"))->id, new_id);
  EXPECT_FALSE(this->findObject(new_id, 1).has_value());

  auto again = this->db_->deleteCache(old_id, /*soft=*/true, 6000);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
}

TYPED_TEST_P(MetadataDbContractTest, DeleteMissingCacheIsNotFound) {
  EXPECT_EQ(this->db_->deleteCache(4242, true, 1).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(this->db_->deleteCache(4242, false, 1).error().code, ErrorCode::kNotFound);
}

TYPED_TEST_P(MetadataDbContractTest, HardDeleteCascades) {
  std::int64_t doomed = this->createCache("doomed");
  std::int64_t kept = this->createCache("kept");
  NarRecord nar = this->insertNar(1);
  this->upsertObject(this->newObject(doomed, 1, nar.id));
  this->upsertObject(this->newObject(kept, 1, nar.id));
  StagedUpload staged{doomed, "abc.nar.xz", nar.id, nar.file_hash, 10, 9000};
  ASSERT_TRUE(this->db_->putStaged(staged).ok());

  ASSERT_TRUE(this->db_->deleteCache(doomed, /*soft=*/false, 5000).ok());
  EXPECT_FALSE(this->db_->findCache("doomed")->has_value());
  EXPECT_FALSE(this->findObject(doomed, 1).has_value());
  EXPECT_FALSE(this->db_->findStaged(doomed, "abc.nar.xz", 0)->has_value());
  EXPECT_TRUE(this->findObject(kept, 1).has_value());
  EXPECT_TRUE(this->db_->findNarByHash(nar.nar_hash)->has_value());
  EXPECT_EQ(this->db_->deleteCache(doomed, false, 5000).error().code, ErrorCode::kNotFound);
}

TYPED_TEST_P(MetadataDbContractTest, HardDeleteOfSoftDeletedCache) {
  std::int64_t id = this->createCache("old");
  NarRecord nar = this->insertNar(1);
  this->upsertObject(this->newObject(id, 1, nar.id));
  ASSERT_TRUE(this->db_->deleteCache(id, /*soft=*/true, 5000).ok());
  ASSERT_TRUE(this->db_->deleteCache(id, /*soft=*/false, 6000).ok());
  EXPECT_FALSE(this->findObject(id, 1).has_value());
}

// --- NARs --------------------------------------------------------------------

TYPED_TEST_P(MetadataDbContractTest, InsertNarRoundTrips) {
  NarRecord nar = this->newNar(1);
  nar.compression = "xz";
  nar.nar_size = 5'000'000'000;
  auto inserted = commitWholeNar(*this->db_, nar);
  ASSERT_TRUE(inserted.ok()) << inserted.error().message;
  EXPECT_GT(inserted->id, 0);
  nar.id = inserted->id;
  expectSameNar(*inserted, nar);
  auto found = this->db_->findNarByHash(nar.nar_hash);
  ASSERT_TRUE(found.ok() && found->has_value());
  expectSameNar(**found, nar);
}

TYPED_TEST_P(MetadataDbContractTest, InsertNarDedupsOnNarHash) {
  NarRecord first = this->insertNar(1);
  NarRecord duplicate = this->newNar(1);
  duplicate.created_at = 9999;
  auto second = commitWholeNar(*this->db_, duplicate);
  ASSERT_TRUE(second.ok());
  expectSameNar(*second, first);
  NarRecord other = this->insertNar(2);
  EXPECT_NE(other.id, first.id);
}

TYPED_TEST_P(MetadataDbContractTest, InsertNarFillsCreatedAt) {
  NarRecord nar = this->newNar(1);
  nar.created_at = 0;
  auto inserted = commitWholeNar(*this->db_, nar);
  ASSERT_TRUE(inserted.ok());
  EXPECT_GT(inserted->created_at, 1'600'000'000);
}

TYPED_TEST_P(MetadataDbContractTest, FindMissingNarIsNullopt) {
  this->insertNar(1);
  auto found = this->db_->findNarByHash(Hash::of("absent"));
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
}

TYPED_TEST_P(MetadataDbContractTest, FindNarById) {
  NarRecord nar = this->insertNar(1);
  this->insertNar(2);
  auto found = this->db_->findNarById(nar.id);
  ASSERT_TRUE(found.ok() && found->has_value());
  expectSameNar(**found, nar);
  auto missing = this->db_->findNarById(nar.id + 1000);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

// --- staged uploads ----------------------------------------------------------

TYPED_TEST_P(MetadataDbContractTest, StagedPutFindAndReplace) {
  std::int64_t cache_id = this->createCache("main");
  NarRecord a = this->insertNar(1);
  NarRecord b = this->insertNar(2);
  StagedUpload staged{cache_id, "abc.nar.xz", a.id, Hash::of("client a"), 123, 5000};
  ASSERT_TRUE(this->db_->putStaged(staged).ok());
  auto found = this->db_->findStaged(cache_id, "abc.nar.xz", 1000);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->cache_id, cache_id);
  EXPECT_EQ((*found)->file_name, "abc.nar.xz");
  EXPECT_EQ((*found)->nar_id, a.id);
  EXPECT_EQ((*found)->client_file_hash, Hash::of("client a"));
  EXPECT_EQ((*found)->client_file_size, 123u);
  EXPECT_EQ((*found)->expires_at, 5000);

  StagedUpload replaced{cache_id, "abc.nar.xz", b.id, Hash::of("client b"), 456, 8000};
  ASSERT_TRUE(this->db_->putStaged(replaced).ok());
  found = this->db_->findStaged(cache_id, "abc.nar.xz", 1000);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->nar_id, b.id);
  EXPECT_EQ((*found)->client_file_hash, Hash::of("client b"));
  EXPECT_EQ((*found)->client_file_size, 456u);
  EXPECT_EQ((*found)->expires_at, 8000);
}

TYPED_TEST_P(MetadataDbContractTest, StagedUploadsExpire) {
  std::int64_t cache_id = this->createCache("main");
  NarRecord nar = this->insertNar(1);
  ASSERT_TRUE(this->db_->putStaged({cache_id, "f.nar", nar.id, nar.file_hash, 1, 5000}).ok());
  EXPECT_TRUE(this->db_->findStaged(cache_id, "f.nar", 4999)->has_value());
  EXPECT_FALSE(this->db_->findStaged(cache_id, "f.nar", 5000)->has_value());
  EXPECT_FALSE(this->db_->findStaged(cache_id, "f.nar", 6000)->has_value());
  // Renewing an expired row makes it visible again.
  ASSERT_TRUE(this->db_->putStaged({cache_id, "f.nar", nar.id, nar.file_hash, 1, 7000}).ok());
  EXPECT_TRUE(this->db_->findStaged(cache_id, "f.nar", 6000)->has_value());
}

TYPED_TEST_P(MetadataDbContractTest, StagedUploadsAreScopedByCache) {
  std::int64_t a = this->createCache("a");
  std::int64_t b = this->createCache("b");
  NarRecord nar = this->insertNar(1);
  ASSERT_TRUE(this->db_->putStaged({a, "f.nar", nar.id, nar.file_hash, 1, 5000}).ok());
  EXPECT_FALSE(this->db_->findStaged(b, "f.nar", 0)->has_value());
  EXPECT_FALSE(this->db_->findStaged(a, "g.nar", 0)->has_value());
}

// --- objects -----------------------------------------------------------------

TYPED_TEST_P(MetadataDbContractTest, UpsertObjectInsertsAndReplaces) {
  std::int64_t cache_id = this->createCache("main");
  NarRecord a = this->insertNar(1);
  NarRecord b = this->insertNar(2);
  ObjectRecord object = this->newObject(cache_id, 1, a.id);
  ObjectRecord inserted = this->upsertObject(object);
  EXPECT_GT(inserted.id, 0);
  object.id = inserted.id;
  expectSameObject(inserted, object);

  ObjectRecord replacement = this->newObject(cache_id, 1, b.id);
  replacement.references = {};
  replacement.sigs = {"k-1:AAAA", "k-2:BBBB"};
  replacement.deriver = "";
  replacement.ca = "fixed:r:sha256:abc";
  replacement.created_at = 4000;
  replacement.last_accessed_at = 4500;
  replacement.created_by = "alice";
  replacement.pinned = true;
  ObjectRecord replaced = this->upsertObject(replacement);
  replacement.id = inserted.id;
  expectSameObject(replaced, replacement);
  auto found = this->findObject(cache_id, 1);
  ASSERT_TRUE(found.has_value());
  expectSameObject(found->object, replacement);
  expectSameNar(found->nar, b);
}

TYPED_TEST_P(MetadataDbContractTest, UpsertObjectFillsTimestamps) {
  std::int64_t cache_id = this->createCache("main");
  NarRecord nar = this->insertNar(1);
  ObjectRecord object = this->newObject(cache_id, 1, nar.id);
  object.created_at = 0;
  object.last_accessed_at = 0;
  ObjectRecord stored = this->upsertObject(object);
  EXPECT_GT(stored.created_at, 1'600'000'000);
  EXPECT_EQ(stored.last_accessed_at, stored.created_at);
}

TYPED_TEST_P(MetadataDbContractTest, FindObjectJoinsNar) {
  std::int64_t cache_id = this->createCache("main");
  NarRecord nar = this->insertNar(7);
  ObjectRecord stored = this->upsertObject(this->newObject(cache_id, 7, nar.id));
  auto found = this->findObject(cache_id, 7);
  ASSERT_TRUE(found.has_value());
  expectSameObject(found->object, stored);
  expectSameNar(found->nar, nar);
  EXPECT_FALSE(this->findObject(cache_id, 8).has_value());
}

TYPED_TEST_P(MetadataDbContractTest, ObjectsAreScopedByCache) {
  std::int64_t a = this->createCache("a");
  std::int64_t b = this->createCache("b");
  NarRecord nar = this->insertNar(1);
  ObjectRecord in_a = this->upsertObject(this->newObject(a, 1, nar.id));
  EXPECT_FALSE(this->findObject(b, 1).has_value());
  ObjectRecord in_b = this->upsertObject(this->newObject(b, 1, nar.id));
  EXPECT_NE(in_a.id, in_b.id);
  EXPECT_EQ(this->findObject(a, 1)->object.id, in_a.id);
  EXPECT_EQ(this->findObject(b, 1)->object.id, in_b.id);
}

TYPED_TEST_P(MetadataDbContractTest, UpsertObjectWithUnknownNarOrCacheFails) {
  std::int64_t cache_id = this->createCache("main");
  NarRecord nar = this->insertNar(1);
  EXPECT_FALSE(this->db_->upsertObject(this->newObject(cache_id, 1, nar.id + 100)).ok());
  EXPECT_FALSE(this->db_->upsertObject(this->newObject(cache_id + 100, 1, nar.id)).ok());
  EXPECT_FALSE(this->findObject(cache_id, 1).has_value());
}

TYPED_TEST_P(MetadataDbContractTest, StringListsRoundTripAnyText) {
  std::int64_t cache_id = this->createCache("main");
  NarRecord nar = this->insertNar(1);
  ObjectRecord object = this->newObject(cache_id, 1, nar.id);
  object.references = {"quote\"d", "back\\slash", "comma,semi;colon", "", "ünï"};
  object.sigs = {"[not json]", "{\"a\":1}"};
  ObjectRecord stored = this->upsertObject(object);
  EXPECT_EQ(stored.references, object.references);
  EXPECT_EQ(this->findObject(cache_id, 1)->object.sigs, object.sigs);
}

TYPED_TEST_P(MetadataDbContractTest, InvalidUtf8InListsIsInvalidArgument) {
  std::int64_t cache_id = this->createCache("main");
  NarRecord nar = this->insertNar(1);
  ObjectRecord object = this->newObject(cache_id, 1, nar.id);
  object.sigs = {"k-1:\xff\xfe"};
  auto stored = this->db_->upsertObject(object);
  ASSERT_FALSE(stored.ok());
  EXPECT_EQ(stored.error().code, ErrorCode::kInvalidArgument);
  CacheRecord cache = this->newCache("bad");
  cache.upstream_cache_key_names = {"\xc3"};
  EXPECT_EQ(this->db_->createCache(cache).error().code, ErrorCode::kInvalidArgument);
}

TYPED_TEST_P(MetadataDbContractTest, FindNarInCache) {
  std::int64_t a = this->createCache("a");
  std::int64_t b = this->createCache("b");
  NarRecord nar = this->insertNar(1);
  NarRecord unused = this->insertNar(2);
  this->upsertObject(this->newObject(a, 1, nar.id));
  auto found = this->db_->findNarInCache(a, nar.file_hash);
  ASSERT_TRUE(found.ok() && found->has_value());
  expectSameNar(**found, nar);
  EXPECT_FALSE(this->db_->findNarInCache(b, nar.file_hash)->has_value());
  EXPECT_FALSE(this->db_->findNarInCache(a, unused.file_hash)->has_value());
  EXPECT_FALSE(this->db_->findNarInCache(a, nar.nar_hash)->has_value());
}

TYPED_TEST_P(MetadataDbContractTest, MissingPathsKeepsInputOrder) {
  std::int64_t cache_id = this->createCache("main");
  std::int64_t other = this->createCache("other");
  NarRecord nar = this->insertNar(1);
  this->upsertObject(this->newObject(cache_id, 2, nar.id));
  this->upsertObject(this->newObject(cache_id, 4, nar.id));
  this->upsertObject(this->newObject(other, 5, nar.id));
  std::vector<std::string> asked = {pathHash(5), pathHash(4), pathHash(3), pathHash(2),
                                    pathHash(1)};
  auto missing = this->db_->missingPaths(cache_id, asked);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(*missing, (std::vector<std::string>{pathHash(5), pathHash(3), pathHash(1)}));
}

TYPED_TEST_P(MetadataDbContractTest, MissingPathsOverManyBatches) {
  std::int64_t cache_id = this->createCache("main");
  NarRecord nar = this->insertNar(1);
  constexpr int kCount = 1234;
  std::vector<std::string> asked;
  std::vector<std::string> expected;
  for (int i = kCount; i > 0; --i) {
    asked.push_back(pathHash(i));
    if (i % 3 == 0) {
      this->upsertObject(this->newObject(cache_id, i, nar.id));
    } else {
      expected.push_back(pathHash(i));
    }
  }
  auto missing = this->db_->missingPaths(cache_id, asked);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(*missing, expected);
}

TYPED_TEST_P(MetadataDbContractTest, ListPathHashesIsPerCache) {
  std::int64_t cache_id = this->createCache("main");
  std::int64_t other = this->createCache("other");
  NarRecord nar = this->insertNar(1);
  this->upsertObject(this->newObject(cache_id, 2, nar.id));
  this->upsertObject(this->newObject(cache_id, 4, nar.id));
  this->upsertObject(this->newObject(other, 5, nar.id));
  auto hashes = this->db_->listPathHashes(cache_id);
  ASSERT_TRUE(hashes.ok());
  std::sort(hashes->begin(), hashes->end());
  std::vector<std::string> expected = {pathHash(2), pathHash(4)};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(*hashes, expected);
  auto none = this->db_->listPathHashes(cache_id + other + 100);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TYPED_TEST_P(MetadataDbContractTest, MissingPathsOfNothingIsNothing) {
  std::int64_t cache_id = this->createCache("main");
  auto missing = this->db_->missingPaths(cache_id, {});
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->empty());
}

TYPED_TEST_P(MetadataDbContractTest, TouchObjectsKeepsTheLatest) {
  std::int64_t cache_id = this->createCache("main");
  NarRecord nar = this->insertNar(1);
  this->upsertObject(this->newObject(cache_id, 1, nar.id));  // accessed at 3000
  this->upsertObject(this->newObject(cache_id, 2, nar.id));
  std::vector<AccessTouch> touches = {
      {cache_id, pathHash(1), 0, 5000},
      {cache_id, pathHash(1), 0, 4000},  // older than the one before: ignored
      {cache_id, pathHash(2), 0, 2000},  // older than the stored value: ignored
  };
  ASSERT_TRUE(this->db_->touchObjects(touches).ok());
  EXPECT_EQ(this->findObject(cache_id, 1)->object.last_accessed_at, 5000);
  EXPECT_EQ(this->findObject(cache_id, 2)->object.last_accessed_at, 3000);
  // By NAR: every object of the cache that uses it.
  ASSERT_TRUE(this->db_->touchObjects({{cache_id, "", nar.id, 6000}}).ok());
  EXPECT_EQ(this->findObject(cache_id, 1)->object.last_accessed_at, 6000);
  EXPECT_EQ(this->findObject(cache_id, 2)->object.last_accessed_at, 6000);
}

TYPED_TEST_P(MetadataDbContractTest, TouchObjectsIgnoresUnknownPaths) {
  std::int64_t cache_id = this->createCache("main");
  EXPECT_TRUE(this->db_->touchObjects({}).ok());
  EXPECT_TRUE(this->db_->touchObjects({{cache_id, pathHash(9), 5000}}).ok());
  EXPECT_TRUE(this->db_->touchObjects({{cache_id + 50, pathHash(9), 5000}}).ok());
}

// --- NAR commits -------------------------------------------------------------

TYPED_TEST_P(MetadataDbContractTest, CommitNarRecordsChunksInNarOrder) {
  NarRecord old = this->insertNar(1);
  auto old_chunks = this->narChunks(old.id);
  ASSERT_EQ(old_chunks.size(), 1u);
  auto existing = this->findChunk(old.nar_hash);
  ASSERT_TRUE(existing.has_value());
  PackRecord pa = this->createPack("pack/a");
  PackRecord pb = this->createPack("pack/b");
  ChunkRecord c1 = newChunk("1", pa, 0, 10);
  ChunkRecord c2 = newChunk("2", pa, 10, 20);
  ChunkRecord c3 = newChunk("3", pb, 0, 30);
  // c1 twice (a repeated block), the existing chunk twice.
  NarCommit commit = this->narCommit(2, {c1, *existing, c2, c1, c3, *existing},
                                     {sized(pa, 30), sized(pb, 30)});
  auto committed = this->db_->commitNar(commit);
  ASSERT_TRUE(committed.ok()) << committed.error().message;
  EXPECT_FALSE(committed->existed);
  EXPECT_GT(committed->nar.id, 0);
  EXPECT_NE(committed->nar.id, old.id);
  NarRecord expected = commit.nar;
  expected.id = committed->nar.id;
  expectSameNar(committed->nar, expected);
  auto found = this->db_->findNarByHash(commit.nar.nar_hash);
  ASSERT_TRUE(found.ok() && found->has_value());
  expectSameNar(**found, expected);

  struct Want {
    std::int64_t pack_id;
    std::string blob_key;
    std::uint64_t offset;
    std::uint64_t length;
  };
  const ChunkLocation& o = old_chunks[0];
  std::vector<Want> want = {{pa.id, "pack/a", 0, 10},  {o.pack_id, o.blob_key, 0, old.file_size},
                            {pa.id, "pack/a", 10, 20}, {pa.id, "pack/a", 0, 10},
                            {pb.id, "pack/b", 0, 30},  {o.pack_id, o.blob_key, 0, old.file_size}};
  auto locations = this->narChunks(committed->nar.id);
  ASSERT_EQ(locations.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(locations[i].pack_id, want[i].pack_id) << "chunk " << i;
    EXPECT_EQ(locations[i].blob_key, want[i].blob_key) << "chunk " << i;
    EXPECT_EQ(locations[i].offset, want[i].offset) << "chunk " << i;
    EXPECT_EQ(locations[i].length, want[i].length) << "chunk " << i;
  }
  EXPECT_EQ(locations[0].chunk_id, locations[3].chunk_id);
  EXPECT_EQ(locations[1].chunk_id, existing->id);
  EXPECT_EQ(locations[5].chunk_id, existing->id);
  EXPECT_NE(locations[0].chunk_id, locations[2].chunk_id);
  EXPECT_NE(locations[2].chunk_id, locations[4].chunk_id);
  EXPECT_NE(locations[0].chunk_id, locations[4].chunk_id);

  // One row per new chunk, stamped with the commit's time (the NAR's
  // created_at), the existing chunk untouched.
  EXPECT_EQ(this->allChunks().size(), 4u);
  auto in_a = this->packChunks(pa.id);
  ASSERT_EQ(in_a.size(), 2u);
  EXPECT_EQ(in_a[0].id, locations[0].chunk_id);
  EXPECT_EQ(in_a[0].chunk_hash, chunkHash("1"));
  EXPECT_EQ(in_a[0].size, 40u);
  EXPECT_EQ(in_a[0].compression, "zstd");
  EXPECT_EQ(in_a[0].pack_id, pa.id);
  EXPECT_EQ(in_a[0].offset, 0u);
  EXPECT_EQ(in_a[0].length, 10u);
  EXPECT_EQ(in_a[0].created_at, 2000);
  EXPECT_EQ(in_a[0].last_used_at, 2000);
  EXPECT_EQ(in_a[1].chunk_hash, chunkHash("2"));
  EXPECT_EQ(in_a[1].offset, 10u);
  auto in_b = this->packChunks(pb.id);
  ASSERT_EQ(in_b.size(), 1u);
  EXPECT_EQ(in_b[0].chunk_hash, chunkHash("3"));

  // The upload's packs are live with their final sizes.
  for (const PackRecord& pack : {pa, pb}) {
    auto stored = this->findPack(pack.id);
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(packStateName(stored->state), "live") << pack.blob_key;
    EXPECT_EQ(stored->size, 30u) << pack.blob_key;
    EXPECT_EQ(stored->dead_at, 0) << pack.blob_key;
  }
  // The old NAR is unaffected.
  auto again = this->narChunks(old.id);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].chunk_id, existing->id);
}

TYPED_TEST_P(MetadataDbContractTest, CommitNarReusesAChunkStoredMeanwhile) {
  PackRecord pa = this->createPack("pack/a");
  CommittedNar first =
      this->commitNar(this->narCommit(1, {newChunk("y", pa, 0, 7)}, {sized(pa, 7)}));
  auto y = this->findChunk("y");
  ASSERT_TRUE(y.has_value());
  // Another upload wrote the same bytes into its own pack before this one
  // committed: chunk hashes stay unique and the stored copy is used.
  PackRecord pc = this->createPack("pack/c");
  CommittedNar second = this->commitNar(this->narCommit(
      2, {newChunk("y", pc, 0, 7), newChunk("w", pc, 7, 3)}, {sized(pc, 10)}));
  EXPECT_FALSE(second.existed);
  EXPECT_NE(second.nar.id, first.nar.id);
  auto chunks = this->allChunks();
  ASSERT_EQ(chunks.size(), 2u);
  auto locations = this->narChunks(second.nar.id);
  ASSERT_EQ(locations.size(), 2u);
  EXPECT_EQ(locations[0].chunk_id, y->id);
  EXPECT_EQ(locations[0].pack_id, pa.id);
  EXPECT_EQ(locations[0].blob_key, "pack/a");
  EXPECT_EQ(locations[1].pack_id, pc.id);
  EXPECT_EQ(locations[1].offset, 7u);
  EXPECT_EQ(locations[1].length, 3u);
  EXPECT_EQ(packStateName(this->findPack(pc.id)->state), "live");
}

TYPED_TEST_P(MetadataDbContractTest, CommitNarOfExistingHashRecordsNothing) {
  NarRecord first = this->insertNar(1);
  PackRecord px = this->createPack("pack/x", 2500);
  NarCommit commit = this->narCommit(1, {newChunk("x", px, 0, 10)}, {sized(px, 10)});
  commit.nar.file_hash = Hash::of("another compression");
  commit.nar.file_size = 99;
  commit.nar.created_at = 9999;
  auto committed = this->db_->commitNar(commit);
  ASSERT_TRUE(committed.ok()) << committed.error().message;
  EXPECT_TRUE(committed->existed);
  expectSameNar(committed->nar, first);
  auto found = this->db_->findNarByHash(first.nar_hash);
  ASSERT_TRUE(found.ok() && found->has_value());
  expectSameNar(**found, first);
  // Neither the chunk nor the pack state: the caller deletes the pack.
  EXPECT_FALSE(this->findChunk("x").has_value());
  EXPECT_EQ(this->allChunks().size(), 1u);
  auto pack = this->findPack(px.id);
  ASSERT_TRUE(pack.has_value());
  EXPECT_EQ(packStateName(pack->state), "writing");
  EXPECT_EQ(pack->size, 0u);
  EXPECT_EQ(this->narChunks(first.id).size(), 1u);
  EXPECT_TRUE(this->db_->deletePack(px.id).ok());
}

TYPED_TEST_P(MetadataDbContractTest, CommitNarRecordsObjectAndStagedUpload) {
  std::int64_t cache_id = this->createCache("main");
  PackRecord pa = this->createPack("pack/a");
  NarCommit commit = this->narCommit(1, {newChunk("a", pa, 0, 10)}, {sized(pa, 10)});
  commit.object = this->newObject(cache_id, 1, /*nar_id=*/0);  // set by the commit
  commit.staged = StagedUpload{cache_id, "abc.nar.xz", 0, Hash::of("client a"), 11, 9000};
  CommittedNar committed = this->commitNar(commit);
  ASSERT_FALSE(committed.existed);
  ASSERT_GT(committed.nar.id, 0);
  auto found = this->findObject(cache_id, 1);
  ASSERT_TRUE(found.has_value());
  ObjectRecord expected = *commit.object;
  expected.id = found->object.id;
  expected.nar_id = committed.nar.id;
  expectSameObject(found->object, expected);
  EXPECT_EQ(found->nar.id, committed.nar.id);
  auto staged = this->db_->findStaged(cache_id, "abc.nar.xz", 1000);
  ASSERT_TRUE(staged.ok() && staged->has_value());
  EXPECT_EQ((*staged)->nar_id, committed.nar.id);
  EXPECT_EQ((*staged)->client_file_hash, Hash::of("client a"));
  EXPECT_EQ((*staged)->client_file_size, 11u);
  EXPECT_EQ((*staged)->expires_at, 9000);
  EXPECT_FALSE((*staged)->bound);

  // A second upload of the same NAR: the object and the alias it brings
  // point at the existing NAR.
  PackRecord pb = this->createPack("pack/b");
  NarCommit again = this->narCommit(1, {newChunk("b", pb, 0, 10)}, {sized(pb, 10)});
  again.object = this->newObject(cache_id, 2, 0);
  again.staged = StagedUpload{cache_id, "def.nar.xz", 0, Hash::of("client b"), 12, 9000, true};
  CommittedNar existed = this->commitNar(again);
  EXPECT_TRUE(existed.existed);
  EXPECT_EQ(existed.nar.id, committed.nar.id);
  auto second = this->findObject(cache_id, 2);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->object.nar_id, committed.nar.id);
  EXPECT_EQ(second->object.store_path, again.object->store_path);
  auto alias = this->db_->findStaged(cache_id, "def.nar.xz", 1'000'000);
  ASSERT_TRUE(alias.ok() && alias->has_value());
  EXPECT_EQ((*alias)->nar_id, committed.nar.id);
  EXPECT_TRUE((*alias)->bound);
  EXPECT_EQ(packStateName(this->findPack(pb.id)->state), "writing");
  EXPECT_FALSE(this->findChunk("b").has_value());
}

TYPED_TEST_P(MetadataDbContractTest, CommitNarWithCollectedChunkIsUnavailable) {
  std::int64_t cache_id = this->createCache("main");
  NarRecord old = this->insertNar(1);
  auto reused = this->findChunk(old.nar_hash);
  ASSERT_TRUE(reused.has_value());
  // The upload found the chunk, then GC collected it (its NAR had no object).
  ASSERT_EQ(this->collect({.now = 10000, .grace_period = 3600}).chunks, 1u);
  ASSERT_TRUE(this->allChunks().empty());

  PackRecord pa = this->createPack("pack/a");
  NarCommit commit = this->narCommit(2, {newChunk("a", pa, 0, 10), *reused}, {sized(pa, 10)});
  commit.object = this->newObject(cache_id, 2, 0);
  commit.staged = StagedUpload{cache_id, "x.nar.xz", 0, Hash::of("client"), 1, 20000};
  auto committed = this->db_->commitNar(commit);
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(committed.error().code, ErrorCode::kUnavailable) << committed.error().message;
  // Nothing of the commit was recorded.
  EXPECT_FALSE(this->db_->findNarByHash(commit.nar.nar_hash)->has_value());
  EXPECT_TRUE(this->allChunks().empty());
  auto pack = this->findPack(pa.id);
  ASSERT_TRUE(pack.has_value());
  EXPECT_EQ(packStateName(pack->state), "writing");
  EXPECT_EQ(pack->size, 0u);
  EXPECT_FALSE(this->findObject(cache_id, 2).has_value());
  EXPECT_FALSE(this->hasStaged(cache_id, "x.nar.xz", 0));

  // The retry (uploading the chunk again) succeeds.
  commit.chunks = {newChunk("a", pa, 0, 10), newChunk("old", pa, 10, 5)};
  commit.packs = {sized(pa, 15)};
  CommittedNar retried = this->commitNar(commit);
  EXPECT_FALSE(retried.existed);
  EXPECT_EQ(this->narChunks(retried.nar.id).size(), 2u);
  EXPECT_TRUE(this->findObject(cache_id, 2).has_value());
}

// --- chunks and packs ----------------------------------------------------------

TYPED_TEST_P(MetadataDbContractTest, ClaimChunkFindsByHashAndRefreshesRarely) {
  NarRecord nar = this->insertNar(1);  // its chunk was last used at 2000
  auto locations = this->narChunks(nar.id);
  ASSERT_EQ(locations.size(), 1u);

  auto claimed = this->db_->claimChunk(nar.nar_hash, 2299);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  const ChunkRecord& c = **claimed;
  EXPECT_EQ(c.id, locations[0].chunk_id);
  EXPECT_EQ(c.chunk_hash, nar.nar_hash);
  EXPECT_EQ(c.size, nar.nar_size);
  EXPECT_EQ(c.pack_id, locations[0].pack_id);
  EXPECT_EQ(c.offset, 0u);
  EXPECT_EQ(c.length, nar.file_size);
  EXPECT_EQ(c.pack_key, locations[0].blob_key);
  EXPECT_FALSE(c.pack_key.empty());
  // Used less than 300 s ago: no write.
  EXPECT_EQ(c.last_used_at, 2000);
  EXPECT_EQ(this->findChunk(nar.nar_hash)->last_used_at, 2000);

  auto stamp = [&](std::int64_t now) -> std::int64_t {
    auto found = this->db_->claimChunk(nar.nar_hash, now);
    EXPECT_TRUE(found.ok() && found->has_value());
    if (!found.ok() || !found->has_value()) return -1;
    EXPECT_EQ((*found)->last_used_at, this->findChunk(nar.nar_hash)->last_used_at) << now;
    return (*found)->last_used_at;
  };
  EXPECT_EQ(stamp(2301), 2301);  // more than 300 s: refreshed
  EXPECT_EQ(stamp(2500), 2301);
  EXPECT_EQ(stamp(2600), 2301);
  EXPECT_EQ(stamp(2700), 2700);
  EXPECT_EQ(stamp(2000), 2700);  // never moves back

  auto missing = this->db_->claimChunk(Hash::of("absent"), 3000);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TYPED_TEST_P(MetadataDbContractTest, CreateListAndDeletePacks) {
  PackRecord wanted;
  wanted.blob_key = "pack/00/one.pack";
  wanted.created_at = 5000;
  auto one = this->db_->createPack(wanted);
  ASSERT_TRUE(one.ok()) << one.error().message;
  EXPECT_GT(one->id, 0);
  EXPECT_EQ(one->blob_key, "pack/00/one.pack");
  EXPECT_EQ(one->size, 0u);
  EXPECT_EQ(packStateName(one->state), "writing");
  EXPECT_EQ(one->created_at, 5000);
  EXPECT_EQ(one->dead_at, 0);
  PackRecord two = this->createPack("pack/00/two.pack", 5001);
  EXPECT_NE(two.id, one->id);
  EXPECT_EQ(packSnapshot(this->listPacks()), packSnapshot({*one, two}));

  // An abandoned upload's pack goes.
  ASSERT_TRUE(this->db_->deletePack(one->id).ok());
  EXPECT_EQ(packSnapshot(this->listPacks()), packSnapshot({two}));
  EXPECT_TRUE(this->packChunks(one->id).empty());

  // A pack holding chunks stays.
  CommittedNar nar =
      this->commitNar(this->narCommit(1, {newChunk("a", two, 0, 10)}, {sized(two, 10)}));
  auto refused = this->db_->deletePack(two.id);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  auto still = this->findPack(two.id);
  ASSERT_TRUE(still.has_value());
  EXPECT_EQ(packStateName(still->state), "live");
  EXPECT_EQ(this->narChunks(nar.nar.id).size(), 1u);
}

TYPED_TEST_P(MetadataDbContractTest, PackChunksAndUsage) {
  PackRecord pa = this->createPack("pack/a");
  PackRecord pb = this->createPack("pack/b");  // an upload still writing
  PackRecord pc = this->createPack("pack/c");
  PackRecord pd = this->createPack("pack/d");
  this->commitNar(this->narCommit(
      1, {newChunk("x", pa, 20, 5), newChunk("y", pa, 0, 7), newChunk("z", pa, 10, 9)},
      {sized(pa, 34)}));
  // pc's only frame duplicates y, stored first in pa: live, but no live bytes.
  this->commitNar(this->narCommit(2, {newChunk("y", pc, 0, 7)}, {sized(pc, 7)}));
  // pd retired by a rewrite: dead.
  ASSERT_TRUE(this->db_->relocateChunks(*this->findPack(pa.id), {}, {pd.id}, 5000).ok());

  auto in_a = this->packChunks(pa.id);
  ASSERT_EQ(in_a.size(), 3u);
  EXPECT_EQ(in_a[0].chunk_hash, chunkHash("y"));
  EXPECT_EQ(in_a[0].offset, 0u);
  EXPECT_EQ(in_a[1].chunk_hash, chunkHash("z"));
  EXPECT_EQ(in_a[1].offset, 10u);
  EXPECT_EQ(in_a[2].chunk_hash, chunkHash("x"));
  EXPECT_EQ(in_a[2].offset, 20u);
  EXPECT_TRUE(this->packChunks(pb.id).empty());
  EXPECT_TRUE(this->packChunks(pc.id).empty());

  auto usage = this->db_->packUsage();
  ASSERT_TRUE(usage.ok()) << usage.error().message;
  std::vector<std::pair<std::int64_t, std::uint64_t>> got;
  for (const auto& [pack, bytes] : *usage) {
    EXPECT_EQ(packStateName(pack.state), "live") << pack.blob_key;
    if (pack.id == pa.id) {
      EXPECT_EQ(pack.blob_key, "pack/a");
      EXPECT_EQ(pack.size, 34u);
    }
    got.emplace_back(pack.id, bytes);
  }
  std::sort(got.begin(), got.end());
  std::vector<std::pair<std::int64_t, std::uint64_t>> want = {{pa.id, 21}, {pc.id, 0}};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
}

TYPED_TEST_P(MetadataDbContractTest, ListChunksPagesById) {
  PackRecord pa = this->createPack("pack/a");
  std::vector<ChunkRecord> chunks;
  for (int i = 0; i < 5; ++i) chunks.push_back(newChunk(std::to_string(i), pa, 10 * i, 10));
  this->commitNar(this->narCommit(1, chunks, {sized(pa, 50)}));
  std::vector<std::int64_t> seen;
  std::vector<Hash> hashes;
  std::int64_t after = 0;
  std::vector<std::size_t> page_sizes;
  for (int page = 0; page < 10; ++page) {
    auto got = this->db_->listChunks(after, 2);
    ASSERT_TRUE(got.ok());
    page_sizes.push_back(got->size());
    if (got->empty()) break;
    for (const ChunkRecord& c : *got) {
      EXPECT_GT(c.id, after);
      if (!seen.empty()) {
        EXPECT_GT(c.id, seen.back());
      }
      seen.push_back(c.id);
      hashes.push_back(c.chunk_hash);
      EXPECT_EQ(c.pack_id, pa.id);
    }
    after = got->back().id;
  }
  EXPECT_EQ(page_sizes, (std::vector<std::size_t>{2, 2, 1, 0}));
  ASSERT_EQ(hashes.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_NE(std::find(hashes.begin(), hashes.end(), chunkHash(std::to_string(i))),
              hashes.end());
  }
}

TYPED_TEST_P(MetadataDbContractTest, RelocateChunksMovesOnlyChunksStillInPlace) {
  PackRecord pa = this->createPack("pack/a");
  PackRecord pb = this->createPack("pack/b");
  CommittedNar nar = this->commitNar(this->narCommit(
      1,
      {newChunk("a", pa, 0, 10), newChunk("b", pa, 10, 20), newChunk("c", pb, 0, 30),
       newChunk("d", pa, 30, 5)},
      {sized(pa, 35), sized(pb, 30)}));
  std::int64_t a = this->findChunk("a")->id;
  std::int64_t b = this->findChunk("b")->id;
  std::int64_t c = this->findChunk("c")->id;
  std::int64_t d = this->findChunk("d")->id;

  PackRecord pn = this->createPack("pack/n", 6000);
  std::vector<ChunkMove> moves = {
      {a, pa.id, 0, 0},
      {b, pa.id, 999, 10},  // not at that offset: stays
      {c, pb.id, 0, 30},
      {d, pb.id, 30, 60},   // not in that pack: stays
  };
  ASSERT_TRUE(this->db_->relocateChunks(sized(pn, 65), moves, {pa.id, pb.id}, 7000).ok());

  auto locations = this->narChunks(nar.nar.id);
  ASSERT_EQ(locations.size(), 4u);
  EXPECT_EQ(locations[0].pack_id, pn.id);
  EXPECT_EQ(locations[0].blob_key, "pack/n");
  EXPECT_EQ(locations[0].offset, 0u);
  EXPECT_EQ(locations[0].length, 10u);
  EXPECT_EQ(locations[1].pack_id, pa.id);
  EXPECT_EQ(locations[1].offset, 10u);
  EXPECT_EQ(locations[2].pack_id, pn.id);
  EXPECT_EQ(locations[2].blob_key, "pack/n");
  EXPECT_EQ(locations[2].offset, 30u);
  EXPECT_EQ(locations[2].length, 30u);
  EXPECT_EQ(locations[3].pack_id, pa.id);
  EXPECT_EQ(locations[3].offset, 30u);

  // pa keeps chunks, so it stays live; pb is empty and dies.
  auto a_pack = this->findPack(pa.id);
  EXPECT_EQ(packStateName(a_pack->state), "live");
  EXPECT_EQ(a_pack->dead_at, 0);
  auto b_pack = this->findPack(pb.id);
  EXPECT_EQ(packStateName(b_pack->state), "dead");
  EXPECT_EQ(b_pack->dead_at, 7000);
  auto n_pack = this->findPack(pn.id);
  EXPECT_EQ(packStateName(n_pack->state), "live");
  EXPECT_EQ(n_pack->size, 65u);
  auto in_n = this->packChunks(pn.id);
  ASSERT_EQ(in_n.size(), 2u);
  EXPECT_EQ(in_n[0].id, a);
  EXPECT_EQ(in_n[1].id, c);

  // A later rewrite of pa moves the rest.
  PackRecord pm = this->createPack("pack/m", 8000);
  ASSERT_TRUE(this->db_
                  ->relocateChunks(sized(pm, 25), {{b, pa.id, 10, 0}, {d, pa.id, 30, 20}},
                                   {pa.id}, 8000)
                  .ok());
  a_pack = this->findPack(pa.id);
  EXPECT_EQ(packStateName(a_pack->state), "dead");
  EXPECT_EQ(a_pack->dead_at, 8000);
  EXPECT_EQ(packStateName(this->findPack(pm.id)->state), "live");
  locations = this->narChunks(nar.nar.id);
  ASSERT_EQ(locations.size(), 4u);
  EXPECT_EQ(locations[1].blob_key, "pack/m");
  EXPECT_EQ(locations[1].offset, 0u);
  EXPECT_EQ(locations[3].blob_key, "pack/m");
  EXPECT_EQ(locations[3].offset, 20u);
  EXPECT_TRUE(this->db_->deletePack(pa.id).ok());
  EXPECT_TRUE(this->db_->deletePack(pb.id).ok());
}

// --- garbage collection --------------------------------------------------------

TYPED_TEST_P(MetadataDbContractTest, GcExpiresObjectsByRetention) {
  CacheRecord short_cache = this->newCache("short");
  short_cache.retention_period = 100;
  CacheRecord long_cache = this->newCache("long");
  long_cache.retention_period = 100'000;
  CacheRecord never_cache = this->newCache("never");
  never_cache.retention_period = 0;
  std::int64_t dflt = this->createCache("default");
  std::int64_t shrt = this->db_->createCache(short_cache)->id;
  std::int64_t lng = this->db_->createCache(long_cache)->id;
  std::int64_t never = this->db_->createCache(never_cache)->id;
  std::vector<NarRecord> nars;
  for (int n = 0; n <= 7; ++n) nars.push_back(this->insertNar(n));
  // Objects are accessed at 3000 unless touched.
  this->upsertObject(this->newObject(dflt, 1, nars[1].id));  // expires
  this->upsertObject(this->newObject(dflt, 2, nars[2].id));  // touched recently
  this->upsertObject(this->newObject(dflt, 3, nars[3].id));  // pinned
  this->upsertObject(this->newObject(shrt, 4, nars[4].id));  // touched recently enough
  this->upsertObject(this->newObject(shrt, 5, nars[5].id));  // recent, but not for "short"
  this->upsertObject(this->newObject(never, 6, nars[6].id));
  this->upsertObject(this->newObject(lng, 7, nars[7].id));
  ASSERT_TRUE(this->db_->setPinned(dflt, pathHash(3), true).ok());
  ASSERT_TRUE(this->db_
                  ->touchObjects({{dflt, pathHash(2), 0, 9500},
                                  {shrt, pathHash(4), 0, 9950},
                                  {shrt, pathHash(5), 0, 9800}})
                  .ok());

  GcRequest request{.now = 10000, .default_retention_period = 1000, .grace_period = 3600};
  GcReport report = this->collect(request);
  EXPECT_EQ(report.objects, 2u);
  EXPECT_FALSE(this->findObject(dflt, 1).has_value());
  EXPECT_TRUE(this->findObject(dflt, 2).has_value());
  EXPECT_TRUE(this->findObject(dflt, 3).has_value());
  EXPECT_TRUE(this->findObject(shrt, 4).has_value());
  EXPECT_FALSE(this->findObject(shrt, 5).has_value());
  EXPECT_TRUE(this->findObject(never, 6).has_value());
  EXPECT_TRUE(this->findObject(lng, 7).has_value());
  // Their NARs (and the NAR no object ever used) and chunks go with them.
  EXPECT_EQ(report.nars, 3u);
  EXPECT_EQ(report.nar_bytes, nars[0].nar_size + nars[1].nar_size + nars[5].nar_size);
  EXPECT_EQ(report.chunks, 3u);
  EXPECT_EQ(report.chunk_bytes, nars[0].file_size + nars[1].file_size + nars[5].file_size);
  EXPECT_FALSE(this->hasNar(nars[1]));
  EXPECT_FALSE(this->hasNar(nars[5]));
  EXPECT_TRUE(this->hasNar(nars[2]));

  // With no default retention only the caches' own periods apply.
  request = {.now = 1'000'000, .default_retention_period = 0, .grace_period = 3600};
  report = this->collect(request);
  EXPECT_EQ(report.objects, 2u);  // 4, and 7: accessed 3000 < 1'000'000 - 100'000
  EXPECT_TRUE(this->findObject(dflt, 2).has_value());
  EXPECT_TRUE(this->findObject(dflt, 3).has_value());
  EXPECT_FALSE(this->findObject(shrt, 4).has_value());
  EXPECT_TRUE(this->findObject(never, 6).has_value());
  EXPECT_FALSE(this->findObject(lng, 7).has_value());

  // Unpinned, the pinned object expires like the others.
  ASSERT_TRUE(this->db_->setPinned(dflt, pathHash(3), false).ok());
  request.default_retention_period = 1000;
  report = this->collect(request);
  EXPECT_EQ(report.objects, 2u);  // 2 and 3
  EXPECT_FALSE(this->findObject(dflt, 2).has_value());
  EXPECT_FALSE(this->findObject(dflt, 3).has_value());
  EXPECT_TRUE(this->findObject(never, 6).has_value());
}

TYPED_TEST_P(MetadataDbContractTest, GcCollectsSoftDeletedCaches) {
  std::int64_t gone = this->createCache("gone");
  std::int64_t kept = this->createCache("kept");
  NarRecord shared = this->insertNar(1);
  NarRecord only = this->insertNar(2);
  NarRecord staged_only = this->insertNar(3);
  this->upsertObject(this->newObject(gone, 1, shared.id));
  ObjectRecord pinned = this->newObject(gone, 2, only.id);
  pinned.pinned = true;
  this->upsertObject(pinned);
  this->upsertObject(this->newObject(kept, 1, shared.id));
  ASSERT_TRUE(
      this->db_->putStaged({gone, "s.nar.xz", staged_only.id, Hash::of("c"), 1, 1'000'000}).ok());
  ASSERT_TRUE(this->db_->deleteCache(gone, /*soft=*/true, 5000).ok());
  ASSERT_TRUE(this->findObject(gone, 1).has_value());

  GcReport report = this->collect({.now = 10000, .grace_period = 3600});
  EXPECT_EQ(report.objects, 2u);
  EXPECT_FALSE(this->findObject(gone, 1).has_value());
  EXPECT_FALSE(this->findObject(gone, 2).has_value());
  EXPECT_FALSE(this->hasStaged(gone, "s.nar.xz", 0));
  EXPECT_TRUE(this->findObject(kept, 1).has_value());
  EXPECT_EQ(report.nars, 2u);
  EXPECT_EQ(report.nar_bytes, only.nar_size + staged_only.nar_size);
  EXPECT_TRUE(this->hasNar(shared));
  EXPECT_FALSE(this->hasNar(only));
  EXPECT_FALSE(this->hasNar(staged_only));
  EXPECT_EQ(this->db_->deleteCache(gone, /*soft=*/false, 11000).error().code,
            ErrorCode::kNotFound);
}

TYPED_TEST_P(MetadataDbContractTest, GcRemovesUnboundExpiredAndOrphanedStagedUploads) {
  std::int64_t a = this->createCache("a");
  std::int64_t b = this->createCache("b");
  std::vector<NarRecord> nars;
  for (int n = 0; n <= 6; ++n) nars.push_back(this->insertNar(n));
  this->upsertObject(this->newObject(a, 3, nars[3].id));
  this->upsertObject(this->newObject(b, 4, nars[4].id));
  Hash h = Hash::of("client");
  std::vector<StagedUpload> staged = {
      {a, "expired.nar.xz", nars[1].id, h, 1, 5000},
      {a, "fresh.nar.xz", nars[2].id, h, 1, 20000},
      {a, "bound.nar.xz", nars[3].id, h, 1, 5000, true},         // a uses the NAR
      {a, "other-cache.nar.xz", nars[4].id, h, 1, 5000, true},   // only b uses it
      {a, "no-object.nar.xz", nars[5].id, h, 1, 5000, true},     // nothing uses it
      {a, "due-now.nar.xz", nars[6].id, h, 1, 10000},
  };
  for (const StagedUpload& s : staged) ASSERT_TRUE(this->db_->putStaged(s).ok()) << s.file_name;

  GcReport report = this->collect({.now = 10000, .grace_period = 3600});
  EXPECT_EQ(report.objects, 0u);
  EXPECT_EQ(report.staged, 4u);
  EXPECT_FALSE(this->hasStaged(a, "expired.nar.xz", 0));
  EXPECT_TRUE(this->hasStaged(a, "fresh.nar.xz", 10000));
  EXPECT_TRUE(this->hasStaged(a, "bound.nar.xz", 10000));
  EXPECT_FALSE(this->hasStaged(a, "other-cache.nar.xz", 0));
  EXPECT_FALSE(this->hasStaged(a, "no-object.nar.xz", 0));
  EXPECT_FALSE(this->hasStaged(a, "due-now.nar.xz", 0));
  // NARs held by nothing else go: 0 (never referenced), 1, 5 and 6.
  EXPECT_EQ(report.nars, 4u);
  EXPECT_EQ(report.nar_bytes,
            nars[0].nar_size + nars[1].nar_size + nars[5].nar_size + nars[6].nar_size);
  for (int n : {2, 3, 4}) EXPECT_TRUE(this->hasNar(nars[n])) << n;
  for (int n : {0, 1, 5, 6}) EXPECT_FALSE(this->hasNar(nars[n])) << n;

  // The bound alias goes once its cache drops the NAR.
  ASSERT_TRUE(this->db_->deleteCache(b, /*soft=*/false, 11000).ok());
  this->upsertObject(this->newObject(a, 3, nars[2].id));  // repointed to another NAR
  report = this->collect({.now = 11000, .grace_period = 3600});
  EXPECT_EQ(report.staged, 1u);
  EXPECT_FALSE(this->hasStaged(a, "bound.nar.xz", 11000));
  EXPECT_TRUE(this->hasStaged(a, "fresh.nar.xz", 11000));
  EXPECT_EQ(report.nars, 2u);  // 3 and 4
}

TYPED_TEST_P(MetadataDbContractTest, GcCollectsNarsAndChunksAfterGrace) {
  std::int64_t cache_id = this->createCache("main");
  PackRecord pa = this->createPack("pack/a");
  PackRecord final_a = sized(pa, 150);
  CommittedNar x = this->commitNar(
      this->narCommit(1, {newChunk("a", pa, 0, 10), newChunk("s", pa, 10, 20)}, {final_a}));
  auto s = this->findChunk("s");
  ASSERT_TRUE(s.has_value());
  CommittedNar y = this->commitNar(this->narCommit(2, {newChunk("b", pa, 30, 40), *s}, {final_a}));
  CommittedNar z = this->commitNar(this->narCommit(3, {newChunk("c", pa, 70, 80)}, {final_a}));
  this->upsertObject(this->newObject(cache_id, 1, x.nar.id));
  // An upload is reusing c right now.
  auto claimed = this->db_->claimChunk(chunkHash("c"), 9900);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());

  GcReport report = this->collect({.now = 10000, .grace_period = 3600});
  EXPECT_EQ(report.objects, 0u);
  EXPECT_EQ(report.nars, 2u);
  EXPECT_EQ(report.nar_bytes, y.nar.nar_size + z.nar.nar_size);
  EXPECT_FALSE(this->hasNar(y.nar));
  EXPECT_FALSE(this->hasNar(z.nar));
  EXPECT_TRUE(this->narChunks(y.nar.id).empty());
  EXPECT_TRUE(this->narChunks(z.nar.id).empty());
  EXPECT_EQ(this->narChunks(x.nar.id).size(), 2u);
  // b goes; s is still used by x; c was reused within the grace period.
  EXPECT_EQ(report.chunks, 1u);
  EXPECT_EQ(report.chunk_bytes, 40u);
  EXPECT_FALSE(this->findChunk("b").has_value());
  EXPECT_TRUE(this->findChunk("a").has_value());
  EXPECT_TRUE(this->findChunk("s").has_value());
  EXPECT_TRUE(this->findChunk("c").has_value());
  EXPECT_TRUE(report.packs.empty());
  EXPECT_EQ(packStateName(this->findPack(pa.id)->state), "live");

  // c is collected once its last use is more than the grace period ago.
  report = this->collect({.now = 9900 + 3500, .grace_period = 3600});
  EXPECT_EQ(report.nars, 0u);
  EXPECT_EQ(report.chunks, 0u);
  EXPECT_TRUE(this->findChunk("c").has_value());
  report = this->collect({.now = 9900 + 3700, .grace_period = 3600});
  EXPECT_EQ(report.chunks, 1u);
  EXPECT_EQ(report.chunk_bytes, 80u);
  EXPECT_FALSE(this->findChunk("c").has_value());
  EXPECT_EQ(this->allChunks().size(), 2u);
  EXPECT_EQ(packStateName(this->findPack(pa.id)->state), "live");
}

// The grace period protects a chunk used after `now - grace`; one used at
// exactly the cutoff goes (so that grace 0 collects what was used this second).
TYPED_TEST_P(MetadataDbContractTest, GcChunkGraceCutoffIsInclusive) {
  this->insertNar(1);  // no object: NAR and chunk are garbage
  auto chunk = this->findChunk(this->newNar(1).nar_hash);
  ASSERT_TRUE(chunk.has_value());
  ASSERT_EQ(chunk->last_used_at, 2000);
  GcReport report = this->collect({.now = 2000 + 3599, .grace_period = 3600});
  EXPECT_EQ(report.nars, 1u);
  EXPECT_EQ(report.chunks, 0u);
  EXPECT_TRUE(this->findChunk(this->newNar(1).nar_hash).has_value());
  report = this->collect({.now = 2000 + 3600, .grace_period = 3600});
  EXPECT_EQ(report.chunks, 1u);
  EXPECT_FALSE(this->findChunk(this->newNar(1).nar_hash).has_value());
}

TYPED_TEST_P(MetadataDbContractTest, GcMarksPacksDeadAndReturnsThemAfterGrace) {
  std::int64_t cache_id = this->createCache("main");
  NarRecord used = this->insertNar(1);
  NarRecord unused = this->insertNar(2);
  this->upsertObject(this->newObject(cache_id, 1, used.id));
  PackRecord used_pack = this->packOf(used);
  PackRecord unused_pack = this->packOf(unused);
  PackRecord writing_old = this->createPack("pack/writing-old", 6000);
  PackRecord writing_young = this->createPack("pack/writing-young", 7000);
  PackRecord dead_old = this->createPack("pack/dead-old", 1000);
  PackRecord dead_edge = this->createPack("pack/dead-edge", 1000);
  PackRecord dead_young = this->createPack("pack/dead-young", 1000);
  // Retired by rewrites at 5000, 6400 and 9000.
  ASSERT_TRUE(this->db_->relocateChunks(used_pack, {}, {dead_old.id}, 5000).ok());
  ASSERT_TRUE(this->db_->relocateChunks(used_pack, {}, {dead_edge.id}, 6400).ok());
  ASSERT_TRUE(this->db_->relocateChunks(used_pack, {}, {dead_young.id}, 9000).ok());

  GcRequest request{.now = 10000, .grace_period = 3600};
  GcReport report = this->collect(request);
  EXPECT_EQ(sortedIds(report.packs), sorted({dead_old.id, dead_edge.id}));
  for (const PackRecord& pack : report.packs) {
    EXPECT_EQ(packStateName(pack.state), "dead");
    EXPECT_EQ(pack.blob_key, pack.id == dead_old.id ? "pack/dead-old" : "pack/dead-edge");
    EXPECT_EQ(pack.dead_at, pack.id == dead_old.id ? 5000 : 6400);
  }
  auto expectPack = [&](const PackRecord& pack, std::string_view state, std::int64_t dead_at) {
    auto stored = this->findPack(pack.id);
    ASSERT_TRUE(stored.has_value()) << pack.blob_key;
    EXPECT_EQ(packStateName(stored->state), state) << pack.blob_key;
    EXPECT_EQ(stored->dead_at, dead_at) << pack.blob_key;
  };
  expectPack(used_pack, "live", 0);
  expectPack(unused_pack, "dead", 10000);  // its only chunk went with its NAR
  expectPack(writing_old, "dead", 10000);  // abandoned by a crashed upload
  expectPack(writing_young, "writing", 0);
  expectPack(dead_young, "dead", 9000);

  // Until the caller deletes them, they are returned again.
  EXPECT_EQ(sortedIds(this->collect(request).packs), sorted({dead_old.id, dead_edge.id}));
  ASSERT_TRUE(this->db_->deletePack(dead_old.id).ok());
  ASSERT_TRUE(this->db_->deletePack(dead_edge.id).ok());
  EXPECT_FALSE(this->findPack(dead_old.id).has_value());
  EXPECT_TRUE(this->collect(request).packs.empty());

  request.now = 10000 + 3600;
  report = this->collect(request);
  EXPECT_EQ(sortedIds(report.packs), sorted({unused_pack.id, writing_old.id, dead_young.id}));
  expectPack(writing_young, "dead", 13600);
  expectPack(used_pack, "live", 0);
}

TYPED_TEST_P(MetadataDbContractTest, GcDryRunChangesNothingAndReportsTheSame) {
  std::int64_t main = this->createCache("main");
  std::int64_t gone = this->createCache("gone");
  std::vector<NarRecord> nars;
  for (int n = 0; n <= 4; ++n) nars.push_back(this->insertNar(n));
  this->upsertObject(this->newObject(main, 0, nars[0].id));
  this->upsertObject(this->newObject(main, 1, nars[1].id));  // expires
  this->upsertObject(this->newObject(main, 2, nars[2].id));
  this->upsertObject(this->newObject(gone, 3, nars[3].id));
  ASSERT_TRUE(this->db_->touchObjects({{main, pathHash(2), 0, 9500}}).ok());
  ASSERT_TRUE(this->db_->setPinned(main, pathHash(0), true).ok());
  ASSERT_TRUE(this->db_->putStaged({main, "n4.nar.xz", nars[4].id, Hash::of("c"), 1, 5000}).ok());
  ASSERT_TRUE(this->db_->deleteCache(gone, /*soft=*/true, 5000).ok());
  PackRecord retired = this->createPack("pack/retired", 1000);
  ASSERT_TRUE(this->db_->relocateChunks(this->packOf(nars[2]), {}, {retired.id}, 5000).ok());
  PackRecord abandoned = this->createPack("pack/abandoned", 6000);
  auto packs_before = packSnapshot(this->listPacks());
  auto chunks_before = chunkSnapshot(this->allChunks());

  GcRequest request{.now = 10000, .default_retention_period = 1000, .grace_period = 3600,
                    .dry_run = true};
  GcReport dry = this->collect(request);
  EXPECT_EQ(dry.objects, 2u);
  EXPECT_EQ(dry.staged, 1u);
  EXPECT_EQ(dry.nars, 3u);
  EXPECT_EQ(dry.nar_bytes, nars[1].nar_size + nars[3].nar_size + nars[4].nar_size);
  EXPECT_EQ(dry.chunks, 3u);
  EXPECT_EQ(dry.chunk_bytes, nars[1].file_size + nars[3].file_size + nars[4].file_size);
  EXPECT_EQ(sortedIds(dry.packs), sorted({retired.id}));

  EXPECT_EQ(packSnapshot(this->listPacks()), packs_before);
  EXPECT_EQ(chunkSnapshot(this->allChunks()), chunks_before);
  EXPECT_TRUE(this->findObject(main, 1).has_value());
  EXPECT_TRUE(this->findObject(gone, 3).has_value());
  EXPECT_TRUE(this->hasStaged(main, "n4.nar.xz", 0));
  for (const NarRecord& nar : nars) EXPECT_TRUE(this->hasNar(nar)) << nar.id;
  EXPECT_EQ(this->narChunks(nars[1].id).size(), 1u);
  expectSameReport(this->collect(request), dry);

  request.dry_run = false;
  GcReport real = this->collect(request);
  expectSameReport(real, dry);
  EXPECT_FALSE(this->findObject(main, 1).has_value());
  EXPECT_FALSE(this->findObject(gone, 3).has_value());
  EXPECT_FALSE(this->hasStaged(main, "n4.nar.xz", 0));
  EXPECT_EQ(this->allChunks().size(), 2u);
  EXPECT_EQ(packStateName(this->findPack(abandoned.id)->state), "dead");
  EXPECT_NE(packSnapshot(this->listPacks()), packs_before);
  // Nothing left but the pack awaiting deletion.
  GcReport after = this->collect(request);
  EXPECT_EQ(after.objects + after.staged + after.nars + after.chunks, 0u);
  EXPECT_EQ(after.nar_bytes + after.chunk_bytes, 0u);
  EXPECT_EQ(sortedIds(after.packs), sorted({retired.id}));
}

// --- integrity repair ----------------------------------------------------------

TYPED_TEST_P(MetadataDbContractTest, DropDamagedChunksHidesNarsUntilUploadedAgain) {
  std::int64_t c = this->createCache("main");
  std::int64_t d = this->createCache("other");
  PackRecord pa = this->createPack("pack/a");
  PackRecord final_a = sized(pa, 150);
  CommittedNar x = this->commitNar(
      this->narCommit(1, {newChunk("a", pa, 0, 10), newChunk("s", pa, 10, 20)}, {final_a}));
  auto s = this->findChunk("s");
  ASSERT_TRUE(s.has_value());
  CommittedNar y = this->commitNar(this->narCommit(2, {newChunk("b", pa, 30, 40), *s}, {final_a}));
  CommittedNar z = this->commitNar(this->narCommit(3, {newChunk("c", pa, 70, 80)}, {final_a}));
  this->upsertObject(this->newObject(c, 1, x.nar.id));
  this->upsertObject(this->newObject(c, 2, y.nar.id));
  this->upsertObject(this->newObject(c, 3, z.nar.id));
  this->upsertObject(this->newObject(d, 1, x.nar.id));
  const std::vector<std::string> asked = {pathHash(1), pathHash(2), pathHash(3)};

  // Dry run: counts, changes nothing.
  auto dry = this->db_->dropDamagedChunks({s->id, s->id, s->id + 1000}, /*dry_run=*/true);
  ASSERT_TRUE(dry.ok()) << dry.error().message;
  EXPECT_EQ(*dry, 2u);
  EXPECT_TRUE(this->db_->findNarByHash(x.nar.nar_hash)->has_value());
  EXPECT_EQ(this->narChunks(x.nar.id).size(), 2u);
  EXPECT_EQ(this->allChunks().size(), 4u);
  EXPECT_TRUE(this->findObject(c, 2).has_value());
  EXPECT_TRUE(this->db_->missingPaths(c, asked)->empty());

  auto dropped = this->db_->dropDamagedChunks({s->id}, /*dry_run=*/false);
  ASSERT_TRUE(dropped.ok()) << dropped.error().message;
  EXPECT_EQ(*dropped, 2u);
  // x and y are gone for every lookup; z is untouched.
  EXPECT_FALSE(this->db_->findNarByHash(x.nar.nar_hash)->has_value());
  EXPECT_FALSE(this->db_->findNarByHash(y.nar.nar_hash)->has_value());
  EXPECT_FALSE(this->db_->findNarById(x.nar.id)->has_value());
  EXPECT_TRUE(this->db_->findNarByHash(z.nar.nar_hash)->has_value());
  EXPECT_FALSE(this->findObject(c, 1).has_value());
  EXPECT_FALSE(this->findObject(c, 2).has_value());
  EXPECT_FALSE(this->findObject(d, 1).has_value());
  EXPECT_TRUE(this->findObject(c, 3).has_value());
  EXPECT_EQ(*this->db_->missingPaths(c, asked),
            (std::vector<std::string>{pathHash(1), pathHash(2)}));
  EXPECT_EQ(*this->db_->listPathHashes(c), std::vector<std::string>{pathHash(3)});
  EXPECT_TRUE(this->db_->listPathHashes(d)->empty());
  EXPECT_FALSE(this->db_->findNarInCache(c, x.nar.file_hash)->has_value());
  EXPECT_FALSE(this->db_->findNarInCache(d, x.nar.file_hash)->has_value());
  EXPECT_TRUE(this->db_->findNarInCache(c, z.nar.file_hash)->has_value());
  EXPECT_FALSE(this->findChunk("s").has_value());
  EXPECT_FALSE(this->db_->claimChunk(chunkHash("s"), 20000)->has_value());
  EXPECT_TRUE(this->findChunk("a").has_value());
  EXPECT_TRUE(this->narChunks(x.nar.id).empty());
  EXPECT_EQ(this->narChunks(z.nar.id).size(), 1u);
  // A damaged chunk that no NAR uses any more affects no NAR.
  auto b = this->findChunk("b");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(*this->db_->dropDamagedChunks({b->id}, false), 0u);
  EXPECT_FALSE(this->findChunk("b").has_value());

  // Uploading x again revives it under its id, with the new chunk list.
  PackRecord pn = this->createPack("pack/n", 3000);
  NarCommit again = this->narCommit(
      1, {newChunk("a2", pn, 0, 15), *this->findChunk("a"), *this->findChunk("c")},
      {sized(pn, 15)});
  again.nar.compression = "xz";
  again.nar.file_hash = Hash::of("file 1 again");
  again.nar.file_size = 777;
  again.nar.created_at = 3000;
  auto revived = this->db_->commitNar(again);
  ASSERT_TRUE(revived.ok()) << revived.error().message;
  EXPECT_FALSE(revived->existed);
  EXPECT_EQ(revived->nar.id, x.nar.id);
  auto found = this->db_->findNarByHash(x.nar.nar_hash);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, x.nar.id);
  EXPECT_EQ((*found)->compression, "xz");
  EXPECT_EQ((*found)->file_hash, Hash::of("file 1 again"));
  EXPECT_EQ((*found)->file_size, 777u);
  EXPECT_EQ((*found)->nar_size, x.nar.nar_size);
  auto locations = this->narChunks(x.nar.id);
  ASSERT_EQ(locations.size(), 3u);
  EXPECT_EQ(locations[0].blob_key, "pack/n");
  EXPECT_EQ(locations[0].length, 15u);
  EXPECT_EQ(locations[1].blob_key, "pack/a");
  EXPECT_EQ(locations[1].offset, 0u);
  EXPECT_EQ(locations[2].blob_key, "pack/a");
  EXPECT_EQ(locations[2].offset, 70u);
  EXPECT_EQ(packStateName(this->findPack(pn.id)->state), "live");
  auto object = this->findObject(c, 1);
  ASSERT_TRUE(object.has_value());
  EXPECT_EQ(object->nar.file_hash, Hash::of("file 1 again"));
  EXPECT_TRUE(this->findObject(d, 1).has_value());
  EXPECT_EQ(*this->db_->missingPaths(c, asked), std::vector<std::string>{pathHash(2)});
  auto in_cache = this->db_->findNarInCache(c, Hash::of("file 1 again"));
  ASSERT_TRUE(in_cache.ok() && in_cache->has_value());
  EXPECT_EQ((*in_cache)->id, x.nar.id);
  EXPECT_FALSE(this->db_->findNarInCache(c, x.nar.file_hash)->has_value());
  // y stays hidden until it is uploaded again too.
  EXPECT_FALSE(this->db_->findNarById(y.nar.id)->has_value());
  EXPECT_FALSE(this->findObject(c, 2).has_value());
}

// A revived NAR keeps its row (id, created_at) and is returned as stored.
TYPED_TEST_P(MetadataDbContractTest, RevivedNarIsReturnedAsStored) {
  NarRecord nar = this->insertNar(1);
  auto chunks = this->narChunks(nar.id);
  ASSERT_EQ(chunks.size(), 1u);
  ASSERT_EQ(*this->db_->dropDamagedChunks({chunks[0].chunk_id}, false), 1u);
  PackRecord pn = this->createPack("pack/n", 5000);
  NarCommit again = this->narCommit(1, {newChunk("n", pn, 0, 10)}, {sized(pn, 10)});
  again.nar.created_at = 5000;
  CommittedNar revived = this->commitNar(again);
  EXPECT_EQ(revived.nar.id, nar.id);
  auto stored = this->db_->findNarById(nar.id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  expectSameNar(revived.nar, **stored);
}

// --- pins and access times -----------------------------------------------------

TYPED_TEST_P(MetadataDbContractTest, SetPinnedAndListPinned) {
  std::int64_t a = this->createCache("a");
  std::int64_t b = this->createCache("b");
  NarRecord nar = this->insertNar(1);
  for (int n : {3, 1, 2}) this->upsertObject(this->newObject(a, n, nar.id));
  this->upsertObject(this->newObject(b, 5, nar.id));

  EXPECT_EQ(this->db_->setPinned(a, pathHash(9), true).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(this->db_->setPinned(a, pathHash(5), true).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(this->db_->setPinned(a, pathHash(3), true).ok());
  ASSERT_TRUE(this->db_->setPinned(a, pathHash(1), true).ok());
  ASSERT_TRUE(this->db_->setPinned(a, pathHash(1), true).ok());  // already pinned
  ASSERT_TRUE(this->db_->setPinned(b, pathHash(5), true).ok());

  auto pinnedHashes = [&](std::int64_t cache_id) {
    std::vector<std::string> out;
    auto pinned = this->db_->listPinned(cache_id);
    EXPECT_TRUE(pinned.ok());
    if (!pinned.ok()) return out;
    for (const ObjectRecord& o : *pinned) {
      EXPECT_TRUE(o.pinned);
      EXPECT_EQ(o.cache_id, cache_id);
      out.push_back(o.store_path_hash);
    }
    return out;
  };
  EXPECT_EQ(pinnedHashes(a), (std::vector<std::string>{pathHash(1), pathHash(3)}));
  EXPECT_EQ(pinnedHashes(b), std::vector<std::string>{pathHash(5)});
  EXPECT_TRUE(this->findObject(a, 1)->object.pinned);
  EXPECT_FALSE(this->findObject(a, 2)->object.pinned);
  auto listed = this->db_->listPinned(a);
  ASSERT_TRUE(listed.ok() && listed->size() == 2);
  expectSameObject((*listed)[0], this->findObject(a, 1)->object);

  ASSERT_TRUE(this->db_->setPinned(a, pathHash(3), false).ok());
  EXPECT_EQ(pinnedHashes(a), std::vector<std::string>{pathHash(1)});
  EXPECT_FALSE(this->findObject(a, 3)->object.pinned);
  EXPECT_TRUE(pinnedHashes(a + b + 100).empty());
}

TYPED_TEST_P(MetadataDbContractTest, TouchObjectsByNarIsScopedToTheCache) {
  std::int64_t a = this->createCache("a");
  std::int64_t b = this->createCache("b");
  NarRecord x = this->insertNar(1);
  NarRecord y = this->insertNar(2);
  this->upsertObject(this->newObject(a, 1, x.id));
  this->upsertObject(this->newObject(a, 2, x.id));
  this->upsertObject(this->newObject(a, 3, y.id));
  this->upsertObject(this->newObject(b, 1, x.id));
  ASSERT_TRUE(this->db_->touchObjects({{a, "", x.id, 5000}}).ok());
  EXPECT_EQ(this->findObject(a, 1)->object.last_accessed_at, 5000);
  EXPECT_EQ(this->findObject(a, 2)->object.last_accessed_at, 5000);
  EXPECT_EQ(this->findObject(a, 3)->object.last_accessed_at, 3000);
  EXPECT_EQ(this->findObject(b, 1)->object.last_accessed_at, 3000);
  // Mixed with a per-path touch in one batch.
  ASSERT_TRUE(this->db_->touchObjects({{b, "", x.id, 6000}, {a, pathHash(3), 0, 7000}}).ok());
  EXPECT_EQ(this->findObject(b, 1)->object.last_accessed_at, 6000);
  EXPECT_EQ(this->findObject(a, 1)->object.last_accessed_at, 5000);
  EXPECT_EQ(this->findObject(a, 3)->object.last_accessed_at, 7000);
}

// --- concurrency -------------------------------------------------------------

TYPED_TEST_P(MetadataDbContractTest, ConcurrentInsertNarYieldsOneRow) {
  constexpr int kThreads = 4;
  std::vector<std::int64_t> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      NarRecord nar = this->newNar(1);
      auto inserted = commitWholeNar(*this->db_, nar);
      ASSERT_TRUE(inserted.ok()) << inserted.error().message;
      ids[t] = inserted->id;
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 1; t < kThreads; ++t) EXPECT_EQ(ids[t], ids[0]);
  auto found = this->db_->findNarByHash(this->newNar(1).nar_hash);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, ids[0]);
}

TYPED_TEST_P(MetadataDbContractTest, ConcurrentInsertNarAcrossConnections) {
  constexpr int kThreads = 4;
  constexpr int kNars = 25;
  std::vector<std::unique_ptr<MetadataDb>> conns;
  for (int t = 0; t < kThreads; ++t) {
    conns.push_back(this->factory_.connect());
    ASSERT_NE(conns.back(), nullptr);
  }
  std::vector<std::vector<std::int64_t>> ids(kThreads, std::vector<std::int64_t>(kNars));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0; n < kNars; ++n) {
        auto inserted = commitWholeNar(*conns[t], this->newNar(n));
        ASSERT_TRUE(inserted.ok()) << inserted.error().message;
        ids[t][n] = inserted->id;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 1; t < kThreads; ++t) EXPECT_EQ(ids[t], ids[0]);
  for (int n = 0; n < kNars; ++n) {
    EXPECT_EQ((*this->db_->findNarByHash(this->newNar(n).nar_hash))->id, ids[0][n]);
  }
}

TYPED_TEST_P(MetadataDbContractTest, ConcurrentCreateCacheHasOneWinner) {
  constexpr int kThreads = 4;
  std::atomic<int> created{0};
  std::atomic<int> rejected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto result = this->db_->createCache(this->newCache("race"));
      if (result.ok()) {
        ++created;
      } else if (result.error().code == ErrorCode::kAlreadyExists) {
        ++rejected;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(rejected.load(), kThreads - 1);
}

TYPED_TEST_P(MetadataDbContractTest, GcLeaseHasOneHolderAtATime) {
  auto& db = *this->db_;
  EXPECT_TRUE(*db.acquireGcLease("replica-a", 1000, 60));
  EXPECT_FALSE(*db.acquireGcLease("replica-b", 1010, 60));  // a holds it until 1060
  EXPECT_TRUE(*db.acquireGcLease("replica-a", 1050, 60));   // renewal: until 1110
  EXPECT_FALSE(*db.acquireGcLease("replica-b", 1100, 60));
  EXPECT_TRUE(*db.acquireGcLease("replica-b", 1110, 60));   // expired: b takes over
  EXPECT_FALSE(*db.acquireGcLease("replica-a", 1120, 60));
  ASSERT_TRUE(db.releaseGcLease("replica-a").ok());         // not a's: nothing happens
  EXPECT_FALSE(*db.acquireGcLease("replica-a", 1121, 60));
  ASSERT_TRUE(db.releaseGcLease("replica-b").ok());
  EXPECT_TRUE(*db.acquireGcLease("replica-a", 1122, 60));
  EXPECT_EQ(*db.gcLeaseHolder(1130), std::optional<std::string>("replica-a"));
  EXPECT_EQ(*db.gcLeaseHolder(1182), std::nullopt);  // expired
  // Taking over from a holder known to be gone.
  EXPECT_FALSE(*db.acquireGcLease("replica-c", 1130, 60, "replica-b"));
  EXPECT_TRUE(*db.acquireGcLease("replica-c", 1130, 60, "replica-a"));
  EXPECT_EQ(*db.gcLeaseHolder(1131), std::optional<std::string>("replica-c"));
}

REGISTER_TYPED_TEST_SUITE_P(
    MetadataDbContractTest, ListPathHashesIsPerCache, MigrateIsIdempotent, PingSucceeds, DataSurvivesReconnect,
    CreateAndFindCacheRoundTrips, CreateCacheFillsCreatedAt,
    RetentionPeriodDistinguishesUnsetAndZero, FindMissingCacheIsNullopt,
    DuplicateCacheNameIsAlreadyExists, ListCachesIsSortedAndSkipsDeleted,
    UpdateCacheChangesEverythingButIdentity, UpdateMissingCacheIsNotFound,
    SoftDeleteHidesCacheAndFreesName, DeleteMissingCacheIsNotFound, HardDeleteCascades,
    HardDeleteOfSoftDeletedCache, InsertNarRoundTrips, InsertNarDedupsOnNarHash,
    InsertNarFillsCreatedAt, FindMissingNarIsNullopt, FindNarById, StagedPutFindAndReplace,
    StagedUploadsExpire, StagedUploadsAreScopedByCache, UpsertObjectInsertsAndReplaces,
    UpsertObjectFillsTimestamps, FindObjectJoinsNar, ObjectsAreScopedByCache,
    UpsertObjectWithUnknownNarOrCacheFails, StringListsRoundTripAnyText,
    InvalidUtf8InListsIsInvalidArgument, FindNarInCache, MissingPathsKeepsInputOrder,
    MissingPathsOverManyBatches, MissingPathsOfNothingIsNothing, TouchObjectsKeepsTheLatest,
    TouchObjectsIgnoresUnknownPaths, ConcurrentInsertNarYieldsOneRow,
    ConcurrentInsertNarAcrossConnections, ConcurrentCreateCacheHasOneWinner,
    CommitNarRecordsChunksInNarOrder, CommitNarReusesAChunkStoredMeanwhile,
    CommitNarOfExistingHashRecordsNothing, CommitNarRecordsObjectAndStagedUpload,
    CommitNarWithCollectedChunkIsUnavailable, ClaimChunkFindsByHashAndRefreshesRarely,
    CreateListAndDeletePacks, PackChunksAndUsage, ListChunksPagesById,
    RelocateChunksMovesOnlyChunksStillInPlace, GcExpiresObjectsByRetention,
    GcCollectsSoftDeletedCaches, GcRemovesUnboundExpiredAndOrphanedStagedUploads,
    GcCollectsNarsAndChunksAfterGrace, GcChunkGraceCutoffIsInclusive,
    GcMarksPacksDeadAndReturnsThemAfterGrace,
    GcDryRunChangesNothingAndReportsTheSame, DropDamagedChunksHidesNarsUntilUploadedAgain,
    RevivedNarIsReturnedAsStored, SetPinnedAndListPinned,
    TouchObjectsByNarIsScopedToTheCache, GcLeaseHasOneHolderAtATime);

}  // namespace garret::db

