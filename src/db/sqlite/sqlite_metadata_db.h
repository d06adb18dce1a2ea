#pragma once

// SqliteMetadataDb: MetadataDb on an embedded SQLite database (WAL mode,
// synchronous=NORMAL, foreign keys on, 5 s busy timeout by default). One connection,
// serialised by a mutex: every method is thread-safe and blocks while
// another runs. Several processes may open the same file; writers then
// wait up to the busy timeout and fail with kUnavailable after it.
//
// open() does not touch the schema: call migrate() before anything else
// (garretd does at start-up and in `garretd migrate`).
//
// Timestamps: a zero created_at (cache, nar, object) is filled with the
// current time; a zero last_accessed_at becomes the object's created_at.

#include <memory>
#include <mutex>
#include <string>

#include "db/metadata_db.h"

namespace garret::db {

namespace sqlite {
class Connection;
}

struct SqliteOptions {
  // How long a statement waits for another process's write lock before
  // failing with kUnavailable.
  int busy_timeout_ms = 5000;
};

class SqliteMetadataDb final : public MetadataDb {
 public:
  // `path` is a file name (created if missing) or ":memory:" for a private
  // in-memory database. Failing to open is kUnavailable (or kInternal).
  static Result<std::unique_ptr<SqliteMetadataDb>> open(const std::string& path);
  static Result<std::unique_ptr<SqliteMetadataDb>> open(const std::string& path,
                                                        const SqliteOptions& options);
  ~SqliteMetadataDb() override;

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

 private:
  explicit SqliteMetadataDb(std::unique_ptr<sqlite::Connection> conn);

  std::mutex mu_;
  std::unique_ptr<sqlite::Connection> conn_;
};

}  // namespace garret::db
