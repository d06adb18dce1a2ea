#include "cache/access.h"

#include <gtest/gtest.h>

namespace garret::cache {
namespace {

Identity withCaches(std::vector<std::pair<std::string, auth::Permissions>> caches) {
  Identity who;
  who.claims = auth::Claims{};
  who.claims->sub = "alice";
  who.claims->caches = std::move(caches);
  return who;
}

struct Case {
  const char* label;
  Identity who;
  bool exists;
  bool is_public;
  auth::Permissions needed;
  std::optional<ErrorCode> expected;  // nullopt: allowed
};

TEST(Access, DecidesWithoutLeakingWhichCachesExist) {
  Identity anonymous;
  Identity refused;
  refused.refusal = "bad signature";
  const Case cases[] = {
      {"public pull, anonymous", anonymous, true, true, auth::kPull, std::nullopt},
      {"public push, anonymous", anonymous, true, true, auth::kPush, ErrorCode::kForbidden},
      {"private pull, anonymous", anonymous, true, false, auth::kPull, ErrorCode::kUnauthorized},
      {"missing, anonymous", anonymous, false, false, auth::kPull, ErrorCode::kUnauthorized},
      {"private, refused token", refused, true, false, auth::kPull, ErrorCode::kUnauthorized},
      {"pull granted", withCaches({{"main", auth::kPull}}), true, false, auth::kPull, std::nullopt},
      {"push lacking", withCaches({{"main", auth::kPull}}), true, false, auth::kPush,
       ErrorCode::kForbidden},
      {"other cache only", withCaches({{"other", auth::kAllPermissions}}), true, false,
       auth::kPull, ErrorCode::kUnauthorized},
      {"missing, other cache only", withCaches({{"other", auth::kAllPermissions}}), false, false,
       auth::kPull, ErrorCode::kUnauthorized},
      {"missing, some permission", withCaches({{"*", auth::kPush}}), false, false, auth::kPull,
       ErrorCode::kNotFound},
      {"missing, granted", withCaches({{"*", auth::kPull}}), false, false, auth::kPull,
       ErrorCode::kNotFound},
      {"pattern grants", withCaches({{"ma*", auth::kPull | auth::kPush}}), true, false,
       auth::kPush, std::nullopt},
      {"two permissions, one lacking", withCaches({{"main", auth::kConfigureCache}}), true, false,
       auth::kConfigureCache | auth::kConfigureRetention, ErrorCode::kForbidden},
  };
  for (const auto& c : cases) {
    Status s = checkAccess(c.who, "main", c.exists, c.is_public, c.needed);
    if (!c.expected) {
      EXPECT_TRUE(s.ok()) << c.label << ": " << s.error().message;
    } else {
      ASSERT_FALSE(s.ok()) << c.label;
      EXPECT_EQ(s.error().code, *c.expected) << c.label << ": " << s.error().message;
    }
  }
}

TEST(Access, RefusalMessageCarriesTheReason) {
  Identity refused;
  refused.refusal = "token expired";
  Status s = checkAccess(refused, "main", true, false, auth::kPull);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("token expired"), std::string::npos);
}

}  // namespace
}  // namespace garret::cache
