#include "ops/kube/json_access.h"

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

std::optional<std::int64_t> parseRfc3339(std::string_view text) {
  std::string s(text);
  int y, mo, d, h, mi, sec, consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970 || y > 9999) {
    return std::nullopt;
  }
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9';) ++i;
  }
  std::int64_t offset = 0;
  std::string_view zone = std::string_view(s).substr(i);
  if (zone == "Z" || zone == "z") {
    offset = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset = (zone[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<std::int64_t>(::timegm(&tm)) - offset;
}

}  // namespace garret::ops
