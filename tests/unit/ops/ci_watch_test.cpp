// ci watch: the PipelineWatch state machine from tables of snapshots, the
// table/summary rendering, and runWatch against tests/support/fake_gitlab.py
// through pending -> running -> runner_system_failure -> retried -> success.

#include "ops/gitlab/ci_watch.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "support/fake_gitlab.h"

namespace garret::ops::gitlab {
namespace {

using garret::testing::ChildProcess;
using garret::testing::FakeGitlab;

Job job(long id, std::string name, std::string stage, std::string status, std::string reason = "") {
  Job j;
  j.id = id;
  j.name = std::move(name);
  j.stage = std::move(stage);
  j.status = std::move(status);
  j.failure_reason = std::move(reason);
  return j;
}

Pipeline pipeline(std::string status) {
  Pipeline p;
  p.id = 7;
  p.status = std::move(status);
  return p;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// ---- state machine --------------------------------------------------------------

TEST(CiWatchState, ReportsOnlyChanges) {
  PipelineWatch w(0);
  auto first = w.observe(pipeline("pending"), {job(1, "build", "build", "pending")});
  EXPECT_EQ(joined(first), "pipeline 7: pending\njob build (build, job 1): pending\n");
  EXPECT_TRUE(w.observe(pipeline("pending"), {job(1, "build", "build", "pending")}).empty());
  Job done = job(1, "build", "build", "failed", "script_failure");
  done.duration = 65;
  auto later = w.observe(pipeline("failed"), {done});
  EXPECT_EQ(joined(later),
            "pipeline 7: pending -> failed\n"
            "job build (build, job 1): pending -> failed (script_failure) in 1m05s\n");
}

TEST(CiWatchState, ExitCodes) {
  struct Case {
    const char* status;
    int code;
    bool done;
  };
  for (const Case& c : {Case{"success", 0, true}, Case{"failed", 1, true}, Case{"canceled", 1, true},
                        Case{"skipped", 0, true}, Case{"manual", 0, true}, Case{"running", 2, false},
                        Case{"pending", 2, false}}) {
    PipelineWatch w(0);
    w.observe(pipeline(c.status), {});
    EXPECT_EQ(w.exitCode(), c.code) << c.status;
    EXPECT_EQ(w.done(), c.done) << c.status;
  }
  EXPECT_EQ(PipelineWatch(0).exitCode(), 2);
  EXPECT_FALSE(PipelineWatch(0).done());
}

TEST(CiWatchState, RetriesOnlyTransientFailuresWithinTheLimit) {
  PipelineWatch w(1);
  w.observe(pipeline("failed"), {job(1, "unit", "test", "failed", "script_failure"),
                                 job(2, "flaky", "test", "failed", "runner_system_failure"),
                                 job(3, "lint", "test", "failed", "stuck_or_timeout_failure")});
  auto due = w.retriesDue();
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].name, "flaky");
  EXPECT_EQ(due[1].name, "lint");
  EXPECT_FALSE(w.done());  // failed, but there is something to retry
  EXPECT_EQ(w.noteRetry(due[0]),
            "retrying flaky (test, job 2) after runner_system_failure (retry 1 of 1)");
  w.noteRetryFailed(due[1], "403 forbidden");
  EXPECT_TRUE(w.retriesDue().empty());
  // Still "failed" from before the retry took effect: not done until the new
  // attempt of flaky shows up and finishes.
  EXPECT_FALSE(w.done());
  w.observe(pipeline("running"), {job(1, "unit", "test", "failed", "script_failure"),
                                  job(2, "flaky", "test", "failed", "runner_system_failure"),
                                  job(3, "lint", "test", "failed", "stuck_or_timeout_failure"),
                                  job(4, "flaky", "test", "running")});
  EXPECT_FALSE(w.done());
  w.observe(pipeline("failed"), {job(1, "unit", "test", "failed", "script_failure"),
                                 job(2, "flaky", "test", "failed", "runner_system_failure"),
                                 job(3, "lint", "test", "failed", "stuck_or_timeout_failure"),
                                 job(4, "flaky", "test", "failed", "runner_system_failure")});
  EXPECT_TRUE(w.retriesDue().empty());  // the limit of 1 is used up
  EXPECT_TRUE(w.done());
  EXPECT_EQ(w.exitCode(), 1);
  EXPECT_EQ(w.notes().size(), 2u);
}

TEST(CiWatchState, NoRetriesWhenLimitIsZero) {
  PipelineWatch w(0);
  w.observe(pipeline("failed"), {job(1, "flaky", "test", "failed", "runner_system_failure")});
  EXPECT_TRUE(w.retriesDue().empty());
  EXPECT_TRUE(w.done());
}

TEST(CiWatchState, TransientReasons) {
  const auto& r = transientFailureReasons();
  for (const char* reason : {"runner_system_failure", "stuck_or_timeout_failure",
                             "job_execution_timeout", "api_failure", "scheduler_failure"}) {
    EXPECT_NE(std::find(r.begin(), r.end(), reason), r.end()) << reason;
  }
  EXPECT_EQ(std::find(r.begin(), r.end(), "script_failure"), r.end());
}

// ---- rendering ---------------------------------------------------------------------

TEST(CiWatchFormat, Durations) {
  EXPECT_EQ(formatDuration(std::nullopt), "-");
  EXPECT_EQ(formatDuration(0.4), "0s");
  EXPECT_EQ(formatDuration(42), "42s");
  EXPECT_EQ(formatDuration(65), "1m05s");
  EXPECT_EQ(formatDuration(3725), "1h02m");
  EXPECT_EQ(formatDuration(-1), "-");
}

TEST(CiWatchFormat, IsoTimes) {
  EXPECT_EQ(parseIsoTime("1970-01-01T00:01:00Z"), 60.0);
  EXPECT_EQ(parseIsoTime("2026-01-01T10:00:30.500Z").value() - parseIsoTime("2026-01-01T10:00:00Z").value(),
            30.5);
  EXPECT_EQ(parseIsoTime("1970-01-01T02:00:00+02:00"), 0.0);
  EXPECT_FALSE(parseIsoTime("yesterday").has_value());
  EXPECT_FALSE(parseIsoTime("").has_value());
  EXPECT_FALSE(parseIsoTime("2026-13-01T00:00:00Z").has_value());
}

TEST(CiWatchFormat, TableAndSummary) {
  PipelineWatch w(1);
  Job build = job(1, "build", "build", "success");
  build.duration = 100;
  build.queued_duration = 4;
  build.runner = "runner-a";
  build.tags = {"x86_64", "dind"};
  build.started_at = "2026-01-01T10:00:00Z";
  build.finished_at = "2026-01-01T10:01:40Z";
  Job t1 = job(2, "test-a", "test", "success");
  t1.duration = 30;
  t1.started_at = "2026-01-01T10:02:00Z";
  t1.finished_at = "2026-01-01T10:02:30Z";
  Job t2 = job(3, "test-b", "test", "success");
  t2.duration = 50;
  t2.started_at = "2026-01-01T10:02:10Z";
  t2.finished_at = "2026-01-01T10:03:00Z";
  Pipeline p = pipeline("success");
  p.duration = 180;
  p.queued_duration = 5;
  w.observe(p, {t2, build, t1});
  const std::string table = renderJobTable(w);
  EXPECT_NE(table.find("JOB"), std::string::npos);
  EXPECT_NE(table.find("runner-a"), std::string::npos);
  EXPECT_NE(table.find("x86_64,dind"), std::string::npos);
  EXPECT_NE(table.find("1m40s"), std::string::npos);
  EXPECT_LT(table.find("build "), table.find("test-a"));  // stage order
  const std::string summary = renderWatchSummary(w, 2);
  EXPECT_NE(summary.find("pipeline 7 success in 3m00s (queued 5s)"), std::string::npos) << summary;
  // Stage wall time: first start to last finish (10:02:00 .. 10:03:00).
  EXPECT_NE(summary.find("test            1m00s     2 jobs"), std::string::npos) << summary;
  const std::size_t slowest = summary.find("slowest jobs:");
  ASSERT_NE(slowest, std::string::npos);
  EXPECT_LT(summary.find("build", slowest), summary.find("test-b", slowest));
  EXPECT_EQ(summary.find("test-a", slowest), std::string::npos);  // only the 2 slowest
}

// ---- against the fake GitLab ---------------------------------------------------------


struct WatchRun {
  int code = -1;
  std::string out, err;
  int sleeps = 0;
};

WatchRun watch(FakeGitlab& fake, WatchOptions o, const std::string& token = "glpat-test-token") {
  auto http = client::makeCurlHttpClient();
  GitlabClient gitlab(*http, fake.url, GitlabToken{GitlabToken::Kind::kPrivate, token});
  std::ostringstream out, err;
  WatchRun run;
  o.interval_seconds = 0.01;
  run.code = runWatch(gitlab, o, out, err, [&run](double) {
    if (++run.sleeps > 100) std::abort();  // a watch that never ends is a bug
  });
  run.out = out.str();
  run.err = err.str();
  return run;
}

WatchOptions forRef(int retries) {
  WatchOptions o;
  o.project = "group/proj";
  o.ref = "main";
  o.retry_transient = retries;
  return o;
}

TEST(CiWatchFake, TransientFailureRetriedThenSuccess) {
  FakeGitlab fake;
  WatchRun run = watch(fake, forRef(1));
  EXPECT_EQ(run.code, 0) << run.out << run.err;
  // pending -> running -> runner_system_failure -> retried -> success, in order.
  std::size_t at = 0;
  for (const char* step : {"pipeline 1001: pending\n", "pipeline 1001: pending -> running",
                           "job flaky (test, job 2004): running -> failed (runner_system_failure)",
                           "retrying flaky (test, job 2004) after runner_system_failure (retry 1 of 1)",
                           "pipeline 1001: failed -> running", "job flaky (test, job 2006): running",
                           "job flaky (test, job 2006): running -> success",
                           "pipeline 1001: running -> success", "time per stage:", "slowest jobs:"}) {
    const std::size_t found = run.out.find(step, at);
    ASSERT_NE(found, std::string::npos) << "missing, in order: " << step << "\n" << run.out;
    at = found;
  }
  // All five jobs came through the 2-per-page pagination.
  for (const char* name : {"build", "lint", "unit", "flaky", "package"}) {
    EXPECT_NE(run.out.find("job " + std::string(name) + " ("), std::string::npos) << name;
  }
  EXPECT_EQ(fake.state()["retries"], nlohmann::json::array({2004}));
  EXPECT_TRUE(run.err.empty()) << run.err;
}

TEST(CiWatchFake, WithoutRetryThePipelineFails) {
  FakeGitlab fake;
  WatchOptions o = forRef(0);
  o.ref.clear();
  o.pipeline_id = 1001;
  WatchRun run = watch(fake, o);
  EXPECT_EQ(run.code, 1) << run.out;
  EXPECT_NE(run.out.find("pipeline 1001 failed"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("retrying"), std::string::npos);
  EXPECT_EQ(fake.state()["retries"].size(), 0u);
}

TEST(CiWatchFake, RetryLimitPerJob) {
  FakeGitlab fake({"--flaky-failures", "2"});
  WatchRun one = watch(fake, forRef(1));
  EXPECT_EQ(one.code, 1) << one.out;
  EXPECT_EQ(fake.state()["retries"].size(), 1u);
  EXPECT_EQ(one.out.find("retry 2 of"), std::string::npos);

  FakeGitlab fake2({"--flaky-failures", "2"});
  WatchRun two = watch(fake2, forRef(2));
  EXPECT_EQ(two.code, 0) << two.out;
  EXPECT_NE(two.out.find("(retry 2 of 2)"), std::string::npos) << two.out;
  EXPECT_EQ(fake2.state()["retries"].size(), 2u);
}

TEST(CiWatchFake, LinkHeaderPagination) {
  FakeGitlab fake({"--link-only", "--page-size", "1"});
  WatchRun run = watch(fake, forRef(1));
  EXPECT_EQ(run.code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("job package (deploy, job 2005): running -> success"), std::string::npos);
}

TEST(CiWatchFake, TtyRedrawsATable) {
  FakeGitlab fake;
  WatchOptions o = forRef(1);
  o.tty = true;
  WatchRun run = watch(fake, o);
  EXPECT_EQ(run.code, 0);
  EXPECT_NE(run.out.find("\033["), std::string::npos);  // cursor up + clear
  EXPECT_NE(run.out.find("STAGE"), std::string::npos);
  EXPECT_NE(run.out.find("runner-test"), std::string::npos);
  EXPECT_NE(run.out.find("retrying flaky"), std::string::npos);
}

TEST(CiWatchFake, CouldNotRun) {
  FakeGitlab fake;
  WatchRun bad_token = watch(fake, forRef(0), "expired-token");
  EXPECT_EQ(bad_token.code, 2);
  EXPECT_NE(bad_token.err.find("invalid or expired"), std::string::npos) << bad_token.err;
  WatchOptions no_ref = forRef(0);
  no_ref.ref = "no-such-branch";
  WatchRun missing = watch(fake, no_ref);
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("no pipeline for ref"), std::string::npos) << missing.err;
  WatchOptions other = forRef(0);
  other.project = "someone/else";
  WatchRun project = watch(fake, other);
  EXPECT_EQ(project.code, 2);
  EXPECT_NE(project.err.find("404"), std::string::npos) << project.err;
}

TEST(CiWatchFake, UnreachableServerGivesUpAfterRetries) {
  auto http = client::makeCurlHttpClient();
  GitlabClient gitlab(*http, "http://127.0.0.1:1", GitlabToken{});
  WatchOptions o;
  o.project = "42";
  o.pipeline_id = 1;
  o.max_consecutive_errors = 3;
  std::ostringstream out, err;
  int sleeps = 0;
  EXPECT_EQ(runWatch(gitlab, o, out, err, [&](double) { ++sleeps; }), 2);
  EXPECT_EQ(sleeps, 2);
  EXPECT_FALSE(err.str().empty());
}

}  // namespace
}  // namespace garret::ops::gitlab
