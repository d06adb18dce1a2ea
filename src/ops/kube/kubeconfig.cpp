#include "ops/kube/kubeconfig.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "core/encoding.h"

namespace garret::ops::kube {

namespace {

// A scalar child of a map, or "" (yaml-cpp throws on wrong types; we never do).
std::string scalar(const YAML::Node& node, const char* key) {
  if (!node.IsMap()) return "";
  YAML::Node v = node[key];
  return v && v.IsScalar() ? v.Scalar() : "";
}

// The `field` map of the entry named `name` in the list `list` (clusters,
// users, contexts).
std::optional<YAML::Node> named(const YAML::Node& root, const char* list, const char* field,
                                const std::string& name) {
  YAML::Node items = root[list];
  if (!items || !items.IsSequence()) return std::nullopt;
  for (const YAML::Node& item : items) {
    if (item.IsMap() && scalar(item, "name") == name && item[field] && item[field].IsMap()) {
      return item[field];
    }
  }
  return std::nullopt;
}

Result<std::string> decodeData(const std::string& b64, const char* what) {
  std::string compact;
  for (char c : b64) {
    if (c != '\n' && c != '\r' && c != ' ') compact += c;
  }
  auto bytes = base64Decode(compact);
  if (!bytes.ok()) return invalid(std::string(what) + " is not valid base64");
  return std::string(bytes->begin(), bytes->end());
}

std::filesystem::path resolve(const std::filesystem::path& dir, const std::string& file) {
  std::filesystem::path p(file);
  return p.is_absolute() ? p : dir / p;
}

// Inline data wins over a file path, as in kubectl.
Status pemField(const YAML::Node& node, const char* key, const std::filesystem::path& dir,
                std::string& pem, std::string& file) {
  std::string data = scalar(node, (std::string(key) + "-data").c_str());
  if (!data.empty()) {
    GARRET_ASSIGN_OR_RETURN(pem, decodeData(data, (std::string(key) + "-data").c_str()));
    return okStatus();
  }
  std::string path = scalar(node, key);
  if (!path.empty()) file = resolve(dir, path).string();
  return okStatus();
}

Status applyCluster(const YAML::Node& cluster, const std::filesystem::path& dir, KubeTarget& t) {
  t.server = scalar(cluster, "server");
  if (t.server.empty()) return invalid("cluster has no server");
  if (!t.server.starts_with("https://") && !t.server.starts_with("http://")) {
    return invalid("server '" + t.server + "' is not an http:// or https:// URL");
  }
  while (t.server.ends_with("/")) t.server.pop_back();
  t.http.insecure = scalar(cluster, "insecure-skip-tls-verify") == "true";
  return pemField(cluster, "certificate-authority", dir, t.http.ca_pem, t.http.ca_file);
}

Status applyUser(const YAML::Node& user, const std::filesystem::path& dir, const FileReader& read,
                 KubeTarget& t) {
  if (user["exec"] || user["auth-provider"]) {
    return invalid("exec and auth-provider credential plugins are not supported; use a token, tokenFile or "
                   "client certificate (e.g. a ServiceAccount token)");
  }
  GARRET_TRY(pemField(user, "client-certificate", dir, t.http.client_cert_pem, t.http.client_cert_file));
  GARRET_TRY(pemField(user, "client-key", dir, t.http.client_key_pem, t.http.client_key_file));
  t.token = scalar(user, "token");
  std::string token_file = scalar(user, "tokenFile");
  if (t.token.empty() && !token_file.empty()) {
    auto text = read(resolve(dir, token_file));
    if (!text) return invalid("cannot read tokenFile " + resolve(dir, token_file).string());
    t.token = *text;
    while (!t.token.empty() && (t.token.back() == '\n' || t.token.back() == '\r')) t.token.pop_back();
  }
  return okStatus();
}

Result<KubeTarget> fromRoot(const YAML::Node& root, std::string_view context_flag,
                            const std::filesystem::path& dir, const FileReader& read) {
  if (!root.IsMap()) return invalid("not a kubeconfig (expected a YAML map)");
  KubeTarget t;
  t.context = context_flag.empty() ? scalar(root, "current-context") : std::string(context_flag);
  if (t.context.empty()) return invalid("no current-context; pass --context");
  auto ctx = named(root, "contexts", "context", t.context);
  if (!ctx) return invalid("context '" + t.context + "' not found");
  std::string cluster_name = scalar(*ctx, "cluster");
  std::string user_name = scalar(*ctx, "user");
  t.namespace_name = scalar(*ctx, "namespace");
  auto cluster = named(root, "clusters", "cluster", cluster_name);
  if (!cluster) return invalid("cluster '" + cluster_name + "' of context '" + t.context + "' not found");
  GARRET_TRY(applyCluster(*cluster, dir, t));
  if (!user_name.empty()) {
    auto user = named(root, "users", "user", user_name);
    if (!user) return invalid("user '" + user_name + "' of context '" + t.context + "' not found");
    GARRET_TRY(applyUser(*user, dir, read, t));
  }
  return t;
}

}  // namespace

FileReader realFileReader() {
  return [](const std::filesystem::path& p) -> std::optional<std::string> {
    std::ifstream in(p, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream out;
    out << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return out.str();
  };
}

Result<KubeTarget> parseKubeconfig(std::string_view yaml, std::string_view context,
                                   const std::filesystem::path& dir, const FileReader& read) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
    return fromRoot(root, context, dir, read);
  } catch (const YAML::Exception& e) {
    return invalid(std::string("malformed YAML: ") + e.what());
  }
}

std::string kubeconfigPath(std::string_view flag, const char* kubeconfig_env, const char* home_env) {
  if (!flag.empty()) return std::string(flag);
  if (kubeconfig_env != nullptr && kubeconfig_env[0] != '\0') {
    std::string_view list(kubeconfig_env);
    return std::string(list.substr(0, list.find(':')));
  }
  if (home_env != nullptr && home_env[0] != '\0') return std::string(home_env) + "/.kube/config";
  return "";
}

Result<KubeTarget> loadKubeconfig(const std::filesystem::path& path, std::string_view context,
                                  const FileReader& read) {
  auto text = read(path);
  if (!text) return invalid("cannot read kubeconfig " + path.string());
  auto target = parseKubeconfig(*text, context, path.parent_path(), read);
  if (!target.ok()) return target.error().context("kubeconfig " + path.string());
  return target;
}

}  // namespace garret::ops::kube
