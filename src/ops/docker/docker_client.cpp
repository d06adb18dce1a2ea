#include "ops/docker/docker_client.h"

#include "ops/kube/json_access.h"

namespace garret::ops::docker {

Result<client::HttpResponse> DockerClient::get(const std::string& path) {
  client::HttpRequest req;
  req.url = "http://docker" + path;  // the host is ignored over a Unix socket
  req.timeout = timeout_;
  req.connect_timeout = std::min(timeout_, std::chrono::milliseconds(std::chrono::seconds(5)));
  auto r = http_.send(req);
  if (!r.ok()) return makeError(ErrorCode::kUnavailable, "Docker Engine API: " + r.error().message);
  if (!r->ok()) {
    std::string message = jsonString(parseJson(r->body).value_or(nlohmann::json()), {"message"}, r->body.substr(0, 200));
    return invalid("Docker Engine API " + path + ": HTTP " + std::to_string(r->status) + ": " + message);
  }
  return r;
}

Status DockerClient::ping() {
  GARRET_TRY(get("/_ping"));
  return okStatus();
}

Result<nlohmann::json> DockerClient::systemDf() {
  GARRET_ASSIGN_OR_RETURN(auto r, get("/system/df"));
  auto j = parseJson(r.body);
  if (!j || !j->is_object()) return invalid("Docker Engine API /system/df: answer is not a JSON object");
  return std::move(*j);
}

}  // namespace garret::ops::docker
