#pragma once

// Checks as data, shared by preflight, doctor and ci lint: a finding names
// what is wrong (id, stable and part of the interface), how bad it is, where,
// and the fix a person can act on. Renderers turn a list of findings into the
// text, JSON and JUnit reports the commands print.

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace garret::ops {

// Ordered: a finding is "at or above" a level when its severity >= level.
enum class Severity { kInfo = 0, kWarning = 1, kError = 2, kBlocker = 3 };

const char* severityName(Severity s);  // "info", "warning", "error", "blocker"
std::optional<Severity> parseSeverity(std::string_view name);

struct Finding {
  std::string id;        // e.g. "crd-missing", "untagged-job"
  Severity severity = Severity::kError;
  std::string subject;   // what it is about: a resource, a mount, a job name
  std::string file;      // source file (ci lint, manifests); empty when none
  int line = 0;          // 1-based; 0 when unknown
  std::string message;
  std::string fix;
};

// Highest severity present; nullopt for no findings.
std::optional<Severity> worstSeverity(const std::vector<Finding>& findings);
// Process exit code: 1 when any finding is at or above fail_on, else 0.
int exitCodeFor(const std::vector<Finding>& findings, Severity fail_on);
// Sorts by severity (worst first), then file, line, subject and id: stable output.
void sortFindings(std::vector<Finding>& findings);

// Human report: one block per finding ("error  untagged-job  build (ci.yml:12)",
// message, "fix: ..."), then a summary line. ANSI colours when `color`.
std::string renderText(const std::vector<Finding>& findings, bool color);
// JUnit XML: one testsuite named `suite`, one failing testcase per finding at
// warning or above (info findings are passing testcases with system-out), and
// one passing testcase per entry of `passed` (checks that ran clean).
std::string renderJunit(std::string_view suite, const std::vector<Finding>& findings,
                        const std::vector<std::string>& passed = {});
// {"id","severity","subject","file","line","message","fix"}; commands that
// name fields differently (ci lint's "job") rename in their own renderer.
nlohmann::json findingToJson(const Finding& f);

// Whether stdout is a terminal and colour is not disabled by NO_COLOR.
bool stdoutWantsColor();

}  // namespace garret::ops
