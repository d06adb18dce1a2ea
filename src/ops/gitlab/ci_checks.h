#pragma once

// `garret ci lint` checks: runner policy, retry, Docker-in-Docker, cache and
// download hygiene over a resolved CI configuration (see ci_config.h). Checks
// are data: each finding has a stable id (part of the interface, documented
// in docs/ci.md), a severity, the job (Finding::subject), file and line, a
// message and a fix. Pure functions: no I/O, never throw.
//
// Severities:
//   blocker  yaml-error
//   error    dind-missing-tags, forbidden-tag, required-tags-missing,
//            retry-invalid (max out of 0..2 or not a number), dind-host-mismatch,
//            cache-too-many, cache-key-files-too-many, extends-missing,
//            extends-cycle, extends-too-deep, include-limit, reference-invalid,
//            reference-cycle, job-invalid, include-unresolved (local file missing)
//   warning  untagged-job, retry-missing, retry-no-when, retry-invalid (unknown
//            `when` value), dind-unpinned, dind-no-wait, cache-key-never-hits,
//            unpinned-download, slow-package-install
//   info     include-unresolved (remote/project/template/component: not
//            checked offline)

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "ops/finding.h"
#include "ops/gitlab/ci_config.h"
#include "ops/gitlab/ci_policy.h"

namespace garret::ops::gitlab {

// Every id lintCiConfig can produce.
const std::vector<std::string>& ciFindingIds();

// All findings for a resolved configuration: resolver problems first turned
// into findings, then the per-job checks; sorted with sortFindings().
std::vector<Finding> lintCiConfig(const CiConfig& config, const CiPolicy& policy);

// Findings for one job; `globals` is CiConfig::globals (for global variables).
std::vector<Finding> checkJob(const ResolvedJob& job, const YAML::Node& globals,
                              const CiPolicy& policy);

// A resolver problem as a finding (severity per the table above).
Finding problemToFinding(const Problem& p);

// The variables a job sees: global `variables:` (as filtered by
// `inherit: variables: false | [names]`) overridden by the job's own. Values
// given as {value: ..., description: ...} are reduced to the value.
YAML::Node effectiveVariables(const YAML::Node& job, const YAML::Node& globals);

}  // namespace garret::ops::gitlab
