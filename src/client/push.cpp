#include "client/push.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "core/hash.h"
#include "nar/nar_dump.h"

namespace garret::client {

using nlohmann::json;

namespace {

std::string baseName(const std::string& path) { return path.substr(path.rfind('/') + 1); }
std::string hashPart(const std::string& path) { return baseName(path).substr(0, 32); }

std::set<std::string> upstreamKeyNames(ApiClient& api, const std::string& cache) {
  std::set<std::string> names;
  auto config = api.cacheConfig(cache);
  if (!config.ok() || !config->contains("upstream_cache_key_names")) return names;
  for (const json& n : (*config)["upstream_cache_key_names"]) {
    if (n.is_string()) names.insert(n.get<std::string>());
  }
  return names;
}

bool signedByUpstream(const PathInfo& info, const std::set<std::string>& names) {
  return std::any_of(info.sigs.begin(), info.sigs.end(), [&](const std::string& sig) {
    return names.count(sig.substr(0, sig.find(':'))) > 0;
  });
}

// Hash and size of a path whose store entry lacks them (very old stores).
Status fillNarHash(LocalStore& store, PathInfo& info) {
  GARRET_ASSIGN_OR_RETURN(auto dump, nar::openNarDump(store.physicalPath(info.path)));
  Sha256 sha;
  std::vector<char> buf(1 << 16);
  for (;;) {
    GARRET_ASSIGN_OR_RETURN(std::size_t n, dump->read(buf.data(), buf.size()));
    if (n == 0) break;
    sha.update(asBytes(std::string_view(buf.data(), n)));
  }
  info.nar_hash = sha.finish().toNix();
  info.nar_size = dump->produced();
  return {};
}

class Worker {
 public:
  Worker(LocalStore& store, HttpClient& http, const std::string& endpoint, const std::string& token,
         const PushOptions& options, PushObserver& observer)
      : store_(store), api_(http, endpoint, token), options_(options), observer_(observer) {}

  PathResult push(const PathInfo& info) {
    PathResult r;
    auto up = withRetries(
        options_.retry, [&] { ++r.attempts; return uploadOnce(info); },
        [&](int next, const Error& e, std::chrono::milliseconds delay) { observer_.onRetry(info, next, e, delay); });
    if (!up.ok()) {
      r.error = up.error().message;
      return r;
    }
    r.kind = up->deduplicated ? PathResult::Kind::kDeduplicated : PathResult::Kind::kUploaded;
    double frac = up->deduplicated ? 1.0 : up->frac_deduplicated.value_or(0.0);
    r.bytes_deduplicated = static_cast<std::uint64_t>(frac * static_cast<double>(info.nar_size));
    return r;
  }

 private:
  Result<UploadResult> uploadOnce(const PathInfo& info) {
    GARRET_ASSIGN_OR_RETURN(auto dump, nar::openNarDump(store_.physicalPath(info.path)));
    UploadRequest req;
    req.nar_info = uploadNarInfo(options_.cache, info);
    req.nar_size = info.nar_size;
    req.pin = options_.pin;
    req.nar_reader = [&](char* buf, std::size_t len) -> Result<std::size_t> {
      GARRET_ASSIGN_OR_RETURN(std::size_t n, dump->read(buf, len));
      if (dump->produced() > info.nar_size || (n == 0 && dump->produced() != info.nar_size)) {
        return invalid(info.path + " changed on disk: its NAR is " + std::to_string(dump->produced()) +
                       "+ bytes, the store records " + std::to_string(info.nar_size));
      }
      observer_.onBytes(n);
      return n;
    };
    return api_.uploadPath(req);
  }

  LocalStore& store_;
  ApiClient api_;
  const PushOptions& options_;
  PushObserver& observer_;
};

}  // namespace

double retryJitter() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

std::chrono::milliseconds RetryPolicy::delayBefore(int attempt, double unit_random) const {
  double d = static_cast<double>(base_delay.count());
  for (int i = 2; i < attempt && d < static_cast<double>(max_delay.count()); ++i) d *= 2;
  d = std::min(d, static_cast<double>(max_delay.count()));
  d *= 0.75 + 0.5 * unit_random;
  return std::chrono::milliseconds(static_cast<std::int64_t>(d));
}

bool isRetryable(const Error& e) {
  return e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kConflict;
}

json uploadNarInfo(const std::string& cache, const PathInfo& info) {
  json refs = json::array();
  for (const auto& r : info.references) refs.push_back(baseName(r));
  json j = {{"cache", cache},
            {"store_path_hash", hashPart(info.path)},
            {"store_path", info.path},
            {"references", refs},
            {"system", nullptr},
            {"deriver", info.deriver.empty() ? json(nullptr) : json(baseName(info.deriver))},
            {"sigs", info.sigs},
            {"ca", info.ca.empty() ? json(nullptr) : json(info.ca)},
            {"nar_hash", info.nar_hash},
            {"nar_size", info.nar_size}};
  return j;
}

Result<PushPlan> planPush(LocalStore& store, ApiClient& api, const std::vector<std::string>& roots,
                          const std::string& cache, bool skip_upstream) {
  PushPlan plan;
  GARRET_ASSIGN_OR_RETURN(std::vector<PathInfo> closure, store.closure(roots));
  plan.closure_size = closure.size();
  std::set<std::string> upstream;
  if (skip_upstream) upstream = upstreamKeyNames(api, cache);
  std::vector<PathInfo> candidates;
  for (auto& info : closure) {
    if (!upstream.empty() && signedByUpstream(info, upstream)) {
      ++plan.upstream_signed;
    } else {
      candidates.push_back(std::move(info));
    }
  }
  std::vector<std::string> hashes;
  for (const auto& info : candidates) hashes.push_back(hashPart(info.path));
  GARRET_ASSIGN_OR_RETURN(std::vector<std::string> missing, api.missingPaths(cache, hashes));
  std::set<std::string> missing_set(missing.begin(), missing.end());
  for (auto& info : candidates) {
    if (missing_set.count(hashPart(info.path)) == 0) {
      ++plan.already_present;
      continue;
    }
    if (info.nar_size == 0 || info.nar_hash.empty()) GARRET_TRY(fillNarHash(store, info));
    plan.bytes_to_push += info.nar_size;
    plan.to_push.push_back(std::move(info));
  }
  return plan;
}

PushSummary pushPaths(LocalStore& store, const std::function<std::unique_ptr<HttpClient>()>& make_http,
                      const std::string& endpoint, const std::string& token, const PushPlan& plan,
                      const PushOptions& options, PushObserver& observer, const std::atomic<bool>* stop) {
  auto started = std::chrono::steady_clock::now();
  PushSummary summary;
  std::mutex mu;
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    auto http = make_http();
    Worker worker(store, *http, endpoint, token, options, observer);
    for (std::size_t i; (stop == nullptr || !*stop) && (i = next++) < plan.to_push.size();) {
      const PathInfo& info = plan.to_push[i];
      observer.onStart(info);
      PathResult r = worker.push(info);
      observer.onDone(info, r);
      std::lock_guard lock(mu);
      if (r.kind == PathResult::Kind::kFailed) {
        summary.failed.emplace_back(info.path, r.error);
        continue;
      }
      ++(r.kind == PathResult::Kind::kUploaded ? summary.uploaded : summary.deduplicated);
      summary.bytes_sent += info.nar_size;
      summary.bytes_deduplicated += r.bytes_deduplicated;
    }
  };
  int jobs = std::clamp<int>(options.jobs, 1, std::max<int>(1, static_cast<int>(plan.to_push.size())));
  std::vector<std::thread> threads;
  for (int i = 1; i < jobs; ++i) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

}  // namespace garret::client
