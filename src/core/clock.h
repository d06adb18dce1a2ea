#pragma once

// Time as unix seconds behind an interface so tests can simulate it.

#include <atomic>
#include <cstdint>

namespace garret {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now() const = 0;  // unix seconds
};

class SystemClock final : public Clock {
 public:
  std::int64_t now() const override;
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t t = 1'700'000'000) : t_(t) {}
  std::int64_t now() const override { return t_.load(); }
  void set(std::int64_t t) { t_ = t; }
  void advance(std::int64_t d) { t_ += d; }

 private:
  std::atomic<std::int64_t> t_;
};

}  // namespace garret
