#include "ops/report.h"

namespace garret::ops {

std::optional<ReportFormat> parseReportFormat(std::string_view name) {
  if (name == "text") return ReportFormat::kText;
  if (name == "json") return ReportFormat::kJson;
  if (name == "junit") return ReportFormat::kJunit;
  if (name == "prometheus") return ReportFormat::kPrometheus;
  return std::nullopt;
}

const char* reportStatus(const std::vector<Finding>& findings, Severity fail_on, bool could_not_run) {
  if (could_not_run) return "error";
  return exitCodeFor(findings, fail_on) == 0 ? "pass" : "fail";
}

int reportExitCode(const std::vector<Finding>& findings, Severity fail_on, bool could_not_run) {
  return could_not_run ? 2 : exitCodeFor(findings, fail_on);
}

nlohmann::json reportJson(const std::vector<Finding>& findings, const char* status, const nlohmann::json& extra) {
  nlohmann::json out = {{"status", status}, {"findings", nlohmann::json::array()}};
  for (const Finding& f : findings) out["findings"].push_back(findingToJson(f));
  if (extra.is_object()) {
    for (auto it = extra.begin(); it != extra.end(); ++it) out[it.key()] = it.value();
  }
  return out;
}

std::string renderReport(ReportFormat format, std::string_view suite, const std::vector<Finding>& findings,
                         const std::vector<std::string>& passed, const char* status, bool color,
                         const nlohmann::json& extra) {
  switch (format) {
    case ReportFormat::kJson: return reportJson(findings, status, extra).dump(2) + "\n";
    case ReportFormat::kJunit: return renderJunit(suite, findings, passed);
    case ReportFormat::kText:
    case ReportFormat::kPrometheus: break;
  }
  return renderText(findings, color);
}

}  // namespace garret::ops
