#include "http/range.h"

#include <gtest/gtest.h>

namespace garret::http {
namespace {

struct Case {
  std::optional<std::string> header;
  std::uint64_t size;
  RangeKind kind;
  std::uint64_t start;
  std::uint64_t length;
};

TEST(Range, DecidesLikeRfc9110) {
  const Case cases[] = {
      {std::nullopt, 100, RangeKind::kWhole, 0, 0},
      {"bytes=0-9", 100, RangeKind::kPartial, 0, 10},
      {"bytes=90-", 100, RangeKind::kPartial, 90, 10},
      {"bytes=90-500", 100, RangeKind::kPartial, 90, 10},
      {"bytes=-10", 100, RangeKind::kPartial, 90, 10},
      {"bytes=-500", 100, RangeKind::kPartial, 0, 100},
      {"bytes=99-99", 100, RangeKind::kPartial, 99, 1},
      {"bytes=100-", 100, RangeKind::kUnsatisfiable, 0, 0},
      {"bytes=-0", 100, RangeKind::kUnsatisfiable, 0, 0},
      {"bytes=0-", 0, RangeKind::kUnsatisfiable, 0, 0},
      {"bytes=5-2", 100, RangeKind::kWhole, 0, 0},
      {"bytes=0-1,5-6", 100, RangeKind::kWhole, 0, 0},
      {"items=0-1", 100, RangeKind::kWhole, 0, 0},
      {"bytes=x-1", 100, RangeKind::kWhole, 0, 0},
      {"bytes=99999999999999999999999-", 100, RangeKind::kWhole, 0, 0},
  };
  for (const auto& c : cases) {
    std::optional<std::string_view> h;
    if (c.header) h = *c.header;
    RangeDecision d = decideRange(h, c.size);
    std::string label = c.header.value_or("(none)");
    EXPECT_EQ(d.kind, c.kind) << label;
    if (c.kind == RangeKind::kPartial) {
      EXPECT_EQ(d.range.start, c.start) << label;
      EXPECT_EQ(d.range.length, c.length) << label;
    }
  }
}

TEST(SlicePieces, EveryRangeMatchesTheConcatenation) {
  const std::vector<std::uint64_t> lengths = {10, 0, 5, 20, 1};
  // The body as (piece, offset) per byte.
  std::vector<std::pair<std::size_t, std::uint64_t>> bytes;
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    for (std::uint64_t o = 0; o < lengths[i]; ++o) bytes.emplace_back(i, o);
  }
  for (std::uint64_t start = 0; start <= bytes.size(); ++start) {
    for (std::uint64_t len = 0; start + len <= bytes.size() + 3; ++len) {
      std::vector<std::pair<std::size_t, std::uint64_t>> got;
      for (const PieceSlice& s : slicePieces(lengths, ByteRange{start, len})) {
        EXPECT_GT(s.length, 0u);
        for (std::uint64_t o = 0; o < s.length; ++o) got.emplace_back(s.index, s.offset + o);
      }
      std::uint64_t end = std::min<std::uint64_t>(start + len, bytes.size());
      std::vector<std::pair<std::size_t, std::uint64_t>> want(bytes.begin() + start,
                                                              bytes.begin() + end);
      ASSERT_EQ(got, want) << "start " << start << " length " << len;
    }
  }
}

TEST(SlicePieces, NoPiecesNoSlices) {
  EXPECT_TRUE(slicePieces({}, ByteRange{0, 10}).empty());
}

}  // namespace
}  // namespace garret::http
