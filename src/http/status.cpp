#include "http/status.h"

#include <nlohmann/json.hpp>

namespace garret::http {

namespace {

struct Mapping {
  ErrorCode code;
  int status;
  const char* kind;
};

constexpr Mapping kMappings[] = {
    {ErrorCode::kInvalidArgument, 400, "RequestError"},
    {ErrorCode::kNotFound, 404, "NotFound"},
    {ErrorCode::kAlreadyExists, 400, "CacheAlreadyExists"},
    {ErrorCode::kUnauthorized, 401, "Unauthorized"},
    {ErrorCode::kForbidden, 403, "AccessError"},
    {ErrorCode::kConflict, 409, "Conflict"},
    {ErrorCode::kPayloadTooLarge, 413, "PayloadTooLarge"},
    {ErrorCode::kUnavailable, 503, "ServiceUnavailable"},
    {ErrorCode::kIo, 500, "StorageError"},
    {ErrorCode::kInternal, 500, "InternalServerError"},
};

const Mapping& mappingFor(ErrorCode code) {
  for (const auto& m : kMappings) {
    if (m.code == code) return m;
  }
  return kMappings[std::size(kMappings) - 1];
}

}  // namespace

int httpStatus(ErrorCode code) { return mappingFor(code).status; }

const char* atticErrorKind(ErrorCode code) { return mappingFor(code).kind; }

std::string errorBody(const Error& error) {
  nlohmann::json body = {{"code", httpStatus(error.code)},
                         {"error", atticErrorKind(error.code)},
                         {"message", error.message}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace garret::http
