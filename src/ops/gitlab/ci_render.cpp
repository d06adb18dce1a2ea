#include "ops/gitlab/ci_render.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/hash.h"

namespace garret::ops::gitlab {
namespace {

const char* codeQualitySeverity(Severity s) {
  switch (s) {
    case Severity::kInfo: return "info";
    case Severity::kWarning: return "minor";
    case Severity::kError: return "major";
    case Severity::kBlocker: return "blocker";
  }
  return "major";
}

// Plain scalars that YAML would read back as something other than the string
// they hold once the original quoting is lost.
bool needsQuotes(const YAML::Node& n) {
  if (n.Tag() == "!") return true;  // quoted in the source
  const std::string& s = n.Scalar();
  if (s.empty()) return n.Tag() != "?";
  // Plain scalars lose surrounding blanks and cannot hold control characters.
  if (s.front() == ' ' || s.front() == '\t' || s.back() == ' ' || s.back() == '\t') return true;
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// A literal block (`|`) reads back as exactly `s` only when `s` ends with one
// newline, starts with neither a space nor a newline, and has no control
// characters besides newline and tab; anything else is double-quoted.
bool literalBlockFits(const std::string& s) {
  if (s.size() < 2 || s.back() != '\n' || s[s.size() - 2] == '\n') return false;
  if (s[0] == ' ' || s[0] == '\n') return false;
  for (unsigned char c : s) {
    if (c < 0x20 && c != '\n' && c != '\t') return false;
    if (c == 0x7f) return false;
  }
  return true;
}

void emitNode(YAML::Emitter& out, const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Sequence:
      out << YAML::BeginSeq;
      for (const auto& e : n) emitNode(out, e);
      out << YAML::EndSeq;
      return;
    case YAML::NodeType::Map:
      out << YAML::BeginMap;
      for (const auto& kv : n) {
        out << YAML::Key;
        emitNode(out, kv.first);
        out << YAML::Value;
        emitNode(out, kv.second);
      }
      out << YAML::EndMap;
      return;
    case YAML::NodeType::Scalar:
      if (n.Scalar().find('\n') != std::string::npos && literalBlockFits(n.Scalar())) {
        out << YAML::Literal << n.Scalar();
      } else if (needsQuotes(n) || n.Scalar().find('\n') != std::string::npos) {
        out << YAML::DoubleQuoted << n.Scalar();
      } else {
        out << n.Scalar();
      }
      return;
    default:
      out << YAML::Null;
  }
}

}  // namespace

std::optional<CiFormat> parseCiFormat(std::string_view name) {
  if (name == "text") return CiFormat::kText;
  if (name == "json") return CiFormat::kJson;
  if (name == "junit") return CiFormat::kJunit;
  if (name == "codequality") return CiFormat::kCodeQuality;
  return std::nullopt;
}

std::string findingFingerprint(const Finding& f) {
  const std::string key = f.id + "\n" + f.file + "\n" + f.subject + "\n" + f.message;
  return Hash::of(key).toHex().substr(0, 32);
}

std::string renderCiJson(const std::vector<Finding>& findings) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const Finding& f : findings) {
    list.push_back({{"id", f.id},     {"severity", severityName(f.severity)},
                    {"job", f.subject}, {"file", f.file},
                    {"line", f.line}, {"message", f.message},
                    {"fix", f.fix}});
  }
  // Findings quote the input, which may not be valid UTF-8: replace, never throw.
  return nlohmann::ordered_json{{"findings", list}}.dump(
             2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) +
         "\n";
}

std::string renderCodeQuality(const std::vector<Finding>& findings) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const Finding& f : findings) {
    std::string description = f.message;
    if (!f.subject.empty()) description = f.subject + ": " + description;
    if (!f.fix.empty()) description += " (fix: " + f.fix + ")";
    list.push_back({{"description", description},
                    {"check_name", f.id},
                    {"fingerprint", findingFingerprint(f)},
                    {"severity", codeQualitySeverity(f.severity)},
                    {"location", {{"path", f.file}, {"lines", {{"begin", f.line > 0 ? f.line : 1}}}}}});
  }
  return list.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string renderCiFindings(CiFormat format, const std::vector<Finding>& findings, bool color) {
  switch (format) {
    case CiFormat::kJson: return renderCiJson(findings);
    case CiFormat::kJunit: return renderJunit("garret-ci-lint", findings);
    case CiFormat::kCodeQuality: return renderCodeQuality(findings);
    case CiFormat::kText: break;
  }
  return renderText(findings, color);
}

std::string renderMergedJob(const std::string& name, const YAML::Node& job) {
  YAML::Emitter out;
  out.SetIndent(2);
  out << YAML::BeginMap << YAML::Key << name << YAML::Value;
  emitNode(out, job);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace garret::ops::gitlab
