#include "http/range.h"

#include <algorithm>

#include <charconv>

namespace garret::http {

namespace {

std::optional<std::uint64_t> parseNumber(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

RangeDecision decideRange(std::optional<std::string_view> header, std::uint64_t size) {
  RangeDecision whole;
  if (!header) return whole;
  std::string_view h = *header;
  if (!h.starts_with("bytes=")) return whole;  // unknown unit: ignore
  h.remove_prefix(6);
  if (h.find(',') != std::string_view::npos) return whole;
  auto dash = h.find('-');
  if (dash == std::string_view::npos) return whole;
  auto first = h.substr(0, dash);
  auto last = h.substr(dash + 1);
  RangeDecision out{RangeKind::kPartial, {}};
  if (first.empty()) {  // suffix range: the last N bytes
    auto n = parseNumber(last);
    if (!n) return whole;
    if (*n == 0 || size == 0) return {RangeKind::kUnsatisfiable, {}};
    std::uint64_t len = std::min(*n, size);
    out.range = {size - len, len};
    return out;
  }
  auto start = parseNumber(first);
  if (!start) return whole;
  if (*start >= size) return {RangeKind::kUnsatisfiable, {}};
  std::uint64_t end = size - 1;
  if (!last.empty()) {
    auto e = parseNumber(last);
    if (!e || *e < *start) return whole;
    end = std::min(*e, size - 1);
  }
  out.range = {*start, end - *start + 1};
  return out;
}

std::vector<PieceSlice> slicePieces(std::span<const std::uint64_t> lengths, ByteRange range) {
  std::vector<PieceSlice> out;
  std::uint64_t pos = 0;  // where the current piece starts in the body
  for (std::size_t i = 0; i < lengths.size() && range.length > 0; ++i) {
    std::uint64_t end = pos + lengths[i];
    if (range.start < end) {
      std::uint64_t skip = range.start - pos;
      std::uint64_t take = std::min(lengths[i] - skip, range.length);
      if (take > 0) out.push_back(PieceSlice{i, skip, take});
      range.start += take;
      range.length -= take;
    }
    pos = end;
  }
  return out;
}

}  // namespace garret::http
