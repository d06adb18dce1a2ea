#pragma once

// MetadataDb: the database behind garretd, as domain operations (no SQL
// leaks out). Implementations are thread-safe; every call may block and is
// made from the worker pool, never from a network thread. Backend errors
// are translated: busy/locked/unreachable → kUnavailable, constraint
// violations → kAlreadyExists/kConflict, anything else → kInternal.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/hash.h"
#include "core/result.h"

namespace garret::db {

struct CacheRecord {
  std::int64_t id = 0;
  std::string name;
  std::string keypair;  // secret key "name:base64(64 bytes)"
  bool is_public = false;
  std::string store_dir = "/nix/store";
  int priority = 41;
  std::vector<std::string> upstream_cache_key_names;
  // nullopt: use the server's default ("Global"); 0: never expire.
  std::optional<std::int64_t> retention_period;
  std::int64_t created_at = 0;
};

// A stored NAR, shared by every cache that has an object pointing at it.
struct NarRecord {
  std::int64_t id = 0;
  Hash nar_hash;
  std::uint64_t nar_size = 0;
  std::string compression = "zstd";  // of the stored/served bytes
  Hash file_hash;                    // of the served bytes
  std::uint64_t file_size = 0;
  std::string blob_key;              // where the served bytes live
  std::int64_t created_at = 0;
};

// A store path in one cache.
struct ObjectRecord {
  std::int64_t id = 0;
  std::int64_t cache_id = 0;
  std::string store_path_hash;
  std::string store_path;  // full path
  std::int64_t nar_id = 0;
  std::vector<std::string> references;  // base names
  std::string deriver;                  // base name or empty
  std::string system;
  std::string ca;
  std::vector<std::string> sigs;        // client signatures, kept and served
  std::int64_t created_at = 0;
  std::int64_t last_accessed_at = 0;
  std::string created_by;               // token subject
  bool pinned = false;
};

// A NAR that `nix copy` uploaded under the client's own file name
// ("<FileHash>.nar.xz") and that no narinfo has bound yet.
struct StagedUpload {
  std::int64_t cache_id = 0;
  std::string file_name;   // the client's name, without "nar/"
  std::int64_t nar_id = 0;
  Hash client_file_hash;   // of the bytes the client sent
  std::uint64_t client_file_size = 0;
  std::int64_t expires_at = 0;
};

struct ObjectWithNar {
  ObjectRecord object;
  NarRecord nar;
};

struct AccessTouch {
  std::int64_t cache_id = 0;
  std::string store_path_hash;
  std::int64_t at = 0;
};

class MetadataDb {
 public:
  virtual ~MetadataDb() = default;

  // Runs pending schema migrations; idempotent.
  virtual Status migrate() = 0;
  virtual Status ping() = 0;

  // Caches. Lookups ignore soft-deleted caches.
  virtual Result<std::optional<CacheRecord>> findCache(std::string_view name) = 0;
  virtual Result<std::vector<CacheRecord>> listCaches() = 0;
  // kAlreadyExists if a live cache has the name. Fills id and created_at.
  virtual Result<CacheRecord> createCache(const CacheRecord& cache) = 0;
  // Updates every field but id/name/created_at. kNotFound if missing.
  virtual Status updateCache(const CacheRecord& cache) = 0;
  // Soft delete keeps rows (name becomes free); hard delete removes the
  // cache and its objects. kNotFound if missing.
  virtual Status deleteCache(std::int64_t cache_id, bool soft, std::int64_t now) = 0;

  // NARs. insertNar returns the existing row if one has the same nar_hash
  // (the caller then discards its own blob), else the inserted row.
  virtual Result<NarRecord> insertNar(const NarRecord& nar) = 0;
  virtual Result<std::optional<NarRecord>> findNarByHash(const Hash& nar_hash) = 0;
  virtual Result<std::optional<NarRecord>> findNarById(std::int64_t nar_id) = 0;

  // Staged uploads: put replaces an existing row with the same key.
  virtual Status putStaged(const StagedUpload& staged) = 0;
  // Only unexpired rows (expires_at > now).
  virtual Result<std::optional<StagedUpload>> findStaged(std::int64_t cache_id,
                                                         std::string_view file_name,
                                                         std::int64_t now) = 0;

  // Objects. upsertObject replaces the row with the same (cache, hash).
  virtual Result<ObjectRecord> upsertObject(const ObjectRecord& object) = 0;
  virtual Result<std::optional<ObjectWithNar>> findObject(std::int64_t cache_id,
                                                          std::string_view store_path_hash) = 0;
  // The NAR with this served file hash that some object of the cache uses.
  virtual Result<std::optional<NarRecord>> findNarInCache(std::int64_t cache_id,
                                                          const Hash& file_hash) = 0;
  // Of the given hashes, those the cache has no object for (input order kept).
  virtual Result<std::vector<std::string>> missingPaths(
      std::int64_t cache_id, const std::vector<std::string>& store_path_hashes) = 0;
  // Every store path hash the cache holds (for the in-memory path index).
  virtual Result<std::vector<std::string>> listPathHashes(std::int64_t cache_id) = 0;
  // Batched last_accessed_at updates (one transaction).
  virtual Status touchObjects(const std::vector<AccessTouch>& touches) = 0;
};

}  // namespace garret::db
