// parseDuration (core/duration.h) on arbitrary text, and formatDuration on
// arbitrary values. Accepted durations are non-negative and reparse from
// their formatted form; surrounding blanks change nothing; two accepted
// durations joined by a space parse to their sum (unless it overflows).

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

#include "core/duration.h"
#include "fuzz_util.h"

namespace {

using garret::fuzz::escaped;

bool allZeros(std::string_view s) {
  // parseDuration's special case: "0" (any zeros and blanks) needs no unit.
  return s.find_first_not_of("0 \t") == std::string_view::npos;
}

void checkFormat(std::int64_t seconds) {
  std::string text = garret::formatDuration(seconds);
  FUZZ_CHECK(!text.empty());
  if (seconds < 0) {
    FUZZ_CHECK(text.front() == '-');
    return;
  }
  auto parsed = garret::parseDuration(text);
  FUZZ_CHECK_MSG(parsed.ok() && *parsed == seconds,
                 std::to_string(seconds) + " formatted as \"" + text + "\" parses as " +
                     (parsed.ok() ? std::to_string(*parsed) : parsed.error().message));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = garret::fuzz::asText(data, size);
  auto parsed = garret::parseDuration(text);
  auto padded = garret::parseDuration(" \t" + std::string(text) + "\t ");
  FUZZ_CHECK_MSG(parsed.ok() == padded.ok() && (!parsed.ok() || *parsed == *padded),
                 escaped(text));
  if (parsed.ok()) {
    FUZZ_CHECK_MSG(*parsed >= 0, escaped(text));
    checkFormat(*parsed);
  } else {
    FUZZ_CHECK(parsed.error().code == garret::ErrorCode::kInvalidArgument);
  }

  // Split at the first '|' into two durations.
  std::size_t bar = text.find('|');
  if (bar != std::string_view::npos) {
    std::string_view a = text.substr(0, bar), b = text.substr(bar + 1);
    auto pa = garret::parseDuration(a), pb = garret::parseDuration(b);
    if (pa.ok() && pb.ok() && !allZeros(a) && !allZeros(b) &&
        *pa <= std::numeric_limits<std::int64_t>::max() - *pb) {
      auto sum = garret::parseDuration(std::string(a) + " " + std::string(b));
      FUZZ_CHECK_MSG(sum.ok() && *sum == *pa + *pb, escaped(text));
    }
  }

  // The raw bytes as a number, for formatDuration's whole range.
  if (size >= 8) {
    std::int64_t v;
    std::memcpy(&v, data, 8);
    checkFormat(v);
    checkFormat(v == std::numeric_limits<std::int64_t>::min() ? 0 : (v < 0 ? -v : v));
  }
  return 0;
}
