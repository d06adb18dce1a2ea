#include "ops/preflight/manifests.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace garret::ops::preflight {

namespace {

// yaml-cpp throws on type mismatches; every lookup goes through these.
YAML::Node child(const YAML::Node& n, const char* key) {
  if (!n || !n.IsMap()) return YAML::Node();
  return n[key];
}

std::string str(const YAML::Node& n, const char* key) {
  YAML::Node v = child(n, key);
  return v && v.IsScalar() ? v.Scalar() : "";
}

std::vector<YAML::Node> seq(const YAML::Node& n, const char* key) {
  YAML::Node v = child(n, key);
  std::vector<YAML::Node> out;
  if (v && v.IsSequence()) {
    for (const YAML::Node& item : v) out.push_back(item);
  }
  return out;
}

int lineOf(const YAML::Node& n, int fallback) { return n && n.Mark().line >= 0 ? n.Mark().line + 1 : fallback; }

Finding make(std::string id, Severity sev, const ManifestDoc& doc, std::string subject, std::string message,
             std::string fix) {
  Finding f{std::move(id), sev, std::move(subject), doc.file, doc.line, std::move(message), std::move(fix)};
  return f;
}

void checkIngress(const ManifestDoc& doc, std::vector<Finding>& out) {
  std::string name = "Ingress/" + str(child(doc.node, "metadata"), "name");
  YAML::Node spec = child(doc.node, "spec");
  std::string legacy = str(child(child(doc.node, "metadata"), "annotations"), "kubernetes.io/ingress.class");
  std::string cls = str(spec, "ingressClassName");
  if (!legacy.empty() && !cls.empty()) {
    out.push_back(make("ingress-class-conflict", Severity::kBlocker, doc, name,
                       "sets both the legacy annotation kubernetes.io/ingress.class (" + legacy +
                           ") and spec.ingressClassName (" + cls + "); the API server refuses such an Ingress",
                       "remove the kubernetes.io/ingress.class annotation and keep spec.ingressClassName"));
  }
  for (const YAML::Node& tls : seq(spec, "tls")) {
    std::vector<YAML::Node> hosts = seq(tls, "hosts");
    bool empty = hosts.empty() || std::any_of(hosts.begin(), hosts.end(), [](const YAML::Node& h) {
                   return !h.IsScalar() || h.Scalar().empty();
                 });
    if (!empty) continue;
    Finding f = make("tls-host-empty", Severity::kError, doc, name,
                     "a spec.tls entry (secret " + str(tls, "secretName") +
                         ") has no host or an empty one, so no certificate is issued for the cache's name",
                     "set spec.tls[].hosts to the cache's host (settings host), the same as spec.rules[].host");
    f.line = tls.Mark().line >= 0 ? doc.mark_offset + lineOf(tls, 0) : doc.line;
    out.push_back(std::move(f));
  }
}

// The pod spec of a workload, or an empty node.
YAML::Node podSpec(const YAML::Node& doc, const std::string& kind) {
  if (kind == "Pod") return child(doc, "spec");
  if (kind == "CronJob") return child(child(child(child(child(doc, "spec"), "jobTemplate"), "spec"), "template"), "spec");
  static const std::set<std::string> kWorkloads = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"};
  if (kWorkloads.count(kind) != 0) return child(child(child(doc, "spec"), "template"), "spec");
  return YAML::Node();
}

bool optional(const YAML::Node& ref) { return str(ref, "optional") == "true"; }

void containerRefs(const YAML::Node& c, std::vector<std::string>& out) {
  for (const YAML::Node& e : seq(c, "env")) {
    YAML::Node ref = child(child(e, "valueFrom"), "secretKeyRef");
    if (!str(ref, "name").empty() && !optional(ref)) out.push_back(str(ref, "name"));
  }
  for (const YAML::Node& e : seq(c, "envFrom")) {
    YAML::Node ref = child(e, "secretRef");
    if (!str(ref, "name").empty() && !optional(ref)) out.push_back(str(ref, "name"));
  }
}

std::vector<std::string> podSecretRefs(const YAML::Node& spec) {
  std::vector<std::string> out;
  for (const char* list : {"containers", "initContainers"}) {
    for (const YAML::Node& c : seq(spec, list)) containerRefs(c, out);
  }
  for (const YAML::Node& v : seq(spec, "volumes")) {
    YAML::Node secret = child(v, "secret");
    if (!str(secret, "secretName").empty() && !optional(secret)) out.push_back(str(secret, "secretName"));
    for (const YAML::Node& src : seq(child(v, "projected"), "sources")) {
      YAML::Node s = child(src, "secret");
      if (!str(s, "name").empty() && !optional(s)) out.push_back(str(s, "name"));
    }
  }
  for (const YAML::Node& p : seq(spec, "imagePullSecrets")) {
    if (!str(p, "name").empty()) out.push_back(str(p, "name"));
  }
  return out;
}

// The Secrets a document defines or makes an operator create.
std::vector<std::string> definedSecrets(const YAML::Node& doc, const std::string& kind) {
  std::string name = str(child(doc, "metadata"), "name");
  if (kind == "Secret" || kind == "SealedSecret") return {name};
  if (kind == "ExternalSecret") {
    std::string target = str(child(child(doc, "spec"), "target"), "name");
    return {target.empty() ? name : target};
  }
  if (kind == "Certificate") return {str(child(doc, "spec"), "secretName")};
  if (kind == "Cluster" && str(doc, "apiVersion").starts_with("postgresql.cnpg.io/")) {
    // CloudNativePG creates these for a Cluster; <name>-app only when the
    // bootstrap does not name a secret of its own.
    std::vector<std::string> out = {name + "-ca", name + "-server", name + "-replication", name + "-superuser"};
    if (str(child(child(child(child(doc, "spec"), "bootstrap"), "initdb"), "secret"), "name").empty()) {
      out.push_back(name + "-app");
    }
    return out;
  }
  return {};
}

std::string namespaceOf(const YAML::Node& doc, const std::string& fallback) {
  std::string ns = str(child(doc, "metadata"), "namespace");
  return ns.empty() ? fallback : ns;
}

struct DocText {
  std::string text;
  int first_line = 1;  // of the document's first line in the file
};

// Documents of a YAML stream, split at "---" and "..." lines (markers are
// always at column 0). yaml-cpp 0.7's LoadAll can loop on some malformed
// streams, so each document is loaded on its own.
std::vector<DocText> splitDocuments(const std::string& text) {
  std::vector<DocText> docs(1);
  std::istringstream in(text);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    bool start = line == "---" || line.rfind("--- ", 0) == 0 || line.rfind("---\t", 0) == 0 || line == "---\r";
    if (start || line == "..." || line == "...\r") {
      docs.push_back({"", start ? n : n + 1});
      if (!start) continue;
      line.replace(0, 3, "   ");  // keep what follows the marker ("--- {a: 1}"), at its column
    }
    docs.back().text += line + "\n";
  }
  return docs;
}

}  // namespace

std::vector<ManifestDoc> parseManifests(const std::string& text, const std::string& file,
                                        std::vector<Finding>& findings) {
  std::vector<ManifestDoc> out;
  for (const DocText& piece : splitDocuments(text)) {
    try {
      YAML::Node node = YAML::Load(piece.text);
      if (node && node.IsMap()) {
        out.push_back({file, piece.first_line + lineOf(node, 1) - 1, node, piece.first_line - 1});
      }
    } catch (const YAML::Exception& e) {
      findings.push_back({"manifest-invalid", Severity::kBlocker, file, file, piece.first_line + std::max(0, e.mark.line),
                          std::string("not valid YAML: ") + e.msg,
                          "fix the YAML (kubectl apply --dry-run=client -f " + file + ")"});
      return {};
    }
  }
  return out;
}

Result<std::vector<ManifestDoc>> loadManifestDir(const std::filesystem::path& dir, std::vector<Finding>& findings) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    std::string ext = it->path().extension().string();
    if (it->is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(it->path());
  }
  if (ec) return invalid("cannot read manifest directory " + dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<ManifestDoc> docs;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) return invalid("cannot read " + path.string());
    for (auto& d : parseManifests(text.str(), path.string(), findings)) docs.push_back(std::move(d));
  }
  return docs;
}

ManifestScan scanManifests(const std::vector<ManifestDoc>& docs, const std::string& default_namespace) {
  ManifestScan scan;
  std::set<std::pair<std::string, std::string>> defined;
  for (const ManifestDoc& doc : docs) {
    std::string kind = str(doc.node, "kind");
    for (const std::string& secret : definedSecrets(doc.node, kind)) {
      if (!secret.empty()) defined.insert({namespaceOf(doc.node, default_namespace), secret});
    }
    if (kind == "Ingress") checkIngress(doc, scan.findings);
  }
  std::set<std::pair<std::string, std::string>> reported;
  for (const ManifestDoc& doc : docs) {
    std::string kind = str(doc.node, "kind");
    std::string ns = namespaceOf(doc.node, default_namespace);
    for (const std::string& name : podSecretRefs(podSpec(doc.node, kind))) {
      if (defined.count({ns, name}) != 0 || !reported.insert({ns, name}).second) continue;
      std::string user = kind + "/" + str(child(doc.node, "metadata"), "name");
      scan.undefined_secrets.push_back({ns, name, user, doc.file, doc.line});
    }
  }
  return scan;
}

Finding secretRefMissing(const SecretUse& use) {
  return {"secret-ref-missing", Severity::kBlocker, "secret/" + use.namespace_name + "/" + use.name, use.file,
          use.line,
          use.user + " references secret " + use.name + ", which neither the manifests nor namespace " +
              use.namespace_name + " define; its pods will not start (CreateContainerConfigError)",
          "create it first (kubectl -n " + use.namespace_name + " create secret generic " + use.name +
              " --from-env-file=...), or render the overlay's secrets (deploy/kubernetes/overlays/*/secrets)"};
}

}  // namespace garret::ops::preflight
