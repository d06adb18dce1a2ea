#include "http/metrics.h"

#include <fmt/format.h>

namespace garret::http {

void Metrics::observeRequest(const char* route, int status, double seconds,
                             std::uint64_t bytes_in, std::uint64_t bytes_out) {
  bytes_in_ += bytes_in;
  bytes_out_ += bytes_out;
  std::lock_guard lock(mu_);
  requests_[{route, status}]++;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) bucket_counts_[i]++;
  }
  latency_count_++;
  latency_sum_ += seconds;
}

namespace {

void family(std::string& out, std::string_view name, std::string_view type,
            std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

std::string Metrics::render() const {
  std::string out;
  std::lock_guard lock(mu_);
  family(out, "garret_http_requests_total", "counter", "HTTP requests by route and status.");
  for (const auto& [key, n] : requests_) {
    out += fmt::format("garret_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", key.first,
                       key.second, n);
  }
  family(out, "garret_http_request_duration_seconds", "histogram", "Request latency.");
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    out += fmt::format("garret_http_request_duration_seconds_bucket{{le=\"{}\"}} {}\n",
                       kBuckets[i], bucket_counts_[i]);
  }
  out += fmt::format("garret_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n",
                     latency_count_);
  out += fmt::format("garret_http_request_duration_seconds_sum {}\n", latency_sum_);
  out += fmt::format("garret_http_request_duration_seconds_count {}\n", latency_count_);
  struct Counter {
    const char* name;
    const char* help;
    std::uint64_t value;
  };
  const Counter counters[] = {
      {"garret_http_received_bytes_total", "Request body bytes received.", bytes_in_.load()},
      {"garret_http_sent_bytes_total", "Response body bytes sent.", bytes_out_.load()},
      {"garret_auth_failures_total", "Requests refused for missing or bad credentials.",
       auth_failures_.load()},
  };
  for (const auto& [name, help, value] : counters) {
    family(out, name, "counter", help);
    out += fmt::format("{} {}\n", name, value);
  }
  family(out, "garret_uploads_total", "counter", "NAR and narinfo uploads by result.");
  out += fmt::format("garret_uploads_total{{result=\"ok\"}} {}\n", uploads_ok_.load());
  out += fmt::format("garret_uploads_total{{result=\"failed\"}} {}\n", uploads_failed_.load());
  family(out, "garret_http_open_connections", "gauge", "Open client connections.");
  out += fmt::format("garret_http_open_connections {}\n", open_connections_.load());
  return out;
}

}  // namespace garret::http
