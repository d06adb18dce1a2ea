// garret ci lint / garret ci watch: GitLab CI checked against the runner
// policy, and pipelines followed live. The logic lives in src/ops/gitlab;
// this file only reads files, environment and flags and picks the output.

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include "cli/command.h"
#include "client/http_client.h"
#include "ops/finding.h"
#include "ops/gitlab/ci_checks.h"
#include "ops/gitlab/ci_config.h"
#include "ops/gitlab/ci_policy.h"
#include "ops/gitlab/ci_render.h"
#include "ops/gitlab/ci_watch.h"
#include "ops/gitlab/gitlab_client.h"

namespace garret::cli {
namespace {

namespace fs = std::filesystem;
namespace gl = ops::gitlab;

constexpr std::uintmax_t kMaxCiFileSize = 8u << 20;
constexpr const char* kPolicyFile = ".garret-ci.toml";

struct LintCliOptions {
  std::string file;
  std::string root;
  std::string policy;
  std::string format = "text";
  std::string fail_on = "error";
  std::string print_merged;
  std::vector<std::string> dind_tags, require_tags, forbid_tags;
  CLI::Option* dind_opt = nullptr;
  CLI::Option* require_opt = nullptr;
  CLI::Option* forbid_opt = nullptr;
};

struct WatchCliOptions {
  std::string gitlab;
  std::string project;
  long pipeline = 0;
  std::string ref;
  int retry_transient = 0;
  double interval = 5;
  bool plain = false;
  std::string ca_file;
};

std::optional<std::string> readSmallFile(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec) || fs::file_size(path, ec) > kMaxCiFileSize) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The enclosing git work tree of `dir`, or `dir` itself when there is none.
fs::path repositoryRoot(const fs::path& dir) {
  for (fs::path p = fs::absolute(dir); !p.empty(); p = p.parent_path()) {
    std::error_code ec;
    if (fs::exists(p / ".git", ec)) return p;
    if (p == p.parent_path()) break;
  }
  return fs::absolute(dir);
}

// Reads repository files for includes; never outside the repository.
gl::FileReader repoReader(const fs::path& root) {
  return [root](const std::string& path) -> std::optional<std::string> {
    const fs::path rel = fs::path(path).lexically_normal();
    if (rel.is_absolute() || rel.empty() || *rel.begin() == "..") return std::nullopt;
    return readSmallFile(root / rel);
  };
}

Result<gl::CiPolicy> loadPolicy(const LintCliOptions& o, const fs::path& root) {
  gl::CiPolicy policy;
  const fs::path path = o.policy.empty() ? root / kPolicyFile : fs::path(o.policy);
  std::error_code ec;
  if (fs::exists(path, ec)) {
    std::optional<std::string> text = readSmallFile(path);
    if (!text) return invalid("cannot read policy file " + path.string());
    GARRET_ASSIGN_OR_RETURN(policy, gl::parseCiPolicy(*text, path.string()));
  } else if (!o.policy.empty()) {
    return notFound("policy file not found: " + o.policy);
  }
  if (o.dind_opt->count() > 0) policy.dind_tags = o.dind_tags;
  if (o.require_opt->count() > 0) policy.required_tags = o.require_tags;
  if (o.forbid_opt->count() > 0) policy.forbidden_tags = o.forbid_tags;
  return policy;
}

int printMerged(const gl::CiConfig& config, const std::string& name) {
  for (const gl::ResolvedJob& job : config.jobs) {
    if (job.name == name) {
      std::cout << gl::renderMergedJob(job.name, job.node);
      return kExitOk;
    }
  }
  std::cerr << "garret ci lint: no job named '" << name << "'; jobs:";
  for (const gl::ResolvedJob& job : config.jobs) std::cerr << " " << job.name;
  std::cerr << "\n";
  return kExitUsage;
}

int runLint(const LintCliOptions& o) {
  const fs::path default_root =
      o.root.empty() ? repositoryRoot(fs::current_path()) : fs::absolute(o.root);
  const fs::path file = o.file.empty() ? default_root / ".gitlab-ci.yml" : fs::absolute(o.file);
  const fs::path root = o.root.empty() ? repositoryRoot(file.parent_path()) : fs::absolute(o.root);
  std::optional<std::string> text = readSmallFile(file);
  if (!text) {
    std::cerr << "garret ci lint: cannot read " << file.string() << "\n";
    return kExitUsage;
  }
  Result<gl::CiPolicy> policy = loadPolicy(o, root);
  if (!policy.ok()) {
    std::cerr << "garret ci lint: " << policy.error().message << "\n";
    return kExitUsage;
  }
  const std::string rel = file.lexically_relative(root).generic_string();
  const gl::CiConfig config = gl::resolveCiConfig(rel, *text, repoReader(root));
  if (!o.print_merged.empty()) return printMerged(config, o.print_merged);
  const std::vector<ops::Finding> findings = gl::lintCiConfig(config, *policy);
  const auto format = gl::parseCiFormat(o.format);
  const auto fail_on = ops::parseSeverity(o.fail_on);
  std::cout << gl::renderCiFindings(*format, findings, ops::stdoutWantsColor());
  return ops::exitCodeFor(findings, *fail_on);
}

gl::GitlabToken tokenFromEnvironment() {
  if (const char* t = std::getenv("GITLAB_TOKEN"); t != nullptr && *t != '\0') {
    return {gl::GitlabToken::Kind::kPrivate, t};
  }
  if (const char* t = std::getenv("CI_JOB_TOKEN"); t != nullptr && *t != '\0') {
    return {gl::GitlabToken::Kind::kJob, t};
  }
  return {};
}

int runWatchCommand(const WatchCliOptions& o) {
  if (o.pipeline <= 0 && o.ref.empty()) {
    std::cerr << "garret ci watch: give --pipeline ID or --ref REF\n";
    return kExitUsage;
  }
  client::HttpOptions http_options;
  http_options.ca_file = o.ca_file;
  std::unique_ptr<client::HttpClient> http = client::makeCurlHttpClient(http_options);
  gl::GitlabClient gitlab(*http, o.gitlab, tokenFromEnvironment());
  gl::WatchOptions w;
  w.project = o.project;
  if (o.pipeline > 0) w.pipeline_id = o.pipeline;
  w.ref = o.ref;
  w.retry_transient = o.retry_transient;
  w.interval_seconds = o.interval;
  w.tty = !o.plain && isatty(STDOUT_FILENO) == 1;
  return gl::runWatch(gitlab, w, std::cout, std::cerr, [](double seconds) {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  });
}

void addLint(CLI::App& ci, Dispatch& dispatch) {
  auto o = std::make_shared<LintCliOptions>();
  CLI::App* lint = ci.add_subcommand(
      "lint", "Check a .gitlab-ci.yml against the runner policy (tags, retry, Docker-in-Docker, "
              "cache, downloads)");
  lint->footer(
      "Checks tags (untagged jobs, Docker-in-Docker jobs without their runner tags, forbidden "
      "tags), retry for transient failures, Docker-in-Docker setup, cache keys, unpinned "
      "downloads and slow package installs.\n"
      "Resolves local includes, anchors and merge keys, extends, !reference and default: the "
      "way GitLab does. Policy comes from .garret-ci.toml at the repository root (keys "
      "dind_tags, required_tags, forbidden_tags, retry_when) or the --dind-tags, "
      "--require-tags and --forbid-tags flags.\n"
      "Exit code: 0 clean, 1 a finding at or above --fail-on, 2 could not run (file missing, "
      "bad policy). Finding ids and examples: docs/ci.md.");
  lint->add_option("file", o->file,
                   "CI file to check (default: .gitlab-ci.yml at the root of the current git "
                   "repository); includes are resolved relative to its repository root");
  lint->add_option("--root", o->root,
                   "repository root that local includes are relative to (default: the git "
                   "work tree containing the file)");
  lint->add_option("--policy", o->policy,
                   "policy file (default: .garret-ci.toml at the repository root, if present)");
  lint->add_option("--format", o->format, "output: text, json, junit or codequality (GitLab Code "
                                          "Quality report, for merge request widgets)")
      ->check(CLI::IsMember({"text", "json", "junit", "codequality"}))
      ->default_str("text");
  lint->add_option("--fail-on", o->fail_on,
                   "exit 1 when a finding at or above this severity is found: info, warning, "
                   "error, blocker")
      ->check(CLI::IsMember({"info", "warning", "error", "blocker"}))
      ->default_str("error");
  lint->add_option("--print-merged", o->print_merged,
                   "print job JOB after all merging (includes, anchors, extends, !reference, "
                   "default:) as YAML, as GitLab sees it, instead of linting")
      ->option_text("JOB");
  o->dind_opt = lint->add_option("--dind-tags", o->dind_tags,
                                 "tags every Docker-in-Docker job must carry, comma-separated "
                                 "(overrides dind_tags; default dind,x86_64)")
                    ->delimiter(',');
  o->require_opt = lint->add_option("--require-tags", o->require_tags,
                                    "tags every job must carry, comma-separated (overrides "
                                    "required_tags)")
                       ->delimiter(',');
  o->forbid_opt = lint->add_option("--forbid-tags", o->forbid_tags,
                                   "glob patterns of tags no job may carry, e.g. 'saas-*' "
                                   "(overrides forbidden_tags)")
                      ->delimiter(',');
  dispatch.on(lint, [o] { return runLint(*o); });
}

void addWatch(CLI::App& ci, Dispatch& dispatch) {
  auto o = std::make_shared<WatchCliOptions>();
  if (const char* url = std::getenv("CI_SERVER_URL")) o->gitlab = url;
  if (const char* id = std::getenv("CI_PROJECT_ID")) o->project = id;
  CLI::App* watch = ci.add_subcommand(
      "watch", "Follow a GitLab pipeline until it finishes, retrying transient job failures");
  watch->footer(
      "Follows the pipeline through GitLab's REST API: a live table on a terminal, one line per "
      "status change otherwise. Shows per job stage, status, failure reason, duration, queued "
      "time, runner and tags; at the end the time per stage and the slowest jobs.\n"
      "Token: GITLAB_TOKEN (sent as PRIVATE-TOKEN, needs read_api, or api for retries) or "
      "CI_JOB_TOKEN (JOB-TOKEN).\n"
      "Exit code: 0 pipeline succeeded, 1 failed or canceled, 2 could not run.");
  watch->add_option("--gitlab", o->gitlab, "GitLab URL, e.g. https://gitlab.example.com "
                                           "(default: $CI_SERVER_URL)")
      ->required(o->gitlab.empty());
  watch->add_option("--project", o->project,
                    "project id or path like group/project (default: $CI_PROJECT_ID)")
      ->required(o->project.empty());
  auto* pipeline = watch->add_option("--pipeline", o->pipeline, "pipeline id to follow");
  watch->add_option("--ref", o->ref, "follow the newest pipeline of this branch or tag")
      ->excludes(pipeline);
  watch->add_option("--retry-transient", o->retry_transient,
                    "retry a job that failed for a transient infrastructure reason "
                    "(runner_system_failure, stuck_or_timeout_failure, api_failure, ...) up to N "
                    "times per job")
      ->check(CLI::Range(0, 10))
      ->default_str("0");
  watch->add_option("--interval", o->interval, "seconds between polls")
      ->check(CLI::Range(0.01, 3600.0))
      ->default_str("5");
  watch->add_flag("--plain", o->plain, "print status changes line by line even on a terminal");
  watch->add_option("--ca-file", o->ca_file, "PEM bundle to verify GitLab's certificate");
  dispatch.on(watch, [o] { return runWatchCommand(*o); });
}

}  // namespace

void addCiCommands(CLI::App& root, Dispatch& dispatch) {
  CLI::App* ci = root.add_subcommand(
      "ci", "GitLab CI tools: lint a .gitlab-ci.yml against the runner policy, watch a pipeline");
  addLint(*ci, dispatch);
  addWatch(*ci, dispatch);
}

}  // namespace garret::cli
