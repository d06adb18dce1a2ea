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
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, MetadataDbContractTest,
//                                  ::testing::Types<MyFactory>, FactoryNames);
//
// Include from exactly one .cpp per test binary.

#include <algorithm>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
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
    ConcurrentInsertNarAcrossConnections, ConcurrentCreateCacheHasOneWinner);

}  // namespace garret::db
