#include "core/duration.h"

#include <array>
#include <limits>

namespace garret {
namespace {

constexpr std::int64_t kMinute = 60;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::int64_t kWeek = 7 * kDay;
constexpr std::int64_t kMonth = 2'630'016;  // 30.44 days
constexpr std::int64_t kYear = 31'557'600;  // 365.25 days
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

struct Unit {
  std::string_view name;
  std::int64_t seconds;
};

constexpr std::array<Unit, 27> kUnits = {{
    {"s", 1},
    {"sec", 1},
    {"secs", 1},
    {"second", 1},
    {"seconds", 1},
    {"m", kMinute},
    {"min", kMinute},
    {"mins", kMinute},
    {"minute", kMinute},
    {"minutes", kMinute},
    {"h", kHour},
    {"hr", kHour},
    {"hrs", kHour},
    {"hour", kHour},
    {"hours", kHour},
    {"d", kDay},
    {"day", kDay},
    {"days", kDay},
    {"w", kWeek},
    {"week", kWeek},
    {"weeks", kWeek},
    {"M", kMonth},
    {"month", kMonth},
    {"months", kMonth},
    {"y", kYear},
    {"year", kYear},
    {"years", kYear},
}};

struct FormatUnit {
  std::int64_t seconds;
  std::string_view singular;
  std::string_view plural;
};

constexpr std::array<FormatUnit, 6> kFormatUnits = {{
    {kYear, "year", "years"},
    {kMonth, "month", "months"},
    {kDay, "day", "days"},
    {kHour, "h", "h"},
    {kMinute, "m", "m"},
    {1, "s", "s"},
}};

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isSpace(char c) { return c == ' ' || c == '\t'; }

const Unit* findUnit(std::string_view name) {
  for (const auto& unit : kUnits) {
    if (unit.name == name) return &unit;
  }
  return nullptr;
}

// A cursor over the text; each term is "<digits> [spaces] <unit letters>".
class DurationParser {
 public:
  explicit DurationParser(std::string_view text) : text_(text) {}

  Result<std::int64_t> run() {
    skipSpaces();
    if (pos_ == text_.size()) return invalid("empty duration");
    if (text_.find_first_not_of("0 \t", pos_) == std::string_view::npos) return std::int64_t{0};
    std::int64_t total = 0;
    while (pos_ < text_.size()) {
      GARRET_ASSIGN_OR_RETURN(std::int64_t term, parseTerm());
      if (term > kMax - total) return tooLarge();
      total += term;
      skipSpaces();
    }
    return total;
  }

 private:
  Result<std::int64_t> parseTerm() {
    if (!isDigit(peek())) return invalidAt("expected a number at");
    std::size_t start = pos_;
    std::int64_t n = 0;
    for (; isDigit(peek()); ++pos_) {
      int digit = peek() - '0';
      if (n > (kMax - digit) / 10) return tooLarge();
      n = n * 10 + digit;
    }
    std::string_view number = text_.substr(start, pos_ - start);
    skipSpaces();
    std::size_t unit_start = pos_;
    while (isLetter(peek())) ++pos_;
    std::string_view unit_name = text_.substr(unit_start, pos_ - unit_start);
    if (pos_ < text_.size() && !isSpace(peek()) && !isDigit(peek())) {
      return invalidAt("invalid character in duration at");
    }
    if (unit_name.empty()) return invalid("missing unit after \"" + std::string(number) + "\"");
    const Unit* unit = findUnit(unit_name);
    if (unit == nullptr) return invalid("unknown unit \"" + std::string(unit_name) + "\"");
    if (n > kMax / unit->seconds) return tooLarge();
    return n * unit->seconds;
  }

  Error invalidAt(std::string_view what) const {
    return invalid(std::string(what) + " \"" + std::string(text_.substr(pos_, 20)) + "\"");
  }
  Error tooLarge() const {
    return invalid("duration \"" + std::string(text_.substr(0, 40)) + "\" is too large");
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skipSpaces() {
    while (pos_ < text_.size() && isSpace(text_[pos_])) ++pos_;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

Result<std::int64_t> parseDuration(std::string_view text) { return DurationParser(text).run(); }

std::string formatDuration(std::int64_t seconds) {
  if (seconds == 0) return "0s";
  std::string out = seconds < 0 ? "-" : "";
  // Magnitude as unsigned so INT64_MIN does not overflow.
  std::uint64_t rest =
      seconds < 0 ? 0 - static_cast<std::uint64_t>(seconds) : static_cast<std::uint64_t>(seconds);
  bool first = true;
  for (const auto& unit : kFormatUnits) {
    std::uint64_t count = rest / static_cast<std::uint64_t>(unit.seconds);
    if (count == 0) continue;
    rest %= static_cast<std::uint64_t>(unit.seconds);
    if (!first) out += ' ';
    first = false;
    out += std::to_string(count);
    out += count == 1 ? unit.singular : unit.plural;
  }
  return out;
}

}  // namespace garret
