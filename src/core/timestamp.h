#pragma once

// Timestamps in the text forms APIs send them: civil UTC time to Unix
// seconds, and RFC 3339 ("2026-11-27T12:00:00.25Z", "...+01:00") as sent by
// Kubernetes and GitLab. Pure; invalid text is nullopt, never an exception.

#include <cstdint>
#include <optional>
#include <string_view>

namespace garret {

// Unix seconds of a UTC civil time; nullopt outside 1970..9999 or for fields
// out of range (leap second 60 allowed).
std::optional<std::int64_t> civilToUnix(int year, int month, int day, int hour, int minute, int second);

// "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)" (T/Z in either case) to Unix
// seconds with the fraction.
std::optional<double> parseRfc3339(std::string_view text);
// The same, whole seconds (the fraction dropped).
std::optional<std::int64_t> parseRfc3339Seconds(std::string_view text);

}  // namespace garret
