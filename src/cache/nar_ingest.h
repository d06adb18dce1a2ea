#pragma once

// NarIngest: the upload pipeline for one NAR, as a Sink fed with the bytes
// the client sent. In one pass it hashes what was sent, decompresses it,
// validates the NAR grammar while hashing it (NarHash/NarSize), compresses it
// as one zstd frame, hashes the result (the served FileHash) and streams it
// into a new blob. Memory is bounded by the codecs' windows.

#include <cstdint>
#include <memory>
#include <string>

#include "codec/codec.h"
#include "core/hash.h"
#include "core/stream.h"
#include "nar/nar_validator.h"
#include "storage/blob_store.h"

namespace garret::cache {

struct IngestOutcome {
  Hash sent_hash;  // of the bytes the client sent
  std::uint64_t sent_size = 0;
  Hash nar_hash;
  std::uint64_t nar_size = 0;
  Hash file_hash;  // of the stored (served) zstd bytes
  std::uint64_t file_size = 0;
  std::string blob_key;
};

class NarIngest final : public Sink {
 public:
  // The blob key is fresh and random; nothing is visible until commit().
  static Result<std::unique_ptr<NarIngest>> start(storage::BlobStore& blobs,
                                                  codec::Compression sent_compression,
                                                  int zstd_level, std::uint64_t max_nar_size);
  ~NarIngest() override;

  Status write(ByteSpan data) override;
  Status finish() override;
  // Valid after a successful finish().
  IngestOutcome outcome() const;
  // Makes the blob durable and visible under outcome().blob_key.
  Status commit();

 private:
  NarIngest() = default;
  std::string blob_key_;
  std::unique_ptr<storage::BlobWriter> writer_;
  std::unique_ptr<HashingSink> file_hasher_;
  std::unique_ptr<Sink> compressor_;
  std::unique_ptr<nar::NarValidator> validator_;
  std::unique_ptr<Sink> decompressor_;
  std::unique_ptr<HashingSink> sent_hasher_;
};

// Random blob key for a new NAR: "nar/<2 hex>/<30 hex>.nar.zst".
std::string newNarBlobKey();

}  // namespace garret::cache
