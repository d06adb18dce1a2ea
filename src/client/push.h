#pragma once

// Pushing store paths to a cache over Attic's upload API:
//   planPush: closure of the roots → drop paths signed by the cache's upstream
//             keys → ask the server which it lacks (get-missing-paths);
//   pushPaths: N workers stream NARs straight from the store (no temp files,
//             memory bounded per worker) and retry transient failures
//             (transport errors, timeouts, 408/429/5xx) with exponential
//             backoff and jitter; each attempt restarts that NAR from its
//             first byte, so an interrupted upload never leaves half a path.
// Dependencies are queued before the paths that refer to them, so a push cut
// short leaves a cache whose paths have their references.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/api_client.h"
#include "client/http_client.h"
#include "client/local_store.h"

namespace garret::client {

struct PushPlan {
  std::vector<PathInfo> to_push;  // topological order
  std::size_t closure_size = 0;
  std::size_t already_present = 0;
  std::size_t upstream_signed = 0;
  std::uint64_t bytes_to_push = 0;  // sum of NAR sizes
};

struct RetryPolicy {
  int attempts = 5;  // per path, the first included
  std::chrono::milliseconds base_delay{500};
  std::chrono::milliseconds max_delay{std::chrono::seconds(20)};

  // Delay before attempt `attempt` (2, 3, ...): base·2^(attempt-2), capped,
  // with ±25 % jitter drawn from `unit_random` in [0, 1).
  std::chrono::milliseconds delayBefore(int attempt, double unit_random) const;
};

// Whether an upload error is worth another attempt.
bool isRetryable(const Error& e);

// A uniform random number in [0, 1) for RetryPolicy::delayBefore.
double retryJitter();

// Runs `fn` (returning a Result) until it succeeds, fails for good, or the
// policy's attempts are used up; `on_retry(next_attempt, error, delay)` is
// called before each wait.
template <class Fn, class OnRetry>
auto withRetries(const RetryPolicy& policy, Fn&& fn, OnRetry&& on_retry) -> decltype(fn()) {
  for (int attempt = 1;; ++attempt) {
    auto r = fn();
    if (r.ok() || !isRetryable(r.error()) || attempt >= policy.attempts) return r;
    auto delay = policy.delayBefore(attempt + 1, retryJitter());
    on_retry(attempt + 1, r.error(), delay);
    std::this_thread::sleep_for(delay);
  }
}

struct PushOptions {
  std::string cache;
  int jobs = 4;
  RetryPolicy retry;
  bool pin = false;
  bool skip_upstream = true;
};

struct PathResult {
  enum class Kind { kUploaded, kDeduplicated, kFailed } kind = Kind::kFailed;
  std::uint64_t bytes_deduplicated = 0;
  int attempts = 0;
  std::string error;  // when failed
};

// Progress callbacks; called from worker threads (implementations lock).
class PushObserver {
 public:
  virtual ~PushObserver() = default;
  virtual void onStart(const PathInfo&) {}
  virtual void onBytes(std::uint64_t) {}
  virtual void onRetry(const PathInfo&, int /*next_attempt*/, const Error&,
                       std::chrono::milliseconds /*delay*/) {}
  virtual void onDone(const PathInfo&, const PathResult&) {}
};

struct PushSummary {
  std::size_t uploaded = 0;
  std::size_t deduplicated = 0;
  std::uint64_t bytes_sent = 0;          // NAR bytes of completed uploads
  std::uint64_t bytes_deduplicated = 0;  // of those, bytes the server already had
  std::vector<std::pair<std::string, std::string>> failed;  // path, last error
  double seconds = 0;
};

Result<PushPlan> planPush(LocalStore& store, ApiClient& api, const std::vector<std::string>& roots,
                          const std::string& cache, bool skip_upstream);

// `make_http` builds one HttpClient per worker. `stop`, when set, makes
// workers finish their current path and take no new one.
PushSummary pushPaths(LocalStore& store, const std::function<std::unique_ptr<HttpClient>()>& make_http,
                      const std::string& endpoint, const std::string& token, const PushPlan& plan,
                      const PushOptions& options, PushObserver& observer,
                      const std::atomic<bool>* stop = nullptr);

// Attic's UploadPathNarInfo for a path of `store`.
nlohmann::json uploadNarInfo(const std::string& cache, const PathInfo& info);

}  // namespace garret::client
