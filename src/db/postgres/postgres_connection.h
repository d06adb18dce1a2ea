#pragma once

// RAII wrappers over libpq, used only by PostgresMetadataDb: a Connection
// owning PGconn*, Rows owning a PGresult*, Params (every value is sent as a
// parameter, never spliced into SQL text) and a Transaction that rolls back
// unless committed.
//
// Not thread-safe: a Connection is used by one thread at a time (the pool
// hands it out to one caller).

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace garret::db::postgres {

// Maps a SQLSTATE to our error code: unique violation → kAlreadyExists,
// other integrity violations → kConflict; connection failures, shutdowns,
// timeouts, lock/serialization failures, too many connections and a
// read-only (standby) server → kUnavailable; text the database encoding
// cannot hold → kInvalidArgument; anything else → kInternal.
ErrorCode translateSqlState(std::string_view sqlstate);

// True for SQLSTATEs after which the connection is unusable.
bool isConnectionLoss(std::string_view sqlstate);

// Query parameters, $1 first, all sent as text. Strings may not contain
// NUL bytes (PostgreSQL text cannot); such a value makes the query fail
// with kInvalidArgument before anything is sent.
class Params {
 public:
  Params& add(std::int64_t value);
  Params& add(std::string_view text);
  Params& add(const char* text) { return add(std::string_view(text)); }
  Params& add(const std::string& text) { return add(std::string_view(text)); }
  Params& add(bool value);
  Params& add(std::optional<std::int64_t> value);
  Params& addNull();
  // Array literals for `$n::bigint[]` and `$n::text[]`.
  Params& addArray(const std::vector<std::int64_t>& values);
  Params& addArray(const std::vector<std::string>& values);

  int size() const { return static_cast<int>(values_.size()); }
  bool hasNul() const { return has_nul_; }
  // Pointers into this object, valid while it lives unchanged.
  std::vector<const char*> pointers() const;

 private:
  std::vector<std::optional<std::string>> values_;
  bool has_nul_ = false;
};

// One row of a result, in text format. Column indexes start at 0.
class Row {
 public:
  Row(const PGresult* result, int row) : result_(result), row_(row) {}
  std::int64_t int64(int column) const;  // 0 for NULL
  std::string text(int column) const;    // "" for NULL
  bool boolean(int column) const;        // false for NULL
  bool isNull(int column) const;

 private:
  const PGresult* result_;
  int row_;
};

// A successful statement's result.
class Rows {
 public:
  explicit Rows(PGresult* result) : result_(result) {}
  int size() const { return PQntuples(result_.get()); }
  Row row(int index) const { return Row(result_.get(), index); }
  // Rows inserted, updated or deleted (PQcmdTuples).
  std::uint64_t affected() const;

 private:
  struct Clear {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  std::unique_ptr<PGresult, Clear> result_;
};

// How to reach the server.
struct ConnectSpec {
  // postgres://…, postgresql://… or a "key=value …" conninfo string.
  std::string url;
  // Replaces the URL's password when set.
  std::optional<std::string> password;
  int connect_timeout_seconds = 5;
  int statement_timeout_ms = 30000;
};

// The keyword/value pairs given to PQconnectdbParams (with expand_dbname):
// the URL first, then garret's defaults for what it leaves unset
// (connect_timeout, TCP keepalives, application_name), statement_timeout
// ahead of any `options` the URL has (so the URL's own setting wins), the
// password, and client_encoding=UTF8. kInvalidArgument if libpq cannot
// parse the URL; the message never contains the password.
Result<std::vector<std::pair<std::string, std::string>>> connectParams(const ConnectSpec& spec);

// The password in `path`, without surrounding whitespace (a trailing
// newline is usual). kIo if unreadable, kInvalidArgument if empty.
Result<std::string> readPasswordFile(const std::string& path);

class Connection {
 public:
  // Connects (blocking, bounded by spec.connect_timeout_seconds). Failing is
  // kUnavailable with a message saying where and what to check, or
  // kInvalidArgument for a malformed URL.
  static Result<std::unique_ptr<Connection>> open(const ConnectSpec& spec);

  // Runs one parameterized statement (PQexecParams: one round trip).
  Result<Rows> exec(std::string_view sql, const Params& params = {});
  // Runs SQL text without parameters, possibly several statements
  // (migrations, BEGIN/COMMIT/ROLLBACK).
  Status execScript(std::string_view sql);

  // False once a connection error was seen or libpq reports the connection
  // bad; the pool then discards it.
  bool usable() const;
  // For an idle connection: reads what the server sent meanwhile without
  // blocking (a shut-down server's farewell, EOF) and says whether the
  // connection is still good.
  bool checkIdle();
  // Whether a transaction is open (or failed and not yet rolled back).
  bool inTransaction() const;
  // "host:port" of the server, for messages.
  std::string where() const;

 private:
  struct Finish {
    void operator()(PGconn* c) const { PQfinish(c); }
  };

  explicit Connection(PGconn* conn) : conn_(conn) {}
  Error failure(const PGresult* result, std::string_view sql);
  Result<Rows> check(PGresult* result, std::string_view sql);

  std::unique_ptr<PGconn, Finish> conn_;
  bool lost_ = false;
};

// BEGIN on begin(); ROLLBACK on destruction unless committed.
class Transaction {
 public:
  explicit Transaction(Connection& conn) : conn_(conn) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Status begin();
  Status commit();

 private:
  Connection& conn_;
  bool active_ = false;
};

}  // namespace garret::db::postgres
