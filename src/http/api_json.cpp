#include "http/api_json.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/store_path.h"

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
  for (const auto& item : j.items()) {
    const std::string& key = item.key();  // (a named variable: clang 14 cannot capture bindings)
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

namespace {

Result<std::vector<std::string>> stringArray(const json& j, const char* field) {
  if (!j.contains(field) || !j[field].is_array()) return fieldError(field, "an array of strings");
  std::vector<std::string> out;
  for (const auto& v : j[field]) {
    if (!v.is_string()) return fieldError(field, "an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<std::string> requiredString(const json& j, const char* field) {
  if (!j.contains(field) || !j[field].is_string()) return fieldError(field, "a string");
  return j[field].get<std::string>();
}

Result<std::optional<std::string>> optionalString(const json& j, const char* field) {
  if (!j.contains(field) || j[field].is_null()) return std::optional<std::string>();
  if (!j[field].is_string()) return fieldError(field, "a string or null");
  return std::optional<std::string>(j[field].get<std::string>());
}

}  // namespace

Result<MissingPathsRequest> parseMissingPathsRequest(std::string_view body) {
  GARRET_ASSIGN_OR_RETURN(json j, parseObject(body));
  MissingPathsRequest r;
  GARRET_ASSIGN_OR_RETURN(r.cache, requiredString(j, "cache"));
  GARRET_ASSIGN_OR_RETURN(r.store_path_hashes, stringArray(j, "store_path_hashes"));
  return r;
}

std::string renderMissingPaths(const std::vector<std::string>& missing) {
  return json{{"missing_paths", missing}}.dump();
}

Result<UploadPathNarInfo> parseUploadPathNarInfo(std::string_view text) {
  GARRET_ASSIGN_OR_RETURN(json j, parseObject(text));
  UploadPathNarInfo u;
  GARRET_ASSIGN_OR_RETURN(u.cache, requiredString(j, "cache"));
  GARRET_ASSIGN_OR_RETURN(u.store_path_hash, requiredString(j, "store_path_hash"));
  GARRET_ASSIGN_OR_RETURN(u.store_path, requiredString(j, "store_path"));
  GARRET_ASSIGN_OR_RETURN(u.references, stringArray(j, "references"));
  GARRET_ASSIGN_OR_RETURN(u.system, optionalString(j, "system"));
  GARRET_ASSIGN_OR_RETURN(u.deriver, optionalString(j, "deriver"));
  GARRET_ASSIGN_OR_RETURN(u.ca, optionalString(j, "ca"));
  GARRET_ASSIGN_OR_RETURN(u.sigs, stringArray(j, "sigs"));
  GARRET_ASSIGN_OR_RETURN(u.nar_hash, requiredString(j, "nar_hash"));
  if (!j.contains("nar_size") || !j["nar_size"].is_number_unsigned() ||
      j["nar_size"].get<std::uint64_t>() == 0) {
    return fieldError("nar_size", "a positive integer");
  }
  u.nar_size = j["nar_size"].get<std::uint64_t>();
  return u;
}

Result<NarInfo> claimedNarInfo(const UploadPathNarInfo& u, std::string_view store_dir) {
  NarInfo info;
  GARRET_ASSIGN_OR_RETURN(info.store_path, StorePath::parseFull(u.store_path, store_dir));
  if (info.store_path.hash != u.store_path_hash) {
    return invalid("store_path " + u.store_path + " does not match store_path_hash " +
                   u.store_path_hash);
  }
  info.url = "nar/" + u.store_path_hash + ".nar";  // not stored; the server names its NARs
  GARRET_ASSIGN_OR_RETURN(info.nar_hash, Hash::parse(u.nar_hash));
  info.nar_size = u.nar_size;
  info.references = u.references;
  std::sort(info.references.begin(), info.references.end());
  info.deriver = u.deriver;
  info.system = u.system;
  if (u.ca && !u.ca->empty()) {
    if (!u.ca->starts_with("text:") && !u.ca->starts_with("fixed:")) {
      return invalid("field `ca` must start with text: or fixed:");
    }
    info.ca = u.ca;
  }
  info.sigs = u.sigs;
  GARRET_TRY(info.validate(store_dir));
  return info;
}

std::string renderUploadPathResult(const cache::PathUploadOutcome& outcome) {
  return json{{"kind", outcome.deduplicated ? "Deduplicated" : "Uploaded"},
              {"file_size", outcome.file_size},
              {"frac_deduplicated", outcome.frac_deduplicated}}
      .dump();
}

std::string renderPins(const std::vector<db::ObjectRecord>& pinned) {
  json list = json::array();
  for (const auto& o : pinned) {
    list.push_back({{"store_path", o.store_path}, {"store_path_hash", o.store_path_hash}});
  }
  return json{{"pins", list}}.dump();
}

std::string renderCacheList(const std::vector<std::shared_ptr<const cache::CacheView>>& caches,
                            std::string_view substituter_endpoint) {
  json list = json::array();
  for (const auto& c : caches) {
    const auto& r = c->record;
    list.push_back({{"name", r.name},
                    {"is_public", r.is_public},
                    {"public_key", c->public_key},
                    {"priority", r.priority},
                    {"store_dir", r.store_dir},
                    {"substituter_endpoint", std::string(substituter_endpoint) + r.name}});
  }
  std::sort(list.begin(), list.end(),
            [](const json& a, const json& b) { return a["name"] < b["name"]; });
  return json{{"caches", list}}.dump();
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
