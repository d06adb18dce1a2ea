#pragma once

// FakeBlobStore: an in-memory BlobStore for tests of the layers above
// storage, with fault injection. It passes the same contract tests as the
// real stores. Thread-safe. The store must outlive its writers and readers;
// a reader keeps its own snapshot of the blob, so overwrites do not change
// what it reads.
//
// Fault knobs are public atomics: set `fail_next_writes = 2` and the next
// two write() calls fail with `fault_code` (a failed write kills its
// writer, as with a real store). `unavailable = true` fails every
// operation, ping() included, with kUnavailable.

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/blob_store.h"

namespace garret::storage {

class FakeBlobStore final : public BlobStore {
 public:
  std::atomic<int> fail_next_creates{0};
  std::atomic<int> fail_next_writes{0};
  std::atomic<int> fail_next_finishes{0};
  std::atomic<int> fail_next_commits{0};
  std::atomic<int> fail_next_opens{0};
  std::atomic<int> fail_next_reads{0};
  std::atomic<int> fail_next_removes{0};
  std::atomic<bool> unavailable{false};
  std::atomic<ErrorCode> fault_code{ErrorCode::kIo};

  Result<std::unique_ptr<BlobWriter>> create(std::string_view key) override {
    GARRET_TRY(check(key, fail_next_creates, "create"));
    return std::unique_ptr<BlobWriter>(std::make_unique<Writer>(*this, std::string(key)));
  }

  Result<std::unique_ptr<BlobReader>> open(std::string_view key) override {
    GARRET_TRY(check(key, fail_next_opens, "open"));
    std::lock_guard lock(mu_);
    auto it = blobs_.find(key);
    if (it == blobs_.end()) return notFound("no blob " + std::string(key));
    return std::unique_ptr<BlobReader>(std::make_unique<Reader>(*this, it->second));
  }

  Result<bool> exists(std::string_view key) override {
    GARRET_TRY(check(key, no_fault_, "exists"));
    std::lock_guard lock(mu_);
    return blobs_.find(key) != blobs_.end();
  }

  Status remove(std::string_view key) override {
    GARRET_TRY(check(key, fail_next_removes, "remove"));
    std::lock_guard lock(mu_);
    if (auto it = blobs_.find(key); it != blobs_.end()) blobs_.erase(it);
    return okStatus();
  }

  Result<std::vector<std::string>> list(std::string_view prefix) override {
    if (unavailable) return makeError(ErrorCode::kUnavailable, "fake blob store unavailable");
    if (!isValidBlobPrefix(prefix)) {
      return invalid("invalid blob prefix \"" + std::string(prefix) + "\"");
    }
    std::lock_guard lock(mu_);
    std::vector<std::string> keys;
    for (auto it = blobs_.lower_bound(prefix); it != blobs_.end() && it->first.starts_with(prefix);
         ++it) {
      keys.push_back(it->first);
    }
    return keys;
  }

  Status ping() override {
    if (unavailable) return makeError(ErrorCode::kUnavailable, "fake blob store unavailable");
    return okStatus();
  }

  // Inspection and direct manipulation, bypassing the fault knobs.
  std::size_t blobCount() const {
    std::lock_guard lock(mu_);
    return blobs_.size();
  }
  std::optional<std::string> peek(std::string_view key) const {
    std::lock_guard lock(mu_);
    auto it = blobs_.find(key);
    if (it == blobs_.end()) return std::nullopt;
    return *it->second;
  }
  // Stores `data` under `key` as is, e.g. to corrupt a blob for fsck tests.
  void poke(std::string_view key, std::string data) {
    std::lock_guard lock(mu_);
    blobs_[std::string(key)] = std::make_shared<const std::string>(std::move(data));
  }
  // Number of successful commits so far.
  int commitCount() const { return commits_.load(); }
  // Writers created and neither committed nor destroyed yet.
  int openWriters() const { return open_writers_.load(); }

 private:
  using Blob = std::shared_ptr<const std::string>;

  class Writer final : public BlobWriter {
   public:
    Writer(FakeBlobStore& store, std::string key) : store_(store), key_(std::move(key)) {
      ++store_.open_writers_;
    }
    ~Writer() override {
      if (state_ != State::kCommitted) --store_.open_writers_;
    }
    Status write(ByteSpan data) override {
      GARRET_TRY(step(State::kOpen, store_.fail_next_writes, "write"));
      buffer_.append(reinterpret_cast<const char*>(data.data()), data.size());
      return okStatus();
    }
    Status finish() override {
      GARRET_TRY(step(State::kOpen, store_.fail_next_finishes, "finish"));
      state_ = State::kFinished;
      return okStatus();
    }
    Status commit() override {
      if (state_ == State::kOpen) GARRET_TRY(finish());
      GARRET_TRY(step(State::kFinished, store_.fail_next_commits, "commit"));
      store_.poke(key_, std::move(buffer_));
      state_ = State::kCommitted;
      --store_.open_writers_;
      ++store_.commits_;
      return okStatus();
    }

   private:
    enum class State { kOpen, kFinished, kCommitted, kFailed };
    Status step(State wanted, std::atomic<int>& counter, std::string_view op) {
      if (state_ == State::kFailed) return makeError(ErrorCode::kIo, "blob writer is dead");
      if (state_ != wanted) {
        return makeError(ErrorCode::kInternal, std::string(op) + " in the wrong state");
      }
      Status status = store_.fault(counter, op);
      if (!status.ok()) {
        state_ = State::kFailed;
        buffer_.clear();
      }
      return status;
    }
    FakeBlobStore& store_;
    const std::string key_;
    std::string buffer_;
    State state_ = State::kOpen;
  };

  class Reader final : public BlobReader {
   public:
    Reader(FakeBlobStore& store, Blob blob) : store_(store), blob_(std::move(blob)) {}
    std::uint64_t size() const override { return blob_->size(); }
    Result<std::size_t> read(std::uint64_t offset, std::uint8_t* out, std::size_t length) override {
      GARRET_TRY(store_.fault(store_.fail_next_reads, "read"));
      if (offset >= blob_->size()) return std::size_t{0};
      std::size_t n = std::min<std::size_t>(length, blob_->size() - offset);
      std::copy_n(blob_->data() + offset, n, reinterpret_cast<char*>(out));
      return n;
    }

   private:
    FakeBlobStore& store_;
    const Blob blob_;
  };

  static bool take(std::atomic<int>& counter) {
    int n = counter.load();
    while (n > 0 && !counter.compare_exchange_weak(n, n - 1)) {
    }
    return n > 0;
  }

  Status fault(std::atomic<int>& counter, std::string_view op) {
    if (unavailable) return makeError(ErrorCode::kUnavailable, "fake blob store unavailable");
    if (take(counter)) return makeError(fault_code.load(), "injected fault in " + std::string(op));
    return okStatus();
  }

  Status check(std::string_view key, std::atomic<int>& counter, std::string_view op) {
    if (!isValidBlobKey(key)) return invalid("invalid blob key \"" + std::string(key) + "\"");
    return fault(counter, op);
  }

  mutable std::mutex mu_;
  std::map<std::string, Blob, std::less<>> blobs_;
  std::atomic<int> no_fault_{0};
  std::atomic<int> commits_{0};
  std::atomic<int> open_writers_{0};
};

}  // namespace garret::storage
