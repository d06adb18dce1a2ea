#pragma once

// garret doctor: a health report for a CI runner host and the cluster it
// belongs to. Sources are optional: each one that is not configured or not
// present (no Docker socket, no kubeconfig, no --cache-url, no vgs) adds a
// `source-skipped` info finding and the rest still runs. Doctor only reads;
// it never deletes or changes anything.

#include <cstdint>
#include <string>
#include <vector>

#include "client/http_client.h"
#include "core/clock.h"
#include "ops/docker/docker_client.h"
#include "ops/doctor/cache_check.h"
#include "ops/doctor/controlplane.h"
#include "ops/doctor/disks.h"
#include "ops/doctor/metric.h"
#include "ops/finding.h"
#include "ops/host/system.h"
#include "ops/kube/kube_client.h"

namespace garret::ops::doctor {

struct DoctorOptions {
  std::vector<MountSpec> mounts;               // statvfs checks
  std::vector<ExpectedMount> expected_mounts;  // mountinfo checks
  bool lvm = true;                             // run vgs when installed
  std::int64_t docker_reclaimable_warn = 10'000'000'000;  // bytes per type
  RestartLimits restarts;
  CacheCheckOptions cache;  // url empty: skipped
  bool host_checks = true;  // inotify, iowait, load
};

// What doctor talks to. Null clients are skipped with the matching reason.
struct DoctorSources {
  host::HostSystem& host;
  const Clock& clock;
  docker::DockerClient* docker = nullptr;
  std::string docker_skip_reason = "no Docker socket";
  kube::KubeClient* kube = nullptr;
  std::string kube_skip_reason = "no kubeconfig";
  client::HttpClient* cache_http = nullptr;  // made with cert_info
};

struct DoctorReport {
  std::vector<Finding> findings;
  std::vector<std::string> passed;
  std::vector<Metric> metrics;
  std::int64_t generated_at = 0;
};

DoctorReport runDoctor(const DoctorOptions& options, DoctorSources& sources);

// The Kubernetes part alone: kube-system pods, leases and nodes. An
// unreachable API is one api-unreachable error finding.
std::vector<Finding> runControlPlaneChecks(kube::KubeClient& kube, const RestartLimits& limits, std::int64_t now,
                                           std::vector<Metric>& metrics);

}  // namespace garret::ops::doctor
