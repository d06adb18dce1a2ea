#pragma once

// kubeconfig: which API server to talk to and with which credentials.
// Supports clusters[].cluster{server, certificate-authority(-data),
// insecure-skip-tls-verify} and users[].user{token, tokenFile,
// client-certificate(-data), client-key(-data)}; `exec` and `auth-provider`
// plugins are reported as unsupported. Relative file paths are resolved
// against the kubeconfig's directory, as kubectl does.
//
// Never throws: malformed YAML and missing entries are kInvalidArgument
// errors naming the file and the entry.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "client/http_client.h"
#include "core/result.h"

namespace garret::ops::kube {

struct KubeTarget {
  std::string context;
  std::string server;          // "https://10.0.0.1:6443"
  std::string namespace_name;  // the context's namespace; empty when unset
  std::string token;           // bearer token (from token or tokenFile)
  client::HttpOptions http;    // CA, client certificate, insecure flag
};

// Reads a file by path; nullopt when it cannot be read.
using FileReader = std::function<std::optional<std::string>(const std::filesystem::path&)>;
FileReader realFileReader();

// Parses kubeconfig text. `context` empty means current-context. `dir` is the
// directory relative paths in the file are resolved against.
Result<KubeTarget> parseKubeconfig(std::string_view yaml, std::string_view context,
                                   const std::filesystem::path& dir, const FileReader& read);

// The kubeconfig to use: `flag` when given, else the first entry of
// KUBECONFIG (a colon-separated list; later entries are not merged), else
// $HOME/.kube/config. Empty when none of them is set.
std::string kubeconfigPath(std::string_view flag, const char* kubeconfig_env, const char* home_env);

// Reads and parses the kubeconfig at `path`.
Result<KubeTarget> loadKubeconfig(const std::filesystem::path& path, std::string_view context,
                                  const FileReader& read);

}  // namespace garret::ops::kube
