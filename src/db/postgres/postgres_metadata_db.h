#pragma once

// PostgresMetadataDb: MetadataDb on a PostgreSQL server through libpq, for
// several garretd replicas sharing one database. Same schema (numbered
// migrations), same semantics and same error codes as SqliteMetadataDb; the
// shared contract suite runs against both.
//
// Thread-safe: every call borrows a connection from a pool of up to
// `pool_size`, opened on demand, and waits up to `acquire_timeout` for one
// (then kUnavailable). Transactions run at READ COMMITTED; where SQLite's
// single writer made a read-then-write atomic, a lock does here: commitNar
// takes an advisory lock on the NAR hash, each garbage collection step an
// EXCLUSIVE lock on the one table it deletes from (readers are not blocked).
//
// The server may go away and come back: calls then fail fast with
// kUnavailable (garretd answers 503) and succeed again once it is back, on
// the same object (see ConnectionPool). Statements are bounded by the
// server-side statement_timeout; a dead peer is detected by TCP keepalives.
//
// open() connects once, so that a wrong URL, password or an unreachable
// server is reported at start-up. It does not touch the schema: call
// migrate() before anything else (garretd does).
//
// Timestamps: a zero created_at (cache, nar, object) is filled with the
// current time; a zero last_accessed_at becomes the object's created_at.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "db/metadata_db.h"

namespace garret::db {

namespace postgres {
class ConnectionPool;
}

struct PostgresOptions {
  // Connections opened at most; each replica needs its own share of the
  // server's max_connections.
  int pool_size = 8;
  // How long a call waits for a free connection before kUnavailable.
  std::chrono::milliseconds acquire_timeout{10000};
  // libpq connect_timeout, unless the URL sets it.
  int connect_timeout_seconds = 5;
  // Server-side statement_timeout (kUnavailable when exceeded), unless the
  // URL's `options` set one.
  std::chrono::milliseconds statement_timeout{30000};
  // After a failed connection attempt, calls fail at once for this long
  // before the next attempt.
  std::chrono::milliseconds reconnect_interval{1000};
  // If set, the password is read from this file (trimmed) before every new
  // connection, so a rotated secret is picked up without a restart. It
  // replaces a password in the URL.
  std::string password_file;
};

class PostgresMetadataDb final : public MetadataDb {
 public:
  // `url`: postgres://user[:password]@host[:port]/db[?sslmode=…&…],
  // postgresql://…, or a libpq "key=value …" string.
  // kInvalidArgument for a malformed URL or an unreadable password file;
  // kUnavailable if the server cannot be reached or refuses the login (the
  // message names host:port and what to check).
  static Result<std::unique_ptr<PostgresMetadataDb>> open(const std::string& url,
                                                          const PostgresOptions& options = {});
  ~PostgresMetadataDb() override;

  Status migrate() override;
  Status ping() override;

  Result<std::optional<CacheRecord>> findCache(std::string_view name) override;
  Result<std::vector<CacheRecord>> listCaches() override;
  Result<CacheRecord> createCache(const CacheRecord& cache) override;
  Status updateCache(const CacheRecord& cache) override;
  Status deleteCache(std::int64_t cache_id, bool soft, std::int64_t now) override;

  Result<std::optional<NarRecord>> findNarByHash(const Hash& nar_hash) override;
  Result<std::optional<NarRecord>> findNarById(std::int64_t nar_id) override;
  Result<CommittedNar> commitNar(const NarCommit& commit) override;
  Result<std::vector<ChunkLocation>> narChunks(std::int64_t nar_id) override;

  Result<std::optional<ChunkRecord>> claimChunk(const Hash& chunk_hash, std::int64_t now) override;
  Result<PackRecord> createPack(const PackRecord& pack) override;
  Status deletePack(std::int64_t pack_id) override;
  Result<std::vector<PackRecord>> listPacks() override;
  Result<std::vector<ChunkRecord>> packChunks(std::int64_t pack_id) override;
  Result<std::vector<std::pair<PackRecord, std::uint64_t>>> packUsage() override;
  Status relocateChunks(const PackRecord& to, const std::vector<ChunkMove>& moves,
                        const std::vector<std::int64_t>& retired, std::int64_t now) override;

  Status putStaged(const StagedUpload& staged) override;
  Result<std::optional<StagedUpload>> findStaged(std::int64_t cache_id, std::string_view file_name,
                                                 std::int64_t now) override;

  Result<ObjectRecord> upsertObject(const ObjectRecord& object) override;
  Result<std::optional<ObjectWithNar>> findObject(std::int64_t cache_id,
                                                  std::string_view store_path_hash) override;
  Result<std::optional<NarRecord>> findNarInCache(std::int64_t cache_id,
                                                  const Hash& file_hash) override;
  Result<std::vector<std::string>> missingPaths(
      std::int64_t cache_id, const std::vector<std::string>& store_path_hashes) override;
  Result<std::vector<std::string>> listPathHashes(std::int64_t cache_id) override;
  Status touchObjects(const std::vector<AccessTouch>& touches) override;
  Status setPinned(std::int64_t cache_id, std::string_view store_path_hash, bool pinned) override;
  Result<std::vector<ObjectRecord>> listPinned(std::int64_t cache_id) override;

  Result<GcReport> collectGarbage(const GcRequest& request) override;
  Result<bool> acquireGcLease(std::string_view holder, std::int64_t now, std::int64_t ttl,
                              std::string_view replace = {}) override;
  Result<std::optional<std::string>> gcLeaseHolder(std::int64_t now) override;
  Status releaseGcLease(std::string_view holder) override;
  Result<std::uint64_t> dropDamagedChunks(const std::vector<std::int64_t>& chunk_ids,
                                          bool dry_run) override;
  Result<std::vector<ChunkRecord>> listChunks(std::int64_t after_id, int limit) override;

  // Applies migrations up to `version` only (tests of upgrades).
  Status migrateTo(int version);

  // The highest applied migration, 0 before migrate().
  Result<int> schemaVersion();

  // Connections currently open (idle or in use), at most pool_size.
  int openConnections();

 private:
  explicit PostgresMetadataDb(std::unique_ptr<postgres::ConnectionPool> pool);

  std::unique_ptr<postgres::ConnectionPool> pool_;
};

}  // namespace garret::db
