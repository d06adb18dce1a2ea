#pragma once

// garret preflight: is this cluster ready for garret's Kubernetes
// deployment? Runs read-only API calls through a KubeClient (and
// SelfSubjectAccessReviews, which store nothing) and returns findings.
//
// Order: API reachable (GET /version), permissions, CRDs, ingress class,
// ClusterIssuer, storage class, DNS, nodes, then the manifests' secret
// references. When the API cannot be reached or rejects the credentials,
// the report holds that one finding and `could_not_run` is set (exit 2).
// A read the user may not do becomes an rbac-denied warning and that check
// is skipped.

#include <string>
#include <vector>

#include "ops/finding.h"
#include "ops/kube/kube_client.h"
#include "ops/preflight/manifests.h"
#include "ops/preflight/settings.h"

namespace garret::ops::preflight {

struct Report {
  std::vector<Finding> findings;
  std::vector<std::string> passed;  // checks that ran clean (JUnit passing cases)
  bool could_not_run = false;
  std::string error;  // why, when could_not_run
};

// `manifests` may be null (no --manifests). Manifest findings are included
// even when the API cannot be reached.
Report runPreflight(kube::KubeClient& kube, const Settings& settings, const std::vector<ManifestDoc>* manifests);

}  // namespace garret::ops::preflight
