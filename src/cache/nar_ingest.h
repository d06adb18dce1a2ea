#pragma once

// NarIngest: the upload pipeline for one NAR, as a Sink fed with the bytes
// the client sent. In one pass it hashes what was sent, decompresses it,
// validates the NAR grammar while hashing it (NarHash/NarSize) and cuts it
// into content-defined chunks. Each chunk is hashed and looked up on the
// work pool, in parallel; a chunk already stored anywhere is reused, a new
// one is compressed as one zstd frame. Results are taken in stream order:
// new frames are appended to this upload's packs and every frame is hashed
// into the served FileHash. Memory is bounded by the chunks in flight.
//
// Nothing is visible until the caller records commit() with
// MetadataDb::commitNar; an ingest destroyed before that deletes its packs.

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

#include "cache/pack_writer.h"
#include "cache/work_pool.h"
#include "chunk/fastcdc.h"
#include "codec/codec.h"
#include "core/clock.h"
#include "core/hash.h"
#include "core/pipelined_sink.h"
#include "core/stream.h"
#include "db/metadata_db.h"
#include "nar/nar_validator.h"
#include "storage/blob_store.h"

namespace garret::cache {

struct IngestSettings {
  chunk::ChunkingParams chunking;
  int zstd_level = 8;
  std::uint64_t max_nar_size = 64ull << 30;
  std::uint64_t pack_size = 32ull << 20;
};

// What an ingest needs from the service; outlives every ingest.
struct IngestContext {
  db::MetadataDb& db;
  storage::BlobStore& blobs;
  const Clock& clock;
  WorkPool& pool;
  IngestSettings settings;
};

struct IngestOutcome {
  Hash sent_hash;  // of the bytes the client sent
  std::uint64_t sent_size = 0;
  Hash nar_hash;
  std::uint64_t nar_size = 0;
  Hash file_hash;  // of the served bytes (every chunk's frame, in order)
  std::uint64_t file_size = 0;
  std::uint64_t chunks = 0;
  std::uint64_t reused_chunks = 0;  // already stored, or repeated in this NAR
  std::uint64_t reused_bytes = 0;   // their uncompressed size
  std::uint64_t stored_bytes = 0;   // compressed bytes this upload wrote
};

class NarIngest final : public Sink {
 public:
  static Result<std::unique_ptr<NarIngest>> start(IngestContext& ctx,
                                                  codec::Compression sent_compression);
  ~NarIngest() override;

  Status write(ByteSpan data) override;
  Status finish() override;
  // Valid after a successful finish().
  IngestOutcome outcome() const;
  // The NAR, its chunks and packs, ready for MetadataDb::commitNar.
  db::NarCommit commit() const;
  // After commitNar: keep the packs if the NAR was new, else delete them.
  void committed(bool nar_existed);

  struct Slot;  // a chunk in flight (nar_ingest.cpp)
  class PackReaders;

 private:
  explicit NarIngest(IngestContext& ctx);
  Status submit(ByteSpan chunk);
  Status takeOldest();

  IngestContext& ctx_;
  PackWriter packs_;
  std::shared_ptr<PackReaders> readers_;
  std::unique_ptr<HashingSink> sent_hasher_;
  std::unique_ptr<Sink> decompressor_;
  std::unique_ptr<nar::NarValidator> validator_;
  std::unique_ptr<chunk::Chunker> chunker_;
  std::unique_ptr<PipelinedSink> head_;  // feeds sent_hasher_ or decompressor_

  std::deque<std::shared_ptr<Slot>> in_flight_;
  std::size_t max_in_flight_;
  Sha256 file_hasher_;
  Hash file_hash_;
  std::uint64_t file_size_ = 0;
  std::vector<db::ChunkRecord> chunks_;
  // New chunks of this NAR by hash (hex), for chunks repeated within it.
  std::unordered_map<std::string, std::size_t> new_chunks_;
  IngestOutcome stats_;
};

}  // namespace garret::cache
