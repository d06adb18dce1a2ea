#include "http/api_json.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/status.h"

namespace garret::http {
namespace {

TEST(ApiJson, ParsesAtticCreateCacheRequest) {
  auto s = parseCreateCacheRequest(
      R"({"keypair":"Generate","is_public":true,"store_dir":"/nix/store","priority":41,)"
      R"("upstream_cache_key_names":["cache.nixos.org-1"]})");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(*s->keypair, "");
  EXPECT_TRUE(*s->is_public);
  EXPECT_EQ(*s->store_dir, "/nix/store");
  EXPECT_EQ(*s->priority, 41);
  EXPECT_EQ(s->upstream_cache_key_names->at(0), "cache.nixos.org-1");
  EXPECT_FALSE(s->retention_period.has_value());
}

TEST(ApiJson, GivenKeypairAndRetention) {
  auto s = parseCacheConfigPatch(R"({"keypair":{"Keypair":"k:abc"},"retention_period":{"Period":60}})");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(*s->keypair, "k:abc");
  ASSERT_TRUE(s->retention_period.has_value());
  EXPECT_EQ(**s->retention_period, 60);
  auto g = parseCacheConfigPatch(R"({"retention_period":"Global"})");
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE(g->retention_period.has_value());
  EXPECT_FALSE(g->retention_period->has_value());
}

TEST(ApiJson, RefusesBadRequestsNamingTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {"not json", "not valid JSON"},
      {"[1]", "JSON object"},
      {R"({"is_public":true})", "missing field `keypair`"},
      {R"({"keypair":"Other","is_public":true,"store_dir":"/nix/store","priority":1,"upstream_cache_key_names":[]})",
       "`keypair`"},
      {R"({"keypair":"Generate","is_public":"yes","store_dir":"/nix/store","priority":1,"upstream_cache_key_names":[]})",
       "`is_public`"},
      {R"({"keypair":"Generate","is_public":true,"store_dir":"/nix/store","priority":-1,"upstream_cache_key_names":[]})",
       "`priority`"},
      {R"({"keypair":"Generate","is_public":true,"store_dir":"/nix/store","priority":1,"upstream_cache_key_names":[1]})",
       "`upstream_cache_key_names`"},
      {R"({"keypair":"Generate","is_public":true,"store_dir":"/nix/store","priority":1,"upstream_cache_key_names":[],"bogus":1})",
       "unknown field `bogus`"},
  };
  for (const auto& [body, needle] : cases) {
    auto s = parseCreateCacheRequest(body);
    ASSERT_FALSE(s.ok()) << body;
    EXPECT_NE(s.error().message.find(needle), std::string::npos) << s.error().message;
  }
  auto empty = parseCacheConfigPatch(R"({"public_key":"x:y"})");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("nothing to change"), std::string::npos);
  for (const char* body : {R"({"retention_period":{"Period":-5}})",
                           R"({"retention_period":{"Period":18446744073709551615}})",
                           R"({"retention_period":{"Period":4294967296}})",
                           R"({"retention_period":{"Period":1.5}})"}) {
    EXPECT_FALSE(parseCacheConfigPatch(body).ok()) << body;
  }
}

TEST(Status, ErrorBodyHasAtticShape) {
  auto j = nlohmann::json::parse(errorBody(makeError(ErrorCode::kAlreadyExists, "cache x exists")));
  EXPECT_EQ(j["code"], 400);
  EXPECT_EQ(j["error"], "CacheAlreadyExists");
  EXPECT_EQ(j["message"], "cache x exists");
  EXPECT_EQ(httpStatus(ErrorCode::kUnauthorized), 401);
  EXPECT_EQ(httpStatus(ErrorCode::kForbidden), 403);
  EXPECT_EQ(httpStatus(ErrorCode::kPayloadTooLarge), 413);
  EXPECT_EQ(httpStatus(ErrorCode::kUnavailable), 503);
  EXPECT_STREQ(atticErrorKind(ErrorCode::kNotFound), "NotFound");
}

}  // namespace
}  // namespace garret::http
