#include "db/sqlite/sqlite_migrations.h"

#include <ctime>
#include <string>

namespace garret::db::sqlite {

namespace {

constexpr const char* kCreateMigrationsTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  applied_at INTEGER NOT NULL
))sql";

constexpr const char* kMigration1 = R"sql(
CREATE TABLE cache (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  keypair TEXT NOT NULL,
  is_public INTEGER NOT NULL DEFAULT 0,
  store_dir TEXT NOT NULL,
  priority INTEGER NOT NULL,
  upstream_cache_key_names TEXT NOT NULL DEFAULT '[]',
  retention_period INTEGER,
  created_at INTEGER NOT NULL,
  deleted_at INTEGER
);
CREATE UNIQUE INDEX cache_live_name ON cache (name) WHERE deleted_at IS NULL;

CREATE TABLE nar (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  nar_hash TEXT NOT NULL UNIQUE,
  nar_size INTEGER NOT NULL,
  compression TEXT NOT NULL,
  file_hash TEXT NOT NULL,
  file_size INTEGER NOT NULL,
  blob_key TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'valid',
  created_at INTEGER NOT NULL
);
CREATE INDEX nar_file_hash ON nar (file_hash);

CREATE TABLE object (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  cache_id INTEGER NOT NULL REFERENCES cache (id) ON DELETE CASCADE,
  store_path_hash TEXT NOT NULL,
  store_path TEXT NOT NULL,
  nar_id INTEGER NOT NULL REFERENCES nar (id),
  "references" TEXT NOT NULL DEFAULT '[]',
  deriver TEXT NOT NULL DEFAULT '',
  system TEXT NOT NULL DEFAULT '',
  ca TEXT NOT NULL DEFAULT '',
  sigs TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL,
  last_accessed_at INTEGER NOT NULL,
  created_by TEXT NOT NULL DEFAULT '',
  pinned INTEGER NOT NULL DEFAULT 0,
  UNIQUE (cache_id, store_path_hash)
);
CREATE INDEX object_nar_id ON object (nar_id);

CREATE TABLE staged_upload (
  cache_id INTEGER NOT NULL REFERENCES cache (id) ON DELETE CASCADE,
  file_name TEXT NOT NULL,
  nar_id INTEGER NOT NULL REFERENCES nar (id),
  client_file_hash TEXT NOT NULL,
  client_file_size INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (cache_id, file_name)
);
CREATE INDEX staged_upload_nar_id ON staged_upload (nar_id);
CREATE INDEX staged_upload_expires_at ON staged_upload (expires_at);
)sql";

constexpr Migration kMigrations[] = {
    {1, kMigration1},
};

Result<bool> isApplied(Connection& conn, int version) {
  GARRET_ASSIGN_OR_RETURN(auto stmt,
                          conn.prepare("SELECT 1 FROM schema_migrations WHERE version = ?"));
  stmt.bind(1, std::int64_t{version});
  return stmt.step();
}

Status apply(Connection& conn, const Migration& migration) {
  Transaction txn(conn);
  GARRET_TRY(txn.begin());
  GARRET_ASSIGN_OR_RETURN(bool applied, isApplied(conn, migration.version));
  if (applied) return okStatus();  // another process was faster
  std::string what = "migration " + std::to_string(migration.version);
  auto ran = conn.exec(migration.sql);
  if (!ran.ok()) return ran.error().context(what);
  GARRET_ASSIGN_OR_RETURN(
      auto record,
      conn.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"));
  record.bind(1, std::int64_t{migration.version}).bind(2, std::int64_t{std::time(nullptr)});
  GARRET_TRY(record.run());
  return txn.commit();
}

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

Result<int> schemaVersion(Connection& conn) {
  GARRET_TRY(conn.exec(kCreateMigrationsTable));
  GARRET_ASSIGN_OR_RETURN(auto stmt,
                          conn.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  GARRET_ASSIGN_OR_RETURN(bool row, stmt.step());
  return row ? static_cast<int>(stmt.int64(0)) : 0;
}

Status runMigrations(Connection& conn) {
  GARRET_ASSIGN_OR_RETURN(int current, schemaVersion(conn));
  int latest = kMigrations[std::size(kMigrations) - 1].version;
  if (current > latest) {
    return makeError(ErrorCode::kInternal, "database schema version " + std::to_string(current) +
                                               " is newer than this garret (" +
                                               std::to_string(latest) + ")");
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version > current) GARRET_TRY(apply(conn, migration));
  }
  return okStatus();
}

}  // namespace garret::db::sqlite
