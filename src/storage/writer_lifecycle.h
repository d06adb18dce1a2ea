#pragma once

// WriterLifecycle: the states every BlobWriter goes through, shared by the
// implementations. Open (write() allowed) → finished (all bytes handed over)
// → committed (the blob is visible); any failure makes the writer failed for
// good, and every later call returns that first error.

#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.h"

namespace garret::storage {

class WriterLifecycle {
 public:
  enum class State { kOpen, kFinished, kCommitted, kFailed };

  // `what` names the blob in errors ("s3 object x", "/data/blob").
  // `on_failure` releases what a failed writer holds (temp file, upload).
  WriterLifecycle(std::string what, std::function<void()> on_failure)
      : what_(std::move(what)), on_failure_(std::move(on_failure)) {}

  State state() const { return state_; }
  void set(State s) { state_ = s; }

  // OK when in `wanted`; the first error when failed; else a bug report.
  Status expect(State wanted, std::string_view op) const {
    if (state_ == wanted) return {};
    if (state_ == State::kFailed) return error_;
    return makeError(ErrorCode::kInternal,
                     std::string(op) + " on blob writer for " + what_ + " in the wrong state");
  }

  // Passes `status` through; a failure is remembered and on_failure runs.
  Status guard(Status status) {
    if (status.ok()) return status;
    error_ = status.error();
    state_ = State::kFailed;
    on_failure_();
    return status;
  }

 private:
  std::string what_;
  std::function<void()> on_failure_;
  State state_ = State::kOpen;
  Error error_;
};

}  // namespace garret::storage
