#include "ops/preflight/preflight.h"

#include "ops/kube/json_access.h"
#include "ops/kube/nodes.h"
#include "ops/preflight/checks.h"

namespace garret::ops::preflight {

namespace {

class Preflight {
 public:
  Preflight(kube::KubeClient& kube, const Settings& s) : kube_(kube), s_(s) {}

  Report run(const std::vector<ManifestDoc>* manifests) {
    if (checkApi()) {
      checkAccess();
      for (const CrdNeed& need : requiredCrds(s_)) checkOneCrd(need);
      if (auto list = read("ingress-class", "/apis/networking.k8s.io/v1/ingressclasses")) {
        add("ingress-class", checkIngressClass(s_, *list));
      }
      checkIssuerReady();
      if (auto list = read("storage-class", "/apis/storage.k8s.io/v1/storageclasses")) {
        add("storage-class", checkStorageClass(s_, *list));
      }
      checkDns();
      if (auto nodes = read("nodes", "/api/v1/nodes")) add("nodes", kube::nodeFindings(*nodes));
    }
    if (manifests != nullptr) checkManifests(*manifests);
    return std::move(report_);
  }

 private:
  // False (with a finding) when the API is unreachable or rejects us.
  bool checkApi() {
    auto version = kube_.get("/version");
    if (version.ok()) return true;
    const Error& e = version.error();
    bool auth = e.code == ErrorCode::kUnauthorized || e.code == ErrorCode::kForbidden;
    Finding f{auth ? "api-unauthorized" : "api-unreachable", Severity::kBlocker, kube_.server(), "", 0, e.message,
              auth ? "check the kubeconfig's user (token, tokenFile or client certificate) and --context"
                   : "check the server address in the kubeconfig, the network/VPN path, and that the API server "
                     "runs (kubectl --kubeconfig ... version)"};
    report_.findings.push_back(std::move(f));
    report_.could_not_run = true;
    report_.error = e.message;
    return false;
  }

  void checkAccess() {
    std::vector<Finding> denied;
    for (const kube::AccessCheck& check : requiredAccess(s_)) {
      auto allowed = kube_.canI(check);
      if (!allowed.ok()) {
        denied.push_back(rbacDenied(check, "SelfSubjectAccessReview failed: " + allowed.error().message));
      } else if (!*allowed) {
        denied.push_back(rbacDenied(check, ""));
      }
    }
    add("rbac", std::move(denied));
  }

  void checkOneCrd(const CrdNeed& need) {
    auto crd = kube_.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + need.name);
    if (!crd.ok()) return readFailed("crd " + need.name, crd.error());
    add("crd " + need.name, checkCrd(need, *crd));
    if (!*crd) missing_crds_.push_back(need.name);
  }

  void checkIssuerReady() {
    if (s_.tls_issuer.empty()) return;
    if (std::find(missing_crds_.begin(), missing_crds_.end(), "clusterissuers.cert-manager.io") != missing_crds_.end()) {
      return;  // crd-missing already says it
    }
    auto issuer = kube_.get("/apis/cert-manager.io/v1/clusterissuers/" + s_.tls_issuer);
    if (!issuer.ok()) return readFailed("clusterissuer", issuer.error());
    add("clusterissuer", checkIssuer(s_, *issuer));
  }

  void checkDns() {
    if (s_.dns_provider == DnsProvider::kNone) return;
    auto list = read("external-dns", "/apis/apps/v1/deployments");
    if (!list) return;
    add("external-dns", checkExternalDns(s_, *list));
    if (s_.dns_provider != DnsProvider::kCloudflare) return;
    for (const nlohmann::json* d : externalDnsDeployments(*list)) {
      CredentialSource source = cloudflareCredentials(*d);
      std::optional<nlohmann::json> secret;
      if (!source.secret.empty()) {
        auto r = kube_.get("/api/v1/namespaces/" + source.namespace_name + "/secrets/" + source.secret);
        if (!r.ok()) return readFailed("dns-credentials", r.error());
        secret = *r;
      }
      add("dns-credentials", checkCloudflareCredentials(source, secret));
    }
  }

  void checkManifests(const std::vector<ManifestDoc>& docs) {
    ManifestScan scan = scanManifests(docs, s_.namespace_name);
    add("manifests", std::move(scan.findings));
    if (report_.could_not_run) return;
    std::vector<Finding> missing;
    for (const SecretUse& use : scan.undefined_secrets) {
      auto secret = kube_.get("/api/v1/namespaces/" + use.namespace_name + "/secrets/" + use.name);
      if (!secret.ok()) return readFailed("secret-refs", secret.error());
      if (!*secret) missing.push_back(secretRefMissing(use));
    }
    add("secret-refs", std::move(missing));
  }

  std::optional<nlohmann::json> read(const std::string& check, const std::string& path) {
    auto r = kube_.getRequired(path);
    if (!r.ok()) {
      readFailed(check, r.error());
      return std::nullopt;
    }
    return std::move(*r);
  }

  void readFailed(const std::string& check, const Error& e) {
    bool denied = e.code == ErrorCode::kForbidden;
    Finding f{denied ? "rbac-denied" : "check-failed", Severity::kWarning, check, "", 0,
              "could not check " + check + ": " + e.message,
              denied ? "grant read access (kubectl auth can-i --list) or run preflight as a user who has it"
                     : "run again; if it persists, check the API server's health"};
    report_.findings.push_back(std::move(f));
  }

  void add(const std::string& check, std::vector<Finding> findings) {
    if (findings.empty()) report_.passed.push_back(check);
    for (Finding& f : findings) report_.findings.push_back(std::move(f));
  }

  kube::KubeClient& kube_;
  const Settings& s_;
  Report report_;
  std::vector<std::string> missing_crds_;
};

}  // namespace

Report runPreflight(kube::KubeClient& kube, const Settings& settings, const std::vector<ManifestDoc>* manifests) {
  return Preflight(kube, settings).run(manifests);
}

}  // namespace garret::ops::preflight
