#include "ops/preflight/checks.h"

#include <algorithm>

#include "ops/kube/json_access.h"
#include "ops/kube/nodes.h"

namespace garret::ops::preflight {

namespace {

Finding make(std::string id, Severity sev, std::string subject, std::string message, std::string fix) {
  Finding f;
  f.id = std::move(id);
  f.severity = sev;
  f.subject = std::move(subject);
  f.message = std::move(message);
  f.fix = std::move(fix);
  return f;
}

struct ClassList {
  std::vector<std::string> names;
  std::vector<std::string> defaults;
};

// Names of the items of a list, and which carry the default-class annotation.
ClassList classes(const nlohmann::json& list, const char* default_annotation) {
  ClassList out;
  for (const nlohmann::json& item : jsonArray(list, {"items"})) {
    std::string name = jsonString(item, {"metadata", "name"});
    out.names.push_back(name);
    if (jsonString(item, {"metadata", "annotations", default_annotation}) == "true") out.defaults.push_back(name);
  }
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "none" : out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool anyServed(const nlohmann::json& crd) {
  for (const nlohmann::json& v : jsonArray(crd, {"spec", "versions"})) {
    if (jsonBool(v, {"served"})) return true;
  }
  return false;
}

}  // namespace

std::vector<CrdNeed> requiredCrds(const Settings& s) {
  std::vector<CrdNeed> out;
  if (s.database == Database::kCnpg) {
    out.push_back({"clusters.postgresql.cnpg.io", "database = \"cnpg\"", kCnpgInstall});
  }
  if (!s.tls_issuer.empty()) {
    out.push_back({"certificates.cert-manager.io", "tls_issuer is set", kCertManagerInstall});
    out.push_back({"clusterissuers.cert-manager.io", "tls_issuer is set", kCertManagerInstall});
  }
  return out;
}

std::vector<Finding> checkCrd(const CrdNeed& need, const std::optional<nlohmann::json>& crd) {
  std::string subject = "crd/" + need.name;
  if (!crd) {
    return {make("crd-missing", Severity::kBlocker, subject,
                 "CustomResourceDefinition " + need.name + " is not installed (needed because " + need.why + ")",
                 need.install)};
  }
  std::string established = kube::conditionStatus(*crd, "Established");
  if (established == "True" && anyServed(*crd)) return {};
  std::string detail = kube::conditionDetail(*crd, "Established");
  return {make("crd-not-established", Severity::kBlocker, subject,
               "CustomResourceDefinition " + need.name + " exists but is not established (Established=" +
                   (established.empty() ? "missing" : established) + (anyServed(*crd) ? "" : ", no served version") +
                   (detail.empty() ? "" : ", " + detail) + ")",
               "kubectl wait --for=condition=Established crd/" + need.name +
                   " --timeout=60s; if it stays so, reinstall the operator: " + need.install)};
}

std::vector<kube::AccessCheck> requiredAccess(const Settings& s) {
  const std::string& ns = s.namespace_name;
  std::vector<kube::AccessCheck> out = {
      {ns, "create", "apps", "deployments"},         {ns, "create", "", "services"},
      {ns, "create", "networking.k8s.io", "ingresses"}, {ns, "create", "", "secrets"},
      {ns, "create", "", "configmaps"},              {ns, "create", "", "persistentvolumeclaims"},
  };
  if (s.database == Database::kCnpg) out.push_back({ns, "create", "postgresql.cnpg.io", "clusters"});
  if (!s.tls_issuer.empty()) out.push_back({ns, "create", "cert-manager.io", "certificates"});
  return out;
}

Finding rbacDenied(const kube::AccessCheck& check, const std::string& detail) {
  std::string what = check.verb + " " + kube::resourceName(check);
  std::string where = check.namespace_name.empty() ? "" : " in namespace " + check.namespace_name;
  return make("rbac-denied", Severity::kBlocker, kube::resourceName(check),
              "the kubeconfig's user may not " + what + where + (detail.empty() ? "" : " (" + detail + ")"),
              "grant it, e.g. kubectl create rolebinding garret-deployer --clusterrole=admin --user=<user> -n " +
                  check.namespace_name + "; check with kubectl auth can-i " + check.verb + " " +
                  kube::resourceName(check) + (check.namespace_name.empty() ? "" : " -n " + check.namespace_name));
}

std::vector<Finding> checkIngressClass(const Settings& s, const nlohmann::json& class_list) {
  ClassList c = classes(class_list, "ingressclass.kubernetes.io/is-default-class");
  if (!s.ingress_class.empty() && contains(c.names, s.ingress_class)) return {};
  if (s.ingress_class.empty() && !c.defaults.empty()) return {};
  std::string wanted = s.ingress_class.empty() ? "a default IngressClass" : "IngressClass " + s.ingress_class;
  std::string message = wanted + " does not exist; classes on this cluster: " + joined(c.names) +
                        " (default: " + joined(c.defaults) + ")";
  std::string fix = c.names.empty()
                        ? "install an ingress controller first (e.g. ingress-nginx, class nginx), then set ingress_class"
                        : "set ingress_class to one of: " + joined(c.names) + ", or install the controller for " +
                              (s.ingress_class.empty() ? "a default class" : s.ingress_class);
  return {make("ingress-class-missing", Severity::kBlocker,
               "ingressclass/" + (s.ingress_class.empty() ? std::string("<default>") : s.ingress_class), message, fix)};
}

std::vector<Finding> checkIssuer(const Settings& s, const std::optional<nlohmann::json>& issuer) {
  if (s.tls_issuer.empty()) return {};
  std::string subject = "clusterissuer/" + s.tls_issuer;
  if (!issuer) {
    return {make("issuer-not-ready", Severity::kError, subject,
                 "ClusterIssuer " + s.tls_issuer + " does not exist, so no TLS certificate will be issued",
                 "create it (docs/deploy.md step 3), then kubectl wait --for=condition=Ready clusterissuer/" +
                     s.tls_issuer)};
  }
  std::string ready = kube::conditionStatus(*issuer, "Ready");
  if (ready == "True") return {};
  std::string detail = kube::conditionDetail(*issuer, "Ready");
  return {make("issuer-not-ready", Severity::kError, subject,
               "ClusterIssuer " + s.tls_issuer + " is not Ready (Ready=" + (ready.empty() ? "missing" : ready) + ")" +
                   (detail.empty() ? "" : ": " + detail),
               "kubectl describe clusterissuer " + s.tls_issuer + "; fix its ACME account or solver, then "
               "kubectl wait --for=condition=Ready clusterissuer/" + s.tls_issuer)};
}

std::vector<Finding> checkStorageClass(const Settings& s, const nlohmann::json& class_list) {
  if (s.database != Database::kCnpg && s.storage_class.empty()) return {};
  ClassList c = classes(class_list, "storageclass.kubernetes.io/is-default-class");
  if (!s.storage_class.empty() && contains(c.names, s.storage_class)) return {};
  if (s.storage_class.empty() && !c.defaults.empty()) return {};
  std::string wanted = s.storage_class.empty() ? "a default StorageClass" : "StorageClass " + s.storage_class;
  return {make("storage-class-missing", Severity::kBlocker,
               "storageclass/" + (s.storage_class.empty() ? std::string("<default>") : s.storage_class),
               wanted + " does not exist, so the database volumes would stay Pending; classes on this cluster: " +
                   joined(c.names) + " (default: " + joined(c.defaults) + ")",
               c.names.empty() ? "install a storage provisioner (e.g. local-path-provisioner) and set storage_class"
                               : "set storage_class to one of: " + joined(c.names))};
}

std::vector<const nlohmann::json*> externalDnsDeployments(const nlohmann::json& deployment_list) {
  std::vector<const nlohmann::json*> out;
  for (const nlohmann::json& d : jsonArray(deployment_list, {"items"})) {
    bool match = jsonString(d, {"metadata", "labels", "app.kubernetes.io/name"}) == "external-dns" ||
                 jsonString(d, {"metadata", "labels", "app"}) == "external-dns";
    for (const nlohmann::json& c : jsonArray(d, {"spec", "template", "spec", "containers"})) {
      match = match || jsonString(c, {"image"}).find("external-dns") != std::string::npos;
    }
    if (match) out.push_back(&d);
  }
  return out;
}

std::vector<Finding> checkExternalDns(const Settings& s, const nlohmann::json& deployment_list) {
  if (s.dns_provider == DnsProvider::kNone || !externalDnsDeployments(deployment_list).empty()) return {};
  std::string provider = s.dns_provider == DnsProvider::kCloudflare ? " --provider=cloudflare" : "";
  return {make("external-dns-missing", Severity::kError, "deployment/external-dns",
               "dns_provider needs external-dns, but no external-dns Deployment runs in any namespace; "
               "the DNS record for " + (s.host.empty() ? std::string("the cache") : s.host) + " will not be created",
               "install external-dns with --source=ingress" + provider +
                   " (https://kubernetes-sigs.github.io/external-dns/), or set dns_provider = \"none\" and "
                   "create the record by hand")};
}

}  // namespace garret::ops::preflight
