#include "ops/gitlab/ci_checks.h"

#include <algorithm>
#include <array>
#include <functional>
#include <set>
#include <sstream>
#include <string_view>

namespace garret::ops::gitlab {
namespace {

constexpr int kMaxCaches = 4;
constexpr std::size_t kMaxCacheKeyFiles = 2;
constexpr long kMaxRetry = 2;

// Variables whose value changes with every commit or pipeline.
constexpr std::array<std::string_view, 5> kPerCommitVariables = {
    "CI_COMMIT_SHA", "CI_COMMIT_SHORT_SHA", "CI_PIPELINE_ID", "CI_PIPELINE_IID", "CI_JOB_ID"};

// Linters and toolchains better baked into an image or fetched as a pinned binary.
constexpr std::array<std::string_view, 44> kSlowPackages = {
    "shellcheck", "hadolint", "yamllint", "golangci-lint", "eslint", "prettier",
    "stylelint", "markdownlint-cli", "flake8", "pylint", "black", "ruff", "mypy", "isort",
    "cpplint", "clang-format", "clang-tidy", "cppcheck", "ansible-lint", "tflint",
    "gcc", "g++", "clang", "build-essential", "build-base", "cmake", "ninja-build", "golang",
    "go", "rust", "rustc", "cargo", "nodejs", "npm", "default-jdk", "maven", "gradle",
    "terraform", "kubectl", "helm", "awscli", "typescript", "texlive", "openjdk"};

// Install commands: the words before the package list.
constexpr std::array<std::string_view, 12> kInstallCommands = {
    "apt-get install", "apt install", "apk add", "yum install", "dnf install",
    "microdnf install", "zypper install", "pip install", "pip3 install", "npm install -g",
    "npm i -g", "npm install --global"};

// What the checks look at, computed once per job.
struct JobView {
  const ResolvedJob& job;
  YAML::Node vars;
  std::vector<std::string> tags;
  bool dind = false;
  std::vector<std::string> main_lines;  // before_script + script, one entry per line
  std::vector<std::string> all_lines;   // plus after_script
};

YAML::Node child(const YAML::Node& map, const std::string& key) {
  if (map.IsMap()) {
    for (const auto& kv : map) {
      if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.second;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

bool present(const YAML::Node& n) { return n.IsDefined() && !n.IsNull(); }

std::optional<long> asInt(const YAML::Node& n) {
  if (!n.IsScalar()) return std::nullopt;
  const std::string& s = n.Scalar();
  if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), ::isdigit)) return std::nullopt;
  return std::stol(s);
}

std::vector<std::string> scalars(const YAML::Node& n) {
  std::vector<std::string> out;
  if (n.IsScalar()) out.push_back(n.Scalar());
  if (n.IsSequence()) {
    for (const auto& e : n) {
      if (e.IsScalar()) out.push_back(e.Scalar());
    }
  }
  return out;
}

void appendLines(const YAML::Node& script, std::vector<std::string>& out) {
  for (const std::string& entry : scalars(script)) {
    std::istringstream in(entry);
    for (std::string line; std::getline(in, line);) out.push_back(line);
  }
}

struct ImageRef {
  std::string repo;  // last path component
  std::string tag;   // empty when none
  bool digest = false;
};

ImageRef parseImage(std::string ref) {
  ImageRef out;
  if (auto at = ref.find('@'); at != std::string::npos) {
    out.digest = true;
    ref.resize(at);
  }
  const std::size_t slash = ref.rfind('/');
  std::string last = slash == std::string::npos ? ref : ref.substr(slash + 1);
  if (auto colon = last.find(':'); colon != std::string::npos) {
    out.tag = last.substr(colon + 1);
    last.resize(colon);
  }
  out.repo = last;
  return out;
}

std::string imageName(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar();
  const YAML::Node name = child(n, "name");
  return name.IsScalar() ? name.Scalar() : "";
}

std::vector<std::string> serviceNames(const YAML::Node& job) {
  std::vector<std::string> out;
  const YAML::Node services = child(job, "services");
  if (!services.IsSequence()) return out;
  for (const auto& s : services) {
    std::string name = imageName(s);
    if (!name.empty()) out.push_back(name);
  }
  return out;
}

bool isDindImage(const ImageRef& ref) {
  return ref.tag.find("dind") != std::string::npos || ref.repo.find("dind") != std::string::npos;
}

// A version pin: a digest, or a tag starting with a digit ("24.0.5-dind").
bool isPinned(const ImageRef& ref) {
  return ref.digest || (!ref.tag.empty() && std::isdigit(static_cast<unsigned char>(ref.tag[0])));
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::string joined(const std::vector<std::string>& v, std::string_view sep = ", ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

Finding make(const JobView& v, std::string id, Severity sev, std::string message, std::string fix) {
  return Finding{std::move(id), sev, v.job.name, v.job.file, v.job.line, std::move(message),
                 std::move(fix)};
}

using Check = std::function<void(const JobView&, const CiPolicy&, std::vector<Finding>&)>;

// ---- tags --------------------------------------------------------------------

void checkTags(const JobView& v, const CiPolicy& policy, std::vector<Finding>& out) {
  if (v.tags.empty()) {
    out.push_back(make(v, "untagged-job", Severity::kWarning,
                       "job has no tags: it may run on any runner that takes untagged jobs, "
                       "including shared SaaS runners",
                       "add `tags:` naming your own runners"));
  }
  std::vector<std::string> missing;
  for (const auto& t : policy.required_tags) {
    if (std::find(v.tags.begin(), v.tags.end(), t) == v.tags.end()) missing.push_back(t);
  }
  if (!missing.empty()) {
    out.push_back(make(v, "required-tags-missing", Severity::kError,
                       "job lacks tags the policy requires for every job: " + joined(missing),
                       "add to `tags:`: " + joined(missing)));
  }
  for (const auto& t : v.tags) {
    for (const auto& pattern : policy.forbidden_tags) {
      if (globMatch(pattern, t)) {
        out.push_back(make(v, "forbidden-tag", Severity::kError,
                           "tag '" + t + "' matches forbidden pattern '" + pattern + "'",
                           "remove '" + t + "' from `tags:` and use a self-hosted runner tag"));
      }
    }
  }
}

void checkDindTags(const JobView& v, const CiPolicy& policy, std::vector<Finding>& out) {
  if (!v.dind) return;
  std::vector<std::string> missing;
  for (const auto& t : policy.dind_tags) {
    if (std::find(v.tags.begin(), v.tags.end(), t) == v.tags.end()) missing.push_back(t);
  }
  if (missing.empty()) return;
  out.push_back(make(v, "dind-missing-tags", Severity::kError,
                     "Docker-in-Docker job lacks runner tags: " + joined(missing) +
                         "; it can land on a runner without privileged mode or on SaaS runners",
                     "add to `tags:`: " + joined(missing)));
}

// ---- retry -------------------------------------------------------------------

void retryMissing(const JobView& v, std::vector<Finding>& out, const std::string& why) {
  out.push_back(make(v, "retry-missing", Severity::kWarning, why,
                     "add `retry: {max: 2, when: [runner_system_failure, stuck_or_timeout_failure, "
                     "job_execution_timeout, api_failure, scheduler_failure]}`"));
}

bool checkRetryMax(const JobView& v, const YAML::Node& max, std::vector<Finding>& out) {
  const std::optional<long> n = asInt(max);
  if (n && *n <= kMaxRetry) return true;
  out.push_back(make(v, "retry-invalid", Severity::kError,
                     "retry max must be 0, 1 or 2, not '" + (max.IsScalar() ? max.Scalar() : "?") +
                         "'; GitLab rejects the pipeline",
                     "use `max: 2` or less"));
  return false;
}

void checkRetryWhen(const JobView& v, const YAML::Node& when, const CiPolicy& policy,
                    std::vector<Finding>& out) {
  const std::vector<std::string> values = scalars(when);
  const auto& known = knownRetryReasons();
  for (const auto& w : values) {
    if (std::find(known.begin(), known.end(), w) == known.end()) {
      out.push_back(make(v, "retry-invalid", Severity::kWarning,
                         "unknown retry:when value '" + w + "' (newer GitLab, or a typo?)",
                         "use one of the documented failure reasons"));
    }
  }
  if (std::find(values.begin(), values.end(), "always") != values.end()) return;
  std::vector<std::string> missing;
  for (const auto& r : policy.retry_when) {
    if (std::find(values.begin(), values.end(), r) == values.end()) missing.push_back(r);
  }
  if (!missing.empty()) {
    retryMissing(v, out, "retry does not cover transient infrastructure failures: " + joined(missing));
  }
}

void checkRetryMap(const JobView& v, const YAML::Node& retry, const CiPolicy& policy,
                   std::vector<Finding>& out) {
  const YAML::Node max = child(retry, "max");
  if (!present(max)) {
    retryMissing(v, out, "retry without max: GitLab treats it as max 0, so nothing is retried");
    return;
  }
  if (!checkRetryMax(v, max, out)) return;
  if (asInt(max) == 0) {
    retryMissing(v, out, "retry max is 0: transient infrastructure failures fail the pipeline");
    return;
  }
  const YAML::Node when = child(retry, "when");
  if (!present(when)) {
    out.push_back(make(v, "retry-no-when", Severity::kWarning,
                       "retry without `when` also retries script failures (real test failures)",
                       "add `when:` listing the transient failure reasons"));
    return;
  }
  checkRetryWhen(v, when, policy, out);
}

void checkRetry(const JobView& v, const CiPolicy& policy, std::vector<Finding>& out) {
  const YAML::Node retry = child(v.job.node, "retry");
  if (!present(retry)) {
    retryMissing(v, out, "no retry: a runner or API hiccup fails the pipeline");
  } else if (retry.IsMap()) {
    checkRetryMap(v, retry, policy, out);
  } else if (checkRetryMax(v, retry, out)) {
    if (asInt(retry) == 0) {
      retryMissing(v, out, "retry: 0: transient infrastructure failures fail the pipeline");
    } else {
      out.push_back(make(v, "retry-no-when", Severity::kWarning,
                         "`retry: " + retry.Scalar() +
                             "` also retries script failures (real test failures)",
                         "use `retry: {max: " + retry.Scalar() +
                             ", when: [runner_system_failure, stuck_or_timeout_failure, ...]}`"));
    }
  }
}

// ---- Docker-in-Docker ----------------------------------------------------------

void checkDindPinned(const JobView& v, const CiPolicy&, std::vector<Finding>& out) {
  for (const auto& name : serviceNames(v.job.node)) {
    const ImageRef ref = parseImage(name);
    if (isDindImage(ref) && !isPinned(ref)) {
      out.push_back(make(v, "dind-unpinned", Severity::kWarning,
                         "dind service '" + name + "' has no version: a new Docker release can "
                         "break the job, and client and daemon versions drift apart",
                         "pin it, e.g. `docker:27.3.1-dind`, the same version as the job image"));
    }
  }
  const std::string image = imageName(child(v.job.node, "image"));
  const ImageRef ref = parseImage(image);
  if (!image.empty() && ref.repo == "docker" && !isPinned(ref)) {
    out.push_back(make(v, "dind-unpinned", Severity::kWarning,
                       "docker image '" + image + "' has no version",
                       "pin it, e.g. `image: docker:27.3.1`, matching the dind service"));
  }
}

std::optional<std::string> variable(const JobView& v, const std::string& name) {
  const YAML::Node n = child(v.vars, name);
  if (!n.IsDefined()) return std::nullopt;
  return n.IsScalar() ? n.Scalar() : "";
}

void checkDindHost(const JobView& v, const CiPolicy&, std::vector<Finding>& out) {
  const std::optional<std::string> host = variable(v, "DOCKER_HOST");
  if (!v.dind || !host) return;
  const std::optional<std::string> certdir = variable(v, "DOCKER_TLS_CERTDIR");
  const std::optional<std::string> verify = variable(v, "DOCKER_TLS_VERIFY");
  const bool verify_on = verify && (*verify == "1" || *verify == "true");
  std::string problem;
  if (host->ends_with(":2375")) {
    if (!certdir) {
      problem = "DOCKER_HOST uses port 2375 (plain) but DOCKER_TLS_CERTDIR is unset, so the "
                "dind service starts with TLS on port 2376";
    } else if (!certdir->empty()) {
      problem = "DOCKER_HOST uses port 2375 (plain) but DOCKER_TLS_CERTDIR='" + *certdir +
                "' makes the dind service serve TLS on port 2376";
    } else if (verify_on) {
      problem = "DOCKER_HOST uses port 2375 (plain) but DOCKER_TLS_VERIFY is on";
    }
  } else if (host->ends_with(":2376") && certdir && certdir->empty()) {
    problem = "DOCKER_HOST uses port 2376 (TLS) but DOCKER_TLS_CERTDIR is empty, so the dind "
              "service serves plain HTTP on port 2375";
  }
  if (problem.empty()) return;
  out.push_back(make(v, "dind-host-mismatch", Severity::kError, problem,
                     "either TLS: DOCKER_HOST=tcp://docker:2376 and DOCKER_TLS_CERTDIR=/certs, or "
                     "plain: DOCKER_HOST=tcp://docker:2375 and DOCKER_TLS_CERTDIR=\"\""));
}

bool isDockerCommand(std::string_view line) {
  std::size_t start = line.find_first_not_of(" \t");
  if (start == std::string_view::npos) return false;
  line.remove_prefix(start);
  return line.starts_with("docker ") || line.starts_with("docker-compose ") ||
         contains(line, "&& docker ") || contains(line, "; docker ") || contains(line, "$(docker ");
}

bool isReadinessWait(std::string_view line) {
  if (contains(line, "wait-for") || contains(line, "wait_for")) return true;
  const bool probes = contains(line, "docker info") || contains(line, "docker version") ||
                      contains(line, "docker system info");
  const bool loops = contains(line, "until ") || contains(line, "while ") ||
                     contains(line, "for ") || contains(line, "timeout ") ||
                     contains(line, "retry");
  return probes && loops;
}

void checkDindWait(const JobView& v, const CiPolicy&, std::vector<Finding>& out) {
  if (!v.dind) return;
  for (const auto& line : v.main_lines) {
    if (isReadinessWait(line)) return;
    if (isDockerCommand(line)) {
      out.push_back(make(v, "dind-no-wait", Severity::kWarning,
                         "first docker command runs before the dind service is known to be "
                         "ready: `" + line + "`",
                         "start the script with `until docker info >/dev/null 2>&1; do sleep 1; "
                         "done` (bounded with `timeout 60 sh -c '...'`)"));
      return;
    }
  }
}

// ---- cache ---------------------------------------------------------------------

bool perCommit(const std::string& text) {
  for (auto var : kPerCommitVariables) {
    const std::string name(var);
    // $NAME or ${NAME}, not a longer name that starts with it.
    for (std::size_t at = text.find(name); at != std::string::npos; at = text.find(name, at + 1)) {
      const bool after_ok = at + name.size() >= text.size() ||
                            !(std::isalnum(static_cast<unsigned char>(text[at + name.size()])) ||
                              text[at + name.size()] == '_');
      const bool before_ok = at > 0 && (text[at - 1] == '$' || text[at - 1] == '{');
      if (after_ok && before_ok) return true;
    }
  }
  return false;
}

void checkOneCache(const JobView& v, const YAML::Node& cache, std::vector<Finding>& out) {
  const YAML::Node key = child(cache, "key");
  const YAML::Node files = child(key, "files");
  if (files.IsSequence() && files.size() > kMaxCacheKeyFiles) {
    out.push_back(make(v, "cache-key-files-too-many", Severity::kError,
                       "cache:key:files lists " + std::to_string(files.size()) +
                           " files; GitLab allows at most 2",
                       "keep the two lock files that matter, or use a prefix"));
  }
  std::string text = key.IsScalar() ? key.Scalar() : "";
  if (key.IsMap() && child(key, "prefix").IsScalar()) text = child(key, "prefix").Scalar();
  if (!perCommit(text) || present(child(cache, "fallback_keys"))) return;
  out.push_back(make(v, "cache-key-never-hits", Severity::kWarning,
                     "cache key '" + text + "' changes with every commit or pipeline, so the "
                     "cache is only ever written, never restored",
                     "key the cache on what determines its content: `key: {files: [Cargo.lock]}` "
                     "or `$CI_COMMIT_REF_SLUG`, or add `fallback_keys`"));
}

void checkCache(const JobView& v, const CiPolicy&, std::vector<Finding>& out) {
  const YAML::Node cache = child(v.job.node, "cache");
  if (cache.IsMap()) {
    checkOneCache(v, cache, out);
    return;
  }
  if (!cache.IsSequence()) return;
  if (static_cast<int>(cache.size()) > kMaxCaches) {
    out.push_back(make(v, "cache-too-many", Severity::kError,
                       "job defines " + std::to_string(cache.size()) +
                           " caches; GitLab allows at most 4 per job",
                       "merge caches that share a key, or drop the least useful ones"));
  }
  for (const auto& c : cache) {
    if (c.IsMap()) checkOneCache(v, c, out);
  }
}

// ---- downloads and installs -------------------------------------------------------

bool pipesToShell(std::string_view line) {
  if (!contains(line, "curl ") && !contains(line, "wget ")) return false;
  for (auto sh : {"| sh", "|sh", "| bash", "|bash", "| sudo sh", "| sudo bash", "| sudo -E bash"}) {
    const std::size_t at = line.find(sh);
    if (at == std::string_view::npos) continue;
    const std::size_t end = at + std::string_view(sh).size();
    if (end >= line.size() || !std::isalnum(static_cast<unsigned char>(line[end]))) return true;
  }
  return false;
}

void checkDownloads(const JobView& v, const CiPolicy&, std::vector<Finding>& out) {
  bool verified = false;
  for (const auto& line : v.all_lines) {
    verified = verified || contains(line, "sha256sum") || contains(line, "sha512sum") ||
               contains(line, "shasum") || contains(line, "--checksum");
  }
  for (const auto& line : v.all_lines) {
    if (contains(line, "releases/latest") || contains(line, "/latest/download")) {
      out.push_back(make(v, "unpinned-download", Severity::kWarning,
                         "download of whatever release is latest: `" + line + "`",
                         "download a fixed version and check its sha256 (`sha256sum -c`)"));
    } else if (pipesToShell(line) && !verified) {
      out.push_back(make(v, "unpinned-download", Severity::kWarning,
                         "script piped from the network into a shell without a checksum: `" +
                             line + "`",
                         "download a pinned version to a file, verify it with `sha256sum -c`, "
                         "then run it"));
    }
  }
}

std::string packageName(std::string word) {
  for (auto sep : {"==", ">=", "<=", "~=", "="}) {
    if (auto at = word.find(sep); at != std::string::npos && at > 0) word.resize(at);
  }
  if (auto at = word.find('@', 1); at != std::string::npos) word.resize(at);  // npm foo@1.2
  return word;
}

bool isSlowPackage(const std::string& name) {
  for (auto p : kSlowPackages) {
    if (name == p) return true;
    const bool family = p == "openjdk" || p == "texlive" || p == "gcc" || p == "clang";
    if (family && name.starts_with(std::string(p) + "-")) return true;
  }
  return false;
}

// Slow packages installed by one command line (empty when none).
std::vector<std::string> slowInstalls(const std::string& line) {
  std::vector<std::string> found;
  for (auto cmd : kInstallCommands) {
    for (std::size_t at = line.find(cmd); at != std::string::npos; at = line.find(cmd, at + 1)) {
      std::string rest = line.substr(at + cmd.size());
      rest = rest.substr(0, rest.find_first_of(";|&"));
      std::istringstream words(rest);
      for (std::string w; words >> w;) {
        if (w.empty() || w[0] == '-' || w[0] == '$') continue;
        std::string name = packageName(w);
        if (isSlowPackage(name) && std::find(found.begin(), found.end(), name) == found.end()) {
          found.push_back(name);
        }
      }
    }
  }
  return found;
}

void checkInstalls(const JobView& v, const CiPolicy&, std::vector<Finding>& out) {
  for (const auto& line : v.all_lines) {
    const std::vector<std::string> slow = slowInstalls(line);
    if (slow.empty()) continue;
    out.push_back(make(v, "slow-package-install", Severity::kWarning,
                       "installs " + joined(slow) + " with a package manager on every run: `" +
                           line + "`",
                       "use an image that already has them, or download a pinned release binary "
                       "(checked with sha256sum) and cache it"));
  }
}

// ---- driver ----------------------------------------------------------------------

const std::vector<Check>& checks() {
  static const std::vector<Check> kChecks = {checkTags,       checkDindTags, checkRetry,
                                             checkDindPinned, checkDindHost, checkDindWait,
                                             checkCache,      checkDownloads, checkInstalls};
  return kChecks;
}

// Bridge jobs (`trigger:`) start a pipeline and never run on a runner.
bool runsOnRunner(const YAML::Node& job) { return !child(job, "trigger").IsDefined(); }

bool inheritsVariable(const YAML::Node& job, const std::string& name) {
  const YAML::Node setting = child(child(job, "inherit"), "variables");
  if (setting.IsScalar()) return setting.Scalar() != "false";
  if (setting.IsSequence()) {
    const auto names = scalars(setting);
    return std::find(names.begin(), names.end(), name) != names.end();
  }
  return true;
}

YAML::Node variableValue(const YAML::Node& v) {
  if (v.IsMap()) return child(v, "value");
  return v;
}

}  // namespace

const std::vector<std::string>& ciFindingIds() {
  static const std::vector<std::string> kIds = {
      "untagged-job",       "required-tags-missing", "dind-missing-tags",  "forbidden-tag",
      "retry-missing",      "retry-no-when",         "retry-invalid",      "dind-unpinned",
      "dind-host-mismatch", "dind-no-wait",          "cache-key-never-hits", "cache-too-many",
      "cache-key-files-too-many", "unpinned-download", "slow-package-install",
      "include-unresolved", "include-limit",         "extends-missing",    "extends-cycle",
      "extends-too-deep",   "reference-invalid",     "reference-cycle",    "job-invalid",
      "yaml-error"};
  return kIds;
}

YAML::Node effectiveVariables(const YAML::Node& job, const YAML::Node& globals) {
  YAML::Node out(YAML::NodeType::Map);
  const YAML::Node global_vars = child(globals, "variables");
  if (global_vars.IsMap()) {
    for (const auto& kv : global_vars) {
      if (kv.first.IsScalar() && inheritsVariable(job, kv.first.Scalar())) {
        out[kv.first.Scalar()] = variableValue(kv.second);
      }
    }
  }
  const YAML::Node own = child(job, "variables");
  if (own.IsMap()) {
    for (const auto& kv : own) {
      if (kv.first.IsScalar()) out[kv.first.Scalar()] = variableValue(kv.second);
    }
  }
  return out;
}

std::vector<Finding> checkJob(const ResolvedJob& job, const YAML::Node& globals,
                              const CiPolicy& policy) {
  std::vector<Finding> out;
  if (!job.node.IsMap() || !runsOnRunner(job.node)) return out;
  JobView view{job, effectiveVariables(job.node, globals), scalars(child(job.node, "tags")), false,
               {}, {}};
  for (const auto& name : serviceNames(job.node)) view.dind = view.dind || isDindImage(parseImage(name));
  appendLines(child(job.node, "before_script"), view.main_lines);
  appendLines(child(job.node, "script"), view.main_lines);
  view.all_lines = view.main_lines;
  appendLines(child(job.node, "after_script"), view.all_lines);
  for (const Check& check : checks()) check(view, policy, out);
  return out;
}

Finding problemToFinding(const Problem& p) {
  Severity sev = Severity::kError;
  std::string fix;
  if (p.id == "yaml-error") {
    sev = Severity::kBlocker;
    fix = "fix the YAML syntax; GitLab cannot read this file";
  } else if (p.id == "include-unresolved") {
    const bool local = p.message.starts_with("local file not found");
    sev = local ? Severity::kError : Severity::kInfo;
    fix = local ? "create the file or fix the path (relative to the repository root)"
                : "not checked offline: lint that project or template on its own";
  } else if (p.id == "extends-missing") {
    fix = "define the job it extends, or include the file that defines it";
  } else if (p.id == "extends-cycle") {
    fix = "break the cycle: a job cannot extend itself, directly or through others";
  } else if (p.id == "extends-too-deep") {
    fix = "flatten the chain to at most 11 levels";
  } else if (p.id == "reference-invalid" || p.id == "reference-cycle") {
    fix = "point !reference at an existing job and key, without cycles";
  } else {
    fix = "see the message; GitLab rejects this configuration";
  }
  return Finding{p.id, sev, p.job, p.file, p.line, p.message, fix};
}

std::vector<Finding> lintCiConfig(const CiConfig& config, const CiPolicy& policy) {
  std::vector<Finding> out;
  for (const Problem& p : config.problems) out.push_back(problemToFinding(p));
  for (const ResolvedJob& job : config.jobs) {
    std::vector<Finding> found = checkJob(job, config.globals, policy);
    out.insert(out.end(), std::make_move_iterator(found.begin()),
               std::make_move_iterator(found.end()));
  }
  sortFindings(out);
  return out;
}

}  // namespace garret::ops::gitlab
