#pragma once

// The route table: which handler a request target goes to. Pure logic over
// the path; every segment is validated here (cache names, store path
// hashes, NAR file names), so handlers only see well-formed values and no
// path can escape its meaning ("..", "%2e", empty segments are refused).

#include <string>
#include <string_view>

#include "core/result.h"

namespace garret::http {

enum class RouteId {
  kHealth,
  kReady,
  kMetrics,
  kCacheConfig,  // /_api/v1/cache-config/{cache}
  kGetMissingPaths,  // /_api/v1/get-missing-paths
  kUploadPath,       // /_api/v1/upload-path
  kPins,             // /_api/v1/pins/{cache}[/{hash}]
  kListCaches,       // /_api/v1/caches
  kCacheInfo,    // /{cache}/nix-cache-info
  kAtticCacheInfo,  // /{cache}/attic-cache-info (GET cache-config)
  kNarInfo,      // /{cache}/{hash}.narinfo
  kNar,          // /{cache}/nar/{file}
};

struct Route {
  RouteId id = RouteId::kHealth;
  std::string cache;
  std::string arg;  // store path hash (kNarInfo) or NAR file name (kNar)
};

// Matches "path[?query]". Unknown paths are kNotFound; malformed values in
// a known shape (bad hash, traversal) are kInvalidArgument.
Result<Route> matchRoute(std::string_view target);
const char* routeName(RouteId id);

}  // namespace garret::http
