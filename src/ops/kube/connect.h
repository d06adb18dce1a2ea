#pragma once

// A KubeClient for a kubeconfig, with the libcurl HttpClient it owns.

#include <memory>
#include <string>

#include "client/http_client.h"
#include "core/result.h"
#include "ops/kube/kube_client.h"
#include "ops/kube/kubeconfig.h"

namespace garret::ops::kube {

struct KubeConnection {
  KubeTarget target;
  std::unique_ptr<client::HttpClient> http;
  std::unique_ptr<KubeClient> client;
};

// Loads the kubeconfig (see kubeconfigPath for which file) and connects
// lazily: nothing is sent until the first call.
Result<KubeConnection> connectKube(const std::string& kubeconfig, const std::string& context,
                                   std::chrono::milliseconds timeout);

}  // namespace garret::ops::kube
