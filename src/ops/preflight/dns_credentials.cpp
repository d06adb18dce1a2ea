// Cloudflare credentials of external-dns (part of checks.h).

#include "ops/kube/json_access.h"
#include "ops/preflight/checks.h"

namespace garret::ops::preflight {

namespace {

bool isTokenVar(const std::string& name) { return name == "CF_API_TOKEN" || name == "CF_API_KEY"; }

// Fills `out` from one container's env and envFrom; true when found.
bool fromContainer(const nlohmann::json& c, CredentialSource& out) {
  for (const nlohmann::json& e : jsonArray(c, {"env"})) {
    if (!isTokenVar(jsonString(e, {"name"}))) continue;
    if (!jsonString(e, {"value"}).empty()) {
      out.inline_value = true;
      return true;
    }
    std::string secret = jsonString(e, {"valueFrom", "secretKeyRef", "name"});
    if (!secret.empty()) {
      out.secret = secret;
      out.key = jsonString(e, {"valueFrom", "secretKeyRef", "key"});
      return true;
    }
  }
  for (const nlohmann::json& e : jsonArray(c, {"envFrom"})) {
    std::string secret = jsonString(e, {"secretRef", "name"});
    if (!secret.empty()) {
      out.secret = secret;
      return true;
    }
  }
  return false;
}

}  // namespace

CredentialSource cloudflareCredentials(const nlohmann::json& deployment) {
  CredentialSource out;
  out.namespace_name = jsonString(deployment, {"metadata", "namespace"});
  out.deployment = out.namespace_name + "/" + jsonString(deployment, {"metadata", "name"});
  for (const nlohmann::json& c : jsonArray(deployment, {"spec", "template", "spec", "containers"})) {
    if (fromContainer(c, out)) break;
  }
  return out;
}

std::vector<Finding> checkCloudflareCredentials(const CredentialSource& source,
                                                const std::optional<nlohmann::json>& secret) {
  if (source.inline_value) return {};
  Finding f;
  f.id = "dns-credentials-missing";
  f.severity = Severity::kError;
  f.subject = "deployment/" + source.deployment;
  std::string create = "kubectl -n " + source.namespace_name +
                       " create secret generic cloudflare-api-token --from-literal=api-token=<token>";
  if (source.secret.empty()) {
    f.message = "external-dns (" + source.deployment + ") has no Cloudflare API token: neither CF_API_TOKEN nor "
                "CF_API_KEY is set in its environment";
    f.fix = create + ", then set CF_API_TOKEN from secretKeyRef {name: cloudflare-api-token, key: api-token}";
    return {f};
  }
  f.subject = "secret/" + source.namespace_name + "/" + source.secret;
  if (!secret) {
    f.message = "external-dns (" + source.deployment + ") takes its Cloudflare token from secret " + source.secret +
                ", which does not exist in namespace " + source.namespace_name;
    f.fix = "kubectl -n " + source.namespace_name + " create secret generic " + source.secret +
            " --from-literal=" + (source.key.empty() ? "CF_API_TOKEN" : source.key) + "=<token>";
    return {f};
  }
  if (source.key.empty() || jsonAt(*secret, {"data", source.key}) != nullptr ||
      jsonAt(*secret, {"stringData", source.key}) != nullptr) {
    return {};
  }
  f.message = "secret " + source.secret + " exists but has no key " + source.key + " for external-dns's CF_API_TOKEN";
  f.fix = "kubectl -n " + source.namespace_name + " patch secret " + source.secret +
          " --type merge -p '{\"stringData\":{\"" + source.key + "\":\"<token>\"}}'";
  return {f};
}

}  // namespace garret::ops::preflight
