#pragma once

// Internal to the codec layer: the shared skeleton of every decompressor
// and the per-format factories behind makeDecompressor().

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/stream.h"

namespace garret::codec {

// Output is forwarded to the next sink in pieces of at most this size.
inline constexpr std::size_t kOutputChunk = 64 * 1024;

// Holds the sticky error state, the output budget and the output buffer;
// subclasses only drive their library.
class Decompressor : public Sink {
 public:
  Decompressor(Sink& next, std::uint64_t max_output);
  Status write(ByteSpan data) final;
  Status finish() final;

 protected:
  // Feeds `in` to the library, emitting all output it can produce.
  virtual Status decode(ByteSpan in) = 0;
  // Checks the input ended at a stream boundary, emitting remaining output.
  virtual Status end() = 0;
  // Counts `n` bytes of out_ against the budget and forwards them.
  Status emit(std::size_t n);
  std::uint8_t* out() { return out_.data(); }
  std::size_t outSize() const { return out_.size(); }

 private:
  Sink& next_;
  std::uint64_t max_output_;
  std::uint64_t produced_ = 0;
  std::vector<std::uint8_t> out_;
  Status failure_;
  bool finished_ = false;
};

std::unique_ptr<Sink> makeNoneDecompressor(Sink& next, std::uint64_t max_output);
std::unique_ptr<Sink> makeXzDecompressor(Sink& next, std::uint64_t max_output);
std::unique_ptr<Sink> makeZstdDecompressor(Sink& next, std::uint64_t max_output);
std::unique_ptr<Sink> makeBzip2Decompressor(Sink& next, std::uint64_t max_output);

}  // namespace garret::codec
