#pragma once

// Watching a local Nix store for new paths (garret watch-store).
//
// Nix writes a path's files into the store directory and then registers it
// in its database, so inotify events on the store directory and on the
// database directory are wake-ups; what counts as new is read from the
// database (paths with a row id above the last one seen), so no path is
// missed when events are dropped or coalesced. A poll every `poll_interval`
// covers filesystems without inotify.

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "client/local_store.h"
#include "core/result.h"

namespace garret::client {

struct WatchOptions {
  // Events within this window are gathered into one batch.
  std::chrono::milliseconds batch_window{std::chrono::milliseconds(1500)};
  std::chrono::milliseconds poll_interval{std::chrono::seconds(30)};
  bool include_derivations = false;  // push .drv files too
  // A failed batch is retried after this delay, doubling up to the max.
  std::chrono::milliseconds retry_delay{std::chrono::seconds(2)};
  std::chrono::milliseconds max_retry_delay{std::chrono::minutes(2)};
};

// Calls `push` with each batch of new store paths until `stop` becomes true,
// then pushes what is still pending once more (a final flush).
// A batch whose push fails is kept and retried with the next one (after a
// backoff), so paths built while the server restarts are pushed once it is
// back. Returns an error only when the store cannot be watched or read.
Status watchStore(LocalStore& store, const std::filesystem::path& root, const WatchOptions& options,
                  const std::function<Status(const std::vector<std::string>&)>& push,
                  const std::atomic<bool>& stop,
                  const std::function<void(const std::string&)>& log);

}  // namespace garret::client
