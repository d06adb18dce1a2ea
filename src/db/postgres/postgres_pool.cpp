#include "db/postgres/postgres_pool.h"

#include <string>
#include <utility>

namespace garret::db::postgres {

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr && conn_ != nullptr) pool_->giveBack(std::move(conn_));
}

ConnectionPool::ConnectionPool(Connect connect, PoolOptions options)
    : connect_(std::move(connect)), options_(options) {
  if (options_.size < 1) options_.size = 1;
}

ConnectionPool::~ConnectionPool() = default;

Result<ConnectionPool::Lease> ConnectionPool::acquire() {
  std::unique_ptr<Connection> conn;
  {
    std::unique_lock lock(mu_);
    bool free = returned_.wait_for(lock, options_.acquire_timeout,
                                   [&] { return !idle_.empty() || open_ < options_.size; });
    if (!free) {
      return makeError(ErrorCode::kUnavailable,
                       "all " + std::to_string(options_.size) +
                           " database connections stayed busy for " +
                           std::to_string(options_.acquire_timeout.count()) +
                           " ms; raise `garret.database-pool-size` or look for slow queries");
    }
    if (!idle_.empty()) {
      conn = std::move(idle_.back());  // the most recently used: warm
      idle_.pop_back();
    } else {
      ++open_;  // our slot, connection to follow
    }
  }
  // Outside the lock: the check reads a socket, connecting may block.
  if (conn != nullptr && conn->checkIdle()) return Lease(this, std::move(conn));
  conn.reset();
  auto fresh = connect();
  if (!fresh.ok()) {
    std::lock_guard lock(mu_);
    --open_;
    returned_.notify_one();
    return std::move(fresh).error();
  }
  return Lease(this, std::move(fresh).value());
}

Result<std::unique_ptr<Connection>> ConnectionPool::connect() {
  auto now = std::chrono::steady_clock::now();
  {
    // In an outage one caller at a time probes the server (a connect to an
    // unreachable host may block for connect_timeout); the others fail now.
    std::lock_guard lock(mu_);
    if (last_failure_ && (now < next_attempt_ || probing_)) return *last_failure_;
    if (last_failure_) probing_ = true;
  }
  auto conn = connect_();
  std::lock_guard lock(mu_);
  probing_ = false;
  if (conn.ok()) {
    last_failure_.reset();
  } else {
    last_failure_ = conn.error();
    next_attempt_ = std::chrono::steady_clock::now() + options_.reconnect_interval;
  }
  return conn;
}

void ConnectionPool::giveBack(std::unique_ptr<Connection> conn) {
  // A transaction left open (a bug, or a failed ROLLBACK) must not leak
  // into the next caller's statements.
  if (conn->usable() && conn->inTransaction() && !conn->execScript("ROLLBACK").ok()) {
    conn.reset();
  }
  if (conn != nullptr && !conn->usable()) conn.reset();
  std::lock_guard lock(mu_);
  if (conn != nullptr) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  returned_.notify_one();
}

int ConnectionPool::openConnections() {
  std::lock_guard lock(mu_);
  return open_;
}

}  // namespace garret::db::postgres
