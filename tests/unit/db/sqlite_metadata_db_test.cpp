// SQLite-specific behaviour beyond the shared contract.

#include "db/sqlite/sqlite_metadata_db.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

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

}  // namespace
}  // namespace garret::db
