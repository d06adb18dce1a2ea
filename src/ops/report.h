#pragma once

// Report output shared by preflight and doctor: --format text|json|junit
// and the "status" both commands put in their JSON.
//   status "pass"  nothing at or above --fail-on        (exit 0)
//   status "fail"  something at or above --fail-on      (exit 1)
//   status "error" the command itself could not run     (exit 2)

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ops/finding.h"

namespace garret::ops {

enum class ReportFormat { kText, kJson, kJunit, kPrometheus };

std::optional<ReportFormat> parseReportFormat(std::string_view name);

const char* reportStatus(const std::vector<Finding>& findings, Severity fail_on, bool could_not_run);
// 0, 1 or 2 as above.
int reportExitCode(const std::vector<Finding>& findings, Severity fail_on, bool could_not_run);

// {"status": ..., "findings": [...], <extra fields>}; findings keep their order.
nlohmann::json reportJson(const std::vector<Finding>& findings, const char* status,
                          const nlohmann::json& extra = nlohmann::json::object());

// Text, JSON or JUnit (suite = command name). kPrometheus is the doctor's.
std::string renderReport(ReportFormat format, std::string_view suite, const std::vector<Finding>& findings,
                         const std::vector<std::string>& passed, const char* status, bool color,
                         const nlohmann::json& extra = nlohmann::json::object());

}  // namespace garret::ops
