#pragma once

// Output formats of `garret ci lint` (text and JUnit come from ops/finding.h)
// and the merged-job printer behind `--print-merged`. Pure functions.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ops/finding.h"

namespace garret::ops::gitlab {

enum class CiFormat { kText, kJson, kJunit, kCodeQuality };

std::optional<CiFormat> parseCiFormat(std::string_view name);  // text|json|junit|codequality

// {"findings": [{"id","severity","job","file","line","message","fix"}, ...]};
// file is "" and line 0 when unknown.
std::string renderCiJson(const std::vector<Finding>& findings);

// GitLab Code Quality report: a JSON array of {description, check_name,
// fingerprint, severity, location{path, lines{begin}}}. Severity mapping:
// info->info, warning->minor, error->major, blocker->blocker. The fingerprint
// is a hash of id, file, job and message (not the line), so it stays stable
// when unrelated edits move the job.
std::string renderCodeQuality(const std::vector<Finding>& findings);

// A finding's stable fingerprint (32 hex characters).
std::string findingFingerprint(const Finding& f);

// Any format; `color` only affects text.
std::string renderCiFindings(CiFormat format, const std::vector<Finding>& findings, bool color);

// `name:` and the job's YAML as GitLab sees it after merging. Scalars quoted
// in the source stay quoted (so "2375" or "true" keep being strings),
// multi-line strings are literal blocks; key order is preserved.
std::string renderMergedJob(const std::string& name, const YAML::Node& job);

}  // namespace garret::ops::gitlab
