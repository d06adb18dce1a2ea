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

namespace garret::http {
namespace {

constexpr const char* kUploadInfo =
    R"({"cache":"main","store_path_hash":"4cn93dv2h2m1dqjy6myjlhv70myv19aa",)"
    R"("store_path":"/nix/store/4cn93dv2h2m1dqjy6myjlhv70myv19aa-src",)"
    R"("references":["4cn93dv2h2m1dqjy6myjlhv70myv19aa-src"],"system":"x86_64-linux",)"
    R"("deriver":null,"sigs":[],"ca":null,)"
    R"("nar_hash":"sha256:c0f62ef1b1a5ac6c7f1d3e6c33b0c0b0f5f6b7c8d9e0f1a2b3c4d5e6f7a8b9c0",)"
    R"("nar_size":300472})";

TEST(ApiJson, ParsesAtticUploadPathNarInfo) {
  auto u = parseUploadPathNarInfo(kUploadInfo);
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->cache, "main");
  EXPECT_EQ(u->nar_size, 300472u);
  EXPECT_FALSE(u->deriver.has_value());
  auto info = claimedNarInfo(*u, "/nix/store");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->store_path.name, "src");
  EXPECT_EQ(info->references.size(), 1u);
  EXPECT_EQ(info->system, "x86_64-linux");
  // Another store dir, a hash that does not match the path, a bad NarHash.
  EXPECT_FALSE(claimedNarInfo(*u, "/other/store").ok());
  auto mismatched = *u;
  mismatched.store_path_hash = "0c6kzph7l0dcbqmjhp8wdr0zafn6q8r4";
  EXPECT_FALSE(claimedNarInfo(mismatched, "/nix/store").ok());
  auto bad_ca = *u;
  bad_ca.ca = "x";
  EXPECT_FALSE(claimedNarInfo(bad_ca, "/nix/store").ok());
  bad_ca.ca = "";
  auto no_ca = claimedNarInfo(bad_ca, "/nix/store");
  ASSERT_TRUE(no_ca.ok());
  EXPECT_FALSE(no_ca->ca.has_value());
  auto bad_hash = *u;
  bad_hash.nar_hash = "md5:abc";
  EXPECT_FALSE(claimedNarInfo(bad_hash, "/nix/store").ok());
  for (const char* body : {"{}", R"({"cache":"main"})", "[]", "nope"}) {
    EXPECT_FALSE(parseUploadPathNarInfo(body).ok()) << body;
  }
}

TEST(ApiJson, GetMissingPathsShapes) {
  auto r = parseMissingPathsRequest(R"({"cache":"main","store_path_hashes":["a","b"]})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->store_path_hashes.size(), 2u);
  EXPECT_FALSE(parseMissingPathsRequest(R"({"cache":"main","store_path_hashes":[1]})").ok());
  EXPECT_EQ(renderMissingPaths({"x"}), R"({"missing_paths":["x"]})");
  EXPECT_EQ(renderUploadPathResult({true, 42, 1.0}),
            R"({"file_size":42,"frac_deduplicated":1.0,"kind":"Deduplicated"})");
  EXPECT_EQ(renderUploadPathResult({false, 42, 0.25}),
            R"({"file_size":42,"frac_deduplicated":0.25,"kind":"Uploaded"})");
}

}  // namespace
}  // namespace garret::http
