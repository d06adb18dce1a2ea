#pragma once

// Preflight checks as pure functions over API responses already fetched, so
// tests feed them recorded JSON. Each returns the findings it has (none when
// the check passes). Severities: blocker when applying or starting the
// deployment will fail, error when part of it will not work, warning for
// conditions that may resolve themselves.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "ops/finding.h"
#include "ops/kube/kube_client.h"
#include "ops/preflight/settings.h"

namespace garret::ops::preflight {

// Pinned operator releases, the same as docs/deploy.md.
inline constexpr const char* kCnpgInstall =
    "kubectl apply --server-side -f https://raw.githubusercontent.com/cloudnative-pg/cloudnative-pg/"
    "release-1.30/releases/cnpg-1.30.1.yaml";
inline constexpr const char* kCertManagerInstall =
    "kubectl apply -f https://github.com/cert-manager/cert-manager/releases/download/v1.21.2/cert-manager.yaml";

struct CrdNeed {
  std::string name;  // "clusters.postgresql.cnpg.io"
  std::string why;   // "database = \"cnpg\""
  std::string install;
};

// CRDs the settings need: CloudNativePG's Cluster for database = "cnpg",
// cert-manager's Certificate and ClusterIssuer when tls_issuer is set.
std::vector<CrdNeed> requiredCrds(const Settings& s);
// `crd` is the CustomResourceDefinition, nullopt when the API answered 404.
// crd-missing, or crd-not-established unless the Established condition is
// True and some version is served.
std::vector<Finding> checkCrd(const CrdNeed& need, const std::optional<nlohmann::json>& crd);

// What applying the deployment creates in the namespace.
std::vector<kube::AccessCheck> requiredAccess(const Settings& s);
// rbac-denied (blocker) for a create the caller may not do.
Finding rbacDenied(const kube::AccessCheck& check, const std::string& detail);

// ingress-class-missing unless the wanted class (or, when none is set, a
// default class) exists; the message lists the classes that do exist.
std::vector<Finding> checkIngressClass(const Settings& s, const nlohmann::json& class_list);
// issuer-not-ready: the ClusterIssuer is absent (nullopt) or not Ready.
std::vector<Finding> checkIssuer(const Settings& s, const std::optional<nlohmann::json>& issuer);
// storage-class-missing unless the wanted class (or a default) exists; only
// when the deployment makes volumes (database = "cnpg" or a class is set).
std::vector<Finding> checkStorageClass(const Settings& s, const nlohmann::json& class_list);

// external-dns Deployments of a DeploymentList (label
// app.kubernetes.io/name=external-dns or app=external-dns, or an image
// named external-dns).
std::vector<const nlohmann::json*> externalDnsDeployments(const nlohmann::json& deployment_list);
// external-dns-missing when dns_provider needs external-dns and none runs.
std::vector<Finding> checkExternalDns(const Settings& s, const nlohmann::json& deployment_list);

// Where an external-dns Deployment gets its Cloudflare credentials.
struct CredentialSource {
  std::string deployment;      // "external-dns/external-dns" (namespace/name)
  bool inline_value = false;   // CF_API_TOKEN/CF_API_KEY set as a plain value
  std::string namespace_name;  // of the secret
  std::string secret;          // empty when no secret is referenced
  std::string key;             // empty for envFrom (the whole secret)
};
CredentialSource cloudflareCredentials(const nlohmann::json& deployment);
// dns-credentials-missing: no Cloudflare token configured, or the secret it
// names is absent (`secret` nullopt) or lacks the key.
std::vector<Finding> checkCloudflareCredentials(const CredentialSource& source,
                                                const std::optional<nlohmann::json>& secret);

}  // namespace garret::ops::preflight
