#include "ops/kube/connect.h"

namespace garret::ops::kube {

Result<KubeConnection> connectKube(const std::string& kubeconfig, const std::string& context,
                                   std::chrono::milliseconds timeout) {
  GARRET_ASSIGN_OR_RETURN(KubeTarget target, loadKubeconfig(kubeconfig, context, realFileReader()));
  KubeConnection c;
  c.http = client::makeCurlHttpClient(target.http);
  c.client = std::make_unique<KubeClient>(*c.http, target.server, target.token, timeout);
  c.target = std::move(target);
  return c;
}

}  // namespace garret::ops::kube
