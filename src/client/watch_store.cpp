#include "client/watch_store.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <thread>

namespace garret::client {

namespace {

using Clock = std::chrono::steady_clock;

class Inotify {
 public:
  explicit Inotify(const std::filesystem::path& root) : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    if (fd_ < 0) return;
    ::inotify_add_watch(fd_, (root / "nix/store").c_str(), IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE);
    ::inotify_add_watch(fd_, (root / "nix/var/nix/db").c_str(), IN_MODIFY | IN_CLOSE_WRITE);
  }
  ~Inotify() {
    if (fd_ >= 0) ::close(fd_);
  }
  Inotify(const Inotify&) = delete;
  Inotify& operator=(const Inotify&) = delete;

  // Waits up to `timeout` for events; true when some arrived (all are drained).
  bool wait(std::chrono::milliseconds timeout) {
    if (fd_ < 0) {
      std::this_thread::sleep_for(timeout);
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    alignas(inotify_event) char buf[16384];
    while (::read(fd_, buf, sizeof buf) > 0) {
    }
    return true;
  }

 private:
  int fd_;
};

bool wanted(const std::string& path, const WatchOptions& options) {
  return options.include_derivations || !path.ends_with(".drv");
}

}  // namespace

Status watchStore(LocalStore& store, const std::filesystem::path& root, const WatchOptions& options,
                  const std::function<Status(const std::vector<std::string>&)>& push,
                  const std::atomic<bool>& stop, const std::function<void(const std::string&)>& log) {
  GARRET_ASSIGN_OR_RETURN(std::int64_t last_id, store.lastPathId());
  Inotify events(root);
  std::set<std::string> pending;
  auto delay = options.retry_delay;
  auto next_try = Clock::now();
  auto next_poll = Clock::now() + options.poll_interval;
  auto step = std::min<std::chrono::milliseconds>(std::chrono::milliseconds(250), options.batch_window);
  while (!stop) {
    bool woke = events.wait(step);
    if (woke) {  // gather the rest of the burst
      auto until = Clock::now() + options.batch_window;
      while (!stop && Clock::now() < until) events.wait(step);
    }
    if (woke || Clock::now() >= next_poll) {
      next_poll = Clock::now() + options.poll_interval;
      GARRET_ASSIGN_OR_RETURN(std::vector<PathInfo> added, store.pathsAddedAfter(last_id));
      for (const auto& info : added) {
        last_id = std::max(last_id, info.id);
        if (wanted(info.path, options)) pending.insert(info.path);
      }
    }
    if (pending.empty() || Clock::now() < next_try || stop) continue;
    std::vector<std::string> batch(pending.begin(), pending.end());
    Status s = push(batch);
    if (s.ok()) {
      for (const auto& p : batch) pending.erase(p);
      delay = options.retry_delay;
      continue;
    }
    log("push of " + std::to_string(batch.size()) + " path(s) failed, retrying in " +
        std::to_string(delay.count() / 1000.0).substr(0, 4) + " s: " + s.error().message);
    next_try = Clock::now() + delay;
    delay = std::min(delay * 2, options.max_retry_delay);
  }
  // Stopping: one last look and one push of what is left, so a CI job that
  // stops the watcher at its end still pushes what it built last.
  auto added = store.pathsAddedAfter(last_id);
  if (added.ok()) {
    for (const auto& info : *added) {
      if (wanted(info.path, options)) pending.insert(info.path);
    }
  }
  if (!pending.empty()) {
    Status s = push(std::vector<std::string>(pending.begin(), pending.end()));
    if (!s.ok()) log("final push of " + std::to_string(pending.size()) + " path(s) failed: " + s.error().message);
  }
  return {};
}

}  // namespace garret::client
