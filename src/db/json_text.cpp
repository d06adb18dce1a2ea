#include "db/json_text.h"

#include <nlohmann/json.hpp>

namespace garret::db {

Result<std::string> toJsonArray(const std::vector<std::string>& items) {
  try {
    return nlohmann::json(items).dump();
  } catch (const nlohmann::json::exception& e) {
    return invalid(std::string("cannot store string list: ") + e.what());
  }
}

Result<std::vector<std::string>> parseJsonArray(std::string_view text) {
  try {
    nlohmann::json parsed = nlohmann::json::parse(text);
    if (!parsed.is_array()) {
      return makeError(ErrorCode::kInternal, "stored string list is not a JSON array");
    }
    return parsed.get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    return makeError(ErrorCode::kInternal,
                     std::string("stored string list is corrupt: ") + e.what());
  }
}

}  // namespace garret::db
