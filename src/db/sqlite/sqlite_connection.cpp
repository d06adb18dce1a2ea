#include "db/sqlite/sqlite_connection.h"

#include <utility>

namespace garret::db::sqlite {

namespace {

struct CodeMapping {
  int rc;
  ErrorCode code;
};

// Extended codes first: they are matched exactly, primary codes after.
constexpr CodeMapping kExtendedCodes[] = {
    {SQLITE_CONSTRAINT_UNIQUE, ErrorCode::kAlreadyExists},
    {SQLITE_CONSTRAINT_PRIMARYKEY, ErrorCode::kAlreadyExists},
};

constexpr CodeMapping kPrimaryCodes[] = {
    {SQLITE_BUSY, ErrorCode::kUnavailable},
    {SQLITE_LOCKED, ErrorCode::kUnavailable},
    {SQLITE_CANTOPEN, ErrorCode::kUnavailable},
    {SQLITE_CONSTRAINT, ErrorCode::kConflict},
};

}  // namespace

ErrorCode translateResultCode(int rc) {
  for (const auto& m : kExtendedCodes) {
    if (m.rc == rc) return m.code;
  }
  for (const auto& m : kPrimaryCodes) {
    if (m.rc == (rc & 0xff)) return m.code;
  }
  return ErrorCode::kInternal;
}

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), db_(other.db_), bind_rc_(other.bind_rc_) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Statement& Statement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  int rc =
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::bind(int index, std::optional<std::int64_t> value) {
  return value ? bind(index, *value) : bindNull(index);
}

Statement& Statement::bindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Result<bool> Statement::step() {
  if (bind_rc_ != SQLITE_OK) return error(bind_rc_);
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return error(rc);
}

Status Statement::run() {
  while (true) {
    GARRET_ASSIGN_OR_RETURN(bool row, step());
    if (!row) return okStatus();
  }
}

std::int64_t Statement::int64(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::text(int column) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  int size = sqlite3_column_bytes(stmt_, column);
  return data == nullptr ? std::string() : std::string(data, static_cast<std::size_t>(size));
}

bool Statement::isNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Error Statement::error(int rc) const {
  // After sqlite3_step the connection's message describes this statement.
  std::string message = sqlite3_errmsg(db_);
  return makeError(translateResultCode(rc), message + " in: " + sqlite3_sql(stmt_));
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& path) {
  sqlite3* raw = nullptr;
  // Our owner serialises access, so sqlite's own connection mutex is off.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<Connection> conn(new Connection(raw));
  if (rc != SQLITE_OK) {
    std::string what = "opening database " + path;
    if (raw == nullptr) return makeError(ErrorCode::kInternal, what + ": out of memory");
    return conn->error(rc, what);
  }
  sqlite3_extended_result_codes(raw, 1);
  return conn;
}

Status Connection::exec(std::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error(rc, text);
  return okStatus();
}

Result<Statement> Connection::prepare(std::string_view sql) {
  std::string key(sql);
  auto it = statements_.find(key);
  if (it == statements_.end()) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v3(db_.get(), key.data(), static_cast<int>(key.size()),
                                SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    if (rc != SQLITE_OK) return error(rc, "preparing " + key);
    it = statements_.emplace(std::move(key), raw).first;
  }
  return Statement(it->second.get(), db_.get());
}

std::int64_t Connection::changes() const { return sqlite3_changes64(db_.get()); }

Error Connection::error(int rc, std::string_view what) const {
  return makeError(translateResultCode(rc), std::string(what) + ": " + sqlite3_errmsg(db_.get()));
}

Transaction::~Transaction() {
  if (active_ && sqlite3_get_autocommit(conn_.handle()) == 0) {
    (void)conn_.exec("ROLLBACK");
  }
}

Status Transaction::begin() {
  GARRET_TRY(conn_.exec("BEGIN IMMEDIATE"));
  active_ = true;
  return okStatus();
}

Status Transaction::commit() {
  GARRET_TRY(conn_.exec("COMMIT"));
  active_ = false;
  return okStatus();
}

}  // namespace garret::db::sqlite
