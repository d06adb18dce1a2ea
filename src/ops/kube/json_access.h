#pragma once

// Lookups into untrusted JSON (API responses, recorded fixtures) that never
// throw: a missing key or a value of the wrong type gives the fallback.
// nlohmann's own value()/at() throw on type mismatches, so checks use these.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace garret::ops {

// The value at `path` (object keys), or nullptr when any step is missing.
const nlohmann::json* jsonAt(const nlohmann::json& j, std::initializer_list<std::string_view> path);

std::string jsonString(const nlohmann::json& j, std::initializer_list<std::string_view> path,
                       std::string fallback = "");
// Integers and floats (truncated); fallback for anything else.
std::int64_t jsonInt(const nlohmann::json& j, std::initializer_list<std::string_view> path,
                     std::int64_t fallback = 0);
bool jsonBool(const nlohmann::json& j, std::initializer_list<std::string_view> path, bool fallback = false);
// The array at `path`, or an empty array.
const nlohmann::json& jsonArray(const nlohmann::json& j, std::initializer_list<std::string_view> path);

// Parses JSON text without throwing; nullopt when it is not JSON.
std::optional<nlohmann::json> parseJson(std::string_view text);

// RFC 3339 timestamp ("2024-05-01T12:00:00Z", fractions and offsets allowed)
// to unix seconds; nullopt when malformed.
std::optional<std::int64_t> parseRfc3339(std::string_view text);

}  // namespace garret::ops
