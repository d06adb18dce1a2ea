#pragma once

// HTTP Range requests on a blob of known size (single ranges only; a
// multi-range request is answered with the whole body, which RFC 9110 allows).

#include <cstdint>
#include <optional>
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

}  // namespace garret::http
