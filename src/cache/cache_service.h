#pragma once

// CacheService: all domain logic of garretd above MetadataDb and BlobStore —
// caches and their keys, the narinfo/NAR read path, and the nix-copy upload
// path (NAR first, staged under the client's file name; narinfo second,
// binding a store path to it after verification).
//
// Thread-safety: every method may be called concurrently. Methods marked
// "memory only" never block and may run on a network thread; the others
// call the database or storage and must run on the worker pool.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cache/nar_ingest.h"
#include "cache/nar_layout.h"
#include "cache/work_pool.h"
#include "core/clock.h"
#include "core/narinfo.h"
#include "core/signing.h"
#include "db/metadata_db.h"
#include "storage/blob_store.h"

namespace garret::cache {

struct ServiceOptions {
  int zstd_level = 8;
  std::uint64_t max_nar_size = 64ull << 30;
  chunk::ChunkingParams chunking;
  std::uint64_t pack_size = 32ull << 20;
  unsigned ingest_threads = 0;  // chunk hashing/compression; 0 = one per core
  std::int64_t staged_upload_ttl = 86400;
  // New signing keys are named "<prefix><cache>-1".
  std::string signing_key_prefix;
  bool soft_delete_caches = false;
  std::size_t narinfo_cache_entries = 100000;
  // How long caches, narinfos, NAR locations and a cache's path list stay
  // in memory before they are read again: the bound on how stale another
  // process's changes (a replica, `garretd gc`) can look here. Changes made
  // through this process are seen at once.
  std::int64_t memory_ttl = 60;
};

// A cache with its parsed signing key; immutable, replaced on change.
struct CacheView {
  db::CacheRecord record;
  SecretKey key;
  std::string public_key;  // "name:base64"
};
using CachePtr = std::shared_ptr<const CacheView>;

// A new cache's or a change's settings; unset fields are left alone on
// update and take defaults on create.
struct CacheSettings {
  std::optional<std::string> keypair;  // "" = generate, else a Nix secret key
  std::optional<bool> is_public;
  std::optional<std::string> store_dir;
  std::optional<int> priority;
  std::optional<std::vector<std::string>> upstream_cache_key_names;
  // Outer unset = keep; inner nullopt = server default ("Global").
  std::optional<std::optional<std::int64_t>> retention_period;
};

enum class Lookup { kUnknown, kMissing, kFound };

struct PathUploadOutcome {
  bool deduplicated = false;
  std::uint64_t file_size = 0;  // of the stored (served) bytes
  double frac_deduplicated = 0;  // of the NAR's bytes, already stored
};

// A NAR's served bytes, opened for reading: ranges of pack blobs.
struct NarPiece {
  std::shared_ptr<storage::BlobReader> blob;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};
struct OpenNar {
  std::vector<NarPiece> pieces;
  std::uint64_t size = 0;
};

class CacheService {
 public:
  CacheService(db::MetadataDb& db, storage::BlobStore& blobs, const Clock& clock,
               ServiceOptions options);
  ~CacheService();

  const ServiceOptions& options() const { return options_; }

  // ---- caches
  // Memory only: the cache if it is loaded, else nullptr (unknown, not missing).
  CachePtr cachedCache(std::string_view name) const;
  // nullptr if no such cache.
  Result<CachePtr> findCache(std::string_view name);
  Result<std::vector<CachePtr>> listCaches();
  Result<CachePtr> createCache(std::string_view name, const CacheSettings& settings);
  Result<CachePtr> updateCache(std::string_view name, const CacheSettings& settings);
  Status deleteCache(std::string_view name);

  // ---- read path
  // Memory only: the rendered narinfo if cached, or a known miss.
  Lookup cachedNarInfo(const CacheView& cache, std::string_view hash, std::string* text) const;
  // Rendered, signed narinfo text; nullopt if the cache has no such path.
  Result<std::optional<std::string>> narInfo(const CacheView& cache, std::string_view hash);
  // The stored NAR served under `file_name` ("<FileHash>.nar.zst") by this
  // cache, or one staged under the client's name; nullopt if neither.
  Result<std::optional<db::NarRecord>> narForFile(const CacheView& cache,
                                                  std::string_view file_name);
  // Memory only: the NAR a previous narForFile() found under this name.
  std::optional<db::NarRecord> cachedNar(const CacheView& cache, std::string_view file_name) const;
  // The NAR's pieces (ranges of packs), opened.
  Result<OpenNar> openNar(const db::NarRecord& nar);
  // Non-blocking variant: nullopt unless the layout is cached and opening
  // blobs is cheap (local files).
  std::optional<Result<OpenNar>> openNarCached(const db::NarRecord& nar);
  // Drops everything cached in memory (after garbage collection).
  void forgetAll();
  // Memory only: notes an access for retention; flushed in batches.
  void recordAccess(const CacheView& cache, std::string_view hash);
  // Memory only: notes a NAR download for retention (every object of the
  // cache that uses the NAR counts as accessed).
  void recordNarAccess(const CacheView& cache, std::int64_t nar_id);
  Status flushAccesses();

  // ---- nix copy upload path
  // Starts ingesting `nar/<file_name>` as the client names it
  // ("<FileHash>.nar[.xz|.zst|.bz2]").
  Result<std::unique_ptr<NarIngest>> beginNarUpload(const CacheView& cache,
                                                    std::string_view file_name);
  // After ingest.finish(): checks the bytes hash to the name, stores the NAR
  // (deduplicated by NarHash) and stages it under the client's name.
  Status completeNarUpload(const CacheView& cache, std::string_view file_name,
                           NarIngest& ingest);
  // Binds a store path: validates the narinfo against the URL hash and the
  // staged NAR (NarHash, NarSize, FileHash, FileSize). Nothing becomes
  // visible unless every check passes. `pin` protects it from GC.
  Status putNarInfo(const CacheView& cache, std::string_view hash, std::string_view text,
                    std::string_view uploader, bool pin = false);

  // ---- Attic's upload API
  // Of the given store path hashes, those the cache lacks (order kept).
  Result<std::vector<std::string>> missingPaths(const CacheView& cache,
                                                const std::vector<std::string>& store_path_hashes);
  // Starts ingesting an uncompressed NAR (upload-path).
  Result<std::unique_ptr<NarIngest>> beginPathUpload(const CacheView& cache);
  // After ingest.finish(): checks the NAR against the claimed NarHash and
  // NarSize, stores it (deduplicated) and binds the store path. The client
  // always sends the bytes, so knowing a hash never grants a NAR.
  Result<PathUploadOutcome> completePathUpload(const CacheView& cache, const NarInfo& claimed,
                                               NarIngest& ingest, std::string_view uploader,
                                               bool pin = false);

  // ---- pins: a pinned store path is never garbage-collected.
  Status setPinned(const CacheView& cache, std::string_view hash, bool pinned);
  Result<std::vector<db::ObjectRecord>> listPinned(const CacheView& cache);

  Status ping();
  db::MetadataDb& db() { return db_; }
  storage::BlobStore& blobs() { return blobs_; }
  const Clock& clock() const { return clock_; }

 private:
  // Records the ingested NAR (with the object or staged row of `commit`);
  // an existing NAR with the same NarHash wins and the new packs go.
  Result<db::CommittedNar> storeNar(NarIngest& ingest, db::NarCommit commit);
  db::ObjectRecord objectFor(const CacheView& cache, const NarInfo& info,
                             std::string_view uploader, bool pin) const;
  Result<std::vector<Segment>> narLayout(std::int64_t nar_id);
  Result<OpenNar> openSegments(const db::NarRecord& nar, const std::vector<Segment>& segments);
  Result<CachePtr> makeView(db::CacheRecord record) const;
  void remember(const CachePtr& view);
  void forget(std::string_view name);
  void notePathAdded(std::int64_t cache_id, std::string_view hash);
  Status loadPathIndex(std::int64_t cache_id);
  std::string renderNarInfo(const CacheView& cache, const db::ObjectWithNar& found) const;

  db::MetadataDb& db_;
  storage::BlobStore& blobs_;
  const Clock& clock_;
  ServiceOptions options_;
  WorkPool pool_;
  IngestContext ingest_;

  // Lookups by string_view without building a std::string.
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <class V>
  using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

  // A value cached in memory and when it was read (see memory_ttl).
  template <class T>
  struct Timed {
    T value;
    std::int64_t at = 0;
  };
  bool fresh(std::int64_t at) const { return clock_.now() - at < options_.memory_ttl; }

  mutable std::mutex mu_;
  StringMap<Timed<CachePtr>> caches_;
  // "<cache_id>/<file name>" → the NAR served under that name.
  StringMap<Timed<db::NarRecord>> nars_;
  // "<cache_id>/<hash>" → rendered narinfo.
  StringMap<Timed<std::string>> narinfos_;
  // Per cache: fingerprints of every store path hash it holds, so that a
  // miss is answered from memory. Inserts made while the index is being
  // (re)loaded are kept in `recent` and merged, so none is lost.
  struct PathIndex {
    bool loaded = false;
    std::int64_t loaded_at = 0;
    int loading = 0;  // reloads in progress
    std::unordered_set<std::uint64_t> fingerprints;
    std::vector<std::uint64_t> recent;
  };
  std::unordered_map<std::int64_t, PathIndex> path_indexes_;
  // "<cache_id>/<hash>" (or "<cache_id>#<nar id>") → latest access not yet
  // written; repeated accesses collapse into one row update.
  StringMap<db::AccessTouch> touches_;
  // NAR id → its segments and when they were read. Entries expire: another
  // process (garretd gc) may move chunks; old packs stay readable for the
  // GC grace period, which is far longer than this.
  struct CachedLayout {
    std::vector<Segment> segments;
    std::int64_t loaded_at = 0;
  };
  std::unordered_map<std::int64_t, CachedLayout> layouts_;
};

}  // namespace garret::cache
