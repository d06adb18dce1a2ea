#pragma once

// PipelinedSink: runs the next sink on a thread of its own, so whoever feeds
// the stream (a network reader) and the stages behind it (hashing,
// validation, chunking) work at the same time instead of taking turns.
//
// write() copies the piece into a bounded queue and returns; it blocks while
// `max_queued` bytes are waiting. An error of the next sink is returned by a
// later write() and by finish(); the stream is dead from then on. finish()
// waits for the queue to drain, then finishes the next sink on the caller's
// thread. The destructor abandons whatever is still queued and joins the
// thread (after the piece in progress, if any).
//
// Thread-safety: write()/finish() from one thread at a time (the producer).

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/stream.h"

namespace garret {

class PipelinedSink final : public Sink {
 public:
  PipelinedSink(Sink& next, std::size_t max_queued);
  ~PipelinedSink() override;
  PipelinedSink(const PipelinedSink&) = delete;
  PipelinedSink& operator=(const PipelinedSink&) = delete;

  Status write(ByteSpan data) override;
  Status finish() override;

 private:
  void run();

  Sink& next_;
  const std::size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<std::uint8_t>> queue_;
  std::size_t queued_bytes_ = 0;
  bool busy_ = false;      // the thread holds a piece
  bool stopping_ = false;  // finish() or the destructor: no more pieces
  bool finished_ = false;
  std::optional<Error> error_;
  std::thread thread_;
};

}  // namespace garret
