#pragma once

// KubeClient: the few read-only Kubernetes API calls preflight and doctor
// make, over an injected HttpClient (libcurl in the binary, a fake API server
// or a fake client in tests). The only write is creating a
// SelfSubjectAccessReview, which asks the API server a question and stores
// nothing.
//
// Errors: transport failures and 5xx are kUnavailable ("cannot reach the
// Kubernetes API at <server>: ..."); 401 is kUnauthorized; 403 is kForbidden
// with the API server's Status message; a body that is not JSON is
// kInvalidArgument. Never throws.

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "client/http_client.h"
#include "core/result.h"

namespace garret::ops::kube {

struct AccessCheck {
  std::string namespace_name;  // empty for cluster-scoped resources
  std::string verb;            // "create", "get", "list"
  std::string group;           // "" for the core group
  std::string resource;        // plural: "deployments"
};

class KubeClient {
 public:
  // `server` without a trailing slash; `token` empty for no Authorization.
  KubeClient(client::HttpClient& http, std::string server, std::string token,
             std::chrono::milliseconds timeout = std::chrono::seconds(15));

  const std::string& server() const { return server_; }

  // GET `path` ("/api/v1/nodes"); nullopt on 404.
  Result<std::optional<nlohmann::json>> get(std::string_view path);
  // GET that treats 404 as an error too (for lists that always exist).
  Result<nlohmann::json> getRequired(std::string_view path);
  // POST selfsubjectaccessreviews: whether the caller may do `check`.
  Result<bool> canI(const AccessCheck& check);

 private:
  Result<client::HttpResponse> send(const std::string& method, std::string_view path, std::string body);

  client::HttpClient& http_;
  std::string server_;
  std::string token_;
  std::chrono::milliseconds timeout_;
};

// "deployments.apps" style name of a check's resource, for messages.
std::string resourceName(const AccessCheck& check);

}  // namespace garret::ops::kube
