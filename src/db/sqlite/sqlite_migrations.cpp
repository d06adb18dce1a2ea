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

// Chunked storage. A NAR becomes an ordered list of content-defined chunks
// stored as zstd frames in pack blobs. Layout 1 stored each NAR as one
// zstd blob: each becomes a pack holding one chunk (the whole NAR, whose
// chunk hash is the NarHash), so old data stays readable without copying.
constexpr const char* kMigration2 = R"sql(
CREATE TABLE pack (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  blob_key TEXT NOT NULL UNIQUE,
  size INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'writing',
  created_at INTEGER NOT NULL,
  dead_at INTEGER
);
CREATE INDEX pack_state ON pack (state);

CREATE TABLE chunk (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  chunk_hash TEXT NOT NULL UNIQUE,
  size INTEGER NOT NULL,
  compression TEXT NOT NULL,
  pack_id INTEGER NOT NULL REFERENCES pack (id),
  pack_offset INTEGER NOT NULL,
  length INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL
);
CREATE INDEX chunk_pack_id ON chunk (pack_id);

CREATE TABLE chunkref (
  nar_id INTEGER NOT NULL REFERENCES nar (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  chunk_id INTEGER NOT NULL REFERENCES chunk (id),
  PRIMARY KEY (nar_id, seq)
);
CREATE INDEX chunkref_chunk_id ON chunkref (chunk_id);

INSERT INTO pack (blob_key, size, state, created_at)
  SELECT blob_key, file_size, 'live', created_at FROM nar;
INSERT INTO chunk (chunk_hash, size, compression, pack_id, pack_offset, length, created_at,
                   last_used_at)
  SELECT n.nar_hash, n.nar_size, n.compression, p.id, 0, n.file_size, n.created_at, n.created_at
  FROM nar n JOIN pack p ON p.blob_key = n.blob_key;
INSERT INTO chunkref (nar_id, seq, chunk_id)
  SELECT n.id, 0, c.id FROM nar n JOIN chunk c ON c.chunk_hash = n.nar_hash;
ALTER TABLE nar DROP COLUMN blob_key;
CREATE INDEX nar_state ON nar (state);

ALTER TABLE staged_upload ADD COLUMN bound INTEGER NOT NULL DEFAULT 0;
UPDATE staged_upload SET bound = 1 WHERE expires_at = 9223372036854775807;

CREATE INDEX object_cache_accessed ON object (cache_id, last_accessed_at);
)sql";

// One garbage collector at a time across processes sharing the database.
constexpr const char* kMigration3 = R"sql(
CREATE TABLE gc_lease (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  holder TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
)sql";

constexpr Migration kMigrations[] = {
    {1, kMigration1},
    {2, kMigration2},
    {3, kMigration3},
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

Status runMigrations(Connection& conn) { return runMigrations(conn, kMigrations[std::size(kMigrations) - 1].version); }

Status runMigrations(Connection& conn, int target) {
  GARRET_ASSIGN_OR_RETURN(int current, schemaVersion(conn));
  int latest = kMigrations[std::size(kMigrations) - 1].version;
  if (current > latest) {
    return makeError(ErrorCode::kInternal, "database schema version " + std::to_string(current) +
                                               " is newer than this garret (" +
                                               std::to_string(latest) + ")");
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version > current && migration.version <= target) {
      GARRET_TRY(apply(conn, migration));
    }
  }
  return okStatus();
}

}  // namespace garret::db::sqlite
