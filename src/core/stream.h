#pragma once

// Push-based streaming: a producer calls write() with successive pieces of a
// byte stream and finish() once at the end. Stages (decompressor, NAR
// validator, hasher, compressor, file writer) are Sinks that forward to the
// next Sink, so a NAR flows through the whole pipeline in one pass with
// memory bounded by the stages' buffers, never by the stream's size.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/result.h"

namespace garret {

using ByteSpan = std::span<const std::uint8_t>;

inline ByteSpan asBytes(std::string_view s) {
  return ByteSpan(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

class Sink {
 public:
  virtual ~Sink() = default;
  // Consumes the next piece of the stream. After an error the sink is dead:
  // further calls return an error again.
  virtual Status write(ByteSpan data) = 0;
  // Ends the stream; a stage checks that its input was complete and finishes
  // the next sink. Called at most once, after the last write().
  virtual Status finish() = 0;
};

// Discards everything; ends a pipeline that only hashes or validates.
class NullSink final : public Sink {
 public:
  Status write(ByteSpan) override { return {}; }
  Status finish() override { return {}; }
};

// Counts bytes, forwarding them to an optional next sink.
class CountingSink final : public Sink {
 public:
  explicit CountingSink(Sink* next = nullptr) : next_(next) {}
  Status write(ByteSpan data) override {
    count_ += data.size();
    return next_ ? next_->write(data) : Status();
  }
  Status finish() override { return next_ ? next_->finish() : Status(); }
  std::uint64_t count() const { return count_; }

 private:
  Sink* next_;
  std::uint64_t count_ = 0;
};

}  // namespace garret
