#include "ops/gitlab/gitlab_client.h"

#include "core/encoding.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>

namespace garret::ops::gitlab {
namespace {

using nlohmann::json;

constexpr int kMaxPages = 200;  // 20,000 jobs at 100 per page

constexpr std::array<std::string_view, 5> kFinished = {"success", "failed", "canceled", "skipped",
                                                       "manual"};

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<double> num(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

long integer(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<long>() : 0;
}

bool boolean(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

Result<json> parseJson(const client::HttpResponse& r, const std::string& what) {
  json j = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return makeError(ErrorCode::kInternal, what + ": GitLab sent invalid JSON");
  return j;
}

Pipeline pipelineFrom(const json& j) {
  return Pipeline{integer(j, "id"), str(j, "status"), str(j, "ref"), str(j, "sha"),
                  str(j, "web_url"), num(j, "duration"), num(j, "queued_duration")};
}

Job jobFrom(const json& j) {
  Job job;
  job.id = integer(j, "id");
  job.name = str(j, "name");
  job.stage = str(j, "stage");
  job.status = str(j, "status");
  job.failure_reason = str(j, "failure_reason");
  job.allow_failure = boolean(j, "allow_failure");
  job.retried = boolean(j, "retried");
  job.duration = num(j, "duration");
  job.queued_duration = num(j, "queued_duration");
  job.started_at = str(j, "started_at");
  job.finished_at = str(j, "finished_at");
  job.web_url = str(j, "web_url");
  if (auto r = j.find("runner"); r != j.end() && r->is_object()) job.runner = str(*r, "description");
  if (auto t = j.find("tag_list"); t != j.end() && t->is_array()) {
    for (const auto& tag : *t) {
      if (tag.is_string()) job.tags.push_back(tag.get<std::string>());
    }
  }
  return job;
}

Variable variableFrom(const json& j) {
  Variable v;
  v.key = str(j, "key");
  v.value = str(j, "value");
  v.variable_type = str(j, "variable_type");
  v.is_protected = boolean(j, "protected");
  v.masked = boolean(j, "masked");
  v.environment_scope = str(j, "environment_scope");
  return v;
}

std::string variableBody(const Variable& v, bool with_key) {
  json j = {{"value", v.value},           {"variable_type", v.variable_type},
            {"protected", v.is_protected}, {"masked", v.masked},
            {"environment_scope", v.environment_scope}};
  if (with_key) j["key"] = v.key;
  // Callers check UTF-8 first (checkVariable); replace keeps dump() from throwing.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// GitLab's error text: {"message": "..."} or {"message": {"field": ["..."]}} or {"error": "..."}.
std::string gitlabMessage(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return body.substr(0, 200);
  if (auto m = j.find("message"); m != j.end()) return m->is_string() ? m->get<std::string>() : m->dump();
  if (auto e = j.find("error"); e != j.end() && e->is_string()) return e->get<std::string>();
  return body.substr(0, 200);
}

std::string withPage(const std::string& url, const std::string& page) {
  std::string out = url;
  const std::size_t q = out.find('?');
  if (q == std::string::npos) return out + "?page=" + page;
  for (std::size_t at = out.find("page=", q); at != std::string::npos; at = out.find("page=", at + 1)) {
    if (out[at - 1] != '?' && out[at - 1] != '&') continue;
    const std::size_t end = out.find('&', at);
    out.replace(at, end == std::string::npos ? std::string::npos : end - at, "page=" + page);
    return out;
  }
  return out + "&page=" + page;
}


bool validKey(const std::string& key) {
  return !key.empty() && key.size() <= 255 && std::all_of(key.begin(), key.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
         });
}

Status checkVariable(const Variable& v, const std::string& what) {
  if (!validKey(v.key)) return invalid(what + ": keys are 1-255 characters of A-Z a-z 0-9 _");
  if (!isWellFormedUtf8(v.value) || !isWellFormedUtf8(v.environment_scope)) {
    return invalid(what + ": the value is not valid UTF-8");
  }
  if (v.masked) {
    if (auto why = maskingProblem(v.value)) return invalid(what + ": cannot be masked: " + *why);
  }
  return okStatus();
}

}  // namespace

std::optional<std::string> maskingProblem(std::string_view value) {
  if (value.size() < 8) {
    return "a masked value needs at least 8 characters (this one has " +
           std::to_string(value.size()) + ")";
  }
  if (value.find_first_of("\r\n") != std::string_view::npos) {
    return "a masked value must be a single line";
  }
  std::string bad;
  for (char c : value) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) ||
                    std::string_view("+/=-_@:.~").find(c) != std::string_view::npos;
    if (!ok && bad.find(c) == std::string::npos) bad += c;
  }
  if (!bad.empty()) {
    std::string shown;
    for (char c : bad) shown += c == ' ' ? std::string("space") + " " : std::string("'") + c + "' ";
    shown.pop_back();
    return "a masked value may only use the Base64 alphabet (A-Z a-z 0-9 + / = - _) and @ : . ~; "
           "it contains " + shown;
  }
  return std::nullopt;
}

bool isFinishedPipelineStatus(std::string_view status) {
  return std::find(kFinished.begin(), kFinished.end(), status) != kFinished.end();
}

std::optional<std::string> nextPageUrl(const client::HttpResponse& r, const std::string& url) {
  if (auto next = r.header("X-Next-Page"); next && !next->empty()) return withPage(url, *next);
  const std::optional<std::string> link = r.header("Link");
  if (!link) return std::nullopt;
  std::size_t start = 0;
  while (start < link->size()) {
    std::size_t end = link->find(',', start);
    if (end == std::string::npos) end = link->size();
    const std::string part = link->substr(start, end - start);
    const std::size_t lt = part.find('<'), gt = part.find('>');
    if (part.find("rel=\"next\"") != std::string::npos && lt != std::string::npos &&
        gt != std::string::npos && gt > lt) {
      return part.substr(lt + 1, gt - lt - 1);
    }
    start = end + 1;
  }
  return std::nullopt;
}

Error gitlabError(const client::HttpResponse& r, const std::string& what) {
  const std::string detail = gitlabMessage(r.body);
  switch (r.status) {
    case 400:
      return makeError(ErrorCode::kInvalidArgument, what + ": GitLab refused the request: " + detail);
    case 401:
      return makeError(ErrorCode::kUnauthorized,
                       what + ": GitLab rejected the token (401): it is invalid or expired");
    case 403:
      return makeError(ErrorCode::kForbidden,
                       what + ": forbidden (403): the token lacks the api scope, or its user "
                              "lacks the Maintainer role on the project");
    case 404:
      return makeError(ErrorCode::kNotFound,
                       what + ": not found (404): the project does not exist or the token has "
                              "no access to it (" + detail + ")");
    default:
      return makeError(r.status >= 500 || r.status == 429 ? ErrorCode::kUnavailable
                                                          : ErrorCode::kInternal,
                       what + ": GitLab answered HTTP " + std::to_string(r.status) + ": " + detail);
  }
}

GitlabClient::GitlabClient(client::HttpClient& http, std::string base_url, GitlabToken token)
    : http_(http), base_url_(std::move(base_url)), token_(std::move(token)) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  if (!base_url_.ends_with("/api/v4")) base_url_ += "/api/v4";
}

std::string GitlabClient::url(const std::string& path) const { return base_url_ + path; }

Result<client::HttpResponse> GitlabClient::call(const std::string& method, const std::string& path,
                                                const std::string& body) {
  client::HttpRequest req;
  req.method = method;
  req.url = path.starts_with("http://") || path.starts_with("https://") ? path : url(path);
  req.headers.push_back({"Accept", "application/json"});
  if (!token_.value.empty()) {
    req.headers.push_back(
        {token_.kind == GitlabToken::Kind::kJob ? "JOB-TOKEN" : "PRIVATE-TOKEN", token_.value});
  }
  if (!body.empty()) {
    req.headers.push_back({"Content-Type", "application/json"});
    req.body = body;
  }
  req.timeout = std::chrono::seconds(30);
  return http_.send(req);
}

Result<Pipeline> GitlabClient::pipeline(const std::string& project, long pipeline_id) {
  const std::string what = "GET pipeline " + std::to_string(pipeline_id);
  GARRET_ASSIGN_OR_RETURN(client::HttpResponse r,
                          call("GET", "/projects/" + client::urlEncode(project) + "/pipelines/" +
                                          std::to_string(pipeline_id)));
  if (!r.ok()) return gitlabError(r, what);
  GARRET_ASSIGN_OR_RETURN(json j, parseJson(r, what));
  if (!j.is_object()) return makeError(ErrorCode::kInternal, what + ": unexpected response");
  return pipelineFrom(j);
}

Result<Pipeline> GitlabClient::latestPipeline(const std::string& project, const std::string& ref) {
  const std::string what = "GET latest pipeline for " + ref;
  GARRET_ASSIGN_OR_RETURN(
      client::HttpResponse r,
      call("GET", "/projects/" + client::urlEncode(project) + "/pipelines?ref=" +
                      client::urlEncode(ref) + "&order_by=id&sort=desc&per_page=1"));
  if (!r.ok()) return gitlabError(r, what);
  GARRET_ASSIGN_OR_RETURN(json j, parseJson(r, what));
  if (!j.is_array()) return makeError(ErrorCode::kInternal, what + ": unexpected response");
  if (j.empty()) return notFound("no pipeline for ref '" + ref + "'");
  return pipelineFrom(j[0]);
}

Result<std::vector<Job>> GitlabClient::pipelineJobs(const std::string& project, long pipeline_id,
                                                    bool include_retried) {
  const std::string what = "GET jobs of pipeline " + std::to_string(pipeline_id);
  std::string next = url("/projects/" + client::urlEncode(project) + "/pipelines/" +
                         std::to_string(pipeline_id) + "/jobs?per_page=100" +
                         (include_retried ? "&include_retried=true" : ""));
  std::vector<Job> jobs;
  for (int page = 0; page < kMaxPages; ++page) {
    GARRET_ASSIGN_OR_RETURN(client::HttpResponse r, call("GET", next));
    if (!r.ok()) return gitlabError(r, what);
    GARRET_ASSIGN_OR_RETURN(json j, parseJson(r, what));
    if (!j.is_array()) return makeError(ErrorCode::kInternal, what + ": unexpected response");
    for (const auto& e : j) {
      if (e.is_object()) jobs.push_back(jobFrom(e));
    }
    std::optional<std::string> following = nextPageUrl(r, next);
    if (!following || j.empty()) return jobs;
    // Never send the token to another server a Link header names.
    if (!following->starts_with(base_url_ + "/")) {
      return makeError(ErrorCode::kInternal, what + ": next page is on another server: " + *following);
    }
    next = *following;
  }
  return makeError(ErrorCode::kInternal, what + ": more than " + std::to_string(kMaxPages) + " pages");
}

Result<Job> GitlabClient::retryJob(const std::string& project, long job_id) {
  const std::string what = "retry job " + std::to_string(job_id);
  GARRET_ASSIGN_OR_RETURN(client::HttpResponse r,
                          call("POST", "/projects/" + client::urlEncode(project) + "/jobs/" +
                                           std::to_string(job_id) + "/retry"));
  if (!r.ok()) return gitlabError(r, what);
  GARRET_ASSIGN_OR_RETURN(json j, parseJson(r, what));
  if (!j.is_object()) return makeError(ErrorCode::kInternal, what + ": unexpected response");
  return jobFrom(j);
}

Result<std::optional<Variable>> GitlabClient::getVariable(const std::string& project,
                                                          const std::string& key) {
  const std::string what = "GET variable " + key;
  if (!validKey(key)) return invalid(what + ": keys are 1-255 characters of A-Z a-z 0-9 _");
  GARRET_ASSIGN_OR_RETURN(client::HttpResponse r,
                          call("GET", "/projects/" + client::urlEncode(project) + "/variables/" +
                                          client::urlEncode(key)));
  if (r.status == 404 && gitlabMessage(r.body).find("Variable") != std::string::npos) {
    return std::optional<Variable>();
  }
  if (!r.ok()) return gitlabError(r, what);
  GARRET_ASSIGN_OR_RETURN(json j, parseJson(r, what));
  if (!j.is_object()) return makeError(ErrorCode::kInternal, what + ": unexpected response");
  return std::optional<Variable>(variableFrom(j));
}

Result<Variable> GitlabClient::createVariable(const std::string& project, const Variable& v) {
  const std::string what = "create variable " + v.key;
  GARRET_TRY(checkVariable(v, what));
  GARRET_ASSIGN_OR_RETURN(client::HttpResponse r,
                          call("POST", "/projects/" + client::urlEncode(project) + "/variables",
                               variableBody(v, true)));
  if (!r.ok()) return gitlabError(r, what);
  GARRET_ASSIGN_OR_RETURN(json j, parseJson(r, what));
  if (!j.is_object()) return makeError(ErrorCode::kInternal, what + ": unexpected response");
  return variableFrom(j);
}

Result<Variable> GitlabClient::updateVariable(const std::string& project, const Variable& v) {
  const std::string what = "update variable " + v.key;
  GARRET_TRY(checkVariable(v, what));
  std::string path = "/projects/" + client::urlEncode(project) + "/variables/" + client::urlEncode(v.key);
  if (v.environment_scope != "*") {
    path += "?filter%5Benvironment_scope%5D=" + client::urlEncode(v.environment_scope);
  }
  GARRET_ASSIGN_OR_RETURN(client::HttpResponse r, call("PUT", path, variableBody(v, false)));
  if (!r.ok()) return gitlabError(r, what);
  GARRET_ASSIGN_OR_RETURN(json j, parseJson(r, what));
  if (!j.is_object()) return makeError(ErrorCode::kInternal, what + ": unexpected response");
  return variableFrom(j);
}

}  // namespace garret::ops::gitlab
