#pragma once

// WorkPool: a fixed set of threads running submitted tasks in FIFO order.
// Ingest hands chunk hashing and compression to it so that one upload uses
// every core while its chunks still land in the pack in stream order.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace garret::cache {

class WorkPool {
 public:
  // threads == 0: one per hardware thread.
  explicit WorkPool(unsigned threads = 0);
  ~WorkPool();  // runs the queued tasks, then joins
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  void submit(std::function<void()> task);
  unsigned size() const { return static_cast<unsigned>(threads_.size()); }

 private:
  void run();

  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace garret::cache
