#pragma once

// Attic's cache-config JSON: CreateCacheRequest, CacheConfig (GET) and the
// partial CacheConfig of PATCH. Pure conversions; bad JSON is
// kInvalidArgument naming the field.

#include <string>
#include <string_view>

#include "cache/cache_service.h"

namespace garret::http {

Result<cache::CacheSettings> parseCreateCacheRequest(std::string_view body);
// Read-only fields (public_key, api_endpoint, substituter_endpoint) are
// ignored; an object with nothing settable is an error.
Result<cache::CacheSettings> parseCacheConfigPatch(std::string_view body);
std::string renderCacheConfig(const cache::CacheView& cache, std::string_view api_endpoint,
                              std::string_view substituter_endpoint);

}  // namespace garret::http
