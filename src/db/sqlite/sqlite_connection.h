#pragma once

// RAII wrappers over the sqlite3 C API, used only by SqliteMetadataDb:
// a Connection owning sqlite3* and a cache of prepared statements, a
// Statement lease that resets its cached statement when it goes out of
// scope, and a Transaction that rolls back unless committed.
//
// Not thread-safe: the owner serialises access to a Connection.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.h"

namespace garret::db::sqlite {

// Maps an sqlite3 result code (primary or extended) to our error code:
// busy/locked/cantopen → kUnavailable, unique/primary key → kAlreadyExists,
// other constraints → kConflict, anything else → kInternal.
ErrorCode translateResultCode(int rc);

// A cached prepared statement in use. Binding indexes start at 1; column
// indexes at 0. A bind failure is reported by the next step()/run().
class Statement {
 public:
  Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, std::optional<std::int64_t> value);
  Statement& bindNull(int index);

  // true: a row is available; false: done.
  Result<bool> step();
  // Steps until done, ignoring rows.
  Status run();

  std::int64_t int64(int column) const;
  std::string text(int column) const;
  bool isNull(int column) const;

 private:
  Error error(int rc) const;

  sqlite3_stmt* stmt_;
  sqlite3* db_;
  int bind_rc_ = SQLITE_OK;
};

class Connection {
 public:
  // Opens (creating if missing) the database at `path`; ":memory:" is a
  // private in-memory database.
  static Result<std::unique_ptr<Connection>> open(const std::string& path);

  // Runs one or more statements without results.
  Status exec(std::string_view sql);
  // Prepares `sql` once and hands out the cached statement, reset.
  Result<Statement> prepare(std::string_view sql);
  // Rows changed by the last INSERT/UPDATE/DELETE.
  std::int64_t changes() const;
  Error error(int rc, std::string_view what) const;
  sqlite3* handle() const { return db_.get(); }

 private:
  struct CloseDb {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  struct FinalizeStmt {
    void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
  };

  explicit Connection(sqlite3* db) : db_(db) {}

  std::unique_ptr<sqlite3, CloseDb> db_;
  // Declared after db_ so statements are finalized before the close.
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, FinalizeStmt>> statements_;
};

// BEGIN IMMEDIATE on begin(): the write lock is taken up front, so a
// read-then-write transaction never fails half way on lock upgrade.
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

}  // namespace garret::db::sqlite
