// PostgreSQL-specific behaviour beyond the shared contract: connection
// parameters and password files, error translation, migrations, the
// connection pool, and recovery from lost connections and a server restart.

#include "db/postgres/postgres_metadata_db.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <limits>
#include <map>
#include <thread>

#include "db/postgres/postgres_connection.h"
#include "db/postgres/postgres_migrations.h"
#include "db/sqlite/sqlite_metadata_db.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"
#include "unit/db/nar_fixture.h"

namespace garret::db {
namespace {

using garret::testing::PostgresServer;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::chrono::milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

// --- connection parameters, password files, error codes (no server) ------------

std::map<std::string, std::string> paramMap(const postgres::ConnectSpec& spec) {
  auto params = postgres::connectParams(spec);
  EXPECT_TRUE(params.ok()) << (params.ok() ? "" : params.error().message);
  if (!params.ok()) return {};
  EXPECT_EQ(params->front().first, "dbname");  // the URL, expanded first
  EXPECT_EQ(params->front().second, spec.url);
  return {params->begin(), params->end()};
}

TEST(PostgresConnectParamsTest, AddsGarretDefaultsToTheUrl) {
  auto params = paramMap({.url = "postgresql://garret@db.example.org:5433/garret?sslmode=require"});
  EXPECT_EQ(params["connect_timeout"], "5");
  EXPECT_EQ(params["application_name"], "garretd");
  EXPECT_EQ(params["options"], "-c statement_timeout=30000");
  EXPECT_EQ(params["keepalives"], "1");
  EXPECT_EQ(params["client_encoding"], "UTF8");
  EXPECT_EQ(params.count("password"), 0u);
  EXPECT_EQ(params.count("sslmode"), 0u);  // stays in the URL
}

TEST(PostgresConnectParamsTest, KeepsWhatTheUrlSets) {
  auto params =
      paramMap({.url = "postgres://u@h/db?connect_timeout=2&application_name=mine&keepalives=0&"
                       "options=-c%20search_path%3Dgarret",
                .connect_timeout_seconds = 9,
                .statement_timeout_ms = 1234});
  EXPECT_EQ(params.count("connect_timeout"), 0u);
  EXPECT_EQ(params.count("application_name"), 0u);
  EXPECT_EQ(params.count("keepalives"), 0u);
  // Ours first, so that a statement_timeout in the URL's options wins.
  EXPECT_EQ(params["options"], "-c statement_timeout=1234 -c search_path=garret");
}

TEST(PostgresConnectParamsTest, PasswordReplacesTheUrls) {
  auto params = paramMap({.url = "postgresql://u:old@h/db", .password = "from-file"});
  EXPECT_EQ(params["password"], "from-file");
  params = paramMap({.url = "host=h port=5432 dbname=garret user=u"});
  EXPECT_EQ(params["connect_timeout"], "5");
}

TEST(PostgresConnectParamsTest, MalformedUrlIsInvalidArgumentWithoutThePassword) {
  for (const char* url : {"postgresql://u:hunter2@h/db?no_such_option=1",
                          "postgresql://u:hun%zzter2@h/db", "postgresql://u:hunter2@[::1/db"}) {
    auto params = postgres::connectParams({.url = url});
    ASSERT_FALSE(params.ok()) << url;
    EXPECT_EQ(params.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(params.error().message.find("database URL is not valid"), std::string::npos);
    EXPECT_EQ(params.error().message.find("hunter2"), std::string::npos) << params.error().message;
    EXPECT_EQ(params.error().message.find("hun%zzter2"), std::string::npos)
        << params.error().message;
    auto opened = PostgresMetadataDb::open(url);
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(PostgresPasswordFileTest, ReadsTheTrimmedContent) {
  garret::testing::TempDir dir;
  std::string path = (dir.path() / "password").string();
  std::ofstream(path) << "  s3cret pass\n\n";
  auto password = postgres::readPasswordFile(path);
  ASSERT_TRUE(password.ok()) << password.error().message;
  EXPECT_EQ(*password, "s3cret pass");

  std::ofstream(path, std::ios::trunc) << " \n";
  EXPECT_EQ(postgres::readPasswordFile(path).error().code, ErrorCode::kInvalidArgument);
  auto missing = postgres::readPasswordFile((dir.path() / "missing").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kIo);
  EXPECT_NE(missing.error().message.find("missing"), std::string::npos);
  PostgresOptions options;
  options.password_file = (dir.path() / "missing").string();
  EXPECT_EQ(PostgresMetadataDb::open("postgresql://u@127.0.0.1:1/db", options).error().code,
            ErrorCode::kIo);
}

TEST(PostgresErrorTest, TranslatesSqlStates) {
  struct Case {
    const char* sqlstate;
    ErrorCode code;
  };
  for (const Case& c : {
           Case{"23505", ErrorCode::kAlreadyExists},    // unique
           Case{"23503", ErrorCode::kConflict},         // foreign key
           Case{"23502", ErrorCode::kConflict},         // not null
           Case{"23514", ErrorCode::kConflict},         // check
           Case{"08006", ErrorCode::kUnavailable},      // connection failure
           Case{"57014", ErrorCode::kUnavailable},      // statement timeout
           Case{"57P01", ErrorCode::kUnavailable},      // admin shutdown
           Case{"40P01", ErrorCode::kUnavailable},      // deadlock
           Case{"40001", ErrorCode::kUnavailable},      // serialization
           Case{"53300", ErrorCode::kUnavailable},      // too many connections
           Case{"25006", ErrorCode::kUnavailable},      // read-only standby
           Case{"22021", ErrorCode::kInvalidArgument},  // bad UTF-8
           Case{"42P01", ErrorCode::kInternal},         // undefined table
           Case{"XX000", ErrorCode::kInternal},
           Case{"", ErrorCode::kInternal},
       }) {
    EXPECT_EQ(postgres::translateSqlState(c.sqlstate), c.code) << c.sqlstate;
  }
}

int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(PostgresOpenTest, UnreachableServerIsUnavailableAndSaysWhatToCheck) {
  std::string where = "127.0.0.1:" + std::to_string(freePort());
  auto start = Clock::now();
  auto opened = PostgresMetadataDb::open("postgresql://postgres:pw@" + where + "/garret");
  ASSERT_FALSE(opened.ok());
  EXPECT_LT(since(start), 2s);
  EXPECT_EQ(opened.error().code, ErrorCode::kUnavailable);
  const std::string& message = opened.error().message;
  EXPECT_NE(message.find("cannot connect to PostgreSQL at " + where), std::string::npos) << message;
  EXPECT_NE(message.find("is the server running and the URL right?"), std::string::npos) << message;
  EXPECT_EQ(message.find("pw@"), std::string::npos) << message;
}

// --- against a server ----------------------------------------------------------

// A raw libpq connection, to act behind the API's back.
class RawPg {
 public:
  explicit RawPg(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    EXPECT_EQ(PQstatus(conn_), CONNECTION_OK) << PQerrorMessage(conn_);
  }
  ~RawPg() { PQfinish(conn_); }
  RawPg(const RawPg&) = delete;
  RawPg& operator=(const RawPg&) = delete;

  // The first column of every row; "ERROR: …" if the statement failed.
  std::vector<std::string> column(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    std::vector<std::string> out;
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      out.push_back(std::string("ERROR: ") + PQresultErrorMessage(result));
    }
    for (int i = 0; status == PGRES_TUPLES_OK && i < PQntuples(result); ++i) {
      out.emplace_back(PQgetvalue(result, i, 0));
    }
    PQclear(result);
    return out;
  }
  std::string scalar(const std::string& sql) {
    auto rows = column(sql);
    return rows.empty() ? "" : rows[0];
  }
  void exec(const std::string& sql) {
    auto rows = column(sql);
    EXPECT_TRUE(rows.empty() || rows[0].rfind("ERROR", 0) != 0) << sql << ": " << rows[0];
  }

 private:
  PGconn* conn_;
};

class PostgresMetadataDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto shared = PostgresServer::shared();
    if (!shared.ok()) return garret::testing::postgresUnavailable(shared.error().message);
    server_ = *shared;
    auto name = server_->createDatabase();
    ASSERT_TRUE(name.ok()) << name.error().message;
    database_ = *name;
  }
  void TearDown() override {
    if (server_ != nullptr && !database_.empty()) (void)server_->dropDatabase(database_);
  }

  std::string url() const { return server_->url(database_); }
  std::unique_ptr<PostgresMetadataDb> open(const PostgresOptions& options = {}) {
    auto db = PostgresMetadataDb::open(url(), options);
    EXPECT_TRUE(db.ok()) << (db.ok() ? "" : db.error().message);
    return db.ok() ? std::move(db).value() : nullptr;
  }
  // Blocks every statement on `cache` until `raw` commits.
  void lockCaches(RawPg& raw) {
    raw.exec("BEGIN");
    raw.exec("LOCK TABLE cache IN ACCESS EXCLUSIVE MODE");
  }
  // Waits until some statement waits for a lock.
  void waitForLockWaiter(RawPg& raw) {
    auto start = Clock::now();
    while (raw.scalar("SELECT count(*) FROM pg_locks WHERE NOT granted") == "0" &&
           since(start) < 10s) {
      std::this_thread::sleep_for(5ms);
    }
  }

  PostgresServer* server_ = nullptr;
  std::string database_;
};

std::vector<std::string> sqliteColumn(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
  std::vector<std::string> out;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

TEST_F(PostgresMetadataDbTest, MigrationsBuildTheSqliteSchema) {
  auto db = open();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(*db->schemaVersion(), 0);
  ASSERT_TRUE(db->migrate().ok());
  EXPECT_EQ(*db->schemaVersion(), postgres::migrations().back().version);
  ASSERT_TRUE(db->migrate().ok());
  RawPg raw(url());
  EXPECT_EQ(raw.scalar("SELECT COUNT(*) FROM schema_migrations"),
            std::to_string(postgres::migrations().size()));

  // Same tables, columns and named indexes as SQLite at the same version.
  garret::testing::TempDir dir;
  std::string path = (dir.path() / "garret.db").string();
  ASSERT_TRUE((*SqliteMetadataDb::open(path))->migrate().ok());
  auto tables = sqliteColumn(path,
                             "SELECT name FROM sqlite_master WHERE type = 'table' "
                             "AND name NOT LIKE 'sqlite_%' ORDER BY name");
  EXPECT_EQ(raw.column("SELECT tablename::text FROM pg_tables WHERE schemaname = "
                       "current_schema() ORDER BY tablename COLLATE \"C\""),
            tables);
  EXPECT_EQ(tables.size(), 9u);
  for (const std::string& table : tables) {
    EXPECT_EQ(
        raw.column("SELECT column_name::text FROM information_schema.columns WHERE "
                   "table_schema = current_schema() AND table_name = '" +
                   table + "' ORDER BY column_name COLLATE \"C\""),
        sqliteColumn(path, "SELECT name FROM pragma_table_info('" + table + "') ORDER BY name"))
        << table;
  }
  EXPECT_EQ(raw.column("SELECT indexname::text FROM pg_indexes WHERE schemaname = "
                       "current_schema() AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE "
                       "'%_key' ORDER BY indexname COLLATE \"C\""),
            sqliteColumn(path,
                         "SELECT name FROM sqlite_master WHERE type = 'index' AND name "
                         "NOT LIKE 'sqlite_autoindex_%' ORDER BY name"));
}

TEST_F(PostgresMetadataDbTest, ConcurrentMigratorsApplyOnce) {
  constexpr int kMigrators = 4;
  std::vector<std::unique_ptr<PostgresMetadataDb>> dbs;
  for (int i = 0; i < kMigrators; ++i) dbs.push_back(open());
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kMigrators; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      while (ready < kMigrators) std::this_thread::yield();
      auto migrated = dbs[i]->migrate();
      EXPECT_TRUE(migrated.ok()) << migrated.error().message;
    });
  }
  for (auto& thread : threads) thread.join();
  RawPg raw(url());
  EXPECT_EQ(raw.scalar("SELECT COUNT(*) FROM schema_migrations"),
            std::to_string(postgres::migrations().size()));
  EXPECT_EQ(*dbs[0]->schemaVersion(), postgres::migrations().back().version);
}

TEST_F(PostgresMetadataDbTest, RefusesNewerSchema) {
  auto db = open();
  ASSERT_TRUE(db->migrate().ok());
  RawPg(url()).exec("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)");
  auto status = db->migrate();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInternal);
  EXPECT_NE(status.error().message.find("999"), std::string::npos);
}

// Migration 2 converts layout-1 rows as SQLite's does (see
// SqliteMetadataDbTest.MigrationTwoTurnsWholeNarsIntoOneChunkPacks).
TEST_F(PostgresMetadataDbTest, MigrationTwoTurnsWholeNarsIntoOneChunkPacks) {
  auto db = open();
  ASSERT_TRUE(db->migrateTo(1).ok());
  ASSERT_EQ(*db->schemaVersion(), 1);
  const Hash nar_hash = Hash::of("old nar");
  {
    RawPg raw(url());
    raw.exec(
        "INSERT INTO cache (name, keypair, store_dir, priority, created_at) "
        "VALUES ('main', 'main:secret', '/nix/store', 41, 1000)");
    raw.exec(
        "INSERT INTO nar (nar_hash, nar_size, compression, file_hash, file_size, blob_key, "
        "created_at) VALUES ('" +
        nar_hash.toHex() + "', 4096, 'zstd', '" + Hash::of("old file").toHex() +
        "', 1234, 'nar/ab/old.nar.zst', 2000)");
    raw.exec(
        "INSERT INTO object (cache_id, store_path_hash, store_path, nar_id, created_at, "
        "last_accessed_at) VALUES ((SELECT id FROM cache), 'h', '/nix/store/h-old', "
        "(SELECT id FROM nar), 3000, 3000)");
    raw.exec(
        "INSERT INTO staged_upload (cache_id, file_name, nar_id, client_file_hash, "
        "client_file_size, expires_at) VALUES ((SELECT id FROM cache), 'old.nar.xz', "
        "(SELECT id FROM nar), '" +
        Hash::of("client").toHex() + "', 1111, 9223372036854775807)");
  }
  ASSERT_TRUE(db->migrate().ok());
  std::int64_t cache_id = (*db->findCache("main"))->id;
  auto found = db->findObject(cache_id, "h");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->nar.nar_hash, nar_hash);
  auto chunks = db->narChunks((*found)->nar.id);
  ASSERT_TRUE(chunks.ok() && chunks->size() == 1);
  EXPECT_EQ((*chunks)[0].blob_key, "nar/ab/old.nar.zst");
  EXPECT_EQ((*chunks)[0].length, 1234u);
  EXPECT_EQ(packStateName((*db->listPacks())[0].state), "live");
  auto staged = db->findStaged(cache_id, "old.nar.xz", std::numeric_limits<std::int64_t>::max());
  ASSERT_TRUE(staged.ok() && staged->has_value());
  EXPECT_TRUE((*staged)->bound);
}

TEST_F(PostgresMetadataDbTest, StoresHashesAsLowercaseHexAndFlagsAsBooleans) {
  auto db = open();
  ASSERT_TRUE(db->migrate().ok());
  NarRecord nar;
  nar.nar_hash = Hash::of("nar");
  nar.file_hash = Hash::of("file");
  ASSERT_TRUE(commitWholeNar(*db, nar).ok());
  CacheRecord cache;
  cache.name = "main";
  cache.is_public = true;
  ASSERT_TRUE(db->createCache(cache).ok());
  RawPg raw(url());
  EXPECT_EQ(raw.scalar("SELECT nar_hash FROM nar"), Hash::of("nar").toHex());
  EXPECT_EQ(raw.scalar("SELECT is_public FROM cache"), "t");
}

TEST_F(PostgresMetadataDbTest, TextPostgresCannotStoreIsInvalidArgument) {
  auto db = open();
  ASSERT_TRUE(db->migrate().ok());
  auto nul = db->findCache(std::string("ma\0in", 5));
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.error().code, ErrorCode::kInvalidArgument);
  CacheRecord cache;
  cache.name = "bad\xff";
  auto bad = db->createCache(cache);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument) << bad.error().message;
  EXPECT_TRUE(db->ping().ok());
}

// Array parameters are literals built by garret; no content may break out.
TEST_F(PostgresMetadataDbTest, ArrayParametersCarryAnyText) {
  auto db = open();
  ASSERT_TRUE(db->migrate().ok());
  CacheRecord cache;
  cache.name = "main";
  std::int64_t cache_id = db->createCache(cache)->id;
  NarRecord nar;
  nar.nar_hash = Hash::of("nar");
  nar.file_hash = Hash::of("file");
  std::int64_t nar_id = commitWholeNar(*db, nar)->id;
  const std::vector<std::string> stored = {"a\"b", "c\\d", "{x,y}", "NULL", " spaced ", ""};
  const std::vector<std::string> absent = {"a",  "b",  "x",  "null", "spaced",
                                           "\"", "\\", "{}", "ü,\"}"};
  for (const std::string& hash : stored) {
    ObjectRecord object;
    object.cache_id = cache_id;
    object.store_path_hash = hash;
    object.nar_id = nar_id;
    ASSERT_TRUE(db->upsertObject(object).ok()) << hash;
  }
  std::vector<std::string> asked = absent;
  asked.insert(asked.end(), stored.begin(), stored.end());
  auto missing = db->missingPaths(cache_id, asked);
  ASSERT_TRUE(missing.ok()) << missing.error().message;
  EXPECT_EQ(*missing, absent);
}

TEST_F(PostgresMetadataDbTest, PoolWaitsForAFreeConnectionThenFails) {
  PostgresOptions options;
  options.pool_size = 1;
  options.acquire_timeout = 1000ms;
  auto db = open(options);
  ASSERT_TRUE(db->migrate().ok());
  RawPg raw(url());
  lockCaches(raw);
  // The only connection is stuck behind the lock.
  std::thread stuck([&] {
    auto found = db->findCache("main");
    EXPECT_TRUE(found.ok()) << found.error().message;
  });
  waitForLockWaiter(raw);

  auto start = Clock::now();
  auto busy = db->ping();
  auto waited = since(start);
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(busy.error().message.find("busy"), std::string::npos) << busy.error().message;
  EXPECT_GE(waited, 900ms);
  EXPECT_LT(waited, 3000ms);

  // A caller waiting for the connection gets it once it is given back.
  std::thread patient([&] {
    auto pinged = db->ping();
    EXPECT_TRUE(pinged.ok()) << pinged.error().message;
  });
  std::this_thread::sleep_for(200ms);
  raw.exec("COMMIT");
  stuck.join();
  patient.join();
  EXPECT_EQ(db->openConnections(), 1);
}

TEST_F(PostgresMetadataDbTest, StatementTimeoutIsUnavailable) {
  PostgresOptions options;
  options.statement_timeout = 200ms;
  auto db = open(options);
  ASSERT_TRUE(db->migrate().ok());
  RawPg raw(url());
  lockCaches(raw);
  auto start = Clock::now();
  auto found = db->findCache("main");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(found.error().message.find("statement timeout"), std::string::npos)
      << found.error().message;
  EXPECT_LT(since(start), 3s);
  raw.exec("COMMIT");
  EXPECT_TRUE(db->findCache("main").ok());
  EXPECT_EQ(db->openConnections(), 1);  // the connection survived
}

TEST_F(PostgresMetadataDbTest, LostConnectionsAreReplaced) {
  auto db = open();
  ASSERT_TRUE(db->migrate().ok());
  RawPg raw(url());
  auto terminate = [&] {  // and wait up to 5 s for the backends to exit
    raw.exec(
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = "
        "current_database() AND application_name = 'garretd'");
  };
  // Killed while idle in the pool: noticed at checkout, replaced unseen.
  terminate();
  EXPECT_TRUE(db->ping().ok());
  // Killed during a call: that call fails as unavailable, the next works.
  lockCaches(raw);
  std::thread call([&] {
    auto found = db->findCache("main");
    ASSERT_FALSE(found.ok());
    EXPECT_EQ(found.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(found.error().message.find("lost the connection to PostgreSQL at 127.0.0.1:"),
              std::string::npos)
        << found.error().message;
  });
  waitForLockWaiter(raw);
  terminate();
  call.join();
  raw.exec("COMMIT");
  EXPECT_TRUE(db->findCache("main").ok());
  EXPECT_EQ(db->openConnections(), 1);
}

TEST_F(PostgresMetadataDbTest, PasswordFromFileOrUrl) {
  ASSERT_TRUE(server_
                  ->execute("DO $$BEGIN CREATE ROLE " + std::string(PostgresServer::kPasswordUser) +
                            " LOGIN PASSWORD 'sekrit'; EXCEPTION WHEN duplicate_object THEN NULL; "
                            "END$$")
                  .ok());
  ASSERT_TRUE(
      server_->execute("ALTER DATABASE " + database_ + " OWNER TO " + PostgresServer::kPasswordUser)
          .ok());
  std::string user_url = server_->url(database_, PostgresServer::kPasswordUser);
  garret::testing::TempDir dir;
  std::string file = (dir.path() / "password").string();
  PostgresOptions options;
  options.password_file = file;

  auto none = PostgresMetadataDb::open(user_url);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(none.error().message.find("`[database] password-file`"), std::string::npos)
      << none.error().message;

  std::ofstream(file) << "not-it\n";
  auto wrong = PostgresMetadataDb::open(user_url, options);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(wrong.error().message.find("password authentication failed"), std::string::npos)
      << wrong.error().message;
  EXPECT_EQ(wrong.error().message.find("not-it"), std::string::npos) << wrong.error().message;

  std::ofstream(file, std::ios::trunc) << "sekrit\n";
  auto right = PostgresMetadataDb::open(user_url, options);
  ASSERT_TRUE(right.ok()) << right.error().message;
  ASSERT_TRUE((*right)->migrate().ok());
  CacheRecord cache;
  cache.name = "main";
  EXPECT_TRUE((*right)->createCache(cache).ok());

  // The file wins over a password in the URL.
  std::string with_password = "postgresql://" + std::string(PostgresServer::kPasswordUser) +
                              ":sekrit@127.0.0.1:" + std::to_string(server_->port()) + "/" +
                              database_;
  EXPECT_TRUE(PostgresMetadataDb::open(with_password).ok());
  std::ofstream(file, std::ios::trunc) << "not-it\n";
  EXPECT_FALSE(PostgresMetadataDb::open(with_password, options).ok());
}

// The server goes away and comes back: calls fail fast meanwhile and the
// same object works again afterwards, with no restart of garretd.
TEST(PostgresRestartTest, CallsFailFastWhileTheServerIsDownAndRecover) {
  auto server = PostgresServer::start();
  if (!server.ok()) return garret::testing::postgresUnavailable(server.error().message);
  auto name = (*server)->createDatabase();
  ASSERT_TRUE(name.ok()) << name.error().message;
  PostgresOptions options;
  options.pool_size = 4;
  options.reconnect_interval = 200ms;
  auto opened = PostgresMetadataDb::open((*server)->url(*name), options);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto& db = **opened;
  ASSERT_TRUE(db.migrate().ok());
  CacheRecord cache;
  cache.name = "main";
  ASSERT_TRUE(db.createCache(cache).ok());

  ASSERT_TRUE((*server)->stop().ok());
  for (int i = 0; i < 5; ++i) {
    auto start = Clock::now();
    auto found = db.findCache("main");
    ASSERT_FALSE(found.ok());
    EXPECT_EQ(found.error().code, ErrorCode::kUnavailable) << found.error().message;
    EXPECT_NE(found.error().message.find("PostgreSQL at 127.0.0.1:"), std::string::npos)
        << found.error().message;
    EXPECT_LT(since(start), 2s);
    cache.name = "down-" + std::to_string(i);
    EXPECT_EQ(db.createCache(cache).error().code, ErrorCode::kUnavailable);
    std::this_thread::sleep_for(100ms);  // across reconnect intervals
  }

  ASSERT_TRUE((*server)->restart().ok());
  auto start = Clock::now();
  while (!db.ping().ok() && since(start) < 10s) std::this_thread::sleep_for(50ms);
  auto found = db.findCache("main");
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_TRUE(found->has_value());
  cache.name = "after";
  EXPECT_TRUE(db.createCache(cache).ok());
  EXPECT_LE(db.openConnections(), 4);
}

}  // namespace
}  // namespace garret::db
