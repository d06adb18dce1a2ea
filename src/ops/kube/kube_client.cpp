#include "ops/kube/kube_client.h"

#include "ops/kube/json_access.h"

namespace garret::ops::kube {

namespace {

// The message of a Kubernetes Status body, or the start of the raw body.
std::string statusMessage(const client::HttpResponse& r) {
  if (auto j = parseJson(r.body)) {
    std::string m = jsonString(*j, {"message"});
    if (!m.empty()) return m;
  }
  std::string raw = r.body.substr(0, 200);
  return raw.empty() ? "HTTP " + std::to_string(r.status) : raw;
}

Error mapStatus(const client::HttpResponse& r, std::string_view path) {
  std::string where = std::string(path) + ": ";
  if (r.status == 401) {
    return makeError(ErrorCode::kUnauthorized,
                     where + "the API server rejected the credentials (401 Unauthorized): " + statusMessage(r));
  }
  if (r.status == 403) return makeError(ErrorCode::kForbidden, where + "access denied: " + statusMessage(r));
  if (r.status >= 500) return makeError(ErrorCode::kUnavailable, where + "HTTP " + std::to_string(r.status) + ": " + statusMessage(r));
  return makeError(ErrorCode::kInvalidArgument, where + "HTTP " + std::to_string(r.status) + ": " + statusMessage(r));
}

}  // namespace

KubeClient::KubeClient(client::HttpClient& http, std::string server, std::string token,
                       std::chrono::milliseconds timeout)
    : http_(http), server_(std::move(server)), token_(std::move(token)), timeout_(timeout) {}

Result<client::HttpResponse> KubeClient::send(const std::string& method, std::string_view path,
                                              std::string body) {
  client::HttpRequest req;
  req.method = method;
  req.url = server_ + std::string(path);
  req.headers.push_back({"Accept", "application/json"});
  if (!token_.empty()) req.headers.push_back({"Authorization", "Bearer " + token_});
  if (!body.empty()) req.headers.push_back({"Content-Type", "application/json"});
  req.body = std::move(body);
  req.timeout = timeout_;
  req.connect_timeout = std::min(timeout_, std::chrono::milliseconds(std::chrono::seconds(5)));
  auto r = http_.send(req);
  if (!r.ok()) {
    return makeError(ErrorCode::kUnavailable, "cannot reach the Kubernetes API at " + server_ + ": " +
                                                  r.error().message);
  }
  return r;
}

Result<std::optional<nlohmann::json>> KubeClient::get(std::string_view path) {
  GARRET_ASSIGN_OR_RETURN(auto r, send("GET", path, ""));
  if (r.status == 404) return std::optional<nlohmann::json>();
  if (!r.ok()) return mapStatus(r, path);
  auto j = parseJson(r.body);
  if (!j) return invalid(std::string(path) + ": the API server answered with something that is not JSON");
  return std::optional<nlohmann::json>(std::move(*j));
}

Result<nlohmann::json> KubeClient::getRequired(std::string_view path) {
  GARRET_ASSIGN_OR_RETURN(auto j, get(path));
  if (!j) return notFound(std::string(path) + ": not found (404)");
  return std::move(*j);
}

Result<bool> KubeClient::canI(const AccessCheck& check) {
  nlohmann::json attrs = {{"verb", check.verb}, {"group", check.group}, {"resource", check.resource}};
  if (!check.namespace_name.empty()) attrs["namespace"] = check.namespace_name;
  nlohmann::json review = {{"apiVersion", "authorization.k8s.io/v1"},
                           {"kind", "SelfSubjectAccessReview"},
                           {"spec", {{"resourceAttributes", attrs}}}};
  const char* path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
  GARRET_ASSIGN_OR_RETURN(auto r, send("POST", path, review.dump()));
  if (!r.ok()) return mapStatus(r, path);
  auto j = parseJson(r.body);
  if (!j) return invalid(std::string(path) + ": the API server answered with something that is not JSON");
  return jsonBool(*j, {"status", "allowed"});
}

std::string resourceName(const AccessCheck& check) {
  return check.group.empty() ? check.resource : check.resource + "." + check.group;
}

}  // namespace garret::ops::kube
