#include "ops/doctor/doctor.h"

#include "ops/docker/disk_usage.h"
#include "ops/doctor/host_checks.h"
#include "ops/kube/nodes.h"

namespace garret::ops::doctor {

namespace {

Finding skipped(const std::string& source, const std::string& why) {
  return {"source-skipped", Severity::kInfo, source, "", 0, source + " not checked: " + why, ""};
}

class Doctor {
 public:
  Doctor(const DoctorOptions& o, DoctorSources& s) : o_(o), s_(s) { report_.generated_at = s.clock.now(); }

  DoctorReport run() {
    for (const MountSpec& m : o_.mounts) diskUsage(m);
    expectedMounts();
    if (o_.lvm) lvm();
    dockerUsage();
    controlPlane();
    cache();
    if (o_.host_checks) add("host", runHostChecks(s_.host, report_.metrics));
    return std::move(report_);
  }

 private:
  void diskUsage(const MountSpec& m) {
    auto st = s_.host.fsStats(m.path);
    if (!st.ok()) {
      add("disk " + m.path, {{"mount-missing", Severity::kError, m.path, "", 0,
                              "cannot check " + m.path + ": " + st.error().message,
                              "create or mount " + m.path + ", or drop it from --mount"}});
      return;
    }
    add("disk " + m.path, usageFindings(m, *st, report_.metrics));
  }

  void expectedMounts() {
    if (o_.expected_mounts.empty()) return;
    auto text = s_.host.readFile("/proc/self/mountinfo");
    if (!text.ok()) return add("mounts", {skipped("mounts", "/proc/self/mountinfo is not readable")});
    std::vector<MountEntry> mounts = parseMountinfo(*text);
    for (const ExpectedMount& want : o_.expected_mounts) add("mount " + want.path, expectedMountFindings(want, mounts));
  }

  void lvm() {
    auto out = s_.host.run({"vgs", "--reportformat", "json", "--units", "b"});
    if (!out.ok()) {
      std::string why = out.error().code == ErrorCode::kNotFound ? "vgs is not installed" : out.error().message;
      return add("lvm", {skipped("lvm", why)});
    }
    auto vgs = parseVgsJson(*out);
    if (!vgs.ok()) return add("lvm", {skipped("lvm", vgs.error().message)});
    add("lvm", volumeGroupFindings(*vgs, report_.metrics));
  }

  void dockerUsage() {
    if (s_.docker == nullptr) return add("docker", {skipped("docker", s_.docker_skip_reason)});
    auto df = s_.docker->systemDf();
    if (!df.ok()) {
      return add("docker", {{"docker-unreachable", Severity::kWarning, "docker", "", 0, df.error().message,
                             "check the Docker daemon (systemctl status docker) and the socket's permissions"}});
    }
    docker::DiskUsage usage = docker::parseDiskUsage(*df);
    for (const docker::TypeUsage& u : usage.types) {
      report_.metrics.push_back({"garret_doctor_docker_reclaimable_bytes", "Bytes docker prune could reclaim, by type.",
                                 {{"type", docker::usageTypeName(u.type)}}, static_cast<double>(u.reclaimable_bytes)});
    }
    add("docker", docker::diskUsageFindings(usage, o_.docker_reclaimable_warn));
  }

  void controlPlane() {
    if (s_.kube == nullptr) return add("kubernetes", {skipped("kubernetes", s_.kube_skip_reason)});
    add("kubernetes", runControlPlaneChecks(*s_.kube, o_.restarts, report_.generated_at, report_.metrics));
  }

  void cache() {
    if (o_.cache.url.empty() || s_.cache_http == nullptr) return add("cache", {skipped("cache", "no --cache-url")});
    add("cache", checkCache(o_.cache, *s_.cache_http, s_.host, report_.generated_at, report_.metrics));
  }

  void add(const std::string& check, std::vector<Finding> findings) {
    if (findings.empty()) report_.passed.push_back(check);
    for (Finding& f : findings) report_.findings.push_back(std::move(f));
  }

  const DoctorOptions& o_;
  DoctorSources& s_;
  DoctorReport report_;
};

Finding apiFailure(const kube::KubeClient& kube, const Error& e) {
  bool denied = e.code == ErrorCode::kForbidden || e.code == ErrorCode::kUnauthorized;
  return {denied ? "rbac-denied" : "api-unreachable", Severity::kError, kube.server(), "", 0, e.message,
          denied ? "doctor needs get/list on pods and leases in kube-system and on nodes (e.g. the view ClusterRole "
                   "plus nodes)"
                 : "check the kubeconfig's server, the network path and the API server"};
}

}  // namespace

std::vector<Finding> runControlPlaneChecks(kube::KubeClient& kube, const RestartLimits& limits, std::int64_t now,
                                           std::vector<Metric>& metrics) {
  auto pods = kube.getRequired("/api/v1/namespaces/kube-system/pods");
  if (!pods.ok()) return {apiFailure(kube, pods.error())};
  std::vector<Finding> out = controlPlaneFindings(*pods, limits, metrics);
  auto leases = kube.getRequired("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases");
  if (!leases.ok()) {
    out.push_back(apiFailure(kube, leases.error()));
  } else {
    for (Finding& f : leaseFindings(*leases, now, metrics)) out.push_back(std::move(f));
  }
  auto nodes = kube.getRequired("/api/v1/nodes");
  if (!nodes.ok()) {
    out.push_back(apiFailure(kube, nodes.error()));
  } else {
    for (Finding& f : kube::nodeFindings(*nodes)) out.push_back(std::move(f));
  }
  return out;
}

DoctorReport runDoctor(const DoctorOptions& options, DoctorSources& sources) {
  return Doctor(options, sources).run();
}

}  // namespace garret::ops::doctor
