#include "cache/pack_writer.h"

#include <openssl/rand.h>

#include "core/encoding.h"

namespace garret::cache {

std::string newPackBlobKey() {
  std::uint8_t random[16];
  RAND_bytes(random, sizeof random);
  std::string hex = hexEncode(ByteSpan(random, sizeof random));
  return "pack/" + hex.substr(0, 2) + "/" + hex.substr(2) + ".pack";
}

PackWriter::PackWriter(db::MetadataDb& db, storage::BlobStore& blobs, const Clock& clock,
                       std::uint64_t target_size)
    : db_(db), blobs_(blobs), clock_(clock), target_size_(target_size) {}

PackWriter::~PackWriter() {
  if (!released_) discard();
}

Status PackWriter::rollOver() {
  if (open_) {
    GARRET_TRY(open_->finish());
    GARRET_TRY(open_->commit());
    packs_.back().size = open_size_;
    open_.reset();
  }
  db::PackRecord pack;
  pack.blob_key = newPackBlobKey();
  pack.created_at = clock_.now();
  GARRET_ASSIGN_OR_RETURN(pack, db_.createPack(pack));
  packs_.push_back(pack);
  GARRET_ASSIGN_OR_RETURN(open_, blobs_.create(pack.blob_key));
  open_size_ = 0;
  return {};
}

Result<FrameLocation> PackWriter::append(ByteSpan frame) {
  if (!open_ || (open_size_ > 0 && open_size_ + frame.size() > target_size_)) {
    GARRET_TRY(rollOver());
  }
  FrameLocation at{packs_.back().id, open_size_};
  GARRET_TRY(open_->write(frame));
  open_size_ += frame.size();
  written_ += frame.size();
  return at;
}

Status PackWriter::finish() {
  if (!open_) return {};
  GARRET_TRY(open_->finish());
  GARRET_TRY(open_->commit());
  packs_.back().size = open_size_;
  open_.reset();
  return {};
}

void PackWriter::discard() {
  open_.reset();  // an uncommitted blob vanishes with its writer
  for (const db::PackRecord& pack : packs_) {
    // Best effort: what fails here stays a writing pack, which garbage
    // collection removes after its grace period.
    if (blobs_.remove(pack.blob_key).ok()) (void)db_.deletePack(pack.id);
  }
  packs_.clear();
  released_ = true;
}

}  // namespace garret::cache
