#pragma once

// GarbageCollector: one garbage collection pass over the database and the
// blob store (`garretd gc`, and periodically inside `garretd serve`).
//
//  1. Database (MetadataDb::collectGarbage): expired objects, unbound staged
//     uploads, NARs without objects, chunks without NARs, packs without
//     chunks (marked dead).
//  2. Dead packs past the grace period: blob deleted, then the row.
//  3. Pack rewrites: a pack whose live fraction fell below the threshold,
//     and small packs (one per small upload) merged together, are copied
//     chunk by chunk into new full-size packs; the chunks are repointed in
//     one transaction and the old packs die (deleted after the grace period,
//     so reads in flight finish).
//
// Every step is safe to kill and resume: rows go before blobs, new packs are
// rows in state "writing" before they are blobs, and nothing is repointed
// until its copy is durable.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "db/metadata_db.h"
#include "storage/blob_store.h"

namespace garret::cache {

struct GcOptions {
  std::int64_t default_retention_period = 0;  // seconds; 0 = keep forever
  // See GcRequest::grace_period. 0 is only safe with no server running.
  std::int64_t grace_period = 3600;
  // A pack whose live bytes are below this fraction of its size is rewritten.
  double rewrite_threshold = 0.5;
  // Target size of rewritten packs; packs under a quarter of it are merged.
  std::uint64_t pack_size = 32ull << 20;
  bool dry_run = false;
  // One collector at a time across replicas: the lease lasts this long and
  // is renewed between steps (a killed collector's lease simply expires).
  std::int64_t lease_ttl = 600;
};

struct GcResult {
  // Another collector holds the lease; nothing was done.
  bool skipped = false;
  std::string lease_holder;  // this collector's name
  db::GcReport db;
  std::uint64_t packs_deleted = 0;
  std::uint64_t pack_bytes_deleted = 0;
  std::uint64_t packs_rewritten = 0;     // old packs whose chunks were copied
  std::uint64_t packs_written = 0;       // new packs holding the copies
  std::uint64_t bytes_copied = 0;
  std::uint64_t bytes_reclaimable = 0;   // dead bytes inside rewritten packs
};

class GarbageCollector {
 public:
  using Progress = std::function<void(std::string_view)>;
  GarbageCollector(db::MetadataDb& db, storage::BlobStore& blobs, const Clock& clock,
                   GcOptions options);

  Result<GcResult> run(const Progress& progress = {});

 private:
  Status pass(GcResult& result, const Progress& progress);
  Status deleteDuePacks(const std::vector<db::PackRecord>& due, GcResult& result);
  Status rewritePacks(GcResult& result, const Progress& progress);
  // Renews the lease; an error if it was lost (another collector took it).
  Status renewLease();
  // True for a lease holder that ran on this host in a process that exited.
  bool isGoneLocalHolder(std::string_view holder) const;

  db::MetadataDb& db_;
  storage::BlobStore& blobs_;
  const Clock& clock_;
  GcOptions options_;
  std::string holder_;
};

// "objects=3 staged=0 nars=2 …": one line a script can read.
std::string summarize(const GcResult& result);

}  // namespace garret::cache
