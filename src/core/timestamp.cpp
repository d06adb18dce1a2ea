#include "core/timestamp.h"

#include <cctype>
#include <cmath>
#include <ctime>

namespace garret {

namespace {

// Parses exactly `n` digits at `pos`; advances pos.
std::optional<int> digits(std::string_view s, std::size_t& pos, int n) {
  if (pos + static_cast<std::size_t>(n) > s.size()) return std::nullopt;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[pos++];
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

bool expect(std::string_view s, std::size_t& pos, char a, char b = 0) {
  if (pos >= s.size() || (s[pos] != a && (b == 0 || s[pos] != b))) return false;
  ++pos;
  return true;
}

// "Z" or "±HH:MM" at the end of the text → offset east of UTC in seconds.
std::optional<int> zoneOffset(std::string_view zone) {
  if (zone == "Z" || zone == "z") return 0;
  std::size_t pos = 1;
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-')) return std::nullopt;
  auto h = digits(zone, pos, 2);
  if (!h || !expect(zone, pos, ':')) return std::nullopt;
  auto m = digits(zone, pos, 2);
  if (!m || *h > 23 || *m > 59) return std::nullopt;
  return (zone[0] == '+' ? 1 : -1) * (*h * 3600 + *m * 60);
}

}  // namespace

std::optional<std::int64_t> civilToUnix(int year, int month, int day, int hour, int minute, int second) {
  if (year < 1970 || year > 9999 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 ||
      hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<std::int64_t>(::timegm(&tm));
}

std::optional<double> parseRfc3339(std::string_view s) {
  std::size_t pos = 0;
  auto y = digits(s, pos, 4);
  if (!y || !expect(s, pos, '-')) return std::nullopt;
  auto mo = digits(s, pos, 2);
  if (!mo || !expect(s, pos, '-')) return std::nullopt;
  auto d = digits(s, pos, 2);
  if (!d || !expect(s, pos, 'T', 't')) return std::nullopt;
  auto h = digits(s, pos, 2);
  if (!h || !expect(s, pos, ':')) return std::nullopt;
  auto mi = digits(s, pos, 2);
  if (!mi || !expect(s, pos, ':')) return std::nullopt;
  auto sec = digits(s, pos, 2);
  if (!sec) return std::nullopt;
  double frac = 0, scale = 0.1;
  if (pos < s.size() && s[pos] == '.') {
    std::size_t start = ++pos;
    for (; pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])); ++pos, scale /= 10) {
      frac += (s[pos] - '0') * scale;
    }
    if (pos == start) return std::nullopt;
  }
  auto offset = zoneOffset(s.substr(pos));
  auto base = civilToUnix(*y, *mo, *d, *h, *mi, *sec);
  if (!offset || !base) return std::nullopt;
  return static_cast<double>(*base - *offset) + frac;
}

std::optional<std::int64_t> parseRfc3339Seconds(std::string_view text) {
  auto t = parseRfc3339(text);
  if (!t) return std::nullopt;
  return static_cast<std::int64_t>(std::floor(*t));
}

}  // namespace garret
