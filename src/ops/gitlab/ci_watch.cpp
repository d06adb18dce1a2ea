#include "ops/gitlab/ci_watch.h"

#include "core/timestamp.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace garret::ops::gitlab {
namespace {

// Latest attempt of each job name, ordered by the first attempt's id (the
// order GitLab created them, which follows the stages).
std::vector<Job> latestAttempts(const std::vector<Job>& jobs) {
  std::map<std::string, const Job*> latest;
  std::map<std::string, long> first;
  for (const Job& j : jobs) {
    auto& l = latest[j.name];
    if (l == nullptr || j.id > l->id) l = &j;
    auto f = first.find(j.name);
    if (f == first.end() || j.id < f->second) first[j.name] = j.id;
  }
  std::vector<Job> out;
  for (const auto& [name, job] : latest) out.push_back(*job);
  std::sort(out.begin(), out.end(),
            [&](const Job& a, const Job& b) { return first[a.name] < first[b.name]; });
  return out;
}

// Stages in order of their first job.
std::vector<std::string> stageOrder(const std::vector<Job>& jobs) {
  std::vector<Job> sorted = jobs;
  std::sort(sorted.begin(), sorted.end(), [](const Job& a, const Job& b) { return a.id < b.id; });
  std::vector<std::string> stages;
  for (const Job& j : sorted) {
    if (std::find(stages.begin(), stages.end(), j.stage) == stages.end()) stages.push_back(j.stage);
  }
  return stages;
}

std::string describe(const Job& j) { return j.name + " (" + j.stage + ", job " + std::to_string(j.id) + ")"; }

std::string statusText(const Job& j) {
  std::string s = j.status;
  if (!j.failure_reason.empty()) s += " (" + j.failure_reason + ")";
  if (j.duration && (j.status == "success" || j.status == "failed" || j.status == "canceled")) {
    s += " in " + formatDuration(j.duration);
  }
  return s;
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() > width) s = s.substr(0, width - 1) + "~";
  s.resize(width, ' ');
  return s;
}

std::string joinTags(const std::vector<std::string>& tags) {
  std::string out;
  for (const auto& t : tags) out += (out.empty() ? "" : ",") + t;
  return out.empty() ? "-" : out;
}

// Wall time of a stage: first start to last finish; the longest job when
// timestamps are missing.
std::optional<double> stageWallTime(const std::vector<Job>& jobs, const std::string& stage) {
  std::optional<double> start, end, longest;
  for (const Job& j : jobs) {
    if (j.stage != stage) continue;
    auto s = parseIsoTime(j.started_at), e = parseIsoTime(j.finished_at);
    if (s && (!start || *s < *start)) start = s;
    if (e && (!end || *e > *end)) end = e;
    if (j.duration && (!longest || *j.duration > *longest)) longest = j.duration;
  }
  if (start && end && *end >= *start) return *end - *start;
  return longest;
}

bool isFinishedJobStatus(const std::string& s) {
  return s == "success" || s == "failed" || s == "canceled" || s == "skipped" || s == "manual";
}

}  // namespace

const std::vector<std::string>& transientFailureReasons() {
  static const std::vector<std::string> kReasons = {
      "runner_system_failure", "stuck_or_timeout_failure", "job_execution_timeout",
      "api_failure",           "scheduler_failure",        "unknown_failure",
      "runner_unsupported",    "data_integrity_failure"};
  return kReasons;
}

PipelineWatch::PipelineWatch(int retry_limit, std::vector<std::string> transient)
    : retry_limit_(retry_limit), transient_(std::move(transient)) {}

std::vector<std::string> PipelineWatch::observe(const Pipeline& pipeline,
                                                const std::vector<Job>& jobs) {
  std::vector<std::string> lines;
  if (!seen_ || pipeline.status != pipeline_.status) {
    lines.push_back("pipeline " + std::to_string(pipeline.id) + ": " +
                    (seen_ ? pipeline_.status + " -> " : std::string()) + pipeline.status);
  }
  seen_ = true;
  pipeline_ = pipeline;
  std::vector<Job> sorted = jobs;
  std::sort(sorted.begin(), sorted.end(), [](const Job& a, const Job& b) { return a.id < b.id; });
  for (const Job& j : sorted) {
    auto it = status_.find(j.id);
    if (it == status_.end()) {
      lines.push_back("job " + describe(j) + ": " + statusText(j));
    } else if (it->second != j.status) {
      lines.push_back("job " + describe(j) + ": " + it->second + " -> " + statusText(j));
    }
    status_[j.id] = j.status;
  }
  jobs_ = std::move(sorted);
  return lines;
}

std::vector<Job> PipelineWatch::retriesDue() const {
  std::vector<Job> due;
  for (const Job& j : latestAttempts(jobs_)) {
    if (j.status != "failed" || retried_ids_.count(j.id) > 0) continue;
    if (std::find(transient_.begin(), transient_.end(), j.failure_reason) == transient_.end()) continue;
    auto it = retries_.find(j.name);
    if ((it == retries_.end() ? 0 : it->second) < retry_limit_) due.push_back(j);
  }
  return due;
}

std::string PipelineWatch::noteRetry(const Job& job) {
  const int n = ++retries_[job.name];
  retried_ids_.insert(job.id);
  std::string line = "retrying " + describe(job) + " after " + job.failure_reason + " (retry " +
                     std::to_string(n) + " of " + std::to_string(retry_limit_) + ")";
  notes_.push_back(line);
  awaiting_[job.name] = job.id;
  return line;
}

std::string PipelineWatch::noteRetryFailed(const Job& job, const std::string& why) {
  retried_ids_.insert(job.id);
  std::string line = "could not retry " + describe(job) + ": " + why;
  notes_.push_back(line);
  return line;
}

bool PipelineWatch::done() const {
  if (!seen_ || !isFinishedPipelineStatus(pipeline_.status) || !retriesDue().empty()) return false;
  for (const Job& j : latestAttempts(jobs_)) {
    auto it = awaiting_.find(j.name);
    if (it == awaiting_.end()) continue;
    // GitLab may report the old pipeline status before the new attempt shows up.
    if (j.id <= it->second || !isFinishedJobStatus(j.status)) return false;
  }
  return true;
}

int PipelineWatch::exitCode() const {
  if (!seen_ || !isFinishedPipelineStatus(pipeline_.status)) return 2;
  return pipeline_.status == "failed" || pipeline_.status == "canceled" ? 1 : 0;
}

std::string formatDuration(std::optional<double> seconds) {
  if (!seconds || *seconds < 0 || !std::isfinite(*seconds)) return "-";
  const long s = std::lround(*seconds);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  } else if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lds", s);
  }
  return buf;
}

std::optional<double> parseIsoTime(std::string_view text) { return parseRfc3339(text); }

std::string renderJobTable(const PipelineWatch& watch) {
  const Pipeline& p = watch.pipeline();
  std::string out = "pipeline " + std::to_string(p.id) + "  " + p.status;
  if (!p.ref.empty()) out += "  ref " + p.ref;
  out += "\n" + pad("JOB", 24) + pad("STAGE", 12) + pad("STATUS", 10) + pad("REASON", 24) +
         pad("DURATION", 10) + pad("QUEUED", 8) + pad("RUNNER", 20) + "TAGS\n";
  std::vector<Job> latest = latestAttempts(watch.jobs());
  for (const std::string& stage : stageOrder(watch.jobs())) {
    for (const Job& j : latest) {
      if (j.stage != stage) continue;
      out += pad(j.name, 24) + pad(j.stage, 12) + pad(j.status, 10) +
             pad(j.failure_reason.empty() ? "-" : j.failure_reason, 24) +
             pad(formatDuration(j.duration), 10) + pad(formatDuration(j.queued_duration), 8) +
             pad(j.runner.empty() ? "-" : j.runner, 20) + joinTags(j.tags) + "\n";
    }
  }
  for (const std::string& note : watch.notes()) out += note + "\n";
  return out;
}

std::string renderWatchSummary(const PipelineWatch& watch, std::size_t slowest) {
  const Pipeline& p = watch.pipeline();
  std::string out = "pipeline " + std::to_string(p.id) + " " + p.status + " in " +
                    formatDuration(p.duration) + " (queued " + formatDuration(p.queued_duration) +
                    ")\n";
  if (!p.web_url.empty()) out += p.web_url + "\n";
  out += "time per stage:\n";
  for (const std::string& stage : stageOrder(watch.jobs())) {
    int count = 0;
    for (const Job& j : watch.jobs()) count += j.stage == stage ? 1 : 0;
    out += "  " + pad(stage, 16) + pad(formatDuration(stageWallTime(watch.jobs(), stage)), 10) +
           std::to_string(count) + (count == 1 ? " job\n" : " jobs\n");
  }
  std::vector<Job> by_time = watch.jobs();
  std::stable_sort(by_time.begin(), by_time.end(), [](const Job& a, const Job& b) {
    return a.duration.value_or(-1) > b.duration.value_or(-1);
  });
  out += "slowest jobs:\n";
  for (std::size_t i = 0; i < by_time.size() && i < slowest && by_time[i].duration; ++i) {
    const Job& j = by_time[i];
    out += "  " + pad(j.name, 24) + pad(formatDuration(j.duration), 10) + j.stage + ", " + j.status +
           (j.runner.empty() ? "" : ", runner " + j.runner) + "\n";
  }
  for (const std::string& note : watch.notes()) out += note + "\n";
  return out;
}

namespace {

struct Snapshot {
  Pipeline pipeline;
  std::vector<Job> jobs;
};

Result<Snapshot> poll(GitlabClient& gitlab, const std::string& project, long id) {
  GARRET_ASSIGN_OR_RETURN(Pipeline p, gitlab.pipeline(project, id));
  GARRET_ASSIGN_OR_RETURN(std::vector<Job> jobs, gitlab.pipelineJobs(project, id));
  return Snapshot{std::move(p), std::move(jobs)};
}

Result<long> pipelineId(GitlabClient& gitlab, const WatchOptions& options) {
  if (options.pipeline_id) return *options.pipeline_id;
  GARRET_ASSIGN_OR_RETURN(Pipeline p, gitlab.latestPipeline(options.project, options.ref));
  return p.id;
}

void retryDue(GitlabClient& gitlab, const WatchOptions& options, PipelineWatch& watch,
              std::vector<std::string>& lines) {
  for (const Job& job : watch.retriesDue()) {
    Result<Job> r = gitlab.retryJob(options.project, job.id);
    lines.push_back(r.ok() ? watch.noteRetry(job) : watch.noteRetryFailed(job, r.error().message));
  }
}

// Redraws the table in place: cursor up over the previous one, clear below.
void draw(std::ostream& out, const PipelineWatch& watch, std::size_t& drawn) {
  if (drawn > 0) out << "\033[" << drawn << "F\033[J";
  const std::string table = renderJobTable(watch);
  out << table << std::flush;
  drawn = static_cast<std::size_t>(std::count(table.begin(), table.end(), '\n'));
}

}  // namespace

int runWatch(GitlabClient& gitlab, const WatchOptions& options, std::ostream& out,
             std::ostream& err, const std::function<void(double seconds)>& sleep) {
  Result<long> id = pipelineId(gitlab, options);
  if (!id.ok()) {
    err << "garret ci watch: " << id.error().message << "\n";
    return 2;
  }
  PipelineWatch watch(options.retry_transient);
  std::size_t drawn = 0;
  for (int errors = 0;;) {
    Result<Snapshot> snap = poll(gitlab, options.project, *id);
    if (!snap.ok()) {
      const bool transient = snap.error().code == ErrorCode::kUnavailable;
      if (!transient || ++errors >= options.max_consecutive_errors) {
        err << "garret ci watch: " << snap.error().message << "\n";
        return 2;
      }
      sleep(options.interval_seconds);
      continue;
    }
    errors = 0;
    std::vector<std::string> lines = watch.observe(snap->pipeline, snap->jobs);
    retryDue(gitlab, options, watch, lines);
    if (options.tty) {
      draw(out, watch, drawn);
    } else {
      for (const auto& line : lines) out << line << "\n";
      out << std::flush;
    }
    if (watch.done()) break;
    sleep(options.interval_seconds);
  }
  out << "\n" << renderWatchSummary(watch);
  return watch.exitCode();
}

}  // namespace garret::ops::gitlab
