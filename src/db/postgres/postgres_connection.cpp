#include "db/postgres/postgres_connection.h"

#include <poll.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "core/text.h"

namespace garret::db::postgres {

namespace {

struct StateMapping {
  std::string_view state;  // a full SQLSTATE, or a two-character class
  ErrorCode code;
};

// Full codes first: they are matched exactly, classes after.
constexpr StateMapping kStates[] = {
    {"23505", ErrorCode::kAlreadyExists},    // unique_violation
    {"57014", ErrorCode::kUnavailable},      // query_canceled (statement_timeout)
    {"57P01", ErrorCode::kUnavailable},      // admin_shutdown
    {"57P02", ErrorCode::kUnavailable},      // crash_shutdown
    {"57P03", ErrorCode::kUnavailable},      // cannot_connect_now (starting up)
    {"40001", ErrorCode::kUnavailable},      // serialization_failure
    {"40P01", ErrorCode::kUnavailable},      // deadlock_detected
    {"55P03", ErrorCode::kUnavailable},      // lock_not_available
    {"25006", ErrorCode::kUnavailable},      // read_only_sql_transaction (a standby)
    {"22021", ErrorCode::kInvalidArgument},  // character_not_in_repertoire
    {"22P05", ErrorCode::kInvalidArgument},  // untranslatable_character
};
constexpr StateMapping kClasses[] = {
    {"23", ErrorCode::kConflict},     // integrity constraint violation
    {"08", ErrorCode::kUnavailable},  // connection exception
    {"53", ErrorCode::kUnavailable},  // insufficient resources (too many connections)
};

// One line: libpq messages carry newlines and tabs.
std::string oneLine(std::string_view text) { return collapseBlanks(text); }

// libpq's own multi-line message as one line: the lines joined with "; ",
// without libpq's tab-indented hints (ours replace them).
std::string withoutHints(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (line.empty() || line.front() == '\t') continue;
    if (!out.empty()) out += "; ";
    out += oneLine(line);
  }
  return out;
}

std::string firstLine(std::string_view text) {
  while (text.starts_with('\n')) text.remove_prefix(1);
  return oneLine(text.substr(0, text.find('\n')));
}

// The password part of a URI's user info, to keep it out of messages.
std::string uriPassword(std::string_view url) {
  std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme + 3);
  std::size_t at = rest.find('@');
  if (at == std::string_view::npos) return {};
  std::string_view userinfo = rest.substr(0, at);
  std::size_t colon = userinfo.find(':');
  if (colon == std::string_view::npos) return {};
  return std::string(userinfo.substr(colon + 1));
}

std::string redact(std::string message, const std::string& secret) {
  if (secret.empty()) return message;
  for (std::size_t at = message.find(secret); at != std::string::npos;
       at = message.find(secret, at)) {
    message.replace(at, secret.size(), "***");
  }
  return message;
}

std::string hostAndPort(const PGconn* conn) {
  const char* host = PQhost(conn);
  const char* port = PQport(conn);
  std::string out = host != nullptr && *host != '\0' ? host : "localhost";
  if (port != nullptr && *port != '\0') out += std::string(":") + port;
  return out;
}

// What to check, judged from libpq's message.
std::string_view connectHint(std::string_view message) {
  auto has = [&](std::string_view s) { return message.find(s) != std::string_view::npos; };
  if (has("password") || has("authentication failed")) {
    return "check the user name and the password (in the URL or in `[database] password-file`)";
  }
  if (has("database") && has("does not exist")) {
    return "create the database first (e.g. `createdb -O <user> <name>`) or fix its name in the "
           "URL";
  }
  if (has("role") && has("does not exist")) {
    return "create the role first (`createuser <name>`) or fix the user name in the URL";
  }
  if (has("SSL") || has("certificate")) return "check `sslmode` and the certificates in the URL";
  if (has("pg_hba.conf")) return "allow this host and user in the server's pg_hba.conf";
  return "is the server running and the URL right?";
}

std::optional<std::int64_t> parseInt(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

ErrorCode translateSqlState(std::string_view sqlstate) {
  for (const auto& m : kStates) {
    if (m.state == sqlstate) return m.code;
  }
  for (const auto& m : kClasses) {
    if (sqlstate.substr(0, 2) == m.state) return m.code;
  }
  return ErrorCode::kInternal;
}

bool isConnectionLoss(std::string_view sqlstate) {
  return sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

// --- Params --------------------------------------------------------------------

Params& Params::add(std::int64_t value) {
  values_.emplace_back(std::to_string(value));
  return *this;
}

Params& Params::add(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) has_nul_ = true;
  values_.emplace_back(std::string(text));
  return *this;
}

Params& Params::add(bool value) {
  values_.emplace_back(value ? "true" : "false");
  return *this;
}

Params& Params::add(std::optional<std::int64_t> value) { return value ? add(*value) : addNull(); }

Params& Params::addNull() {
  values_.emplace_back(std::nullopt);
  return *this;
}

Params& Params::addArray(const std::vector<std::int64_t>& values) {
  std::string literal = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) literal += ',';
    literal += std::to_string(values[i]);
  }
  values_.emplace_back(literal + "}");
  return *this;
}

Params& Params::addArray(const std::vector<std::string>& values) {
  // Every element quoted, so that no content (commas, braces, "NULL") is
  // read as array syntax.
  std::string literal = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) literal += ',';
    literal += '"';
    for (char c : values[i]) {
      if (c == '\0') has_nul_ = true;
      if (c == '"' || c == '\\') literal += '\\';
      literal += c;
    }
    literal += '"';
  }
  values_.emplace_back(literal + "}");
  return *this;
}

std::vector<const char*> Params::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (const auto& value : values_) out.push_back(value ? value->c_str() : nullptr);
  return out;
}

// --- rows ----------------------------------------------------------------------

std::int64_t Row::int64(int column) const {
  if (isNull(column)) return 0;
  return parseInt(PQgetvalue(result_, row_, column)).value_or(0);
}

std::string Row::text(int column) const {
  return std::string(PQgetvalue(result_, row_, column),
                     static_cast<std::size_t>(PQgetlength(result_, row_, column)));
}

bool Row::boolean(int column) const {
  return !isNull(column) && PQgetvalue(result_, row_, column)[0] == 't';
}

bool Row::isNull(int column) const { return PQgetisnull(result_, row_, column) != 0; }

std::uint64_t Rows::affected() const {
  auto n = parseInt(PQcmdTuples(result_.get()));
  return n ? static_cast<std::uint64_t>(*n) : 0;
}

// --- connecting ------------------------------------------------------------------

Result<std::vector<std::pair<std::string, std::string>>> connectParams(const ConnectSpec& spec) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(spec.url.c_str(), &error);
  if (parsed == nullptr) {
    std::string message = error != nullptr ? oneLine(error) : "out of memory";
    PQfreemem(error);
    return invalid("database URL is not valid: " + redact(message, uriPassword(spec.url)));
  }
  std::set<std::string> given;
  std::string url_options;
  for (const PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0') continue;
    given.insert(o->keyword);
    if (std::strcmp(o->keyword, "options") == 0) url_options = o->val;
  }
  PQconninfoFree(parsed);

  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("dbname", spec.url);  // expanded: later keywords override it
  auto fallback = [&](const char* key, std::string value) {
    if (!given.contains(key)) out.emplace_back(key, std::move(value));
  };
  fallback("connect_timeout", std::to_string(spec.connect_timeout_seconds));
  fallback("application_name", "garretd");
  // A dead peer (a failed-over primary, a cut network) is noticed within
  // about a minute instead of the kernel's two hours.
  fallback("keepalives", "1");
  fallback("keepalives_idle", "30");
  fallback("keepalives_interval", "10");
  fallback("keepalives_count", "3");
  std::string options = "-c statement_timeout=" + std::to_string(spec.statement_timeout_ms);
  if (!url_options.empty()) options += " " + url_options;
  out.emplace_back("options", options);
  if (spec.password) out.emplace_back("password", *spec.password);
  out.emplace_back("client_encoding", "UTF8");
  return out;
}

Result<std::string> readPasswordFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return makeError(ErrorCode::kIo, "cannot read the database password file " + path + ": " +
                                         std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string password = text.str();
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!password.empty() && space(password.back())) password.pop_back();
  std::size_t start = 0;
  while (start < password.size() && space(password[start])) ++start;
  password.erase(0, start);
  if (password.empty()) return invalid("the database password file " + path + " is empty");
  return password;
}

Result<std::unique_ptr<Connection>> Connection::open(const ConnectSpec& spec) {
  GARRET_ASSIGN_OR_RETURN(auto params, connectParams(spec));
  std::vector<const char*> keys;
  std::vector<const char*> values;
  for (const auto& [key, value] : params) {
    keys.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* raw = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (raw == nullptr) return makeError(ErrorCode::kInternal, "libpq: out of memory");
  std::unique_ptr<Connection> conn(new Connection(raw));
  if (PQstatus(raw) != CONNECTION_OK) {
    std::string message = withoutHints(PQerrorMessage(raw));
    if (spec.password) message = redact(message, *spec.password);
    message = redact(message, uriPassword(spec.url));
    return makeError(ErrorCode::kUnavailable, "cannot connect to PostgreSQL at " +
                                                  hostAndPort(raw) + ": " + message + "; " +
                                                  std::string(connectHint(message)));
  }
  // Notices (e.g. "relation already exists, skipping") are not errors and
  // must not reach stderr.
  PQsetNoticeProcessor(
      raw, [](void*, const char*) {}, nullptr);
  return conn;
}

// --- statements --------------------------------------------------------------------

Result<Rows> Connection::exec(std::string_view sql, const Params& params) {
  if (params.hasNul()) {
    return invalid("a text value contains a NUL byte, which PostgreSQL cannot store");
  }
  std::string text(sql);
  std::vector<const char*> values = params.pointers();
  // The unnamed statement: parsed each time (cheap for these statements)
  // but usable through PgBouncer's transaction pooling, where named
  // prepared statements may not be.
  return check(PQexecParams(conn_.get(), text.c_str(), params.size(), /*paramTypes=*/nullptr,
                            values.data(), /*paramLengths=*/nullptr, /*paramFormats=*/nullptr,
                            /*resultFormat=text*/ 0),
               sql);
}

Status Connection::execScript(std::string_view sql) {
  std::string text(sql);
  GARRET_TRY(check(PQexec(conn_.get(), text.c_str()), sql));
  return okStatus();
}

Result<Rows> Connection::check(PGresult* result, std::string_view sql) {
  if (result != nullptr) {
    ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Rows(result);
  }
  Error error = failure(result, sql);
  PQclear(result);
  return error;
}

Error Connection::failure(const PGresult* result, std::string_view sql) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string sqlstate = state != nullptr ? state : "";
  if (PQstatus(conn_.get()) == CONNECTION_BAD || isConnectionLoss(sqlstate)) {
    lost_ = true;
    const char* text = result != nullptr ? PQresultErrorMessage(result) : "";
    if (*text == '\0') text = PQerrorMessage(conn_.get());
    return makeError(ErrorCode::kUnavailable,
                     "lost the connection to PostgreSQL at " + where() + ": " + firstLine(text));
  }
  const char* primary =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = oneLine(primary != nullptr ? primary : PQerrorMessage(conn_.get()));
  const char* detail =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL) : nullptr;
  if (detail != nullptr) message += " (" + oneLine(detail) + ")";
  return makeError(translateSqlState(sqlstate), message + " in: " + oneLine(sql));
}

bool Connection::usable() const { return !lost_ && PQstatus(conn_.get()) == CONNECTION_OK; }

bool Connection::checkIdle() {
  if (!usable()) return false;
  int fd = PQsocket(conn_.get());
  if (fd < 0) return false;
  // An idle connection receives nothing unless the server is going away
  // (a shutdown's FATAL message, EOF) or changed state (a promoted
  // standby's parameter report): either way a fresh connection is safer.
  pollfd pfd{fd, POLLIN, 0};
  int ready = ::poll(&pfd, 1, 0);
  if (ready != 0) {
    lost_ = true;
    return false;
  }
  return true;
}

bool Connection::inTransaction() const { return PQtransactionStatus(conn_.get()) != PQTRANS_IDLE; }

std::string Connection::where() const { return hostAndPort(conn_.get()); }

// --- transactions --------------------------------------------------------------------

Transaction::~Transaction() {
  if (active_ && conn_.usable() && conn_.inTransaction()) {
    (void)conn_.execScript("ROLLBACK");
  }
}

Status Transaction::begin() {
  GARRET_TRY(conn_.execScript("BEGIN"));
  active_ = true;
  return okStatus();
}

Status Transaction::commit() {
  active_ = false;  // a failed COMMIT ends the transaction too
  return conn_.execScript("COMMIT");
}

}  // namespace garret::db::postgres
