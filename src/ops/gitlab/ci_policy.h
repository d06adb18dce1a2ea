#pragma once

// Runner policy for `garret ci lint`: which tags jobs must or must not carry
// and which transient failures a retry must cover. Read from
// `.garret-ci.toml` at the repository root; command-line flags override it.
//
//   dind_tags      = ["dind", "x86_64"]   # every Docker-in-Docker job
//   required_tags  = []                   # every job
//   forbidden_tags = ["saas-*"]           # glob patterns (* and ?)
//   retry_when     = ["runner_system_failure", ...]
//
// Pure: parsing never throws and never touches the filesystem.

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace garret::ops::gitlab {

struct CiPolicy {
  std::vector<std::string> dind_tags = {"dind", "x86_64"};
  std::vector<std::string> required_tags;
  std::vector<std::string> forbidden_tags;  // glob patterns
  std::vector<std::string> retry_when = {"runner_system_failure", "stuck_or_timeout_failure",
                                         "job_execution_timeout", "api_failure",
                                         "scheduler_failure"};
};

// Parses a policy file's text; missing keys keep their defaults. Unknown keys,
// wrong types and TOML syntax errors are kInvalidArgument naming `source`
// and the line.
Result<CiPolicy> parseCiPolicy(std::string_view text, std::string_view source);

// Glob match with `*` (any run, also empty) and `?` (one character).
bool globMatch(std::string_view pattern, std::string_view text);

// Every `when` value GitLab documents for `retry:when` (plus "always").
const std::vector<std::string>& knownRetryReasons();

}  // namespace garret::ops::gitlab
