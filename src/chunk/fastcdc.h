#pragma once

// Content-defined chunking with FastCDC (normalized chunking, gear rolling
// hash). Cut points depend only on the bytes near them, so an insertion or
// deletion in the middle of a NAR changes only the chunks around it and
// every other chunk is shared with the previous version.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "core/result.h"
#include "core/stream.h"

namespace garret::chunk {

// Attic's [chunking] keys.
struct ChunkingParams {
  // Streams shorter than this are one chunk; 0 disables content-defined
  // chunking (streams are cut every max_size bytes so memory stays bounded).
  std::uint32_t nar_size_threshold = 65536;
  std::uint32_t min_size = 16384;
  std::uint32_t avg_size = 65536;
  std::uint32_t max_size = 262144;

  // min ≤ avg ≤ max, avg a power of two in [64, 2^28], min ≥ 64,
  // max ≤ 2^28, threshold ≤ 2^28; the error names the key.
  Status validate() const;
};

// The length of the first chunk of data[0, n): a cut point found by
// FastCDC, or min(n, max_size). `n` must be ≥ max_size unless the data is
// the end of the stream. Pure and deterministic.
std::size_t findCut(const ChunkingParams& params, const std::uint8_t* data, std::size_t n);

// Streaming chunker: a Sink that cuts its input into chunks and hands each
// one, in order, to `emit`. Buffers at most max(max_size, threshold) bytes.
// The span given to `emit` is valid only during the call: it points into the
// data of the current write() or into the chunker's buffer. An error from
// `emit` is returned by that write() or finish() and by every later call.
// `params` must pass validate().
class Chunker final : public Sink {
 public:
  using Emit = std::function<Status(ByteSpan chunk)>;
  Chunker(const ChunkingParams& params, Emit emit);

  Status write(ByteSpan data) override;
  Status finish() override;

  std::uint64_t chunkCount() const { return chunks_; }

 private:
  bool holdingBack() const;
  Result<std::size_t> emitComplete(ByteSpan data);
  Status cutSpan(ByteSpan data);
  Status emitChunk(ByteSpan chunk);
  void stash(ByteSpan data);

  ChunkingParams params_;
  Emit emit_;
  // While holding back: the whole stream so far. After: the bytes of the
  // current, unfinished chunk (always fewer than max_size).
  std::vector<std::uint8_t> buffer_;
  std::uint64_t hash_ = 0;  // rolling hash over buffer_'s tail
  std::uint64_t total_ = 0;
  std::uint64_t chunks_ = 0;
  std::optional<Error> error_;  // the first emit error; returned ever after
};

}  // namespace garret::chunk
