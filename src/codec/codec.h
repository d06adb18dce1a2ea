#pragma once

// Streaming compression. Every codec is a Sink that transforms what it is
// written and forwards the result to the next Sink; memory is bounded by
// the codec's window, never by the stream's size.

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/stream.h"

namespace garret::codec {

enum class Compression { kNone, kXz, kZstd, kBzip2 };

// Nix's names: "none" (also ""), "xz", "zstd", "bzip2". Others → kInvalidArgument
// (e.g. "br" is refused with a message saying which ones are supported).
Result<Compression> compressionFromName(std::string_view name);
std::string_view compressionName(Compression c);
// NAR file suffix Nix uses: ".xz", ".zst", ".bz2", "" for none.
std::string_view compressionExtension(Compression c);
// Compression named by a NAR file name's suffix: "x.nar.xz" → kXz,
// "x.nar" → kNone. nullopt for unknown suffixes.
std::optional<Compression> compressionFromFileName(std::string_view file_name);
// Detects from the first bytes (magic numbers); nullopt if not compressed
// with a known format. Needs at most 6 bytes.
std::optional<Compression> detectCompression(ByteSpan head);

// Decompresses `c` into `next`. Corrupt or truncated input is kInvalidArgument.
// Output beyond max_output bytes is kPayloadTooLarge (decompression bombs).
std::unique_ptr<Sink> makeDecompressor(Compression c, Sink& next,
                                       std::uint64_t max_output = UINT64_MAX);
// Compresses into `next` as one zstd frame per finish() (level 1..19).
std::unique_ptr<Sink> makeZstdCompressor(Sink& next, int level = 3);

// Compresses `data` into `out` (replacing its contents) as one zstd frame
// that records its content size. A chunk is stored as one such frame.
Status compressZstdFrame(ByteSpan data, int level, std::vector<std::uint8_t>& out);
// Decompresses exactly one zstd frame of `expected` content bytes into
// `out`; anything else is kInvalidArgument.
Status decompressZstdFrame(ByteSpan frame, std::uint64_t expected, std::vector<std::uint8_t>& out);

}  // namespace garret::codec
