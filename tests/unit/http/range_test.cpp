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

}  // namespace
}  // namespace garret::http
