#include "ops/kube/json_access.h"

#include "core/timestamp.h"

#include <cstdio>
#include <ctime>

namespace garret::ops {

const nlohmann::json* jsonAt(const nlohmann::json& j, std::initializer_list<std::string_view> path) {
  const nlohmann::json* cur = &j;
  for (std::string_view key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(std::string(key));
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string jsonString(const nlohmann::json& j, std::initializer_list<std::string_view> path,
                       std::string fallback) {
  const nlohmann::json* v = jsonAt(j, path);
  return v != nullptr && v->is_string() ? v->get<std::string>() : fallback;
}

std::int64_t jsonInt(const nlohmann::json& j, std::initializer_list<std::string_view> path,
                     std::int64_t fallback) {
  const nlohmann::json* v = jsonAt(j, path);
  if (v == nullptr) return fallback;
  if (v->is_number_unsigned()) return static_cast<std::int64_t>(v->get<std::uint64_t>());
  if (v->is_number_integer()) return v->get<std::int64_t>();
  if (v->is_number_float()) {
    double d = v->get<double>();
    if (d != d || d > 9.2e18 || d < -9.2e18) return fallback;
    return static_cast<std::int64_t>(d);
  }
  return fallback;
}

bool jsonBool(const nlohmann::json& j, std::initializer_list<std::string_view> path, bool fallback) {
  const nlohmann::json* v = jsonAt(j, path);
  return v != nullptr && v->is_boolean() ? v->get<bool>() : fallback;
}

const nlohmann::json& jsonArray(const nlohmann::json& j, std::initializer_list<std::string_view> path) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  const nlohmann::json* v = jsonAt(j, path);
  return v != nullptr && v->is_array() ? *v : kEmpty;
}

std::optional<nlohmann::json> parseJson(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::optional<std::int64_t> parseRfc3339(std::string_view text) { return parseRfc3339Seconds(text); }

}  // namespace garret::ops
