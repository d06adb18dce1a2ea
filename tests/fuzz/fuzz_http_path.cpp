// Request targets through the route table (http/router.h) and Range
// header values through decideRange (http/range.h).
//
// Router invariants: a matched cache or argument never holds "/", ".." or
// an escape; every value is what its route promises (a cache name, a store
// path hash, a NAR file name); the route accepts only the canonical path
// it rebuilds to; the query string never changes the match.
// Range invariants: a partial range is non-empty and lies inside the blob.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "auth/claims.h"
#include "core/store_path.h"
#include "fuzz_util.h"
#include "http/range.h"
#include "http/router.h"

namespace {

using garret::fuzz::escaped;
using garret::http::RangeKind;
using garret::http::Route;
using garret::http::RouteId;

std::string canonicalPath(const Route& r) {
  switch (r.id) {
    case RouteId::kHealth: return "/health";
    case RouteId::kReady: return "/ready";
    case RouteId::kMetrics: return "/metrics";
    case RouteId::kGetMissingPaths: return "/_api/v1/get-missing-paths";
    case RouteId::kUploadPath: return "/_api/v1/upload-path";
    case RouteId::kListCaches: return "/_api/v1/caches";
    case RouteId::kCacheConfig: return "/_api/v1/cache-config/" + r.cache;
    case RouteId::kPins:
      return "/_api/v1/pins/" + r.cache + (r.arg.empty() ? "" : "/" + r.arg);
    case RouteId::kCacheInfo: return "/" + r.cache + "/nix-cache-info";
    case RouteId::kAtticCacheInfo: return "/" + r.cache + "/attic-cache-info";
    case RouteId::kNarInfo: return "/" + r.cache + "/" + r.arg + ".narinfo";
    case RouteId::kNar: return "/" + r.cache + "/nar/" + r.arg;
  }
  return "";
}

bool safeSegment(std::string_view s) {
  return s.find('/') == std::string_view::npos && s.find("..") == std::string_view::npos &&
         s.find('%') == std::string_view::npos && s.find('\\') == std::string_view::npos &&
         s.find('\0') == std::string_view::npos && s != ".";
}

std::string describe(const garret::Result<Route>& r) {
  if (!r.ok()) return r.error().message;
  return std::string(garret::http::routeName(r->id)) + " cache=\"" + escaped(r->cache) +
         "\" arg=\"" + escaped(r->arg) + "\"";
}

void checkRoute(std::string_view target) {
  auto r = garret::http::matchRoute(target);
  std::string_view path = target.substr(0, target.find('?'));
  auto without_query = garret::http::matchRoute(path);
  FUZZ_CHECK_MSG(r.ok() == without_query.ok(), escaped(target));
  if (!r.ok()) {
    auto code = r.error().code;
    FUZZ_CHECK(code == garret::ErrorCode::kNotFound ||
               code == garret::ErrorCode::kInvalidArgument);
    FUZZ_CHECK(without_query.error().code == code);
    return;
  }
  FUZZ_CHECK(r->id == without_query->id && r->cache == without_query->cache &&
             r->arg == without_query->arg);
  FUZZ_CHECK_MSG(safeSegment(r->cache) && safeSegment(r->arg),
                 escaped(target) + " -> " + describe(r));
  switch (r->id) {
    case RouteId::kHealth:
    case RouteId::kReady:
    case RouteId::kMetrics:
    case RouteId::kGetMissingPaths:
    case RouteId::kUploadPath:
    case RouteId::kListCaches:
      FUZZ_CHECK(r->cache.empty() && r->arg.empty());
      break;
    case RouteId::kCacheConfig:
    case RouteId::kCacheInfo:
    case RouteId::kAtticCacheInfo:
      FUZZ_CHECK(garret::auth::isValidCacheName(r->cache) && r->arg.empty());
      break;
    case RouteId::kNarInfo:
      FUZZ_CHECK(garret::auth::isValidCacheName(r->cache));
      FUZZ_CHECK(garret::isValidStorePathHash(r->arg));
      break;
    case RouteId::kPins:
      FUZZ_CHECK(garret::auth::isValidCacheName(r->cache));
      FUZZ_CHECK(r->arg.empty() || garret::isValidStorePathHash(r->arg));
      break;
    case RouteId::kNar:
      FUZZ_CHECK(garret::auth::isValidCacheName(r->cache));
      FUZZ_CHECK_MSG(!r->arg.empty() && r->arg.front() != '.' &&
                         r->arg.find(".nar") != std::string::npos,
                     describe(r));
      break;
  }
  FUZZ_CHECK_MSG(canonicalPath(*r) == path,
                 escaped(target) + " -> " + describe(r) + " -> " + canonicalPath(*r));
}

void checkRange(std::string_view header, std::uint64_t size) {
  auto d = garret::http::decideRange(header, size);
  if (!header.starts_with("bytes=")) FUZZ_CHECK(d.kind == RangeKind::kWhole);
  if (d.kind != RangeKind::kPartial) return;
  const auto& range = d.range;
  FUZZ_CHECK_MSG(range.length > 0 && range.start < size && range.length <= size - range.start,
                 escaped(header) + " on " + std::to_string(size) + " bytes: start " +
                     std::to_string(range.start) + " length " + std::to_string(range.length));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = garret::fuzz::asText(data, size);
  checkRoute(input);
  FUZZ_CHECK(garret::http::decideRange(std::nullopt, size).kind == RangeKind::kWhole);
  for (std::uint64_t blob : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{100},
                             std::uint64_t{1} << 40, UINT64_MAX - 1, UINT64_MAX,
                             garret::fuzz::fnv64(input) >> (garret::fuzz::fnv64(input) % 64)}) {
    checkRange(input, blob);
  }
  return 0;
}
