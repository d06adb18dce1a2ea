#include "http/api_json.h"

#include <nlohmann/json.hpp>

namespace garret::http {

namespace {

using nlohmann::json;

Result<json> parseObject(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return invalid("request body is not valid JSON");
  if (!j.is_object()) return invalid("request body must be a JSON object");
  return j;
}

Error fieldError(std::string_view field, std::string_view expected) {
  return invalid("field `" + std::string(field) + "` must be " + std::string(expected));
}

// Each field parser fills its part of the settings from j[name].
using FieldParser = Status (*)(const json& v, cache::CacheSettings& s);

Status parseKeypair(const json& v, cache::CacheSettings& s) {
  if (v.is_string() && v.get<std::string>() == "Generate") {
    s.keypair = "";
    return {};
  }
  if (v.is_object() && v.size() == 1 && v.contains("Keypair") && v["Keypair"].is_string()) {
    std::string key = v["Keypair"].get<std::string>();
    if (key.empty()) return fieldError("keypair", "\"Generate\" or {\"Keypair\": \"name:base64\"}");
    s.keypair = key;
    return {};
  }
  return fieldError("keypair", "\"Generate\" or {\"Keypair\": \"name:base64\"}");
}

Status parseIsPublic(const json& v, cache::CacheSettings& s) {
  if (!v.is_boolean()) return fieldError("is_public", "a boolean");
  s.is_public = v.get<bool>();
  return {};
}

Status parseStoreDir(const json& v, cache::CacheSettings& s) {
  if (!v.is_string()) return fieldError("store_dir", "a string");
  s.store_dir = v.get<std::string>();
  return {};
}

Status parsePriority(const json& v, cache::CacheSettings& s) {
  if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > 1000000) {
    return fieldError("priority", "a non-negative integer");
  }
  s.priority = v.get<int>();
  return {};
}

Status parseUpstream(const json& v, cache::CacheSettings& s) {
  if (!v.is_array()) return fieldError("upstream_cache_key_names", "an array of strings");
  std::vector<std::string> names;
  for (const auto& n : v) {
    if (!n.is_string()) return fieldError("upstream_cache_key_names", "an array of strings");
    names.push_back(n.get<std::string>());
  }
  s.upstream_cache_key_names = std::move(names);
  return {};
}

Status parseRetention(const json& v, cache::CacheSettings& s) {
  if (v.is_string() && v.get<std::string>() == "Global") {
    s.retention_period = std::optional<std::int64_t>();
    return {};
  }
  // Attic's Period is a u32 of seconds.
  if (v.is_object() && v.size() == 1 && v.contains("Period") && v["Period"].is_number_unsigned() &&
      v["Period"].get<std::uint64_t>() <= UINT32_MAX) {
    s.retention_period = std::optional<std::int64_t>(v["Period"].get<std::int64_t>());
    return {};
  }
  return fieldError("retention_period", "\"Global\" or {\"Period\": seconds}");
}

struct Field {
  const char* name;
  FieldParser parse;
  bool required_on_create;
};

constexpr Field kFields[] = {
    {"keypair", parseKeypair, true},
    {"is_public", parseIsPublic, true},
    {"store_dir", parseStoreDir, true},
    {"priority", parsePriority, true},
    {"upstream_cache_key_names", parseUpstream, true},
    {"retention_period", parseRetention, false},
};

constexpr const char* kReadOnly[] = {"public_key", "api_endpoint", "substituter_endpoint"};

Result<cache::CacheSettings> parseSettings(std::string_view body, bool create) {
  GARRET_ASSIGN_OR_RETURN(json j, parseObject(body));
  cache::CacheSettings s;
  bool any = false;
  for (const auto& f : kFields) {
    if (!j.contains(f.name) || j[f.name].is_null()) {
      if (create && f.required_on_create) return invalid(std::string("missing field `") + f.name + "`");
      continue;
    }
    GARRET_TRY(f.parse(j[f.name], s));
    any = true;
  }
  for (const auto& [key, value] : j.items()) {
    bool known = std::any_of(std::begin(kFields), std::end(kFields),
                             [&](const Field& f) { return key == f.name; }) ||
                 std::any_of(std::begin(kReadOnly), std::end(kReadOnly),
                             [&](const char* r) { return key == r; });
    if (!known) return invalid("unknown field `" + key + "`");
  }
  if (!any) return invalid("nothing to change: give at least one settable field");
  return s;
}

}  // namespace

Result<cache::CacheSettings> parseCreateCacheRequest(std::string_view body) {
  return parseSettings(body, true);
}

Result<cache::CacheSettings> parseCacheConfigPatch(std::string_view body) {
  return parseSettings(body, false);
}

std::string renderCacheConfig(const cache::CacheView& cache, std::string_view api_endpoint,
                              std::string_view substituter_endpoint) {
  const auto& r = cache.record;
  json retention = r.retention_period ? json{{"Period", *r.retention_period}} : json("Global");
  json j = {
      {"substituter_endpoint", std::string(substituter_endpoint) + r.name},
      {"api_endpoint", std::string(api_endpoint)},
      {"public_key", cache.public_key},
      {"is_public", r.is_public},
      {"store_dir", r.store_dir},
      {"priority", r.priority},
      {"upstream_cache_key_names", r.upstream_cache_key_names},
      {"retention_period", retention},
  };
  return j.dump();
}

}  // namespace garret::http
