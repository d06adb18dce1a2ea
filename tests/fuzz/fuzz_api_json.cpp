// Attic's cache-config JSON bodies (http/api_json.h): parseCreateCacheRequest
// and parseCacheConfigPatch. Failures are kInvalidArgument; accepted values
// are in range; a body good for create is also a good patch with the same
// settings; the settings written back as JSON parse to the same settings.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "http/api_json.h"

namespace {

using garret::cache::CacheSettings;
using garret::fuzz::escaped;
using nlohmann::json;

bool same(const CacheSettings& a, const CacheSettings& b) {
  return a.keypair == b.keypair && a.is_public == b.is_public && a.store_dir == b.store_dir &&
         a.priority == b.priority && a.upstream_cache_key_names == b.upstream_cache_key_names &&
         a.retention_period == b.retention_period;
}

// The request body that asks for exactly `s`.
std::string toJson(const CacheSettings& s) {
  json j = json::object();
  if (s.keypair) j["keypair"] = s.keypair->empty() ? json("Generate") : json{{"Keypair", *s.keypair}};
  if (s.is_public) j["is_public"] = *s.is_public;
  if (s.store_dir) j["store_dir"] = *s.store_dir;
  if (s.priority) j["priority"] = *s.priority;
  if (s.upstream_cache_key_names) j["upstream_cache_key_names"] = *s.upstream_cache_key_names;
  if (s.retention_period) {
    j["retention_period"] = *s.retention_period ? json{{"Period", **s.retention_period}}
                                                : json("Global");
  }
  return j.dump(-1, ' ', false, json::error_handler_t::strict);
}

void checkSettings(const garret::Result<CacheSettings>& r, bool create, std::string_view body) {
  if (!r.ok()) {
    FUZZ_CHECK_MSG(r.error().code == garret::ErrorCode::kInvalidArgument, r.error().message);
    return;
  }
  const CacheSettings& s = *r;
  if (create) {
    FUZZ_CHECK(s.keypair && s.is_public && s.store_dir && s.priority && s.upstream_cache_key_names);
  }
  FUZZ_CHECK(s.keypair || s.is_public || s.store_dir || s.priority || s.upstream_cache_key_names ||
             s.retention_period);
  if (s.priority) FUZZ_CHECK(*s.priority >= 0 && *s.priority <= 1000000);
  if (s.retention_period && *s.retention_period) {
    FUZZ_CHECK_MSG(**s.retention_period >= 0,
                   "negative retention period " + std::to_string(**s.retention_period) +
                       " from " + escaped(body));
  }
  std::string again_body = toJson(s);
  auto again = create ? garret::http::parseCreateCacheRequest(again_body)
                      : garret::http::parseCacheConfigPatch(again_body);
  FUZZ_CHECK_MSG(again.ok() && same(*again, s),
                 escaped(body) + " rewritten as " + escaped(again_body) +
                     (again.ok() ? " differs" : " fails: " + again.error().message));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body = garret::fuzz::asText(data, size);
  auto create = garret::http::parseCreateCacheRequest(body);
  auto patch = garret::http::parseCacheConfigPatch(body);
  checkSettings(create, true, body);
  checkSettings(patch, false, body);
  if (create.ok()) {
    FUZZ_CHECK_MSG(patch.ok() && same(*create, *patch), escaped(body));
  }
  return 0;
}
