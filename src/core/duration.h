#pragma once

// Human durations as Attic's config and atticadm accept them (humantime
// style): "30s", "12 hours", "1 day", "6 months", "2y", "1h 30m", "0".
// Units: s/sec/secs/second/seconds, m/min/mins/minute/minutes, h/hr/hrs/hour/hours,
// d/day/days, w/week/weeks, M/month/months (30.44 days), y/year/years (365.25 days).

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace garret {

// Seconds; kInvalidArgument naming the bad part, e.g. `unknown unit "fortnights"`.
Result<std::int64_t> parseDuration(std::string_view text);
// Largest whole units, e.g. 93600 → "1day 2h"; 0 → "0s".
std::string formatDuration(std::int64_t seconds);

}  // namespace garret
