// garret push and garret watch-store.

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <csignal>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/client_support.h"
#include "cli/command.h"
#include "client/local_store.h"
#include "client/push.h"
#include "client/watch_store.h"

namespace garret::cli {

using nlohmann::json;
using client::PathInfo;
using client::PathResult;

namespace {

std::atomic<bool> g_stop{false};

void onSignal(int) { g_stop = true; }

struct PushCliOptions {
  std::string ref;
  std::vector<std::string> paths;
  int jobs = 0;
  int attempts = 5;
  bool pin = false;
  bool no_skip_upstream = false;
  bool json_out = false;
  bool dry_run = false;
  bool stdin_paths = false;
  std::string store_root = "/";
  // watch-store
  bool include_drv = false;
  double batch_window = 1.5;
};

int defaultJobs() {
  unsigned n = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp(n == 0 ? 4u : n, 2u, 8u));
}

std::string shortName(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// One line per event (CI logs), or a redrawn progress line on a terminal.
class Progress final : public client::PushObserver {
 public:
  Progress(bool tty, bool quiet, std::size_t paths, std::uint64_t bytes)
      : tty_(tty), quiet_(quiet), total_paths_(paths), total_bytes_(bytes),
        started_(std::chrono::steady_clock::now()) {}

  void onBytes(std::uint64_t n) override {
    bytes_ += n;
    if (!tty_ || quiet_) return;
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    if (now - last_draw_ < std::chrono::milliseconds(200)) return;
    last_draw_ = now;
    draw();
  }
  void onRetry(const PathInfo& p, int attempt, const Error& e, std::chrono::milliseconds delay) override {
    std::lock_guard lock(mu_);
    line("retry " + std::to_string(attempt) + " of " + shortName(p.path) + " in " +
         std::to_string(delay.count()) + " ms: " + e.message);
  }
  void onDone(const PathInfo& p, const PathResult& r) override {
    std::lock_guard lock(mu_);
    ++done_;
    if (quiet_) return;
    std::string what = r.kind == PathResult::Kind::kFailed         ? "failed"
                       : r.kind == PathResult::Kind::kDeduplicated ? "deduplicated"
                                                                   : "pushed";
    std::string text = what + " " + p.path + " (" + formatBytes(static_cast<double>(p.nar_size));
    if (r.kind == PathResult::Kind::kUploaded && r.bytes_deduplicated > 0 && p.nar_size > 0) {
      text += ", " + std::to_string(r.bytes_deduplicated * 100 / p.nar_size) + "% already stored";
    }
    text += ")";
    if (r.kind == PathResult::Kind::kFailed) text += ": " + r.error;
    line(text);
  }
  void finish() {
    std::lock_guard lock(mu_);
    if (tty_ && !quiet_) std::cerr << "\r\033[K";
  }

 private:
  void line(const std::string& text) {
    if (tty_) std::cerr << "\r\033[K";
    std::cerr << text << "\n";
    if (tty_) draw();
  }
  void draw() {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    double frac = total_bytes_ ? static_cast<double>(bytes_) / static_cast<double>(total_bytes_) : 0;
    int filled = static_cast<int>(std::min(1.0, frac) * 30);
    std::cerr << "\r\033[K[" << std::string(filled, '#') << std::string(30 - filled, '.') << "] " << done_
              << "/" << total_paths_ << " paths  " << formatBytes(static_cast<double>(bytes_)) << " / "
              << formatBytes(static_cast<double>(total_bytes_)) << "  "
              << formatBytes(secs > 0 ? static_cast<double>(bytes_) / secs : 0) << "/s" << std::flush;
  }

  bool tty_, quiet_;
  std::size_t total_paths_;
  std::uint64_t total_bytes_;
  std::atomic<std::uint64_t> bytes_{0};
  std::size_t done_ = 0;
  std::mutex mu_;
  std::chrono::steady_clock::time_point started_, last_draw_;
};

json summaryJson(const client::PushPlan& plan, const client::PushSummary& s) {
  json failed = json::array();
  for (const auto& [path, error] : s.failed) failed.push_back({{"path", path}, {"error", error}});
  return {{"closure_paths", plan.closure_size},  {"already_present", plan.already_present},
          {"upstream_signed", plan.upstream_signed}, {"uploaded", s.uploaded},
          {"deduplicated", s.deduplicated},       {"bytes_sent", s.bytes_sent},
          {"bytes_deduplicated", s.bytes_deduplicated}, {"seconds", s.seconds},
          {"failed", failed}};
}

void printSummary(const client::PushPlan& plan, const client::PushSummary& s) {
  double mbps = s.seconds > 0 ? static_cast<double>(s.bytes_sent) / s.seconds / 1e6 : 0;
  char rate[64];
  std::snprintf(rate, sizeof rate, "%.2f s, %.1f MB/s", s.seconds, mbps);
  std::cerr << "pushed " << s.uploaded << " path(s), " << s.deduplicated << " already stored on the server; "
            << plan.already_present << " already in the cache, " << plan.upstream_signed
            << " from upstream; " << formatBytes(static_cast<double>(s.bytes_sent)) << " sent ("
            << formatBytes(static_cast<double>(s.bytes_deduplicated)) << " deduplicated) in " << rate
            << "\n";
  for (const auto& [path, error] : s.failed) std::cerr << "FAILED " << path << ": " << error << "\n";
}

// Plans and pushes `roots`; returns the summary or why planning failed.
Result<std::pair<client::PushPlan, client::PushSummary>> pushOnce(
    Connection& conn, client::LocalStore& store, const std::vector<std::string>& roots,
    const PushCliOptions& o, bool quiet, const std::atomic<bool>* stop) {
  client::PushOptions po;
  po.cache = conn.cache;
  po.jobs = o.jobs > 0 ? o.jobs : defaultJobs();
  po.retry.attempts = std::max(1, o.attempts);
  po.pin = o.pin;
  GARRET_ASSIGN_OR_RETURN(
      client::PushPlan plan,
      client::withRetries(
          po.retry, [&] { return client::planPush(store, *conn.api, roots, conn.cache, !o.no_skip_upstream); },
          [](int next, const Error& e, std::chrono::milliseconds delay) {
            std::cerr << "attempt " << next << " in " << delay.count() << " ms: " << e.message << "\n";
          }));
  if (o.dry_run) return std::pair{plan, client::PushSummary{}};
  if (!quiet && !plan.to_push.empty()) {
    std::cerr << plan.to_push.size() << " of " << plan.closure_size << " path(s) to push ("
              << formatBytes(static_cast<double>(plan.bytes_to_push)) << "); " << plan.already_present
              << " already in the cache, " << plan.upstream_signed << " from upstream; "
              << std::min<std::size_t>(static_cast<std::size_t>(po.jobs), plan.to_push.size())
              << " upload(s) at a time\n";
  }
  Progress progress(isatty(STDERR_FILENO) == 1, quiet, plan.to_push.size(), plan.bytes_to_push);
  auto make_http = [] { return client::makeCurlHttpClient(); };
  client::PushSummary s = client::pushPaths(store, make_http, conn.server.endpoint, conn.server.token, plan,
                                            po, progress, stop);
  progress.finish();
  return std::pair{plan, s};
}

Result<std::vector<std::string>> resolveRoots(client::LocalStore& store, const PushCliOptions& o) {
  std::vector<std::string> args = o.paths;
  if (o.stdin_paths) {
    for (std::string line; std::getline(std::cin, line);) {
      if (!line.empty()) args.push_back(line);
    }
  }
  if (args.empty()) return invalid("no paths to push: give store paths (or --stdin)");
  std::vector<std::string> roots;
  for (const auto& a : args) {
    GARRET_ASSIGN_OR_RETURN(std::string p, client::toStorePath(store, a));
    roots.push_back(std::move(p));
  }
  return roots;
}

int runPush(const PushCliOptions& o) {
  auto conn = connectCache(o.ref);
  if (!conn.ok()) return reportError(conn.error());
  auto store = client::openLocalStore(o.store_root);
  auto roots = resolveRoots(*store, o);
  if (!roots.ok()) return reportError(roots.error());
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  auto r = pushOnce(*conn, *store, *roots, o, o.json_out, &g_stop);
  if (!r.ok()) return reportError(r.error());
  auto& [plan, summary] = *r;
  if (o.dry_run) {
    for (const auto& p : plan.to_push) std::cout << p.path << "\n";
    std::cerr << plan.to_push.size() << " path(s), " << formatBytes(static_cast<double>(plan.bytes_to_push))
              << " to push; " << plan.already_present << " already in the cache, " << plan.upstream_signed
              << " from upstream\n";
    return kExitOk;
  }
  if (o.json_out) printJson(summaryJson(plan, summary));
  else printSummary(plan, summary);
  if (g_stop) return reportError(makeError(ErrorCode::kUnavailable, "interrupted; run the same push again to finish"));
  return summary.failed.empty() ? kExitOk : kExitFailed;
}

int runWatchStore(const PushCliOptions& o) {
  auto conn = connectCache(o.ref);
  if (!conn.ok()) return reportError(conn.error());
  auto store = client::openLocalStore(o.store_root);
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  client::WatchOptions wo;
  wo.include_derivations = o.include_drv;
  wo.batch_window = std::chrono::milliseconds(static_cast<std::int64_t>(o.batch_window * 1000));
  auto push = [&](const std::vector<std::string>& paths) -> Status {
    // Batches run to completion even when stopping (the final flush).
    GARRET_ASSIGN_OR_RETURN(auto r, pushOnce(*conn, *store, paths, o, false, nullptr));
    if (r.second.uploaded + r.second.deduplicated > 0 || !r.second.failed.empty()) printSummary(r.first, r.second);
    if (!r.second.failed.empty()) {
      return makeError(ErrorCode::kUnavailable, std::to_string(r.second.failed.size()) + " path(s) failed");
    }
    return {};
  };
  auto log = [](const std::string& m) { std::cerr << m << "\n"; };
  std::cerr << "watching " << (std::filesystem::path(o.store_root) / "nix/store").string() << " for new paths; pushing to "
            << conn->server_name << ":" << conn->cache << " (Ctrl-C or SIGTERM stops after a final push)\n";
  Status s = client::watchStore(*store, o.store_root, wo, push, g_stop, log);
  if (!s.ok()) return reportError(s.error());
  std::cerr << "stopped\n";
  return kExitOk;
}

void addCommonPushOptions(CLI::App* cmd, PushCliOptions& o) {
  cmd->add_option("cache", o.ref, "SERVER:CACHE, or CACHE on the default server")->required();
  cmd->add_option("-j,--jobs", o.jobs, "Parallel uploads (default: cores, 2 to 8)");
  cmd->add_option("--attempts", o.attempts, "Attempts per path before giving up (transient errors)")
      ->capture_default_str();
  cmd->add_option("--store", o.store_root, "Root of the local Nix store (a --store DIR chroot store)")
      ->capture_default_str();
  cmd->add_flag("--pin", o.pin, "Pin the pushed paths so garbage collection keeps them (garretd)");
  cmd->add_flag("--no-skip-upstream", o.no_skip_upstream,
                "Also push paths signed by the cache's upstream keys (e.g. cache.nixos.org)");
}

}  // namespace

void addPushCommands(CLI::App& root, Dispatch& d) {
  auto o = std::make_shared<PushCliOptions>();
  auto* push = root.add_subcommand(
      "push", "Push store paths and their closures to a cache (parallel, streaming, retried)");
  addCommonPushOptions(push, *o);
  push->add_option("paths", o->paths, "Store paths or links to them (e.g. ./result)");
  push->add_flag("--stdin", o->stdin_paths, "Also read paths from standard input, one per line");
  push->add_flag("--dry-run", o->dry_run, "Print what would be pushed and stop");
  push->add_flag("--json", o->json_out, "Print the summary as JSON (no per-path lines)");
  d.on(push, [o] { return runPush(*o); });

  auto w = std::make_shared<PushCliOptions>();
  auto* watch = root.add_subcommand(
      "watch-store", "Push every new store path as it appears, until stopped (survives server restarts)");
  addCommonPushOptions(watch, *w);
  watch->add_flag("--include-derivations", w->include_drv, "Also push .drv files");
  watch->add_option("--batch-window", w->batch_window, "Seconds to gather new paths into one batch")
      ->capture_default_str();
  d.on(watch, [w] { return runWatchStore(*w); });
}

}  // namespace garret::cli
