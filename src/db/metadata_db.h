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
#include <utility>
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
// Its bytes are an ordered list of chunks (chunkref rows); what clients
// download is the concatenation of the chunks' compressed frames.
struct NarRecord {
  std::int64_t id = 0;
  Hash nar_hash;
  std::uint64_t nar_size = 0;
  std::string compression = "zstd";  // of the served bytes
  Hash file_hash;                    // of the served bytes
  std::uint64_t file_size = 0;
  std::int64_t created_at = 0;
};

// A blob holding many chunks' compressed frames back to back.
// writing: being filled by an upload or a repack, not yet referenced;
// live: holds committed chunks; dead: unreferenced, deleted after a grace
// period (readers may still stream from it).
enum class PackState { kWriting, kLive, kDead };
std::string_view packStateName(PackState state);

struct PackRecord {
  std::int64_t id = 0;
  std::string blob_key;
  std::uint64_t size = 0;
  PackState state = PackState::kWriting;
  std::int64_t created_at = 0;
  std::int64_t dead_at = 0;  // 0 unless dead
};

// One content-defined chunk, shared by every NAR that contains it.
struct ChunkRecord {
  std::int64_t id = 0;
  Hash chunk_hash;         // sha256 of the uncompressed bytes
  std::uint64_t size = 0;  // uncompressed
  std::string compression = "zstd";
  std::int64_t pack_id = 0;
  std::uint64_t offset = 0;  // of the compressed frame in the pack
  std::uint64_t length = 0;  // of the compressed frame
  std::int64_t created_at = 0;
  // Refreshed when an upload reuses the chunk, so that GC leaves it alone
  // while that upload runs (see GcRequest::grace_period).
  std::int64_t last_used_at = 0;
  std::string pack_key;  // its pack's blob key (filled by claimChunk only)
};

// Where a stored chunk's frame is, as the read path needs it.
struct ChunkLocation {
  std::int64_t chunk_id = 0;
  std::int64_t pack_id = 0;
  std::string blob_key;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

// One garbage collection pass over the database. Steps run in order;
// each is its own transaction (all in one rolled-back transaction when
// dry_run), so a killed pass leaves a consistent state to resume from.
struct GcRequest {
  std::int64_t now = 0;
  std::int64_t default_retention_period = 0;  // seconds; 0 = keep forever
  // Protects work in flight: chunks reused by an upload within this time,
  // writing packs younger than this (uploads) and dead packs younger than
  // this (reads) are kept. 0 is only safe with no server running.
  std::int64_t grace_period = 3600;
  bool dry_run = false;
};

struct GcReport {
  std::uint64_t objects = 0;         // expired or in deleted caches
  std::uint64_t staged = 0;          // staged uploads never bound, or orphaned aliases
  std::uint64_t nars = 0;            // without objects
  std::uint64_t nar_bytes = 0;       // their NarSize
  std::uint64_t chunks = 0;          // without NARs
  std::uint64_t chunk_bytes = 0;     // their compressed size
  std::vector<PackRecord> packs;     // marked dead and due for deletion
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
  // A narinfo bound it: the name stays an alias of the NAR (Nix downloads
  // by the URL it uploaded to) while the cache has an object using the NAR.
  bool bound = false;
};

// An ingested NAR to record. Each chunk is either new (id 0; written by the
// upload into one of `packs`) or an existing chunk (id set).
struct NarCommit {
  NarRecord nar;
  std::vector<ChunkRecord> chunks;  // in NAR order; may repeat
  std::vector<PackRecord> packs;    // the upload's packs, with final sizes
  // Recorded in the same transaction, pointing at the NAR (new or
  // existing), so that no garbage collection sees the NAR unreferenced.
  std::optional<ObjectRecord> object;
  std::optional<StagedUpload> staged;
};

struct CommittedNar {
  NarRecord nar;
  // A valid NAR with the same nar_hash already existed; nothing of this
  // commit was recorded and its packs may be deleted.
  bool existed = false;
};

struct ObjectWithNar {
  ObjectRecord object;
  NarRecord nar;
};

// An access for retention: one store path, or (store_path_hash empty)
// every object of the cache that uses nar_id.
struct AccessTouch {
  std::int64_t cache_id = 0;
  std::string store_path_hash;
  std::int64_t nar_id = 0;
  std::int64_t at = 0;
};

// A chunk moved by a pack rewrite; applied only if the chunk is still at
// its old place.
struct ChunkMove {
  std::int64_t chunk_id = 0;
  std::int64_t from_pack = 0;
  std::uint64_t from_offset = 0;
  std::uint64_t to_offset = 0;
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

  // NARs. Lookups only see valid NARs.
  virtual Result<std::optional<NarRecord>> findNarByHash(const Hash& nar_hash) = 0;
  virtual Result<std::optional<NarRecord>> findNarById(std::int64_t nar_id) = 0;
  // Records an ingested NAR in one transaction: new chunks, the NAR and its
  // chunk list; the packs become live. If a valid NAR with the same hash
  // exists, returns it with existed = true and records nothing. An invalid
  // one (damaged, see fsck) is revived with the new chunks. kUnavailable if
  // an existing chunk it references was collected meanwhile (retry).
  virtual Result<CommittedNar> commitNar(const NarCommit& commit) = 0;
  // The NAR's chunks in order, with their packs.
  virtual Result<std::vector<ChunkLocation>> narChunks(std::int64_t nar_id) = 0;

  // Chunks and packs.
  // Finds a chunk for reuse by an upload and refreshes its last_used_at
  // (at most once per few minutes, so repeated reuse costs no writes).
  virtual Result<std::optional<ChunkRecord>> claimChunk(const Hash& chunk_hash,
                                                        std::int64_t now) = 0;
  // Inserts a pack row (state writing); fills id.
  virtual Result<PackRecord> createPack(const PackRecord& pack) = 0;
  // Removes a pack row that no chunk uses (a failed upload's, a deleted
  // dead pack's). kConflict if chunks still point at it.
  virtual Status deletePack(std::int64_t pack_id) = 0;
  virtual Result<std::vector<PackRecord>> listPacks() = 0;
  // Chunks stored in a pack, by offset.
  virtual Result<std::vector<ChunkRecord>> packChunks(std::int64_t pack_id) = 0;
  // Live bytes (sum of chunk lengths) per live pack.
  virtual Result<std::vector<std::pair<PackRecord, std::uint64_t>>> packUsage() = 0;
  // After a pack rewrite: points the moved chunks at `to` (now live) and
  // marks the `retired` packs dead at `now` if no chunk remains in them.
  virtual Status relocateChunks(const PackRecord& to, const std::vector<ChunkMove>& moves,
                                const std::vector<std::int64_t>& retired, std::int64_t now) = 0;

  // Staged uploads: put replaces an existing row with the same key.
  virtual Status putStaged(const StagedUpload& staged) = 0;
  // Only bound or unexpired rows (expires_at > now).
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
  // kNotFound if the cache has no such path.
  virtual Status setPinned(std::int64_t cache_id, std::string_view store_path_hash,
                           bool pinned) = 0;
  virtual Result<std::vector<ObjectRecord>> listPinned(std::int64_t cache_id) = 0;

  // Garbage collection: expired objects, then unbound staged uploads, NARs
  // without objects, chunks without NARs, and packs without chunks (marked
  // dead); returns the packs whose blobs may now be deleted. The caller
  // deletes each blob, then its row with deletePack().
  virtual Result<GcReport> collectGarbage(const GcRequest& request) = 0;

  // One garbage collector at a time across replicas: a lease with a holder
  // and an expiry. Acquires (or renews, for the same holder) the lease
  // until now + ttl; false if another holder has an unexpired lease, unless
  // that holder is `replace` (a collector known to be gone).
  virtual Result<bool> acquireGcLease(std::string_view holder, std::int64_t now,
                                      std::int64_t ttl, std::string_view replace = {}) = 0;
  // The holder of the unexpired lease, if any.
  virtual Result<std::optional<std::string>> gcLeaseHolder(std::int64_t now) = 0;
  // Gives the lease up if `holder` has it.
  virtual Status releaseGcLease(std::string_view holder) = 0;

  // Integrity repair: marks the NARs that use any of these chunks invalid
  // (their objects disappear until the NAR is uploaded again) and deletes
  // the chunks. Returns the number of NARs affected; changes nothing when
  // dry_run.
  virtual Result<std::uint64_t> dropDamagedChunks(const std::vector<std::int64_t>& chunk_ids,
                                                  bool dry_run) = 0;
  // Every chunk, in pages ordered by id (ids greater than after_id).
  virtual Result<std::vector<ChunkRecord>> listChunks(std::int64_t after_id, int limit) = 0;
};

}  // namespace garret::db
