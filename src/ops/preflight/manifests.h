#pragma once

// Offline checks of rendered manifests (`garret preflight --manifests DIR`):
// every *.yaml / *.yml file of DIR (not recursive), multi-document.
//   ingress-class-conflict  an Ingress with both the legacy
//                           kubernetes.io/ingress.class annotation and
//                           spec.ingressClassName (the API server refuses it)
//   tls-host-empty          an Ingress spec.tls entry without hosts
//   manifest-invalid        a file that is not YAML
// and the Secrets the workloads reference (env secretKeyRef, envFrom
// secretRef, secret and projected volumes, imagePullSecrets) that the
// manifests do not define themselves (Secret, SealedSecret, ExternalSecret,
// cert-manager Certificate.spec.secretName): the caller looks those up in
// the cluster and reports secret-ref-missing.

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"
#include "ops/finding.h"

namespace garret::ops::preflight {

struct ManifestDoc {
  std::string file;  // as given to the user (DIR/name.yaml)
  int line = 0;      // 1-based line where the document starts
  YAML::Node node;
  int mark_offset = 0;  // add to a node's 1-based Mark() line to get the file's line
};

struct SecretUse {
  std::string namespace_name;
  std::string name;
  std::string user;  // "Deployment/garret-api"
  std::string file;
  int line = 0;
};

struct ManifestScan {
  std::vector<Finding> findings;
  std::vector<SecretUse> undefined_secrets;  // referenced, not defined in the manifests
};

// Parses YAML text into documents; a parse error becomes a manifest-invalid finding.
std::vector<ManifestDoc> parseManifests(const std::string& text, const std::string& file,
                                        std::vector<Finding>& findings);
// Every manifest file of `dir`, in name order. kInvalidArgument when `dir`
// is not a readable directory.
Result<std::vector<ManifestDoc>> loadManifestDir(const std::filesystem::path& dir, std::vector<Finding>& findings);

// `default_namespace` applies to documents without metadata.namespace.
ManifestScan scanManifests(const std::vector<ManifestDoc>& docs, const std::string& default_namespace);

// secret-ref-missing (blocker: the pod cannot start) for a reference the
// cluster does not have either.
Finding secretRefMissing(const SecretUse& use);

}  // namespace garret::ops::preflight
