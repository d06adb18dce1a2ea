#pragma once

// Result<T>: the return type of every operation that can fail for reasons
// outside the program's control (bad input, I/O, auth, busy database).
// Bugs are asserts; expected failures are Results. Never throws.

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace garret {

enum class ErrorCode {
  kInvalidArgument,   // malformed input from a client or a file (400)
  kNotFound,          // the named thing does not exist (404)
  kAlreadyExists,     // creating something that exists (400 in Attic's API)
  kUnauthorized,      // no or bad credentials (401)
  kForbidden,         // credentials lack the permission (403)
  kConflict,          // concurrent change, retry may succeed (409)
  kPayloadTooLarge,   // body or header over a limit (413)
  kUnavailable,       // database or storage unreachable/busy (503)
  kIo,                // local I/O failure (500)
  kInternal,          // anything else (500)
};

const char* errorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // Prefixes the message with context: "reading narinfo: <message>".
  Error context(std::string_view what) const {
    return Error{code, std::string(what) + ": " + message};
  }
};

inline Error makeError(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}
inline Error invalid(std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}
inline Error notFound(std::string message) {
  return Error{ErrorCode::kNotFound, std::move(message)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { assert(!ok()); return std::get<1>(v_); }
  Error&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& { assert(!ok_); return error_; }
  Error&& error() && { assert(!ok_); return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status okStatus() { return Status(); }

}  // namespace garret

// Early return on failure, for functions returning any Result<U>.
#define GARRET_TRY(expr)                              \
  do {                                                \
    auto&& garret_try_r_ = (expr);                    \
    if (!garret_try_r_.ok()) return garret_try_r_.error(); \
  } while (0)

#define GARRET_CONCAT_INNER_(a, b) a##b
#define GARRET_CONCAT_(a, b) GARRET_CONCAT_INNER_(a, b)
// GARRET_ASSIGN_OR_RETURN(auto x, f()); declares x from a Result or returns its error.
#define GARRET_ASSIGN_OR_RETURN(decl, expr) \
  GARRET_ASSIGN_OR_RETURN_IMPL_(GARRET_CONCAT_(garret_r_, __LINE__), decl, expr)
#define GARRET_ASSIGN_OR_RETURN_IMPL_(tmp, decl, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return std::move(tmp).error();        \
  decl = std::move(tmp).value()
