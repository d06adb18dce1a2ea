// garret doctor: health report for a CI runner host and its cluster.

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/command.h"
#include "core/clock.h"
#include "ops/docker/docker_client.h"
#include "ops/doctor/doctor.h"
#include "ops/doctor/prometheus.h"
#include "ops/kube/connect.h"
#include "ops/report.h"

namespace garret::cli {

namespace {

struct DoctorCliOptions {
  std::vector<std::string> mounts;
  std::vector<std::string> expect_mounts;
  bool no_lvm = false;
  bool no_host = false;
  std::string docker_socket = "/var/run/docker.sock";
  double docker_reclaimable_gb = 10;
  int docker_timeout = 20;
  std::string kubeconfig;
  std::string context;
  bool no_kube = false;
  long long restart_warn = 10;
  long long restart_error = 100;
  std::string cache_url;
  int tls_warn_days = 30;
  int tls_error_days = 7;
  std::string format = "text";
  std::string fail_on = "error";
  std::string textfile_dir;
  std::string proc_root;
};

int usageError(const std::string& message) {
  std::cerr << "garret doctor: " << message << "\n";
  return kExitUsage;
}

Result<ops::doctor::DoctorOptions> toOptions(const DoctorCliOptions& c) {
  ops::doctor::DoctorOptions o;
  for (const std::string& m : c.mounts.empty() ? std::vector<std::string>{"/"} : c.mounts) {
    GARRET_ASSIGN_OR_RETURN(auto spec, ops::doctor::parseMountSpec(m));
    o.mounts.push_back(spec);
  }
  for (const std::string& m : c.expect_mounts) {
    GARRET_ASSIGN_OR_RETURN(auto want, ops::doctor::parseExpectedMount(m));
    o.expected_mounts.push_back(want);
  }
  if (c.restart_error < c.restart_warn) return invalid("--restart-error must be >= --restart-warn");
  if (c.tls_error_days > c.tls_warn_days) return invalid("--tls-error-days must be <= --tls-warn-days");
  o.lvm = !c.no_lvm;
  o.host_checks = !c.no_host;
  o.docker_reclaimable_warn = static_cast<std::int64_t>(c.docker_reclaimable_gb * 1e9);
  o.restarts = {c.restart_warn, c.restart_error};
  o.cache = {c.cache_url, c.tls_warn_days, c.tls_error_days};
  return o;
}

// Everything the sources need to stay alive while doctor runs.
struct Connections {
  std::unique_ptr<client::HttpClient> docker_http;
  std::unique_ptr<ops::docker::DockerClient> docker;
  ops::kube::KubeConnection kube;
  std::unique_ptr<client::HttpClient> cache_http;
};

void connectDocker(const DoctorCliOptions& c, Connections& conn, ops::doctor::DoctorSources& s) {
  std::error_code ec;
  if (!std::filesystem::exists(c.docker_socket, ec)) {
    s.docker_skip_reason = "no Docker socket at " + c.docker_socket;
    return;
  }
  client::HttpOptions http;
  http.unix_socket = c.docker_socket;
  conn.docker_http = client::makeCurlHttpClient(http);
  conn.docker = std::make_unique<ops::docker::DockerClient>(*conn.docker_http, std::chrono::seconds(c.docker_timeout));
  s.docker = conn.docker.get();
}

// Kubernetes is optional: without a kubeconfig file it is skipped; a
// kubeconfig that exists but does not parse is a usage error.
Status connectKube(const DoctorCliOptions& c, Connections& conn, ops::doctor::DoctorSources& s) {
  if (c.no_kube) {
    s.kube_skip_reason = "--no-kube";
    return okStatus();
  }
  std::string path = ops::kube::kubeconfigPath(c.kubeconfig, std::getenv("KUBECONFIG"), std::getenv("HOME"));
  std::error_code ec;
  if (path.empty() || (c.kubeconfig.empty() && !std::filesystem::exists(path, ec))) {
    s.kube_skip_reason = "no kubeconfig (pass --kubeconfig or set KUBECONFIG)";
    return okStatus();
  }
  GARRET_ASSIGN_OR_RETURN(conn.kube, ops::kube::connectKube(path, c.context, std::chrono::seconds(15)));
  s.kube = conn.kube.client.get();
  return okStatus();
}

int render(const DoctorCliOptions& c, ops::doctor::DoctorReport& report, ops::ReportFormat format, ops::Severity fail_on) {
  ops::sortFindings(report.findings);
  const char* status = ops::reportStatus(report.findings, fail_on, false);
  std::string prom = ops::doctor::renderPrometheus(report.findings, report.metrics, report.generated_at);
  if (format == ops::ReportFormat::kPrometheus) {
    std::cout << prom;
  } else {
    nlohmann::json extra = {{"score", ops::doctor::score(report.findings)}};
    std::cout << ops::renderReport(format, "doctor", report.findings, report.passed, status,
                                   format == ops::ReportFormat::kText && ops::stdoutWantsColor(), extra);
    if (format == ops::ReportFormat::kText) std::cout << "score: " << ops::doctor::score(report.findings) << "/100\n";
  }
  if (!c.textfile_dir.empty()) {
    auto written = ops::doctor::writeTextfile(c.textfile_dir, prom);
    if (!written.ok()) return usageError(written.error().message);
  }
  return ops::reportExitCode(report.findings, fail_on, false);
}

int run(const DoctorCliOptions& c) {
  auto format = ops::parseReportFormat(c.format);
  auto fail_on = ops::parseSeverity(c.fail_on);
  if (!format) return usageError("--format must be text, json, junit or prometheus");
  if (!fail_on) return usageError("--fail-on must be info, warning, error or blocker");
  auto options = toOptions(c);
  if (!options.ok()) return usageError(options.error().message);
  auto host = ops::host::makeRealHostSystem(c.proc_root);
  SystemClock clock;
  ops::doctor::DoctorSources sources{*host, clock};
  Connections conn;
  connectDocker(c, conn, sources);
  if (auto k = connectKube(c, conn, sources); !k.ok()) return usageError(k.error().message);
  if (!c.cache_url.empty()) {
    client::HttpOptions http;
    http.cert_info = true;
    conn.cache_http = client::makeCurlHttpClient(http);
    sources.cache_http = conn.cache_http.get();
  }
  ops::doctor::DoctorReport report = ops::doctor::runDoctor(*options, sources);
  return render(c, report, *format, *fail_on);
}

void addSourceOptions(CLI::App* cmd, DoctorCliOptions& o) {
  cmd->add_option("--mount", o.mounts,
                  "mount to check, PATH[:WARN%[:ERROR%]] (repeatable; default / with warn 80 error 90): disk and "
                  "inode usage via statvfs");
  cmd->add_option("--expect-mount", o.expect_mounts,
                  "PATH[:OPT,...] that must be a mount point with these options, from /proc/self/mountinfo "
                  "(repeatable; e.g. /cache:noatime)");
  cmd->add_flag("--no-lvm", o.no_lvm, "do not run vgs for LVM volume group free space");
  cmd->add_option("--docker-socket", o.docker_socket, "Docker Engine API socket (skipped when absent)")
      ->capture_default_str();
  cmd->add_option("--docker-reclaimable-warn", o.docker_reclaimable_gb,
                  "warn when docker prune could reclaim at least this many GB of one type")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--docker-timeout", o.docker_timeout, "seconds allowed for GET /system/df")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
  cmd->add_option("--kubeconfig", o.kubeconfig,
                  "kubeconfig for the control-plane checks (default: first file of $KUBECONFIG, else "
                  "~/.kube/config; skipped when none exists)");
  cmd->add_option("--context", o.context, "kubeconfig context (default: its current-context)");
  cmd->add_flag("--no-kube", o.no_kube, "skip the Kubernetes control-plane checks");
  cmd->add_option("--restart-warn", o.restart_warn, "control-plane container restarts that give a warning")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--restart-error", o.restart_error, "control-plane container restarts that give an error")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--cache-url", o.cache_url, "garret cache to check: DNS, /health, /ready, TLS certificate expiry");
  cmd->add_option("--tls-warn-days", o.tls_warn_days, "warn when the cache's certificate expires within this many days")
      ->capture_default_str();
  cmd->add_option("--tls-error-days", o.tls_error_days, "error when it expires within this many days")
      ->capture_default_str();
  cmd->add_flag("--no-host", o.no_host, "skip the host checks (inotify limits, iowait, load)");
  cmd->add_option("--proc-root", o.proc_root, "prefix for /proc paths (a container with the host's /proc mounted)");
}

}  // namespace

void addDoctorCommand(CLI::App& root, Dispatch& dispatch) {
  auto opts = std::make_shared<DoctorCliOptions>();
  auto* cmd = root.add_subcommand("doctor", "Health report for a CI runner host and its cluster (read-only)");
  cmd->footer(
      "Sources: disks (statvfs, /proc/self/mountinfo, vgs), Docker (/system/df), the Kubernetes control plane "
      "(kube-system pods, leases, nodes), the cache (--cache-url: DNS, /health, /ready, TLS expiry) and the host "
      "(inotify limits, iowait, load). A source that is absent is skipped with an info finding. Nothing is "
      "deleted or changed; fixes name the commands to run.\n"
      "Score: 100 - 50 per blocker - 20 per error - 5 per warning, at least 0.\n"
      "Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 bad flags or an unwritable "
      "--textfile-dir.\n"
      "Finding ids, fixes, metrics and the textfile collector setup: docs/ops.md.");
  addSourceOptions(cmd, *opts);
  cmd->add_option("--format", opts->format, "output: text (coloured on a terminal), json, junit or prometheus")
      ->check(CLI::IsMember({"text", "json", "junit", "prometheus"}))
      ->capture_default_str();
  cmd->add_option("--fail-on", opts->fail_on, "exit 1 when a finding is at or above: info, warning, error, blocker")
      ->check(CLI::IsMember({"info", "warning", "error", "blocker"}))
      ->capture_default_str();
  cmd->add_option("--textfile-dir", opts->textfile_dir,
                  "also write DIR/garret_doctor.prom atomically for node_exporter's textfile collector")
      ->check(CLI::ExistingDirectory);
  dispatch.on(cmd, [opts] { return run(*opts); });
}

}  // namespace garret::cli
