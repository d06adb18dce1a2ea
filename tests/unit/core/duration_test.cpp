#include "core/duration.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace garret {
namespace {

constexpr std::int64_t kDay = 86'400;

TEST(DurationTest, ParsesValid) {
  struct Case {
    std::string text;
    std::int64_t seconds;
  };
  const Case cases[] = {
      {"0", 0},
      {" 0 ", 0},
      {"0s", 0},
      {"30s", 30},
      {"1sec", 1},
      {"2secs", 2},
      {"1second", 1},
      {"5 seconds", 5},
      {"1m", 60},
      {"3min", 180},
      {"2mins", 120},
      {"1minute", 60},
      {"10minutes", 600},
      {"1h", 3600},
      {"2hr", 7200},
      {"3hrs", 10800},
      {"1hour", 3600},
      {"12 hours", 12 * 3600},
      {"1d", kDay},
      {"1 day", kDay},
      {"7days", 7 * kDay},
      {"1w", 7 * kDay},
      {"2week", 14 * kDay},
      {"3 weeks", 21 * kDay},
      {"1M", 2'630'016},
      {"1month", 2'630'016},
      {"6 months", 6 * 2'630'016},
      {"1y", 31'557'600},
      {"1year", 31'557'600},
      {"2years", 2 * 31'557'600},
      {"1h 30m", 5400},
      {"1h30m", 5400},
      {"1day 2h", 93'600},
      {"  1d\t2h  3m 4s ", kDay + 2 * 3600 + 3 * 60 + 4},
      {"90m 90m", 10'800},
      {"007s", 7},
      {"9223372036854775807s", std::numeric_limits<std::int64_t>::max()},
  };
  for (const auto& c : cases) {
    auto r = parseDuration(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.error().message;
    EXPECT_EQ(*r, c.seconds) << c.text;
  }
}

TEST(DurationTest, RejectsInvalid) {
  struct Case {
    std::string text;
    std::string message_part;
  };
  const Case cases[] = {
      {"", "empty"},
      {"   ", "empty"},
      {"30", "missing unit"},
      {"1h 30", "missing unit"},
      {"2 fortnights", "unknown unit \"fortnights\""},
      {"1H", "unknown unit \"H\""},
      {"1ms", "unknown unit \"ms\""},
      {"h", "expected a number"},
      {"-1h", "expected a number"},
      {"+1h", "expected a number"},
      {"1.5h", "invalid character"},
      {"1h,2m", "invalid character"},
      {"1h-", "invalid character"},
      {"1h\n", "invalid character"},
      {"9223372036854775808s", "too large"},
      {"9223372036854775807m", "too large"},
      {"300000000000y", "too large"},
      {"9223372036854775807s 1s", "too large"},
  };
  for (const auto& c : cases) {
    auto r = parseDuration(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << c.text;
    EXPECT_NE(r.error().message.find(c.message_part), std::string::npos)
        << c.text << ": " << r.error().message;
  }
}

TEST(DurationTest, Formats) {
  struct Case {
    std::int64_t seconds;
    std::string text;
  };
  const Case cases[] = {
      {0, "0s"},
      {1, "1s"},
      {59, "59s"},
      {60, "1m"},
      {3661, "1h 1m 1s"},
      {93'600, "1day 2h"},
      {2 * kDay, "2days"},
      {7 * kDay, "7days"},
      {2'630'016, "1month"},
      {2 * 2'630'016 + kDay, "2months 1day"},
      {31'557'600, "1year"},
      {2 * 31'557'600 + 30, "2years 30s"},
      {-90, "-1m 30s"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(formatDuration(c.seconds), c.text) << c.seconds;
  }
}

TEST(DurationTest, FormatThenParseRoundTrips) {
  for (std::int64_t s :
       {std::int64_t{0}, std::int64_t{1}, std::int64_t{93'600}, std::int64_t{12'345'678},
        std::int64_t{31'557'600 * 3 + 2'630'016 * 2 + 86'400 * 5 + 17},
        std::numeric_limits<std::int64_t>::max()}) {
    auto r = parseDuration(formatDuration(s));
    ASSERT_TRUE(r.ok()) << formatDuration(s) << ": " << r.error().message;
    EXPECT_EQ(*r, s) << formatDuration(s);
  }
  EXPECT_EQ(formatDuration(std::numeric_limits<std::int64_t>::min()).front(), '-');
}

}  // namespace
}  // namespace garret
