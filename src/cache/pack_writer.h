#pragma once

// PackWriter: appends compressed chunk frames to pack blobs for one upload
// (or one pack rewrite). Each pack gets a database row (state "writing")
// before its blob is created, so a crash leaves nothing garbage collection
// cannot find. A pack is committed (made durable) when it reaches the
// target size and at finish(); the rows become live only in the same
// transaction that records the chunks (MetadataDb::commitNar or
// relocateChunks).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "core/stream.h"
#include "db/metadata_db.h"
#include "storage/blob_store.h"

namespace garret::cache {

struct FrameLocation {
  std::int64_t pack_id = 0;
  std::uint64_t offset = 0;
};

class PackWriter {
 public:
  PackWriter(db::MetadataDb& db, storage::BlobStore& blobs, const Clock& clock,
             std::uint64_t target_size);
  // Discards the packs unless release() was called.
  ~PackWriter();
  PackWriter(const PackWriter&) = delete;
  PackWriter& operator=(const PackWriter&) = delete;

  Result<FrameLocation> append(ByteSpan frame);
  // Commits the open pack. Afterwards packs() lists every pack written,
  // with its final size.
  Status finish();
  const std::vector<db::PackRecord>& packs() const { return packs_; }
  std::uint64_t bytesWritten() const { return written_; }
  // The packs are now referenced (their rows went live): keep them.
  void release() { released_ = true; }
  // Deletes every pack's blob and row (failed or fully deduplicated upload).
  void discard();

 private:
  Status rollOver();

  db::MetadataDb& db_;
  storage::BlobStore& blobs_;
  const Clock& clock_;
  std::uint64_t target_size_;
  std::vector<db::PackRecord> packs_;
  std::unique_ptr<storage::BlobWriter> open_;
  std::uint64_t open_size_ = 0;
  std::uint64_t written_ = 0;
  bool released_ = false;
};

// A fresh random pack key: "pack/<2 hex>/<30 hex>.pack".
std::string newPackBlobKey();

}  // namespace garret::cache
