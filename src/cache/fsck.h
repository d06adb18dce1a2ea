#pragma once

// Integrity check of the database against the blob store (`garretd fsck`):
// live packs missing from storage, blobs no pack row knows (orphans),
// chunks whose frame does not decompress to bytes hashing to their key, and
// the NARs that use a damaged chunk. With repair, orphans are deleted and
// damaged NARs are marked invalid (their store paths read as missing, so
// clients upload them again) while the damaged chunks are dropped.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "db/metadata_db.h"
#include "storage/blob_store.h"

namespace garret::cache {

struct FsckOptions {
  bool repair = false;
  bool verify_chunks = true;  // decompress and hash every chunk (reads everything)
};

struct FsckReport {
  std::uint64_t packs_checked = 0;
  std::uint64_t chunks_checked = 0;
  std::uint64_t bytes_checked = 0;  // compressed bytes read
  std::vector<std::string> missing_packs;
  std::vector<std::string> orphan_blobs;
  std::vector<std::int64_t> damaged_chunks;
  std::vector<std::string> problems;  // one line each, for people
  std::uint64_t damaged_nars = 0;
  bool repaired = false;

  bool clean() const {
    return missing_packs.empty() && orphan_blobs.empty() && damaged_chunks.empty();
  }
};

using FsckProgress = std::function<void(std::string_view)>;

Result<FsckReport> runFsck(db::MetadataDb& db, storage::BlobStore& blobs,
                           const FsckOptions& options, const FsckProgress& progress = {});

// "packs=… chunks=… missing_packs=… …": one line a script can read.
std::string summarize(const FsckReport& report);

}  // namespace garret::cache
