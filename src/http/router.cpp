#include "http/router.h"

#include <array>
#include <vector>

#include "auth/claims.h"
#include "core/store_path.h"

namespace garret::http {

namespace {

std::vector<std::string_view> splitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

bool isNarFileName(std::string_view name) {
  if (name.size() > 128) return false;
  auto dot = name.find('.');
  if (dot == 0 || dot == std::string_view::npos) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.';
    if (!ok) return false;
  }
  return name.substr(dot).starts_with(".nar") && name.find("..") == std::string_view::npos;
}

Result<Route> cacheRoute(std::string_view cache, std::string_view rest0,
                         const std::vector<std::string_view>& parts) {
  if (!auth::isValidCacheName(cache)) return invalid("invalid cache name in path");
  Route r;
  r.cache = std::string(cache);
  if (parts.size() == 2 && rest0 == "nix-cache-info") {
    r.id = RouteId::kCacheInfo;
    return r;
  }
  if (parts.size() == 2 && rest0 == "attic-cache-info") {
    r.id = RouteId::kAtticCacheInfo;
    return r;
  }
  if (parts.size() == 2 && rest0.ends_with(".narinfo")) {
    auto hash = rest0.substr(0, rest0.size() - 8);
    if (!isValidStorePathHash(hash)) return invalid("invalid store path hash in path");
    r.id = RouteId::kNarInfo;
    r.arg = std::string(hash);
    return r;
  }
  if (parts.size() == 3 && rest0 == "nar") {
    if (!isNarFileName(parts[2])) return invalid("invalid NAR file name in path");
    r.id = RouteId::kNar;
    r.arg = std::string(parts[2]);
    return r;
  }
  return notFound("no such route");
}

}  // namespace

Result<Route> matchRoute(std::string_view target) {
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (path.empty() || path[0] != '/') return invalid("request target must be an absolute path");
  if (path.size() > 1024) return invalid("request path too long");
  if (path.find('%') != std::string_view::npos || path.find('\\') != std::string_view::npos) {
    return invalid("encoded or escaped characters are not allowed in paths");
  }
  auto parts = splitPath(path);
  for (auto p : parts) {
    if (p == "." || p == "..") return invalid("path traversal is not allowed");
  }
  static const std::array<std::pair<std::string_view, RouteId>, 3> kOps = {
      {{"health", RouteId::kHealth}, {"ready", RouteId::kReady}, {"metrics", RouteId::kMetrics}}};
  if (parts.size() == 1) {
    for (const auto& [name, id] : kOps) {
      if (parts[0] == name) return Route{id, "", ""};
    }
    return notFound("no such route");
  }
  if (parts.size() == 3 && parts[0] == "_api" && parts[1] == "v1") {
    if (parts[2] == "get-missing-paths") return Route{RouteId::kGetMissingPaths, "", ""};
    if (parts[2] == "upload-path") return Route{RouteId::kUploadPath, "", ""};
    if (parts[2] == "caches") return Route{RouteId::kListCaches, "", ""};
  }
  if (parts.size() == 4 && parts[0] == "_api" && parts[1] == "v1" &&
      parts[2] == "cache-config") {
    if (!auth::isValidCacheName(parts[3])) return invalid("invalid cache name in path");
    return Route{RouteId::kCacheConfig, std::string(parts[3]), ""};
  }
  if ((parts.size() == 4 || parts.size() == 5) && parts[0] == "_api" && parts[1] == "v1" &&
      parts[2] == "pins") {
    if (!auth::isValidCacheName(parts[3])) return invalid("invalid cache name in path");
    Route r{RouteId::kPins, std::string(parts[3]), ""};
    if (parts.size() == 5) {
      if (!isValidStorePathHash(parts[4])) return invalid("invalid store path hash in path");
      r.arg = std::string(parts[4]);
    }
    return r;
  }
  if (parts.size() >= 2 && parts[0] != "_api") return cacheRoute(parts[0], parts[1], parts);
  return notFound("no such route");
}

const char* routeName(RouteId id) {
  switch (id) {
    case RouteId::kHealth: return "health";
    case RouteId::kReady: return "ready";
    case RouteId::kMetrics: return "metrics";
    case RouteId::kCacheConfig: return "cache_config";
    case RouteId::kGetMissingPaths: return "get_missing_paths";
    case RouteId::kUploadPath: return "upload_path";
    case RouteId::kPins: return "pins";
    case RouteId::kListCaches: return "list_caches";
    case RouteId::kCacheInfo: return "nix_cache_info";
    case RouteId::kAtticCacheInfo: return "attic_cache_info";
    case RouteId::kNarInfo: return "narinfo";
    case RouteId::kNar: return "nar";
  }
  return "unknown";
}

}  // namespace garret::http
