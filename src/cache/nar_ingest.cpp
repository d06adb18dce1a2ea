#include "cache/nar_ingest.h"

#include <openssl/rand.h>

#include "core/encoding.h"

namespace garret::cache {

std::string newNarBlobKey() {
  std::uint8_t random[16];
  RAND_bytes(random, sizeof random);
  std::string hex = hexEncode(ByteSpan(random, sizeof random));
  return "nar/" + hex.substr(0, 2) + "/" + hex.substr(2) + ".nar.zst";
}

Result<std::unique_ptr<NarIngest>> NarIngest::start(storage::BlobStore& blobs,
                                                    codec::Compression sent_compression,
                                                    int zstd_level, std::uint64_t max_nar_size) {
  std::unique_ptr<NarIngest> in(new NarIngest());
  in->blob_key_ = newNarBlobKey();
  GARRET_ASSIGN_OR_RETURN(in->writer_, blobs.create(in->blob_key_));
  in->file_hasher_ = std::make_unique<HashingSink>(in->writer_.get());
  in->compressor_ = codec::makeZstdCompressor(*in->file_hasher_, zstd_level);
  in->validator_ = std::make_unique<nar::NarValidator>(in->compressor_.get());
  in->decompressor_ = codec::makeDecompressor(sent_compression, *in->validator_, max_nar_size);
  in->sent_hasher_ = std::make_unique<HashingSink>(in->decompressor_.get());
  return in;
}

NarIngest::~NarIngest() = default;

Status NarIngest::write(ByteSpan data) { return sent_hasher_->write(data); }

Status NarIngest::finish() { return sent_hasher_->finish(); }

IngestOutcome NarIngest::outcome() const {
  IngestOutcome out;
  out.sent_hash = sent_hasher_->hash();
  out.sent_size = sent_hasher_->size();
  out.nar_hash = validator_->narHash();
  out.nar_size = validator_->narSize();
  out.file_hash = file_hasher_->hash();
  out.file_size = file_hasher_->size();
  out.blob_key = blob_key_;
  return out;
}

Status NarIngest::commit() { return writer_->commit(); }

}  // namespace garret::cache
