#include "codec/codec.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "codec/decompressors.h"

namespace garret::codec {
namespace {

struct CodecInfo {
  Compression compression;
  std::string_view name;
  std::string_view extension;
};

constexpr std::array<CodecInfo, 4> kCodecs = {{
    {Compression::kNone, "none", ""},
    {Compression::kXz, "xz", ".xz"},
    {Compression::kZstd, "zstd", ".zst"},
    {Compression::kBzip2, "bzip2", ".bz2"},
}};

const CodecInfo& info(Compression c) { return kCodecs[static_cast<std::size_t>(c)]; }

struct Magic {
  Compression compression;
  std::string_view bytes;
};

constexpr std::array<Magic, 3> kMagics = {{
    {Compression::kXz, std::string_view("\xFD"
                                        "7zXZ\0",
                                        6)},
    {Compression::kZstd, "\x28\xB5\x2F\xFD"},
    {Compression::kBzip2, "BZh"},
}};

bool startsWith(ByteSpan head, std::string_view prefix) {
  return head.size() >= prefix.size() &&
         std::memcmp(head.data(), prefix.data(), prefix.size()) == 0;
}

}  // namespace

Result<Compression> compressionFromName(std::string_view name) {
  if (name.empty()) return Compression::kNone;
  for (const CodecInfo& c : kCodecs) {
    if (c.name == name) return c.compression;
  }
  return invalid("unsupported compression \"" + std::string(name) +
                 "\" (supported: none, xz, zstd, bzip2)");
}

std::string_view compressionName(Compression c) { return info(c).name; }

std::string_view compressionExtension(Compression c) { return info(c).extension; }

std::optional<Compression> compressionFromFileName(std::string_view file_name) {
  for (const CodecInfo& c : kCodecs) {
    std::string suffix = ".nar" + std::string(c.extension);
    if (file_name.size() > suffix.size() && file_name.ends_with(suffix)) {
      return c.compression;
    }
  }
  return std::nullopt;
}

std::optional<Compression> detectCompression(ByteSpan head) {
  for (const Magic& m : kMagics) {
    if (startsWith(head, m.bytes)) return m.compression;
  }
  return std::nullopt;
}

std::unique_ptr<Sink> makeDecompressor(Compression c, Sink& next, std::uint64_t max_output) {
  switch (c) {
    case Compression::kNone:
      return makeNoneDecompressor(next, max_output);
    case Compression::kXz:
      return makeXzDecompressor(next, max_output);
    case Compression::kZstd:
      return makeZstdDecompressor(next, max_output);
    case Compression::kBzip2:
      return makeBzip2Decompressor(next, max_output);
  }
  return makeNoneDecompressor(next, max_output);
}

}  // namespace garret::codec
