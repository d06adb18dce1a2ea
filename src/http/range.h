#pragma once

// HTTP Range requests on a blob of known size (single ranges only; a
// multi-range request is answered with the whole body, which RFC 9110 allows).

#include <cstdint>
#include <optional>
#include <span>
#include <vector>
#include <string_view>

namespace garret::http {

struct ByteRange {
  std::uint64_t start = 0;
  std::uint64_t length = 0;
};

enum class RangeKind { kWhole, kPartial, kUnsatisfiable };

struct RangeDecision {
  RangeKind kind = RangeKind::kWhole;
  ByteRange range;  // for kPartial
};

// `header` is the Range header value, or nullopt if absent.
RangeDecision decideRange(std::optional<std::string_view> header, std::uint64_t size);

// A body made of pieces back to back (a NAR's chunk frames, as ranges of
// packs): the part of piece `index` that falls in a range.
struct PieceSlice {
  std::size_t index = 0;
  std::uint64_t offset = 0;  // within the piece
  std::uint64_t length = 0;
};

// The slices covering `range` of the concatenation of pieces of the given
// lengths, in order; parts past the end are dropped.
std::vector<PieceSlice> slicePieces(std::span<const std::uint64_t> lengths, ByteRange range);

}  // namespace garret::http
