#include "auth/claims.h"

#include <gtest/gtest.h>

#include <set>

namespace garret::auth {
namespace {

using Json = nlohmann::ordered_json;

TEST(CachePatternTest, Matching) {
  struct Case {
    const char* pattern;
    const char* name;
    bool match;
  };
  const Case cases[] = {
      {"team-*", "team-", true},
      {"team-*", "team-abc", true},
      {"team-*", "abc-team", false},
      {"team-*", "team", false},
      {"no-wildcard", "no-wildcard", true},
      {"no-wildcard", "no-wildcard-xxx", false},
      {"no-wildcard", "xxx-no-wildcard", false},
      {"no-wildcard", "No-wildcard", false},
      {"*", "literally-anything", true},
      {"*", "", true},
      {"*-ci", "linux-ci", true},
      {"*-ci", "linux-ci-x", false},
      {"a*b*c", "abc", true},
      {"a*b*c", "a-b-b-c", true},
      {"a*b*c", "a-b-c-d", false},
      {"a*b*c", "acb", false},
      {"**", "x", true},
      {"a**b", "ab", true},
      {"a*", "", false},
      {"", "", true},
      {"", "a", false},
      {"+*+", "+x+", true},
      {"?", "x", false},  // only '*' is special
      {"a.c", "abc", false},
      {"*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(matchCachePattern(c.pattern, c.name), c.match)
        << "pattern '" << c.pattern << "' name '" << c.name << "'";
  }
}

TEST(CachePatternTest, NameAndPatternValidity) {
  struct Case {
    std::string text;
    bool name_ok;
    bool pattern_ok;
  };
  const Case cases[] = {
      {"valid-name", true, true},
      {"Another_Valid_Name", true, true},
      {"plan9", true, true},
      {"username+cache", true, true},
      {std::string(50, 'a'), true, true},
      {std::string(51, 'a'), false, false},
      {"", false, false},
      {"not a valid name", false, false},
      {"team-*", false, true},
      {"*", false, true},
      {"*-ci", false, true},
      {"-ers", false, false},
      {"_cache", false, false},
      {"+cache", false, false},
      {"a/b", false, false},
      {"a.b", false, false},
      {"caf\xc3\xa9", false, false},
      {"*-but-normal-restrictions-still-apply!!!", false, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(isValidCacheName(c.text), c.name_ok) << c.text;
    EXPECT_EQ(isValidCachePattern(c.text), c.pattern_ok) << c.text;
  }
}

TEST(PermissionsTest, Letters) {
  EXPECT_EQ(permissionLetters(0), "none");
  EXPECT_EQ(permissionLetters(kPull), "r");
  EXPECT_EQ(permissionLetters(kPush | kPull), "r,w");
  EXPECT_EQ(permissionLetters(kAllPermissions), "r,w,d,cc,cr,cq,cd");
  EXPECT_EQ(permissionLetters(kDestroyCache | kCreateCache), "cc,cd");
}

Claims claimsWith(std::vector<std::pair<std::string, Permissions>> caches) {
  Claims c;
  c.sub = "alice";
  c.caches = std::move(caches);
  return c;
}

TEST(PermissionsTest, ResolutionOrder) {
  struct Case {
    std::vector<std::pair<std::string, Permissions>> caches;
    const char* cache;
    Permissions want;
  };
  const Case cases[] = {
      // Nothing matches.
      {{{"team-*", kPull}}, "other", 0},
      {{}, "main", 0},
      // The first matching pattern applies, in token order.
      {{{"all-*", kPull}, {"all-ci-*", kPush}}, "all-ci-abc", kPull},
      {{{"all-ci-*", kPush}, {"all-*", kPull}}, "all-ci-abc", kPush},
      {{{"all-ci-*", kPush}, {"all-*", kPull}}, "all-abc", kPull},
      // No merging across patterns, even when both match.
      {{{"*", kPull}, {"main*", kPush | kDelete}}, "main", kPull},
      // An exact entry wins over earlier patterns.
      {{{"*", kAllPermissions}, {"main", kPull}}, "main", kPull},
      {{{"ma*", kPush}, {"main", kPull}, {"*", kDelete}}, "main", kPull},
      // An exact entry granting nothing still wins.
      {{{"*", kPull}, {"main", 0}}, "main", 0},
      // A matching pattern granting nothing stops the search.
      {{{"ma*", 0}, {"*", kPull}}, "main", 0},
      {{{"main", kPull | kPush}, {"ma*", kAllPermissions}}, "mainx", kAllPermissions},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(permissionsFor(claimsWith(c.caches), c.cache), c.want)
        << c.cache << " in " << claimsToJson(claimsWith(c.caches)).dump();
  }
}

TEST(ClaimsJsonTest, EmitsAtticShapeInOrder) {
  Claims c;
  c.sub = "meow";
  c.exp = 4102324986;
  c.nbf = 1700000000;
  c.iat = 1700000000;
  c.iss = "https://cache.example.org";
  c.aud = {"ci", "dev"};
  c.jti = "00ff";
  c.caches = {{"team-*", kPull | kPush | kCreateCache},
              {"cache-ro", kPull},
              {"all", kAllPermissions},
              {"none", 0}};
  EXPECT_EQ(claimsToJson(c).dump(),
            R"({"sub":"meow","exp":4102324986,"nbf":1700000000,"iat":1700000000,)"
            R"("iss":"https://cache.example.org","aud":["ci","dev"],"jti":"00ff",)"
            R"("https://jwt.attic.rs/v1":{"caches":{"team-*":{"r":1,"w":1,"cc":1},)"
            R"("cache-ro":{"r":1},"all":{"r":1,"w":1,"d":1,"cc":1,"cr":1,"cq":1,"cd":1},)"
            R"("none":{}}}})");
}

TEST(ClaimsJsonTest, OmitsAbsentClaims) {
  Claims c;
  EXPECT_EQ(claimsToJson(c).dump(), R"({"https://jwt.attic.rs/v1":{"caches":{}}})");
}

TEST(ClaimsJsonTest, RoundTripKeepsPatternOrder) {
  Claims c = claimsWith({{"z-*", kPull}, {"a-*", kPush}, {"m", kDelete | kDestroyCache}});
  c.exp = 5;
  c.aud = {"x"};
  auto back = claimsFromJson(claimsToJson(c));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->sub, "alice");
  EXPECT_EQ(back->exp, 5);
  EXPECT_FALSE(back->nbf.has_value());
  EXPECT_EQ(back->aud, std::vector<std::string>{"x"});
  EXPECT_EQ(back->caches, c.caches);
}

TEST(ClaimsJsonTest, ParsesText) {
  auto j = Json::parse(R"({"sub":"s","aud":"only","exp":10,"iat":1,"nbf":2,"iss":"i",
      "jti":"j","extra":{"ignored":true},
      "https://jwt.attic.rs/v1":{"caches":{"b-*":{"r":1,"w":0,"cd":1,"zz":7},"a":{}}}})");
  auto c = claimsFromJson(j);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->sub, "s");
  EXPECT_EQ(c->aud, std::vector<std::string>{"only"});
  EXPECT_EQ(c->exp, 10);
  EXPECT_EQ(c->iat, 1);
  EXPECT_EQ(c->nbf, 2);
  EXPECT_EQ(c->iss, "i");
  EXPECT_EQ(c->jti, "j");
  ASSERT_EQ(c->caches.size(), 2u);
  EXPECT_EQ(c->caches[0], (std::pair<std::string, Permissions>{"b-*", kPull | kDestroyCache}));
  EXPECT_EQ(c->caches[1], (std::pair<std::string, Permissions>{"a", 0}));
}

TEST(ClaimsJsonTest, RejectsBadClaims) {
  const char* ns = R"("https://jwt.attic.rs/v1":{"caches":{"main":{"r":1}}})";
  struct Case {
    std::string json;
    const char* why;
  };
  const Case cases[] = {
      {"[]", "not an object"},
      {"{}", "no namespace"},
      {R"({"https://jwt.attic.rs/v1":{}})", "no caches"},
      {R"({"https://jwt.attic.rs/v1":{"caches":[]}})", "caches not an object"},
      {R"({"https://jwt.attic.rs/v1":5})", "namespace not an object"},
      {R"({"https://jwt.attic.rs/v1":{"caches":{"bad name":{"r":1}}}})", "bad pattern"},
      {R"({"https://jwt.attic.rs/v1":{"caches":{"-x":{"r":1}}}})", "bad pattern start"},
      {R"({"https://jwt.attic.rs/v1":{"caches":{"main":{"r":2}}}})", "letter 2"},
      {R"({"https://jwt.attic.rs/v1":{"caches":{"main":{"r":true}}}})", "letter bool"},
      {R"({"https://jwt.attic.rs/v1":{"caches":{"main":{"w":"1"}}}})", "letter string"},
      {R"({"https://jwt.attic.rs/v1":{"caches":{"main":1}}})", "entry not an object"},
      {std::string(R"({"sub":1,)") + ns + "}", "sub not a string"},
      {std::string(R"({"exp":"1",)") + ns + "}", "exp string"},
      {std::string(R"({"exp":1.5,)") + ns + "}", "exp float"},
      {std::string(R"({"nbf":18446744073709551615,)") + ns + "}", "nbf out of range"},
      {std::string(R"({"iat":null,)") + ns + "}", "iat null"},
      {std::string(R"({"iss":3,)") + ns + "}", "iss not a string"},
      {std::string(R"({"jti":[],)") + ns + "}", "jti not a string"},
      {std::string(R"({"aud":3,)") + ns + "}", "aud number"},
      {std::string(R"({"aud":["a",3],)") + ns + "}", "aud with number"},
  };
  for (const Case& c : cases) {
    auto r = claimsFromJson(Json::parse(c.json));
    ASSERT_FALSE(r.ok()) << c.why;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << c.why;
  }
}

TEST(MakeTokenTest, BuildsClaimsLikeAtticadm) {
  MakeTokenRequest req;
  req.sub = "ci";
  req.validity_seconds = 3600;
  req.pull = {"main", "team-*"};
  req.push = {"team-*", "ci"};
  req.del = {"ci"};
  req.create_cache = {"team-*"};
  req.configure_cache = {"x"};
  req.configure_retention = {"x"};
  req.destroy_cache = {"main"};
  req.issuer = "iss";
  req.audiences = {"a1", "a2"};
  auto c = claimsForRequest(req, 1000);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->sub, "ci");
  EXPECT_EQ(c->iat, 1000);
  EXPECT_EQ(c->nbf, 1000);
  EXPECT_EQ(c->exp, 4600);
  EXPECT_EQ(c->iss, "iss");
  EXPECT_EQ(c->aud, (std::vector<std::string>{"a1", "a2"}));
  std::vector<std::pair<std::string, Permissions>> want = {
      {"main", kPull | kDestroyCache},
      {"team-*", kPull | kPush | kCreateCache},
      {"ci", kPush | kDelete},
      {"x", kConfigureCache | kConfigureRetention},
  };
  EXPECT_EQ(c->caches, want);
  ASSERT_TRUE(c->jti.has_value());
  EXPECT_EQ(c->jti->size(), 32u);
  EXPECT_EQ(c->jti->find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(MakeTokenTest, JtiIsFresh) {
  MakeTokenRequest req;
  req.sub = "ci";
  req.validity_seconds = 1;
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    auto c = claimsForRequest(req, 0);
    ASSERT_TRUE(c.ok());
    seen.insert(*c->jti);
  }
  EXPECT_EQ(seen.size(), 20u);
}

TEST(MakeTokenTest, RejectsBadRequests) {
  MakeTokenRequest good;
  good.sub = "ci";
  good.validity_seconds = 60;
  good.pull = {"main"};
  ASSERT_TRUE(claimsForRequest(good, 0).ok());

  auto no_sub = good;
  no_sub.sub.clear();
  auto zero_validity = good;
  zero_validity.validity_seconds = 0;
  auto negative_validity = good;
  negative_validity.validity_seconds = -5;
  auto bad_pattern = good;
  bad_pattern.push = {"ok", "not ok"};
  auto huge = good;
  huge.validity_seconds = std::numeric_limits<std::int64_t>::max();
  for (const auto* req : {&no_sub, &zero_validity, &negative_validity, &bad_pattern, &huge}) {
    auto r = claimsForRequest(*req, 10);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace garret::auth
