// garret preflight: is the cluster ready for garret's Kubernetes deployment?

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/command.h"
#include "ops/kube/connect.h"
#include "ops/preflight/preflight.h"
#include "ops/report.h"

namespace garret::cli {

namespace {

struct PreflightOptions {
  std::string settings;
  std::string manifests;
  std::string kubeconfig;
  std::string context;
  std::string format = "text";
  std::string fail_on = "blocker";
  int timeout_seconds = 15;
};

int usageError(const std::string& message) {
  std::cerr << "garret preflight: " << message << "\n";
  return kExitUsage;
}

Result<ops::preflight::Settings> readSettings(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalid("cannot read settings file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return ops::preflight::parseSettings(text.str(), path);
}

int run(const PreflightOptions& o) {
  auto format = ops::parseReportFormat(o.format);
  auto fail_on = ops::parseSeverity(o.fail_on);
  if (!format || *format == ops::ReportFormat::kPrometheus) return usageError("--format must be text, json or junit");
  if (!fail_on) return usageError("--fail-on must be info, warning, error or blocker");
  auto settings = readSettings(o.settings);
  if (!settings.ok()) return usageError(settings.error().message);
  std::vector<ops::Finding> manifest_errors;
  std::optional<std::vector<ops::preflight::ManifestDoc>> docs;
  if (!o.manifests.empty()) {
    auto loaded = ops::preflight::loadManifestDir(o.manifests, manifest_errors);
    if (!loaded.ok()) return usageError(loaded.error().message);
    docs = std::move(*loaded);
  }
  std::string path = ops::kube::kubeconfigPath(o.kubeconfig, std::getenv("KUBECONFIG"), std::getenv("HOME"));
  if (path.empty()) return usageError("no kubeconfig: pass --kubeconfig or set KUBECONFIG");
  auto conn = ops::kube::connectKube(path, o.context, std::chrono::seconds(o.timeout_seconds));
  if (!conn.ok()) return usageError(conn.error().message);
  ops::preflight::Report report = ops::preflight::runPreflight(*conn->client, *settings, docs ? &*docs : nullptr);
  for (ops::Finding& f : manifest_errors) report.findings.push_back(std::move(f));
  ops::sortFindings(report.findings);
  const char* status = ops::reportStatus(report.findings, *fail_on, report.could_not_run);
  std::cout << ops::renderReport(*format, "preflight", report.findings, report.passed, status,
                                 *format == ops::ReportFormat::kText && ops::stdoutWantsColor());
  if (report.could_not_run) std::cerr << "garret preflight: " << report.error << "\n";
  return ops::reportExitCode(report.findings, *fail_on, report.could_not_run);
}

}  // namespace

void addPreflightCommand(CLI::App& root, Dispatch& dispatch) {
  auto opts = std::make_shared<PreflightOptions>();
  auto* cmd = root.add_subcommand("preflight",
                                  "Check that a Kubernetes cluster is ready for garret's deployment (read-only)");
  cmd->footer(
      "Checks API access and permissions (SelfSubjectAccessReview), operator CRDs (CloudNativePG, cert-manager), "
      "the ingress class, the ClusterIssuer, the storage class, DNS (external-dns, Cloudflare credentials), node "
      "readiness, and with --manifests the rendered manifests. Nothing is changed.\n"
      "Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 the check could not run (bad "
      "flags or settings, unreadable kubeconfig, unreachable API server, rejected credentials).\n"
      "Finding ids, fixes and examples: docs/ops.md.");
  cmd->add_option("--settings", opts->settings,
                  "TOML settings of the deployment: namespace, host, ingress_class, tls_issuer, storage_class, "
                  "database = cnpg|external, dns_provider = external-dns|cloudflare|none")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--manifests", opts->manifests,
                  "directory of rendered manifests (*.yaml, multi-document; e.g. kubectl kustomize overlay > "
                  "DIR/all.yaml) to check as well")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--kubeconfig", opts->kubeconfig,
                  "kubeconfig file (default: first file of $KUBECONFIG, else ~/.kube/config)");
  cmd->add_option("--context", opts->context, "kubeconfig context (default: its current-context)");
  cmd->add_option("--format", opts->format, "output: text (coloured on a terminal), json or junit")
      ->check(CLI::IsMember({"text", "json", "junit"}))
      ->capture_default_str();
  cmd->add_option("--fail-on", opts->fail_on, "exit 1 when a finding is at or above: info, warning, error, blocker")
      ->check(CLI::IsMember({"info", "warning", "error", "blocker"}))
      ->capture_default_str();
  cmd->add_option("--timeout", opts->timeout_seconds, "seconds allowed per Kubernetes API request")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
  dispatch.on(cmd, [opts] { return run(*opts); });
}

}  // namespace garret::cli
