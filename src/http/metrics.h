#pragma once

// Prometheus metrics of the HTTP server: requests by route and status, a
// latency histogram, bytes in and out, uploads and auth refusals.
// Thread-safe; rendering produces the Prometheus text format.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace garret::http {

class Metrics {
 public:
  // `route` must be a string with static storage (a route name).
  void observeRequest(const char* route, int status, double seconds,
                      std::uint64_t bytes_in, std::uint64_t bytes_out);
  void countUpload(bool ok) { (ok ? uploads_ok_ : uploads_failed_)++; }
  void countAuthFailure() { auth_failures_++; }
  void connectionOpened() { open_connections_++; }
  void connectionClosed() { open_connections_--; }
  std::string render() const;

  static constexpr std::array<double, 12> kBuckets = {0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                      0.025,  0.05,   0.1,   0.5,    1.0,   10.0};

 private:
  mutable std::mutex mu_;
  std::map<std::pair<const char*, int>, std::uint64_t> requests_;
  std::array<std::uint64_t, kBuckets.size()> bucket_counts_{};
  std::uint64_t latency_count_ = 0;
  double latency_sum_ = 0;
  std::atomic<std::uint64_t> bytes_in_{0}, bytes_out_{0};
  std::atomic<std::uint64_t> uploads_ok_{0}, uploads_failed_{0}, auth_failures_{0};
  std::atomic<std::int64_t> open_connections_{0};
};

}  // namespace garret::http
