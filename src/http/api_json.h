#pragma once

// Attic's cache-config JSON: CreateCacheRequest, CacheConfig (GET) and the
// partial CacheConfig of PATCH. Pure conversions; bad JSON is
// kInvalidArgument naming the field.

#include <string>
#include <string_view>
#include <vector>

#include "cache/cache_service.h"

namespace garret::http {

Result<cache::CacheSettings> parseCreateCacheRequest(std::string_view body);
// Read-only fields (public_key, api_endpoint, substituter_endpoint) are
// ignored; an object with nothing settable is an error.
Result<cache::CacheSettings> parseCacheConfigPatch(std::string_view body);
// POST /_api/v1/get-missing-paths: {"cache", "store_path_hashes"}.
struct MissingPathsRequest {
  std::string cache;
  std::vector<std::string> store_path_hashes;
};
Result<MissingPathsRequest> parseMissingPathsRequest(std::string_view body);
std::string renderMissingPaths(const std::vector<std::string>& missing);

// Attic's UploadPathNarInfo (X-Attic-Nar-Info header or body preamble).
struct UploadPathNarInfo {
  std::string cache;
  std::string store_path_hash;
  std::string store_path;  // full path
  std::vector<std::string> references;  // base names
  std::optional<std::string> system, deriver, ca;
  std::vector<std::string> sigs;
  std::string nar_hash;  // "sha256:<hex|nix-base32>"
  std::uint64_t nar_size = 0;
};
Result<UploadPathNarInfo> parseUploadPathNarInfo(std::string_view json);
// The narinfo the upload claims, checked against the cache's store dir.
Result<NarInfo> claimedNarInfo(const UploadPathNarInfo& upload, std::string_view store_dir);
// UploadPathResult: {"kind": "Uploaded"|"Deduplicated", "file_size", "frac_deduplicated"}.
std::string renderUploadPathResult(const cache::PathUploadOutcome& outcome);
// {"pins": [{"store_path", "store_path_hash"}, …]}
std::string renderPins(const std::vector<db::ObjectRecord>& pinned);
// {"caches": [{"name", "is_public", "public_key", "priority", "store_dir",
// "substituter_endpoint"}, ...]} sorted by name.
std::string renderCacheList(const std::vector<std::shared_ptr<const cache::CacheView>>& caches,
                            std::string_view substituter_endpoint);

std::string renderCacheConfig(const cache::CacheView& cache, std::string_view api_endpoint,
                              std::string_view substituter_endpoint);

}  // namespace garret::http
