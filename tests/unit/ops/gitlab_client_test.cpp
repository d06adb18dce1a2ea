// GitlabClient against tests/support/fake_gitlab.py (real HTTP over curl):
// pipelines, paginated jobs, retry, CI variables with masking rules and the
// 401/403/404 mapping; plus the pure helpers (masking rule, pagination
// headers, error mapping).

#include "ops/gitlab/gitlab_client.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "support/fake_gitlab.h"

namespace garret::ops::gitlab {
namespace {

using garret::testing::ChildProcess;
using garret::testing::FakeGitlab;

constexpr const char* kToken = "glpat-test-token";


class GitlabClientTest : public ::testing::Test {
 protected:
  GitlabClient client(const std::string& token = kToken,
                      GitlabToken::Kind kind = GitlabToken::Kind::kPrivate) {
    return GitlabClient(*http_, fake_.url, GitlabToken{kind, token});
  }
  FakeGitlab fake_;
  std::unique_ptr<client::HttpClient> http_ = client::makeCurlHttpClient();
};

Variable var(std::string key, std::string value, bool masked = false) {
  Variable v;
  v.key = std::move(key);
  v.value = std::move(value);
  v.masked = masked;
  return v;
}

// ---- variables -----------------------------------------------------------------

TEST_F(GitlabClientTest, CreateGetUpdateVariable) {
  GitlabClient gl = client();
  auto missing = gl.getVariable("42", "CACHE_TOKEN");
  ASSERT_TRUE(missing.ok()) << missing.error().message;
  EXPECT_FALSE(missing->has_value());

  Variable v = var("CACHE_TOKEN", "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJjaSJ9.c2ln", true);
  v.is_protected = true;
  auto created = gl.createVariable("42", v);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(created->key, "CACHE_TOKEN");
  EXPECT_TRUE(created->masked);
  EXPECT_TRUE(created->is_protected);
  EXPECT_EQ(created->variable_type, "env_var");
  EXPECT_EQ(created->environment_scope, "*");

  auto got = gl.getVariable("group/proj", "CACHE_TOKEN");  // path form of the project
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->value, v.value);

  v.value = "bmV3LXZhbHVlLXRoYXQtaXMtbG9uZw==";
  v.is_protected = false;
  auto updated = gl.updateVariable("42", v);
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  EXPECT_EQ(updated->value, v.value);
  EXPECT_FALSE(updated->is_protected);
  auto again = gl.getVariable("42", "CACHE_TOKEN");
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->value, v.value);
}

TEST_F(GitlabClientTest, FileVariable) {
  GitlabClient gl = client();
  Variable v = var("KUBECONFIG_FILE", "apiVersion: v1\nkind: Config\n");
  v.variable_type = "file";
  auto created = gl.createVariable("42", v);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(created->variable_type, "file");
}

TEST_F(GitlabClientTest, MaskingRefusedBeforeSending) {
  GitlabClient gl = client();
  auto r = gl.createVariable("42", var("SHORT", "abc", true));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("at least 8 characters"), std::string::npos) << r.error().message;
  auto spaces = gl.updateVariable("42", var("SPACES", "has spaces in it", true));
  ASSERT_FALSE(spaces.ok());
  EXPECT_NE(spaces.error().message.find("space"), std::string::npos) << spaces.error().message;
  auto still_missing = gl.getVariable("42", "SHORT");
  ASSERT_TRUE(still_missing.ok());
  EXPECT_FALSE(still_missing->has_value());
}

TEST_F(GitlabClientTest, ServerSideRefusalsAreInvalidArgument) {
  GitlabClient gl = client();
  ASSERT_TRUE(gl.createVariable("42", var("DUP", "one")).ok());
  auto dup = gl.createVariable("42", var("DUP", "two"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(dup.error().message.find("already been taken"), std::string::npos) << dup.error().message;
  // The fake enforces GitLab's masking rule too (what a client without the
  // pre-check would hit): send the request by hand.
  client::HttpRequest req;
  req.method = "POST";
  req.url = fake_.url + "/api/v4/projects/42/variables";
  req.headers = {{"PRIVATE-TOKEN", kToken}, {"Content-Type", "application/json"}};
  req.body = R"({"key":"RAW","value":"not maskable!","masked":true})";
  auto raw = http_->send(req);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->status, 400);
  EXPECT_EQ(gitlabError(*raw, "create RAW").code, ErrorCode::kInvalidArgument);
}

TEST_F(GitlabClientTest, UpdateOfMissingVariableIsNotFound) {
  auto r = client().updateVariable("42", var("NOPE", "value"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

TEST_F(GitlabClientTest, InvalidKeyRejectedLocally) {
  auto r = client().createVariable("42", var("BAD-KEY", "value"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(GitlabClientTest, UnauthorizedForbiddenNotFound) {
  auto expired = client("expired-token").getVariable("42", "X");
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code, ErrorCode::kUnauthorized);
  EXPECT_NE(expired.error().message.find("invalid or expired"), std::string::npos);

  auto readonly = client("readonly-token").createVariable("42", var("X", "value"));
  ASSERT_FALSE(readonly.ok());
  EXPECT_EQ(readonly.error().code, ErrorCode::kForbidden);
  EXPECT_NE(readonly.error().message.find("api scope"), std::string::npos);
  EXPECT_NE(readonly.error().message.find("Maintainer"), std::string::npos);

  auto project = client().getVariable("999", "X");
  ASSERT_FALSE(project.ok());
  EXPECT_EQ(project.error().code, ErrorCode::kNotFound);
  EXPECT_NE(project.error().message.find("project does not exist"), std::string::npos);

  auto no_token = client("").pipeline("42", 1001);
  ASSERT_FALSE(no_token.ok());
  EXPECT_EQ(no_token.error().code, ErrorCode::kUnauthorized);
}

TEST_F(GitlabClientTest, JobTokenHeader) {
  auto p = client(kToken, GitlabToken::Kind::kJob).pipeline("42", 1001);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->status, "pending");
}

// ---- pipelines and jobs -------------------------------------------------------------

TEST_F(GitlabClientTest, LatestPipelineForRef) {
  GitlabClient gl = client();
  auto p = gl.latestPipeline("42", "main");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->id, 1001);
  EXPECT_EQ(p->ref, "main");
  auto none = gl.latestPipeline("42", "no-such-branch");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
}

TEST_F(GitlabClientTest, JobsFollowPagination) {
  auto jobs = client().pipelineJobs("42", 1001);  // fake serves 2 per page: 3 pages
  ASSERT_TRUE(jobs.ok()) << jobs.error().message;
  ASSERT_EQ(jobs->size(), 5u);
  std::vector<std::string> names;
  for (const Job& j : *jobs) names.push_back(j.name);
  EXPECT_EQ(names, (std::vector<std::string>{"package", "flaky", "unit", "lint", "build"}));
  EXPECT_EQ((*jobs)[0].tags, (std::vector<std::string>{"x86_64", "dind"}));
  EXPECT_EQ((*jobs)[4].status, "pending");
}

TEST(GitlabClientLinkOnly, JobsFollowLinkHeader) {
  FakeGitlab fake({"--link-only", "--page-size", "1"});
  auto http = client::makeCurlHttpClient();
  GitlabClient gl(*http, fake.url + "/api/v4/", GitlabToken{GitlabToken::Kind::kPrivate, kToken});
  auto jobs = gl.pipelineJobs("42", 1001);
  ASSERT_TRUE(jobs.ok()) << jobs.error().message;
  EXPECT_EQ(jobs->size(), 5u);
}

TEST_F(GitlabClientTest, RetryCreatesNewAttempt) {
  GitlabClient gl = client();
  // Drive the fake until flaky has failed: each pipeline GET is one step.
  std::optional<Job> failed;
  for (int i = 0; i < 10 && !failed; ++i) {
    ASSERT_TRUE(gl.pipeline("42", 1001).ok());
    auto jobs = gl.pipelineJobs("42", 1001);
    ASSERT_TRUE(jobs.ok());
    for (const Job& j : *jobs) {
      if (j.name == "flaky" && j.status == "failed") failed = j;
    }
  }
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->failure_reason, "runner_system_failure");
  EXPECT_FALSE(failed->runner.empty());
  ASSERT_TRUE(failed->duration);
  EXPECT_EQ(*failed->duration, 30.0);

  auto forbidden = client("readonly-token").retryJob("42", failed->id);
  ASSERT_FALSE(forbidden.ok());
  EXPECT_EQ(forbidden.error().code, ErrorCode::kForbidden);

  auto retried = gl.retryJob("42", failed->id);
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_GT(retried->id, failed->id);
  EXPECT_EQ(retried->name, "flaky");
  EXPECT_EQ(retried->status, "pending");
  auto jobs = gl.pipelineJobs("42", 1001);
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ(jobs->size(), 6u);  // include_retried=true keeps the old attempt
  auto latest_only = gl.pipelineJobs("42", 1001, false);
  ASSERT_TRUE(latest_only.ok());
  EXPECT_EQ(latest_only->size(), 5u);
}

TEST(GitlabClientTransport, UnreachableIsUnavailable) {
  auto http = client::makeCurlHttpClient();
  GitlabClient gl(*http, "http://127.0.0.1:1", GitlabToken{GitlabToken::Kind::kPrivate, kToken});
  auto p = gl.pipeline("42", 1);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, ErrorCode::kUnavailable);
}

// ---- pure helpers -----------------------------------------------------------------------

TEST(GitlabMasking, Rules) {
  struct Case {
    std::string value;
    const char* problem;  // substring of the reason; nullptr = maskable
  };
  const std::vector<Case> cases = {
      {"abcdefgh", nullptr},
      {"eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl", nullptr},  // a JWT
      {"a+b/c=d-e_f@g:h.i~j", nullptr},
      {"glpat-AbCdEf0123456789", nullptr},
      {"abcdefg", "at least 8"},
      {"", "at least 8"},
      {"abcdefgh\nijkl", "single line"},
      {"abcd efgh", "space"},
      {"password!", "'!'"},
      {"pa$$word-123", "'$'"},
      {"quote\"inside", "'\"'"},
  };
  for (const Case& c : cases) {
    const auto why = maskingProblem(c.value);
    if (c.problem == nullptr) {
      EXPECT_FALSE(why.has_value()) << c.value << ": " << *why;
    } else {
      ASSERT_TRUE(why.has_value()) << c.value;
      EXPECT_NE(why->find(c.problem), std::string::npos) << *why;
    }
  }
}

client::HttpResponse response(long status, std::vector<client::Header> headers, std::string body = "") {
  client::HttpResponse r;
  r.status = status;
  r.headers = std::move(headers);
  r.body = std::move(body);
  return r;
}

TEST(GitlabPagination, NextPageUrl) {
  const std::string url = "http://g/api/v4/projects/1/pipelines/2/jobs?per_page=100";
  EXPECT_EQ(nextPageUrl(response(200, {{"X-Next-Page", "2"}}), url), url + "&page=2");
  EXPECT_EQ(nextPageUrl(response(200, {{"X-Next-Page", "3"}}), url + "&page=2"), url + "&page=3");
  EXPECT_EQ(nextPageUrl(response(200, {{"X-Next-Page", ""}}), url), std::nullopt);
  EXPECT_EQ(nextPageUrl(response(200, {}), url), std::nullopt);
  EXPECT_EQ(nextPageUrl(response(200, {{"Link", "<http://g/a?page=1>; rel=\"first\", "
                                                 "<http://g/a?page=4>; rel=\"next\""}}),
                        url),
            "http://g/a?page=4");
  EXPECT_EQ(nextPageUrl(response(200, {{"Link", "<http://g/a?page=9>; rel=\"last\""}}), url),
            std::nullopt);
}

TEST(GitlabErrors, StatusMapping) {
  EXPECT_EQ(gitlabError(response(401, {}, R"({"message":"401 Unauthorized"})"), "x").code,
            ErrorCode::kUnauthorized);
  EXPECT_EQ(gitlabError(response(403, {}), "x").code, ErrorCode::kForbidden);
  EXPECT_EQ(gitlabError(response(404, {}, R"({"message":"404 Project Not Found"})"), "x").code,
            ErrorCode::kNotFound);
  const Error bad = gitlabError(response(400, {}, R"({"message":{"value":["is invalid"]}})"), "x");
  EXPECT_EQ(bad.code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.message.find("is invalid"), std::string::npos);
  EXPECT_EQ(gitlabError(response(502, {}, "<html>"), "x").code, ErrorCode::kUnavailable);
  EXPECT_EQ(gitlabError(response(418, {}), "x").code, ErrorCode::kInternal);
}

TEST(GitlabStatus, Finished) {
  for (const char* s : {"success", "failed", "canceled", "skipped", "manual"}) {
    EXPECT_TRUE(isFinishedPipelineStatus(s)) << s;
  }
  for (const char* s : {"created", "pending", "running", "waiting_for_resource", "preparing",
                        "scheduled", "canceling"}) {
    EXPECT_FALSE(isFinishedPipelineStatus(s)) << s;
  }
}

}  // namespace
}  // namespace garret::ops::gitlab
