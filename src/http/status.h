#pragma once

// The one mapping from error codes to HTTP statuses and Attic's error body
// {"code": <status>, "error": "<Kind>", "message": "<text>"}.

#include <string>

#include "core/result.h"

namespace garret::http {

int httpStatus(ErrorCode code);
// Attic's error kind for a code, e.g. kNotFound → "NotFound".
const char* atticErrorKind(ErrorCode code);
std::string errorBody(const Error& error);

}  // namespace garret::http
