#pragma once

// DockerClient: read-only Docker Engine API calls over the engine's Unix
// socket, through an injected HttpClient (made with HttpOptions::unix_socket).
// Errors: kUnavailable when the engine cannot be reached or times out,
// kInvalidArgument for a non-JSON or non-2xx answer. Never throws.

#include <nlohmann/json.hpp>

#include <chrono>

#include "client/http_client.h"
#include "core/result.h"

namespace garret::ops::docker {

class DockerClient {
 public:
  explicit DockerClient(client::HttpClient& http, std::chrono::milliseconds timeout = std::chrono::seconds(20))
      : http_(http), timeout_(timeout) {}

  Status ping();                          // GET /_ping
  Result<nlohmann::json> systemDf();      // GET /system/df (can be slow: bounded by the timeout)

 private:
  Result<client::HttpResponse> get(const std::string& path);

  client::HttpClient& http_;
  std::chrono::milliseconds timeout_;
};

}  // namespace garret::ops::docker
