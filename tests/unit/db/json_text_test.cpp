#include "db/json_text.h"

#include <gtest/gtest.h>

namespace garret::db {
namespace {

TEST(JsonText, RoundTrips) {
  std::vector<std::string> items = {"a", "", "quote\"", "back\\slash", "\xc3\xbc"};
  auto text = toJsonArray(items);
  ASSERT_TRUE(text.ok());
  auto back = parseJsonArray(*text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, items);
  EXPECT_EQ(*toJsonArray({}), "[]");
  EXPECT_TRUE(parseJsonArray("[]")->empty());
}

TEST(JsonText, InvalidUtf8IsInvalidArgument) {
  auto text = toJsonArray({"ok", "\xff\xfe"});
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, ErrorCode::kInvalidArgument);
}

TEST(JsonText, CorruptStoredTextIsInternal) {
  for (const char* bad : {"", "[", "{}", "\"a\"", "[1]", "[\"a\", null]", "nonsense"}) {
    auto parsed = parseJsonArray(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInternal) << bad;
  }
}

}  // namespace
}  // namespace garret::db
