// SQLite-specific behaviour beyond the shared contract.

#include "db/sqlite/sqlite_metadata_db.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <limits>
#include <string>
#include <thread>

#include "db/sqlite/sqlite_migrations.h"
#include "unit/db/nar_fixture.h"
#include "support/temp_dir.h"

namespace garret::db {
namespace {

// A second, raw connection to poke at the file behind the API's back.
class RawDb {
 public:
  explicit RawDb(const std::string& path) { sqlite3_open(path.c_str(), &db_); }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  int exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }
  std::string scalar(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
    std::string out;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      out = text ? reinterpret_cast<const char*>(text) : "";
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

class SqliteMetadataDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (dir_.path() / "garret.db").string();
    auto opened = SqliteMetadataDb::open(path_, SqliteOptions{.busy_timeout_ms = 50});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db_ = std::move(opened).value();
  }

  // A cache with one object "h"; returns the cache id (0 on failure).
  std::int64_t makeObject() {
    if (!db_->migrate().ok()) return 0;
    CacheRecord cache;
    cache.name = "main";
    auto created = db_->createCache(cache);
    NarRecord nar;
    nar.nar_hash = Hash::of("nar");
    nar.file_hash = Hash::of("file");
    auto inserted = commitWholeNar(*db_, nar);
    if (!created.ok() || !inserted.ok()) return 0;
    ObjectRecord object;
    object.cache_id = created->id;
    object.store_path_hash = "h";
    object.nar_id = inserted->id;
    return db_->upsertObject(object).ok() ? created->id : 0;
  }

  garret::testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<SqliteMetadataDb> db_;
};

TEST_F(SqliteMetadataDbTest, InMemoryDatabaseWorks) {
  auto memory = SqliteMetadataDb::open(":memory:");
  ASSERT_TRUE(memory.ok());
  ASSERT_TRUE((*memory)->migrate().ok());
  CacheRecord cache;
  cache.name = "mem";
  ASSERT_TRUE((*memory)->createCache(cache).ok());
  EXPECT_TRUE((*memory)->findCache("mem")->has_value());
  ASSERT_TRUE(db_->migrate().ok());
  EXPECT_FALSE(db_->findCache("mem")->has_value());
}

TEST_F(SqliteMetadataDbTest, UsesWriteAheadLog) {
  ASSERT_TRUE(db_->migrate().ok());
  RawDb raw(path_);
  EXPECT_EQ(raw.scalar("PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteMetadataDbTest, SchemaVersionFollowsMigrations) {
  EXPECT_EQ(*db_->schemaVersion(), 0);
  ASSERT_TRUE(db_->migrate().ok());
  int latest = sqlite::migrations().back().version;
  EXPECT_EQ(*db_->schemaVersion(), latest);
  RawDb raw(path_);
  EXPECT_EQ(raw.scalar("SELECT COUNT(*) FROM schema_migrations"),
            std::to_string(sqlite::migrations().size()));
}

TEST_F(SqliteMetadataDbTest, RefusesNewerSchema) {
  ASSERT_TRUE(db_->migrate().ok());
  RawDb raw(path_);
  ASSERT_EQ(raw.exec("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)"),
            SQLITE_OK);
  auto status = db_->migrate();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInternal);
  EXPECT_NE(status.error().message.find("999"), std::string::npos);
}

TEST_F(SqliteMetadataDbTest, LockedDatabaseIsUnavailable) {
  ASSERT_TRUE(db_->migrate().ok());
  RawDb raw(path_);
  ASSERT_EQ(raw.exec("BEGIN EXCLUSIVE"), SQLITE_OK);
  NarRecord nar;
  nar.nar_hash = Hash::of("nar");
  auto blocked = commitWholeNar(*db_, nar);
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.error().code, ErrorCode::kUnavailable);
  ASSERT_EQ(raw.exec("ROLLBACK"), SQLITE_OK);
  EXPECT_TRUE(commitWholeNar(*db_, nar).ok());
}

TEST_F(SqliteMetadataDbTest, CorruptStoredListIsInternal) {
  std::int64_t cache_id = makeObject();
  ASSERT_NE(cache_id, 0);
  RawDb raw(path_);
  ASSERT_EQ(raw.exec("UPDATE object SET sigs = '{not json'"), SQLITE_OK);
  auto found = db_->findObject(cache_id, "h");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code, ErrorCode::kInternal);
  ASSERT_EQ(raw.exec("UPDATE object SET sigs = '[1, 2]'"), SQLITE_OK);
  EXPECT_EQ(db_->findObject(cache_id, "h").error().code, ErrorCode::kInternal);
}

TEST_F(SqliteMetadataDbTest, CorruptStoredHashIsInternal) {
  std::int64_t cache_id = makeObject();
  ASSERT_NE(cache_id, 0);
  RawDb raw(path_);
  ASSERT_EQ(raw.exec("UPDATE nar SET file_hash = 'xyz'"), SQLITE_OK);
  auto found = db_->findObject(cache_id, "h");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code, ErrorCode::kInternal);
}

TEST_F(SqliteMetadataDbTest, StoresHashesAsLowercaseHex) {
  ASSERT_NE(makeObject(), 0);
  RawDb raw(path_);
  EXPECT_EQ(raw.scalar("SELECT nar_hash FROM nar"), Hash::of("nar").toHex());
}

TEST_F(SqliteMetadataDbTest, UnopenablePathFails) {
  auto opened = SqliteMetadataDb::open((dir_.path() / "missing" / "dir" / "x.db").string());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(opened.error().message.find("x.db"), std::string::npos);
}

TEST_F(SqliteMetadataDbTest, ConcurrentMigratorsApplyOnce) {
  auto one = SqliteMetadataDb::open(path_);
  auto two = SqliteMetadataDb::open(path_);
  ASSERT_TRUE(one.ok() && two.ok());
  std::thread a([&] { EXPECT_TRUE((*one)->migrate().ok()); });
  std::thread b([&] { EXPECT_TRUE((*two)->migrate().ok()); });
  a.join();
  b.join();
  RawDb raw(path_);
  EXPECT_EQ(raw.scalar("SELECT COUNT(*) FROM schema_migrations"),
            std::to_string(sqlite::migrations().size()));
}

// Layout 1 stored each NAR as one whole zstd blob (nar.blob_key); migration
// 2 turns each into a pack holding one chunk, and marks the staged uploads
// that narinfos had bound (expires_at = INT64_MAX then) as bound.
TEST_F(SqliteMetadataDbTest, MigrationTwoTurnsWholeNarsIntoOneChunkPacks) {
  ASSERT_TRUE(db_->migrateTo(1).ok());
  ASSERT_EQ(*db_->schemaVersion(), 1);
  const Hash nar_hash = Hash::of("old nar");
  const Hash file_hash = Hash::of("old file");
  const Hash other_hash = Hash::of("other nar");
  {
    RawDb raw(path_);
    ASSERT_EQ(raw.exec("INSERT INTO cache (name, keypair, store_dir, priority, created_at) "
                       "VALUES ('main', 'main:secret', '/nix/store', 41, 1000)"),
              SQLITE_OK);
    ASSERT_EQ(raw.exec("INSERT INTO nar (nar_hash, nar_size, compression, file_hash, file_size, "
                       "blob_key, created_at) VALUES ('" +
                       nar_hash.toHex() + "', 4096, 'zstd', '" + file_hash.toHex() +
                       "', 1234, 'nar/ab/old.nar.zst', 2000)"),
              SQLITE_OK);
    ASSERT_EQ(raw.exec("INSERT INTO nar (nar_hash, nar_size, compression, file_hash, file_size, "
                       "blob_key, created_at) VALUES ('" +
                       other_hash.toHex() + "', 8192, 'zstd', '" + Hash::of("other file").toHex() +
                       "', 2345, 'nar/cd/other.nar.zst', 2100)"),
              SQLITE_OK);
    ASSERT_EQ(raw.exec("INSERT INTO object (cache_id, store_path_hash, store_path, nar_id, "
                       "created_at, last_accessed_at) VALUES ((SELECT id FROM cache), 'h', "
                       "'/nix/store/h-old', (SELECT id FROM nar WHERE blob_key = "
                       "'nar/ab/old.nar.zst'), 3000, 3000)"),
              SQLITE_OK);
    ASSERT_EQ(raw.exec("INSERT INTO staged_upload (cache_id, file_name, nar_id, client_file_hash, "
                       "client_file_size, expires_at) VALUES ((SELECT id FROM cache), "
                       "'old.nar.xz', (SELECT id FROM nar WHERE blob_key = "
                       "'nar/ab/old.nar.zst'), '" +
                       Hash::of("client").toHex() + "', 1111, 9223372036854775807)"),
              SQLITE_OK);
    ASSERT_EQ(raw.exec("INSERT INTO staged_upload (cache_id, file_name, nar_id, client_file_hash, "
                       "client_file_size, expires_at) VALUES ((SELECT id FROM cache), "
                       "'pending.nar.xz', (SELECT id FROM nar WHERE blob_key = "
                       "'nar/cd/other.nar.zst'), '" +
                       Hash::of("client 2").toHex() + "', 2222, 5000)"),
              SQLITE_OK);
  }

  ASSERT_TRUE(db_->migrate().ok());
  EXPECT_EQ(*db_->schemaVersion(), 3);
  auto cache = db_->findCache("main");
  ASSERT_TRUE(cache.ok() && cache->has_value());
  const std::int64_t cache_id = (*cache)->id;

  auto found = db_->findObject(cache_id, "h");
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_TRUE(found->has_value());
  const NarRecord& nar = (*found)->nar;
  EXPECT_EQ((*found)->object.store_path, "/nix/store/h-old");
  EXPECT_EQ(nar.nar_hash, nar_hash);
  EXPECT_EQ(nar.nar_size, 4096u);
  EXPECT_EQ(nar.file_hash, file_hash);
  EXPECT_EQ(nar.file_size, 1234u);
  EXPECT_EQ(nar.created_at, 2000);

  auto chunks = db_->narChunks(nar.id);
  ASSERT_TRUE(chunks.ok()) << chunks.error().message;
  ASSERT_EQ(chunks->size(), 1u);
  const ChunkLocation& location = (*chunks)[0];
  EXPECT_EQ(location.blob_key, "nar/ab/old.nar.zst");
  EXPECT_EQ(location.offset, 0u);
  EXPECT_EQ(location.length, 1234u);

  auto packs = db_->listPacks();
  ASSERT_TRUE(packs.ok());
  ASSERT_EQ(packs->size(), 2u);
  for (const PackRecord& pack : *packs) {
    EXPECT_EQ(packStateName(pack.state), "live") << pack.blob_key;
    EXPECT_EQ(pack.dead_at, 0) << pack.blob_key;
    if (pack.blob_key == "nar/ab/old.nar.zst") {
      EXPECT_EQ(pack.id, location.pack_id);
      EXPECT_EQ(pack.size, 1234u);
      EXPECT_EQ(pack.created_at, 2000);
    } else {
      EXPECT_EQ(pack.blob_key, "nar/cd/other.nar.zst");
      EXPECT_EQ(pack.size, 2345u);
    }
  }
  auto usage = db_->packUsage();
  ASSERT_TRUE(usage.ok());
  ASSERT_EQ(usage->size(), 2u);
  for (const auto& [pack, bytes] : *usage) EXPECT_EQ(bytes, pack.size) << pack.blob_key;

  // The chunk is the whole NAR: its hash is the NarHash.
  auto claimed = db_->claimChunk(nar_hash, 2100);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  EXPECT_EQ((*claimed)->id, location.chunk_id);
  EXPECT_EQ((*claimed)->chunk_hash, nar_hash);
  EXPECT_EQ((*claimed)->size, 4096u);
  EXPECT_EQ((*claimed)->compression, "zstd");
  EXPECT_EQ((*claimed)->offset, 0u);
  EXPECT_EQ((*claimed)->length, 1234u);
  EXPECT_EQ((*claimed)->pack_key, "nar/ab/old.nar.zst");
  auto other = db_->findNarByHash(other_hash);
  ASSERT_TRUE(other.ok() && other->has_value());
  auto other_chunks = db_->narChunks((*other)->id);
  ASSERT_TRUE(other_chunks.ok() && other_chunks->size() == 1);
  EXPECT_EQ((*other_chunks)[0].blob_key, "nar/cd/other.nar.zst");
  EXPECT_EQ((*other_chunks)[0].length, 2345u);
  auto all = db_->listChunks(0, 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);

  // The alias a narinfo bound stays bound, past any expiry; the pending
  // upload still expires.
  auto staged = db_->findStaged(cache_id, "old.nar.xz", std::numeric_limits<std::int64_t>::max());
  ASSERT_TRUE(staged.ok() && staged->has_value());
  EXPECT_TRUE((*staged)->bound);
  EXPECT_EQ((*staged)->nar_id, nar.id);
  EXPECT_EQ((*staged)->client_file_size, 1111u);
  auto pending = db_->findStaged(cache_id, "pending.nar.xz", 4000);
  ASSERT_TRUE(pending.ok() && pending->has_value());
  EXPECT_FALSE((*pending)->bound);
  EXPECT_FALSE(db_->findStaged(cache_id, "pending.nar.xz", 6000)->has_value());

  RawDb raw(path_);
  EXPECT_EQ(raw.scalar("SELECT COUNT(*) FROM pragma_table_info('nar') WHERE name = 'blob_key'"),
            "0");
  EXPECT_EQ(raw.scalar("PRAGMA foreign_key_check"), "");

  // Migrated NARs behave like new ones: deduplication on the NarHash...
  NarRecord again;
  again.nar_hash = nar_hash;
  again.created_at = 9000;
  auto deduped = commitWholeNar(*db_, again);
  ASSERT_TRUE(deduped.ok());
  EXPECT_EQ(deduped->id, nar.id);
  // ...and garbage collection: the pending upload expired, its NAR, chunk
  // and pack go; the bound alias and the object's NAR stay.
  auto report = db_->collectGarbage({.now = 10000, .grace_period = 3600});
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->objects, 0u);
  EXPECT_EQ(report->staged, 1u);
  EXPECT_EQ(report->nars, 1u);
  EXPECT_EQ(report->nar_bytes, 8192u);
  EXPECT_EQ(report->chunks, 1u);
  EXPECT_EQ(report->chunk_bytes, 2345u);
  EXPECT_TRUE(db_->findStaged(cache_id, "old.nar.xz", 10000)->has_value());
  EXPECT_TRUE(db_->findObject(cache_id, "h")->has_value());
  EXPECT_FALSE(db_->findNarByHash(other_hash)->has_value());
}

TEST_F(SqliteMetadataDbTest, MigrationTwoOfAnEmptyDatabase) {
  ASSERT_TRUE(db_->migrateTo(1).ok());
  ASSERT_TRUE(db_->migrate().ok());
  EXPECT_EQ(*db_->schemaVersion(), 3);
  EXPECT_TRUE(db_->listPacks()->empty());
  EXPECT_TRUE(db_->listChunks(0, 10)->empty());
}

}  // namespace
}  // namespace garret::db
