#include "ops/gitlab/ci_policy.h"

#include <toml.hpp>

#include <algorithm>
#include <map>
#include <sstream>

namespace garret::ops::gitlab {
namespace {

using TomlValue = toml::basic_value<toml::discard_comments, std::map, std::vector>;

std::string where(std::string_view source, const TomlValue& v) {
  const auto line = v.location().line();
  return line == 0 ? std::string(source) : std::string(source) + ":" + std::to_string(line);
}

Result<std::vector<std::string>> stringList(std::string_view source, const std::string& key,
                                            const TomlValue& v) {
  if (!v.is_array()) return invalid(where(source, v) + ": '" + key + "' must be an array of strings");
  std::vector<std::string> out;
  for (const TomlValue& e : v.as_array()) {
    if (!e.is_string()) {
      return invalid(where(source, e) + ": '" + key + "' must be an array of strings");
    }
    out.push_back(e.as_string().str);
  }
  return out;
}

Result<TomlValue> parseToml(std::string_view text, std::string_view source) {
  try {
    std::istringstream in{std::string(text)};
    return toml::parse<toml::discard_comments, std::map, std::vector>(in, std::string(source));
  } catch (const std::exception& e) {
    std::string message = e.what();
    if (message.rfind("[error] ", 0) == 0) message.erase(0, 8);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return invalid(std::string(source) + ": " + message);
  }
}

}  // namespace

const std::vector<std::string>& knownRetryReasons() {
  static const std::vector<std::string> kReasons = {
      "always",           "unknown_failure",        "script_failure",
      "api_failure",      "stuck_or_timeout_failure", "runner_system_failure",
      "runner_unsupported", "stale_schedule",       "job_execution_timeout",
      "archived_failure", "unmet_prerequisites",    "scheduler_failure",
      "data_integrity_failure"};
  return kReasons;
}

Result<CiPolicy> parseCiPolicy(std::string_view text, std::string_view source) {
  GARRET_ASSIGN_OR_RETURN(TomlValue root, parseToml(text, source));
  CiPolicy policy;
  const std::map<std::string, std::vector<std::string>*> fields = {
      {"dind_tags", &policy.dind_tags},
      {"required_tags", &policy.required_tags},
      {"forbidden_tags", &policy.forbidden_tags},
      {"retry_when", &policy.retry_when}};
  for (const auto& [key, value] : root.as_table()) {
    auto field = fields.find(key);
    if (field == fields.end()) {
      return invalid(where(source, value) + ": unknown key '" + key +
                     "' (known: dind_tags, required_tags, forbidden_tags, retry_when)");
    }
    GARRET_ASSIGN_OR_RETURN(*field->second, stringList(source, key, value));
  }
  for (const std::string& reason : policy.retry_when) {
    const auto& known = knownRetryReasons();
    if (std::find(known.begin(), known.end(), reason) == known.end()) {
      return invalid(std::string(source) + ": retry_when: unknown failure reason '" + reason + "'");
    }
  }
  return policy;
}

bool globMatch(std::string_view pattern, std::string_view text) {
  // Iterative matcher with one backtrack point: linear in practice, no recursion.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace garret::ops::gitlab
