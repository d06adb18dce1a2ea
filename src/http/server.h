#pragma once

// The HTTP server of garretd: Beast over Asio coroutines, N network threads
// plus a worker pool for every blocking database and storage call.
// Graceful stop: no new connections, idle keep-alive connections close,
// requests in flight finish (bounded by a grace period).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cache/authenticator.h"
#include "cache/cache_service.h"
#include "core/result.h"
#include "http/metrics.h"

namespace garret::http {

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port, [v6]:port; port 0 picks one
  int threads = 0;                        // network threads; 0 = number of cores
  int worker_threads = 0;                 // blocking-work pool; 0 = max(4, 2*cores)
  std::uint64_t max_header_size = 16 * 1024;
  std::uint64_t max_nar_info_size = 1 << 20;  // narinfo and JSON bodies
  std::uint64_t max_body_size = 64ull << 30;  // NAR uploads
  int idle_timeout_seconds = 60;          // keep-alive wait for the next request
  int io_timeout_seconds = 120;           // one read or write making no progress
  int shutdown_grace_seconds = 30;
  std::optional<std::string> api_endpoint;          // e.g. "https://cache.example.org/"
  std::optional<std::string> substituter_endpoint;  // defaults to api_endpoint
  std::int64_t access_flush_seconds = 10;
  // Only /health, /ready and /metrics (a garbage-collector replica,
  // `garretd serve --mode gc`); everything else is 404.
  bool ops_only = false;
};

class Server {
 public:
  Server(ServerOptions options, cache::CacheService& service,
         const cache::Authenticator& authenticator, Metrics& metrics);
  ~Server();

  // Binds the listening socket; returns the bound port.
  Result<std::uint16_t> bind();
  // Serves until stop() (or SIGINT/SIGTERM if handle_signals); blocks.
  void run(bool handle_signals);
  // Graceful stop; thread-safe.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace garret::http
