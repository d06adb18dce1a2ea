#pragma once

// GitLab CI configuration resolver: loads a .gitlab-ci.yml and the local files
// it includes and resolves it the way GitLab does, in GitLab's order:
//   1. per file: YAML anchors/aliases and `<<` merge keys (shallow; explicit keys
//      win over merged ones; among merge sources the earlier one wins);
//   2. `include` (string and `local:` forms, lists; nested includes): files are
//      deep-merged in order, the including file's keys win. Remote, project,
//      template and component includes (and local globs) are recorded as
//      `include-unresolved` problems, not errors;
//   3. `extends` (string or list; deep merge of hashes, arrays and scalars
//      replaced; later parents win, the job's own keys win over all);
//   4. `!reference [job, key, ...]` tags (nested up to 10 levels; inside
//      script/before_script/after_script, referenced arrays are flattened);
//   5. `default:` (and the deprecated top-level image/services/cache/
//      before_script/after_script) fills keys a job lacks, honouring
//      `inherit: default: false | [keys]`.
// Hidden jobs (`.name`) take part in extends/!reference but are not returned.
//
// Pure and hermetic: files come from an injected FileReader. Never throws;
// problems in the input are returned as data (CiConfig::problems), so a linter
// can report them with file and line. Recursion and include count are bounded.

#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace garret::ops::gitlab {

// Returns the contents of `path` (relative to the repository root, no leading
// slash), or nullopt when the file does not exist or cannot be read.
using FileReader = std::function<std::optional<std::string>(const std::string& path)>;

inline constexpr int kMaxIncludes = 150;  // GitLab's default limit
inline constexpr int kMaxExtendsDepth = 11;
inline constexpr int kMaxReferenceDepth = 10;
inline constexpr int kMaxYamlDepth = 100;  // nesting of one document

// A problem found while resolving. `id` is one of: yaml-error,
// include-unresolved, include-limit, extends-missing, extends-cycle,
// extends-too-deep, reference-invalid, reference-cycle, job-invalid.
// `line` is 1-based, 0 when unknown; `job` is empty for file-level problems.
struct Problem {
  std::string id;
  std::string job;
  std::string file;
  int line = 0;
  std::string message;
};

struct ResolvedJob {
  std::string name;
  std::string file;  // where the job is defined (the winning definition)
  int line = 0;      // 1-based line of the job's key
  YAML::Node node;   // the job after all merging, as GitLab sees it
};

struct CiConfig {
  std::vector<ResolvedJob> jobs;  // visible jobs, in definition order
  std::vector<Problem> problems;
  YAML::Node globals;  // stages, variables, workflow, default, include, ...
};

// True for top-level keywords that are not jobs (stages, variables, default, ...).
bool isGlobalKeyword(const std::string& key);

// Deep merge as GitLab's extends/include do: hashes merged key by key
// recursively, anything else in `over` replaces `base`. Returns a new tree;
// inputs are not modified.
YAML::Node deepMerge(const YAML::Node& base, const YAML::Node& over);

// Loads `root_file` (e.g. ".gitlab-ci.yml") through `read` and resolves it.
// Fails (kNotFound) only when the root file itself cannot be read; everything
// else, YAML syntax errors included, is reported in CiConfig::problems.
Result<CiConfig> loadCiConfig(const std::string& root_file, const FileReader& read);

// Same, from the root file's contents already in memory.
CiConfig resolveCiConfig(const std::string& root_file, const std::string& root_text,
                         const FileReader& read);

}  // namespace garret::ops::gitlab
