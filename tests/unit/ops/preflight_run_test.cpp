// runPreflight end to end against tests/support/fake_kube_api.py serving
// recorded clusters: "healthy" (no findings), "broken" (no CloudNativePG
// CRDs, only an nginx ingress class, a ClusterIssuer that is not ready, ...)
// and "bare" (a fresh cluster); plus denied permissions and an unreachable
// API server. The fake refuses and logs any write but access reviews.

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "ops/kube/kube_client.h"
#include "ops/preflight/preflight.h"
#include "support/child_process.h"

namespace garret::ops::preflight {
namespace {

using garret::testing::ChildProcess;

const std::string kData = GARRET_TEST_DATA_DIR;

struct Fake {
  std::unique_ptr<ChildProcess> process;
  std::string url;
};

Fake startKube(const std::string& scenario, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {"python3", kData + "/../support/fake_kube_api.py", "--fixtures",
                                   kData + "/ops/kube/" + scenario};
  argv.insert(argv.end(), extra.begin(), extra.end());
  std::string why;
  Fake f;
  f.process = ChildProcess::start(argv, why);
  EXPECT_TRUE(f.process) << why;
  auto port = f.process ? f.process->waitForLine("listening ") : std::nullopt;
  EXPECT_TRUE(port) << "fake kube API did not start";
  f.url = "http://127.0.0.1:" + port.value_or("1");
  return f;
}

Settings load(const std::string& name) {
  std::string path = kData + "/ops/preflight/" + name;
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  auto s = parseSettings(text.str(), path);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return s.ok() ? *s : Settings{};
}

std::vector<ManifestDoc> manifests(const std::string& name) {
  std::vector<Finding> errors;
  auto docs = loadManifestDir(kData + "/ops/preflight/" + name, errors);
  EXPECT_TRUE(docs.ok() && errors.empty());
  return docs.ok() ? *docs : std::vector<ManifestDoc>{};
}

std::multiset<std::string> ids(const Report& r) {
  std::multiset<std::string> out;
  for (const Finding& f : r.findings) out.insert(f.id);
  return out;
}

std::string dump(const Report& r) {
  std::string out;
  for (const Finding& f : r.findings) out += f.id + " " + f.subject + ": " + f.message + "\n";
  return out;
}

class PreflightRun : public ::testing::Test {
 protected:
  Report run(const std::string& scenario, const std::string& settings, const std::string& manifest_dir,
             std::vector<std::string> extra = {}) {
    fake_ = startKube(scenario, std::move(extra));
    http_ = client::makeCurlHttpClient();
    kube::KubeClient kube(*http_, fake_.url, "", std::chrono::seconds(5));
    Settings s = load(settings);
    std::vector<ManifestDoc> docs = manifest_dir.empty() ? std::vector<ManifestDoc>{} : manifests(manifest_dir);
    Report r = runPreflight(kube, s, manifest_dir.empty() ? nullptr : &docs);
    // Nothing but access reviews may be written: the fake logs any other write.
    EXPECT_FALSE(fake_.process->waitForLine("write ", std::chrono::milliseconds(200)));
    fake_.process.reset();
    return r;
  }

  Fake fake_;
  std::unique_ptr<client::HttpClient> http_;
};

TEST_F(PreflightRun, HealthyClusterHasNoFindings) {
  Report r = run("healthy", "settings-healthy.toml", "manifests-healthy");
  EXPECT_TRUE(r.findings.empty()) << dump(r);
  EXPECT_FALSE(r.could_not_run);
  std::set<std::string> passed(r.passed.begin(), r.passed.end());
  for (const char* check : {"rbac", "crd clusters.postgresql.cnpg.io", "ingress-class", "clusterissuer",
                            "storage-class", "external-dns", "dns-credentials", "nodes", "manifests", "secret-refs"}) {
    EXPECT_EQ(passed.count(check), 1u) << check;
  }
}

TEST_F(PreflightRun, BrokenClusterReportsEachProblem) {
  Report r = run("broken", "settings-broken.toml", "manifests-broken");
  EXPECT_FALSE(r.could_not_run);
  std::multiset<std::string> expected = {"crd-missing",           "crd-not-established",   "ingress-class-missing",
                                         "issuer-not-ready",      "storage-class-missing", "dns-credentials-missing",
                                         "node-not-ready",        "ingress-class-conflict", "tls-host-empty",
                                         "secret-ref-missing",    "secret-ref-missing"};
  EXPECT_EQ(ids(r), expected) << dump(r);
  for (const Finding& f : r.findings) {
    if (f.id == "crd-missing") {
      EXPECT_EQ(f.subject, "crd/clusters.postgresql.cnpg.io");
    }
    if (f.id == "ingress-class-missing") {
      EXPECT_NE(f.message.find("classes on this cluster: nginx"), std::string::npos);
    }
  }
}

TEST_F(PreflightRun, FreshClusterWantsDefaultsAndExternalDns) {
  Report r = run("bare", "settings-bare.toml", "");
  EXPECT_EQ(ids(r), (std::multiset<std::string>{"ingress-class-missing", "external-dns-missing"})) << dump(r);
}

TEST_F(PreflightRun, DeniedPermissionsAndReads) {
  Report r = run("healthy", "settings-healthy.toml", "",
                 {"--deny-access", "secrets", "--deny-access", "clusters.postgresql.cnpg.io", "--deny", "/api/v1/nodes"});
  std::vector<Finding> denied;
  for (const Finding& f : r.findings) {
    EXPECT_EQ(f.id, "rbac-denied") << dump(r);
    denied.push_back(f);
  }
  ASSERT_EQ(denied.size(), 3u) << dump(r);
  std::set<std::string> subjects;
  for (const Finding& f : denied) subjects.insert(f.subject);
  EXPECT_EQ(subjects, (std::set<std::string>{"secrets", "clusters.postgresql.cnpg.io", "nodes"}));
  for (const Finding& f : denied) {
    EXPECT_EQ(f.severity, f.subject == "nodes" ? Severity::kWarning : Severity::kBlocker) << f.subject;
  }
}

TEST_F(PreflightRun, UnreachableApiIsOneBlockerAndCouldNotRun) {
  Fake dead = startKube("healthy");
  std::string url = dead.url;
  dead.process.reset();
  auto http = client::makeCurlHttpClient();
  kube::KubeClient kube(*http, url, "", std::chrono::seconds(3));
  std::vector<ManifestDoc> docs = manifests("manifests-broken");
  Report r = runPreflight(kube, load("settings-healthy.toml"), &docs);
  EXPECT_TRUE(r.could_not_run);
  EXPECT_NE(r.error.find("cannot reach the Kubernetes API at " + url), std::string::npos) << r.error;
  // Offline manifest checks still run; nothing that needs the API does.
  EXPECT_EQ(ids(r), (std::multiset<std::string>{"api-unreachable", "ingress-class-conflict", "tls-host-empty"}));
}

TEST_F(PreflightRun, WrongCredentialsAreNotReportedAsUnreachable) {
  Report r = run("healthy", "settings-healthy.toml", "", {"--token", "expected"});
  EXPECT_TRUE(r.could_not_run);
  EXPECT_EQ(ids(r), std::multiset<std::string>{"api-unauthorized"});
}

}  // namespace
}  // namespace garret::ops::preflight
