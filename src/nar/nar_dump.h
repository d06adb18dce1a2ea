#pragma once

// NarDumpSource: serialises a filesystem tree (a store path on disk) as a NAR,
// byte for byte what `nix-store --dump` writes, pulled in pieces by the
// caller (an HTTP upload's body reader). No threads; memory is bounded by a
// small header buffer and the pending-entry stack, never by file sizes.
//
// Directory entries are sorted by name (bytewise), regular files carry
// "executable" when the owner execute bit is set (as Nix does), symlinks their target. Other file
// types (sockets, devices) are an error. A file whose size changes while it
// is read is an error (the NAR would not match its announced size/hash).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>

#include "core/result.h"

namespace garret::nar {

class NarDumpSource {
 public:
  virtual ~NarDumpSource() = default;
  // Fills up to `len` bytes; returns how many (0 only at the end of the NAR).
  virtual Result<std::size_t> read(char* buf, std::size_t len) = 0;
  // Bytes returned by read() so far.
  virtual std::uint64_t produced() const = 0;
};

// Fails when `root` cannot be lstat'ed. Errors met later come from read().
Result<std::unique_ptr<NarDumpSource>> openNarDump(const std::filesystem::path& root);

}  // namespace garret::nar
