#include "core/pipelined_sink.h"

#include <algorithm>

namespace garret {

PipelinedSink::PipelinedSink(Sink& next, std::size_t max_queued)
    : next_(next), max_queued_(max_queued), thread_([this] { run(); }) {}

PipelinedSink::~PipelinedSink() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    queue_.clear();
    queued_bytes_ = 0;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PipelinedSink::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and drained
    std::vector<std::uint8_t> piece = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    Status s = error_ ? Status() : next_.write(ByteSpan(piece.data(), piece.size()));
    lock.lock();
    busy_ = false;
    queued_bytes_ -= std::min(queued_bytes_, piece.size());
    if (!s.ok() && !error_) {
      error_ = s.error();
      queue_.clear();
      queued_bytes_ = 0;
    }
    cv_.notify_all();
  }
}

Status PipelinedSink::write(ByteSpan data) {
  if (data.empty()) return {};
  std::unique_lock lock(mu_);
  if (finished_) return makeError(ErrorCode::kInternal, "write after finish");
  // One piece may exceed the bound on its own; otherwise wait for room.
  cv_.wait(lock, [&] { return error_ || queued_bytes_ == 0 || queued_bytes_ + data.size() <= max_queued_; });
  if (error_) return *error_;
  queue_.emplace_back(data.begin(), data.end());
  queued_bytes_ += data.size();
  cv_.notify_all();
  return {};
}

Status PipelinedSink::finish() {
  {
    std::unique_lock lock(mu_);
    if (finished_) return makeError(ErrorCode::kInternal, "finish called twice");
    finished_ = true;
    cv_.wait(lock, [&] { return error_ || (queue_.empty() && !busy_); });
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (error_) return *error_;
  return next_.finish();
}

}  // namespace garret
