#pragma once

// String lists stored as JSON array text in a database column
// (references, sigs, upstream_cache_key_names). Never throws.

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace garret::db {

// kInvalidArgument if a string is not valid UTF-8.
Result<std::string> toJsonArray(const std::vector<std::string>& items);
// kInternal if the stored text is not a JSON array of strings.
Result<std::vector<std::string>> parseJsonArray(std::string_view text);

}  // namespace garret::db
