#pragma once

// GitLab REST API v4 client over the injected HttpClient: pipelines, jobs,
// job retry, and project CI/CD variables. Used by `garret ci watch` and by
// token distribution.
//
// Errors (never throws): 401 -> kUnauthorized ("token invalid or expired"),
// 403 -> kForbidden ("token lacks the api scope or the Maintainer role"),
// 404 -> kNotFound ("project not found or no access"), 400 -> kInvalidArgument
// with GitLab's message, transport failures and 5xx -> kUnavailable, an
// unreadable body -> kInternal. Messages name the request.
//
// Thread-safety: like the HttpClient it wraps, one thread at a time.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/http_client.h"
#include "core/result.h"

namespace garret::ops::gitlab {

struct GitlabToken {
  enum class Kind { kPrivate, kJob };  // PRIVATE-TOKEN or JOB-TOKEN header
  Kind kind = Kind::kPrivate;
  std::string value;
};

struct Pipeline {
  long id = 0;
  std::string status;  // created, pending, running, success, failed, canceled, ...
  std::string ref;
  std::string sha;
  std::string web_url;
  std::optional<double> duration;         // seconds
  std::optional<double> queued_duration;  // seconds
};

struct Job {
  long id = 0;
  std::string name;
  std::string stage;
  std::string status;
  std::string failure_reason;  // empty unless failed
  bool allow_failure = false;
  bool retried = false;  // superseded by a later attempt (include_retried=true)
  std::optional<double> duration;
  std::optional<double> queued_duration;
  std::string started_at;   // ISO 8601, empty when not started
  std::string finished_at;  // ISO 8601, empty when not finished
  std::string runner;       // runner description, empty when none yet
  std::vector<std::string> tags;  // the job's tag_list
  std::string web_url;
};

struct Variable {
  std::string key;
  std::string value;
  std::string variable_type = "env_var";  // or "file"
  bool is_protected = false;
  bool masked = false;
  std::string environment_scope = "*";
};

// Whether GitLab can mask `value`: nullopt when it can, else the reason
// (at least 8 characters, a single line, only the Base64 alphabet of RFC 4648
// (A-Z a-z 0-9 + / = and the URL-safe - _) plus @ : . ~).
std::optional<std::string> maskingProblem(std::string_view value);

// Whether a pipeline in this status will not change any more on its own.
bool isFinishedPipelineStatus(std::string_view status);

class GitlabClient {
 public:
  // `base_url`: https://gitlab.example.com (with or without /api/v4).
  GitlabClient(client::HttpClient& http, std::string base_url, GitlabToken token);

  // `project`: numeric id or "group/project" path (URL-encoded here).
  Result<Pipeline> pipeline(const std::string& project, long pipeline_id);
  // The newest pipeline for `ref`; kNotFound when there is none.
  Result<Pipeline> latestPipeline(const std::string& project, const std::string& ref);
  // All jobs of a pipeline, following pagination (X-Next-Page, then Link).
  Result<std::vector<Job>> pipelineJobs(const std::string& project, long pipeline_id,
                                        bool include_retried = true);
  // POST /jobs/:id/retry; returns the new job.
  Result<Job> retryJob(const std::string& project, long job_id);

  // nullopt when the project exists but has no such variable.
  Result<std::optional<Variable>> getVariable(const std::string& project, const std::string& key);
  Result<Variable> createVariable(const std::string& project, const Variable& v);
  Result<Variable> updateVariable(const std::string& project, const Variable& v);

 private:
  Result<client::HttpResponse> call(const std::string& method, const std::string& path,
                                    const std::string& body = {});
  std::string url(const std::string& path) const;

  client::HttpClient& http_;
  std::string base_url_;
  GitlabToken token_;
};

// Pure helpers, exposed for tests.
// The next page's URL from X-Next-Page or a Link rel="next" header; nullopt at the end.
std::optional<std::string> nextPageUrl(const client::HttpResponse& r, const std::string& url);
// Maps a non-2xx response to an Error; `what` names the request.
Error gitlabError(const client::HttpResponse& r, const std::string& what);

}  // namespace garret::ops::gitlab
