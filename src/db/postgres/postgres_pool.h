#pragma once

// A fixed-size pool of PostgreSQL connections, used only by
// PostgresMetadataDb. Thread-safe.
//
// acquire() lends one connection to the caller (a Lease, returned when it
// goes out of scope). Connections are opened on demand, up to `size`; a
// caller finding all of them lent waits up to `acquire_timeout`, then gets
// kUnavailable.
//
// Broken connections heal by themselves: a connection that saw a
// connection error, or that the server closed while it sat idle (checked
// without a round trip at every checkout), is dropped and replaced by a new
// one. After a failed connection attempt, further attempts are skipped for
// `reconnect_interval` and calls fail at once with the same kUnavailable
// error, so that a server outage costs callers no waiting; the first call
// after the interval tries again, alone (meanwhile the others keep failing
// at once), and its success ends the outage.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "core/result.h"
#include "db/postgres/postgres_connection.h"

namespace garret::db::postgres {

struct PoolOptions {
  int size = 8;
  std::chrono::milliseconds acquire_timeout{10000};
  std::chrono::milliseconds reconnect_interval{1000};
};

class ConnectionPool {
 public:
  using Connect = std::function<Result<std::unique_ptr<Connection>>()>;

  // A connection lent to one caller.
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  ConnectionPool(Connect connect, PoolOptions options);
  ~ConnectionPool();  // every Lease must be gone
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  Result<Lease> acquire();

  // Connections currently open (idle or lent).
  int openConnections();

 private:
  void giveBack(std::unique_ptr<Connection> conn);
  Result<std::unique_ptr<Connection>> connect();

  const Connect connect_;
  PoolOptions options_;
  std::mutex mu_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;  // idle + lent + being opened
  // Set after a failed connection attempt, cleared by a successful one.
  std::optional<Error> last_failure_;
  std::chrono::steady_clock::time_point next_attempt_{};
  bool probing_ = false;  // a connection attempt during an outage is under way
};

}  // namespace garret::db::postgres
