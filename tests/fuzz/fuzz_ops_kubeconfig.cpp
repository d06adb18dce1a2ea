// The preflight inputs a user hands us: kubeconfig YAML (kube::parseKubeconfig),
// settings TOML (preflight::parseSettings) and rendered manifests
// (preflight::parseManifests + scanManifests). Invariants: nothing throws;
// an accepted kubeconfig names an http(s) server without a trailing slash;
// accepted settings have a namespace; every manifest finding has a known id,
// the file name, and a line inside the input.

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>

#include "fuzz_util.h"
#include "ops/kube/kubeconfig.h"
#include "ops/preflight/manifests.h"
#include "ops/preflight/settings.h"

namespace {

void checkKubeconfig(std::string_view text) {
  auto reader = [](const std::filesystem::path&) -> std::optional<std::string> { return std::string("token\n"); };
  auto target = garret::ops::kube::parseKubeconfig(text, "", "/kube", reader);
  if (!target.ok()) {
    FUZZ_CHECK(!target.error().message.empty());
    return;
  }
  FUZZ_CHECK_MSG(target->server.starts_with("http://") || target->server.starts_with("https://"), target->server);
  FUZZ_CHECK(!target->server.ends_with("/"));
  FUZZ_CHECK(!target->context.empty());
}

void checkSettings(std::string_view text) {
  auto s = garret::ops::preflight::parseSettings(text, "fuzz.toml");
  if (s.ok()) FUZZ_CHECK(!s->namespace_name.empty());
  else FUZZ_CHECK(s.error().message.starts_with("fuzz.toml"));
}

void checkManifests(std::string_view text) {
  static const std::set<std::string> kIds = {"manifest-invalid", "ingress-class-conflict", "tls-host-empty"};
  std::vector<garret::ops::Finding> findings;
  auto docs = garret::ops::preflight::parseManifests(std::string(text), "m.yaml", findings);
  auto scan = garret::ops::preflight::scanManifests(docs, "ns");
  findings.insert(findings.end(), scan.findings.begin(), scan.findings.end());
  int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
  for (const auto& f : findings) {
    FUZZ_CHECK_MSG(kIds.count(f.id) == 1, f.id);
    FUZZ_CHECK(f.file == "m.yaml");
    FUZZ_CHECK_MSG(f.line >= 1 && f.line <= lines + 1, std::to_string(f.line));
  }
  for (const auto& use : scan.undefined_secrets) FUZZ_CHECK(!use.name.empty() && !use.namespace_name.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = garret::fuzz::asText(data, size);
  checkKubeconfig(text);
  checkSettings(text);
  checkManifests(text);
  return 0;
}
