#include "client/api_client.h"

#include <algorithm>
#include <cstring>

namespace garret::client {

using nlohmann::json;

namespace {

constexpr std::size_t kPreambleThreshold = 4096;  // Attic's client switches here too
constexpr std::size_t kMissingPathsBatch = 1000;

ErrorCode codeForStatus(long status) {
  switch (status) {
    case 400: return ErrorCode::kInvalidArgument;
    case 401: return ErrorCode::kUnauthorized;
    case 403: return ErrorCode::kForbidden;
    case 404: return ErrorCode::kNotFound;
    case 408:
    case 429: return ErrorCode::kUnavailable;  // try again later
    case 409: return ErrorCode::kConflict;
    case 413: return ErrorCode::kPayloadTooLarge;
    default: return status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kInternal;
  }
}

std::string advice(long status) {
  switch (status) {
    case 401: return " (the server refused the token: check it, or run `garret login` with a new one)";
    case 403: return " (the token lacks this permission on the cache)";
    case 404: return " (no such cache, or the token cannot see it)";
    default: return "";
  }
}

}  // namespace

std::string jsonString(const json& j, const char* key, std::string fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

bool jsonBool(const json& j, const char* key, bool fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

Error responseError(const HttpResponse& response, std::string_view what) {
  std::string message;
  json body = json::parse(response.body, nullptr, false);
  if (body.is_object() && body.contains("message") && body["message"].is_string()) {
    message = body["message"].get<std::string>();
    if (body.contains("error") && body["error"].is_string()) {
      message = body["error"].get<std::string>() + ": " + message;
    }
  } else {
    message = response.body.substr(0, 200);
    while (!message.empty() && std::isspace(static_cast<unsigned char>(message.back()))) message.pop_back();
  }
  std::string text = std::string(what) + ": HTTP " + std::to_string(response.status);
  if (!message.empty()) text += " " + message;
  return makeError(codeForStatus(response.status), text + advice(response.status));
}

ApiClient::ApiClient(HttpClient& http, std::string endpoint, std::string token)
    : http_(http), endpoint_(std::move(endpoint)), token_(std::move(token)) {}

Result<HttpResponse> ApiClient::call(const std::string& method, const std::string& path,
                                     const std::string& body) {
  HttpRequest req;
  req.method = method;
  req.url = joinUrl(endpoint_, path);
  req.body = body;
  if (!body.empty()) req.headers.push_back({"Content-Type", "application/json"});
  if (!token_.empty()) req.headers.push_back({"Authorization", "Bearer " + token_});
  req.timeout = std::chrono::seconds(60);
  GARRET_ASSIGN_OR_RETURN(HttpResponse resp, http_.send(req));
  if (!resp.ok()) return responseError(resp, method + " " + req.url);
  return resp;
}

Result<json> ApiClient::cacheConfig(const std::string& cache) {
  GARRET_ASSIGN_OR_RETURN(HttpResponse resp, call("GET", "_api/v1/cache-config/" + cache, ""));
  json j = json::parse(resp.body, nullptr, false);
  if (!j.is_object()) return invalid("cache-config of " + cache + ": the server sent invalid JSON");
  return j;
}

Status ApiClient::createCache(const std::string& cache, const json& request) {
  GARRET_TRY(call("POST", "_api/v1/cache-config/" + cache, request.dump()));
  return {};
}

Status ApiClient::configureCache(const std::string& cache, const json& patch) {
  GARRET_TRY(call("PATCH", "_api/v1/cache-config/" + cache, patch.dump()));
  return {};
}

Status ApiClient::destroyCache(const std::string& cache) {
  GARRET_TRY(call("DELETE", "_api/v1/cache-config/" + cache, ""));
  return {};
}

Result<json> ApiClient::listCaches() {
  GARRET_ASSIGN_OR_RETURN(HttpResponse resp, call("GET", "_api/v1/caches", ""));
  json j = json::parse(resp.body, nullptr, false);
  if (!j.is_object() || !j.contains("caches") || !j["caches"].is_array()) {
    return invalid("the server's cache list is not {\"caches\": [...]}: it may be an Attic server, "
                   "which cannot list caches");
  }
  return j;
}

Result<std::vector<std::string>> ApiClient::missingPaths(const std::string& cache,
                                                         const std::vector<std::string>& hashes) {
  std::vector<std::string> missing;
  for (std::size_t i = 0; i < hashes.size(); i += kMissingPathsBatch) {
    std::size_t end = std::min(hashes.size(), i + kMissingPathsBatch);
    json req = {{"cache", cache},
                {"store_path_hashes", std::vector<std::string>(hashes.begin() + i, hashes.begin() + end)}};
    GARRET_ASSIGN_OR_RETURN(HttpResponse resp, call("POST", "_api/v1/get-missing-paths", req.dump()));
    json j = json::parse(resp.body, nullptr, false);
    if (!j.is_object() || !j.contains("missing_paths") || !j["missing_paths"].is_array()) {
      return invalid("get-missing-paths: the server sent no missing_paths list");
    }
    for (const json& h : j["missing_paths"]) {
      if (h.is_string()) missing.push_back(h.get<std::string>());
    }
  }
  return missing;
}

Result<UploadResult> ApiClient::uploadPath(const UploadRequest& up) {
  std::string info = up.nar_info.dump();
  HttpRequest req;
  req.method = "PUT";
  req.url = joinUrl(endpoint_, "_api/v1/upload-path");
  req.headers.push_back({"Content-Type", "application/x-nix-nar"});
  if (!token_.empty()) req.headers.push_back({"Authorization", "Bearer " + token_});
  if (up.pin) req.headers.push_back({"X-Garret-Pin", "1"});
  std::size_t preamble = 0;
  if (info.size() < kPreambleThreshold) {
    req.headers.push_back({"X-Attic-Nar-Info", info});
  } else {
    preamble = info.size();
    req.headers.push_back({"X-Attic-Nar-Info-Preamble-Size", std::to_string(preamble)});
  }
  std::size_t sent_preamble = 0;
  req.body_size = preamble + up.nar_size;
  req.body_reader = [&](char* buf, std::size_t len) -> Result<std::size_t> {
    if (sent_preamble < preamble) {
      std::size_t n = std::min(len, preamble - sent_preamble);
      std::memcpy(buf, info.data() + sent_preamble, n);
      sent_preamble += n;
      return n;
    }
    return up.nar_reader(buf, len);
  };
  req.timeout = std::chrono::milliseconds(0);  // big NARs take long; stalls are caught below
  req.stall_timeout = std::chrono::seconds(120);
  GARRET_ASSIGN_OR_RETURN(HttpResponse resp, http_.send(req));
  if (!resp.ok()) return responseError(resp, "uploading " + jsonString(up.nar_info, "store_path"));
  json j = json::parse(resp.body, nullptr, false);
  UploadResult r;
  if (!j.is_object()) return r;  // Attic answers JSON; tolerate servers that answer nothing
  r.deduplicated = jsonString(j, "kind") == "Deduplicated";
  if (j.contains("file_size") && j["file_size"].is_number_unsigned()) r.file_size = j["file_size"].get<std::uint64_t>();
  if (j.contains("frac_deduplicated") && j["frac_deduplicated"].is_number()) {
    r.frac_deduplicated = j["frac_deduplicated"].get<double>();
  }
  return r;
}

}  // namespace garret::client
