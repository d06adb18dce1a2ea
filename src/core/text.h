#pragma once

// Small text helpers shared by the parsers of headers, configs and files.

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace garret {

// Without leading and trailing ASCII whitespace (std::isspace in the C locale).
inline std::string_view trimSpace(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// ASCII case-insensitive equality (HTTP header names, tokens).
inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Runs of the characters in `blanks` become one space; leading and trailing
// runs are dropped ("  a \t b " → "a b" with blanks " \t").
inline std::string collapseBlanks(std::string_view text, std::string_view blanks = " \t\n\r\f\v") {
  std::string out;
  bool pending = false;
  for (char c : text) {
    if (blanks.find(c) != std::string_view::npos) {
      pending = !out.empty();
      continue;
    }
    if (pending) out += ' ';
    pending = false;
    out += c;
  }
  return out;
}

}  // namespace garret
