#include "core/timestamp.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/text.h"

namespace garret {
namespace {

TEST(TimestampTest, CivilToUnix) {
  EXPECT_EQ(civilToUnix(1970, 1, 1, 0, 0, 0), 0);
  EXPECT_EQ(civilToUnix(2026, 11, 27, 12, 0, 0), 1795780800);
  EXPECT_FALSE(civilToUnix(1969, 12, 31, 23, 59, 59));
  EXPECT_FALSE(civilToUnix(2026, 13, 1, 0, 0, 0));
  EXPECT_FALSE(civilToUnix(2026, 1, 0, 0, 0, 0));
  EXPECT_FALSE(civilToUnix(2026, 1, 1, 24, 0, 0));
  EXPECT_FALSE(civilToUnix(10000, 1, 1, 0, 0, 0));
}

TEST(TimestampTest, Rfc3339) {
  EXPECT_EQ(parseRfc3339("2026-11-27T12:00:00Z"), 1795780800.0);
  EXPECT_EQ(parseRfc3339("2026-11-27t12:00:00z"), 1795780800.0);
  EXPECT_EQ(parseRfc3339("2026-11-27T13:00:00+01:00"), 1795780800.0);
  EXPECT_EQ(parseRfc3339("2026-11-27T11:30:00-00:30"), 1795780800.0);
  EXPECT_DOUBLE_EQ(*parseRfc3339("2026-11-27T12:00:00.25Z"), 1795780800.25);
  EXPECT_EQ(parseRfc3339Seconds("2026-11-27T11:59:58.912Z"), 1795780798);
  for (const char* bad : {"", "2026-11-27", "2026-11-27 12:00:00Z", "2026-11-27T12:00:00",
                          "2026-11-27T12:00:00.Z", "2026-11-27T12:00:00+1:00", "2026-11-27T12:00:00+01:00x",
                          "2026-13-27T12:00:00Z", "2026-11-27T12:60:00Z", "x026-11-27T12:00:00Z"}) {
    EXPECT_FALSE(parseRfc3339(bad)) << bad;
  }
}

TEST(EncodingTest, WellFormedUtf8) {
  EXPECT_TRUE(isWellFormedUtf8(""));
  EXPECT_TRUE(isWellFormedUtf8("plain ascii"));
  EXPECT_TRUE(isWellFormedUtf8("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(isWellFormedUtf8("\xc3"));
  EXPECT_FALSE(isWellFormedUtf8("\x80"));
  EXPECT_FALSE(isWellFormedUtf8("\xe2\x82"));
  EXPECT_FALSE(isWellFormedUtf8("\xff"));
  EXPECT_FALSE(isWellFormedUtf8("a\xc3(b"));
}

}  // namespace
}  // namespace garret

namespace garret {
namespace {

TEST(TextTest, CollapseBlanks) {
  EXPECT_EQ(collapseBlanks("  a \t\n b  c \n"), "a b c");
  EXPECT_EQ(collapseBlanks("a\tb", " "), "a\tb");
  EXPECT_EQ(collapseBlanks(" a  b ", " \t"), "a b");
  EXPECT_EQ(collapseBlanks(""), "");
  EXPECT_EQ(trimSpace("  x y \n"), "x y");
  EXPECT_TRUE(equalsIgnoreCase("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(equalsIgnoreCase("a", "ab"));
}

}  // namespace
}  // namespace garret
