#pragma once

// `garret ci watch`: follows a pipeline until it finishes, retrying jobs that
// failed for transient infrastructure reasons. PipelineWatch is the pure state
// machine (what changed, what to retry, when to stop, the exit code); the
// render functions turn its state into the live table and the final summary;
// runWatch is the polling loop over a GitlabClient.

#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ops/gitlab/gitlab_client.h"

namespace garret::ops::gitlab {

// failure_reason values worth a retry: the runner, the scheduler or the API
// failed, not the job's own script.
const std::vector<std::string>& transientFailureReasons();

class PipelineWatch {
 public:
  // `retry_limit`: retries per job name (0 = never retry).
  explicit PipelineWatch(int retry_limit,
                         std::vector<std::string> transient = transientFailureReasons());

  // Records one poll; returns a line per change since the previous poll
  // (pipeline status, new jobs, job status changes).
  std::vector<std::string> observe(const Pipeline& pipeline, const std::vector<Job>& jobs);

  // Latest attempts that failed for a transient reason and have retries left.
  std::vector<Job> retriesDue() const;
  // Records that `job` was retried; returns the line that says so.
  std::string noteRetry(const Job& job);
  // Records that retrying `job` failed (it is not tried again).
  std::string noteRetryFailed(const Job& job, const std::string& why);

  // The pipeline finished, nothing is left to retry, and every retried job's
  // new attempt has been seen and finished.
  bool done() const;
  // 0 success (also skipped/manual), 1 failed or canceled, 2 unknown/not finished.
  int exitCode() const;

  const Pipeline& pipeline() const { return pipeline_; }
  const std::vector<Job>& jobs() const { return jobs_; }
  // Retry lines so far (for the live table).
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  int retry_limit_;
  std::vector<std::string> transient_;
  Pipeline pipeline_;
  bool seen_ = false;
  std::vector<Job> jobs_;
  std::map<long, std::string> status_;  // job id -> last status seen
  std::map<std::string, int> retries_;  // job name -> retries done
  std::set<long> retried_ids_;
  std::map<std::string, long> awaiting_;  // job name -> id of the retried attempt
  std::vector<std::string> notes_;
};

// "1m05s", "42s", "1h02m", "-" for none.
std::string formatDuration(std::optional<double> seconds);
// ISO 8601 ("2024-05-01T10:00:00.123Z", "+02:00" offsets) to unix seconds.
std::optional<double> parseIsoTime(std::string_view text);

// The live table: one row per job's latest attempt (stage order), columns
// JOB STAGE STATUS REASON DURATION QUEUED RUNNER TAGS, then the notes.
std::string renderJobTable(const PipelineWatch& watch);
// Final report: pipeline status and duration, wall time per stage, the
// slowest jobs (all attempts), retries.
std::string renderWatchSummary(const PipelineWatch& watch, std::size_t slowest = 5);

struct WatchOptions {
  std::string project;
  std::optional<long> pipeline_id;  // else latest for ref
  std::string ref;
  int retry_transient = 0;
  double interval_seconds = 5;
  bool tty = false;  // redraw a table instead of printing change lines
  int max_consecutive_errors = 5;  // transient API errors tolerated in a row
};

// Polls until the pipeline finishes; prints to `out` (errors to `err`);
// `sleep` waits between polls (tests pass a no-op or a short sleep).
// Returns the exit code: 0 success, 1 failed/canceled, 2 could not run.
int runWatch(GitlabClient& gitlab, const WatchOptions& options, std::ostream& out,
             std::ostream& err, const std::function<void(double seconds)>& sleep);

}  // namespace garret::ops::gitlab
