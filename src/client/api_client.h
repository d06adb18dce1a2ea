#pragma once

// Client for a cache server's API: Attic's (cache-config, get-missing-paths,
// upload-path), which garretd and Attic both speak, plus garret's additions
// (list of caches). Errors carry the server's message and say what to do
// ("the server refused the token: run garret login again").

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "client/http_client.h"
#include "core/result.h"

namespace garret::client {

struct UploadResult {
  bool deduplicated = false;            // "Deduplicated": the server had the NAR
  std::optional<std::uint64_t> file_size;
  std::optional<double> frac_deduplicated;
};

// What upload-path needs besides the NAR bytes.
struct UploadRequest {
  nlohmann::json nar_info;  // Attic's UploadPathNarInfo
  std::uint64_t nar_size = 0;
  // Streams the NAR (exactly nar_size bytes).
  std::function<Result<std::size_t>(char* buf, std::size_t len)> nar_reader;
  bool pin = false;  // garretd: X-Garret-Pin
};

class ApiClient {
 public:
  // `endpoint` ends in "/"; an empty token means anonymous.
  ApiClient(HttpClient& http, std::string endpoint, std::string token);

  Result<nlohmann::json> cacheConfig(const std::string& cache);
  Status createCache(const std::string& cache, const nlohmann::json& request);
  Status configureCache(const std::string& cache, const nlohmann::json& patch);
  Status destroyCache(const std::string& cache);
  // garretd's GET /_api/v1/caches ({"caches": [...]}).
  Result<nlohmann::json> listCaches();
  // Of `hashes` (store path hash parts), those the cache does not have.
  Result<std::vector<std::string>> missingPaths(const std::string& cache,
                                                const std::vector<std::string>& hashes);
  Result<UploadResult> uploadPath(const UploadRequest& request);

  const std::string& endpoint() const { return endpoint_; }

 private:
  Result<HttpResponse> call(const std::string& method, const std::string& path,
                            const std::string& body);

  HttpClient& http_;
  std::string endpoint_;
  std::string token_;
};

// Field `key` of a JSON object when it is a string, else `fallback`: server
// answers are untrusted, and nlohmann's value() throws on a type mismatch.
std::string jsonString(const nlohmann::json& j, const char* key, std::string fallback = {});
bool jsonBool(const nlohmann::json& j, const char* key, bool fallback);

// Turns a non-2xx response into an Error: Attic's {"code","error","message"}
// body when present, with advice for 401/403/404.
Error responseError(const HttpResponse& response, std::string_view what);

}  // namespace garret::client
