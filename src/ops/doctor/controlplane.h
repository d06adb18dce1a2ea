#pragma once

// Kubernetes control-plane checks over kube-system data (pure):
//   controlplane-crashloop  a container of kube-apiserver, kube-controller-
//                           manager, kube-scheduler or etcd (static pods named
//                           <component>-<node>) in CrashLoopBackOff (error)
//   controlplane-restarts   restartCount >= restart_warn (warning) or
//                           >= restart_error (error), with the last
//                           termination reason and exit code
//   lease-stale             a kube-system Lease not renewed for
//                           max(3 x leaseDurationSeconds, 60 s): error for
//                           kube-controller-manager / kube-scheduler (no
//                           active leader), warning for other leases

#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

#include "ops/doctor/metric.h"
#include "ops/finding.h"

namespace garret::ops::doctor {

struct RestartLimits {
  std::int64_t warn = 10;
  std::int64_t error = 100;
};

// `pods`: GET /api/v1/namespaces/kube-system/pods.
std::vector<Finding> controlPlaneFindings(const nlohmann::json& pods, const RestartLimits& limits,
                                          std::vector<Metric>& metrics);
// `leases`: GET /apis/coordination.k8s.io/v1/namespaces/kube-system/leases; `now` unix seconds.
std::vector<Finding> leaseFindings(const nlohmann::json& leases, std::int64_t now, std::vector<Metric>& metrics);

}  // namespace garret::ops::doctor
