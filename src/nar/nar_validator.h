#pragma once

// Streaming NAR validator. Bytes are pushed in pieces of any size; each is
// checked against the NAR grammar as it arrives, hashed (NarHash, NarSize)
// and forwarded unchanged to the next sink. Rejects what Nix rejects: bad
// tokens, non-zero padding, entry names that are empty, ".", "..", contain
// '/' or NUL, or are not in strictly increasing byte order; a non-empty
// executable marker; trailing bytes after the root node; a truncated stream
// (at finish()). Memory use is bounded by the limits, never by NAR size.

#include <cstdint>
#include <memory>

#include "core/hash.h"
#include "core/stream.h"

namespace garret::nar {

struct NarLimits {
  std::size_t max_name_length = 255;     // directory entry names
  std::size_t max_target_length = 4096;  // symlink targets
  std::size_t max_depth = 256;           // directory nesting
};

class NarValidator final : public Sink {
 public:
  explicit NarValidator(Sink* next = nullptr, NarLimits limits = {});
  ~NarValidator() override;
  // Errors are kInvalidArgument with a message naming the problem and the
  // byte offset, e.g. "invalid NAR at byte 120: entry names not sorted".
  Status write(ByteSpan data) override;
  Status finish() override;
  // Valid after a successful finish().
  const Hash& narHash() const;
  std::uint64_t narSize() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace garret::nar
