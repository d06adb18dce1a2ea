#include "http/router.h"

#include <gtest/gtest.h>

namespace garret::http {
namespace {

constexpr const char* kHash = "4cn93dv2h2m1dqjy6myjlhv70myv19aa";

struct Case {
  std::string target;
  bool ok;
  RouteId id;
  std::string cache;
  std::string arg;
};

TEST(Router, MatchesTheRouteTable) {
  const std::string h = kHash;
  const Case cases[] = {
      {"/health", true, RouteId::kHealth, "", ""},
      {"/ready", true, RouteId::kReady, "", ""},
      {"/metrics?x=1", true, RouteId::kMetrics, "", ""},
      {"/_api/v1/cache-config/main", true, RouteId::kCacheConfig, "main", ""},
      {"/_api/v1/get-missing-paths", true, RouteId::kGetMissingPaths, "", ""},
      {"/_api/v1/caches", true, RouteId::kListCaches, "", ""},
      {"/_api/v1/upload-path", true, RouteId::kUploadPath, "", ""},
      {"/main/nix-cache-info", true, RouteId::kCacheInfo, "main", ""},
      {"/main/attic-cache-info", true, RouteId::kAtticCacheInfo, "main", ""},
      {"/my-cache_1+x/nix-cache-info", true, RouteId::kCacheInfo, "my-cache_1+x", ""},
      {"/main/" + h + ".narinfo", true, RouteId::kNarInfo, "main", h},
      {"/main/nar/abc.nar.xz", true, RouteId::kNar, "main", "abc.nar.xz"},
      {"/main/nar/abc.nar", true, RouteId::kNar, "main", "abc.nar"},
  };
  for (const auto& c : cases) {
    auto r = matchRoute(c.target);
    ASSERT_TRUE(r.ok()) << c.target << ": " << r.error().message;
    EXPECT_EQ(r->id, c.id) << c.target;
    EXPECT_EQ(r->cache, c.cache) << c.target;
    EXPECT_EQ(r->arg, c.arg) << c.target;
  }
}

TEST(Router, RefusesMalformedAndHostileTargets) {
  const std::pair<std::string, ErrorCode> cases[] = {
      {"", ErrorCode::kInvalidArgument},
      {"main/nix-cache-info", ErrorCode::kInvalidArgument},
      {"/main/../etc/passwd", ErrorCode::kInvalidArgument},
      {"/main/./nix-cache-info", ErrorCode::kInvalidArgument},
      {"/main/nar/..%2f..%2fx", ErrorCode::kInvalidArgument},
      {"/%2e%2e/main/nix-cache-info", ErrorCode::kInvalidArgument},
      {"/main/nar/a\\b.nar", ErrorCode::kInvalidArgument},
      {"/main/nar/..nar", ErrorCode::kInvalidArgument},
      {"/main/nar/ABC.nar.xz", ErrorCode::kInvalidArgument},
      {"/main/nar/abc.txt", ErrorCode::kInvalidArgument},
      {"/main/short.narinfo", ErrorCode::kInvalidArgument},
      {"/main/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.narinfo", ErrorCode::kInvalidArgument},
      {"/-bad/nix-cache-info", ErrorCode::kInvalidArgument},
      {"/_api/v1/cache-config/-x", ErrorCode::kInvalidArgument},
      {"/nope", ErrorCode::kNotFound},
      {"/main/other", ErrorCode::kNotFound},
      {"/_api/v1/unknown/x", ErrorCode::kNotFound},
      {"/main/nar/a/b.nar", ErrorCode::kNotFound},
  };
  for (const auto& [target, code] : cases) {
    auto r = matchRoute(target);
    ASSERT_FALSE(r.ok()) << target;
    EXPECT_EQ(r.error().code, code) << target << ": " << r.error().message;
  }
}

TEST(Router, RefusesOverlongPaths) {
  auto r = matchRoute("/" + std::string(2000, 'a'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace garret::http
