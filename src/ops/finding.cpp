#include "ops/finding.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <tuple>

namespace garret::ops {

namespace {

constexpr std::array<const char*, 4> kNames = {"info", "warning", "error", "blocker"};
constexpr std::array<const char*, 4> kColors = {"\033[36m", "\033[33m", "\033[31m", "\033[1;31m"};
constexpr const char* kReset = "\033[0m";

std::string xmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 forbids most control characters even as references.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string location(const Finding& f) {
  if (f.file.empty()) return "";
  return f.line > 0 ? f.file + ":" + std::to_string(f.line) : f.file;
}

std::string headline(const Finding& f) {
  std::string where = location(f);
  std::string out = f.subject;
  if (!where.empty()) out += out.empty() ? where : " (" + where + ")";
  return out;
}

}  // namespace

const char* severityName(Severity s) { return kNames[static_cast<int>(s)]; }

std::optional<Severity> parseSeverity(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (name == kNames[i]) return static_cast<Severity>(i);
  }
  if (name == "warn") return Severity::kWarning;
  return std::nullopt;
}

std::optional<Severity> worstSeverity(const std::vector<Finding>& findings) {
  std::optional<Severity> worst;
  for (const Finding& f : findings) {
    if (!worst || f.severity > *worst) worst = f.severity;
  }
  return worst;
}

int exitCodeFor(const std::vector<Finding>& findings, Severity fail_on) {
  auto worst = worstSeverity(findings);
  return worst && *worst >= fail_on ? 1 : 0;
}

void sortFindings(std::vector<Finding>& findings) {
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    return std::tuple(-static_cast<int>(a.severity), a.file, a.line, a.subject, a.id) <
           std::tuple(-static_cast<int>(b.severity), b.file, b.line, b.subject, b.id);
  });
}

std::string renderText(const std::vector<Finding>& findings, bool color) {
  std::string out;
  std::array<int, 4> counts{};
  for (const Finding& f : findings) {
    int s = static_cast<int>(f.severity);
    ++counts[s];
    std::string sev = severityName(f.severity);
    sev.resize(8, ' ');
    out += color ? std::string(kColors[s]) + sev + kReset : sev;
    out += f.id + "  " + headline(f) + "\n";
    if (!f.message.empty()) out += "         " + f.message + "\n";
    if (!f.fix.empty()) out += "         fix: " + f.fix + "\n";
  }
  if (findings.empty()) return "no findings\n";
  out += "\n" + std::to_string(findings.size()) + (findings.size() == 1 ? " finding" : " findings") + ":";
  for (int s = 3; s >= 0; --s) {
    if (counts[s] > 0) out += " " + std::to_string(counts[s]) + " " + kNames[s];
  }
  return out + "\n";
}

std::string renderJunit(std::string_view suite, const std::vector<Finding>& findings,
                        const std::vector<std::string>& passed) {
  int failures = 0;
  for (const Finding& f : findings) failures += f.severity >= Severity::kWarning ? 1 : 0;
  std::size_t tests = findings.size() + passed.size();
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites tests=\"" + std::to_string(tests) + "\" failures=\"" + std::to_string(failures) + "\">\n";
  out += "  <testsuite name=\"" + xmlEscape(suite) + "\" tests=\"" + std::to_string(tests) +
         "\" failures=\"" + std::to_string(failures) + "\" errors=\"0\">\n";
  for (const Finding& f : findings) {
    std::string name = f.id + (f.subject.empty() ? "" : " " + f.subject);
    out += "    <testcase classname=\"" + xmlEscape(std::string(suite) + "." + f.id) + "\" name=\"" +
           xmlEscape(name) + "\"";
    if (!f.file.empty()) out += " file=\"" + xmlEscape(f.file) + "\"";
    if (f.line > 0) out += " line=\"" + std::to_string(f.line) + "\"";
    out += ">\n";
    std::string text = f.message + (f.fix.empty() ? "" : "\nfix: " + f.fix);
    if (f.severity >= Severity::kWarning) {
      out += "      <failure type=\"" + std::string(severityName(f.severity)) + "\" message=\"" +
             xmlEscape(f.message) + "\">" + xmlEscape(text) + "</failure>\n";
    } else {
      out += "      <system-out>" + xmlEscape(text) + "</system-out>\n";
    }
    out += "    </testcase>\n";
  }
  for (const std::string& p : passed) {
    out += "    <testcase classname=\"" + xmlEscape(std::string(suite) + "." + p) + "\" name=\"" +
           xmlEscape(p) + "\"/>\n";
  }
  return out + "  </testsuite>\n</testsuites>\n";
}

nlohmann::json findingToJson(const Finding& f) {
  nlohmann::json j = {{"id", f.id},          {"severity", severityName(f.severity)},
                      {"subject", f.subject}, {"message", f.message},
                      {"fix", f.fix}};
  if (!f.file.empty()) j["file"] = f.file;
  if (f.line > 0) j["line"] = f.line;
  return j;
}

bool stdoutWantsColor() {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && no_color[0] != '\0') return false;
  return isatty(STDOUT_FILENO) == 1;
}

}  // namespace garret::ops
