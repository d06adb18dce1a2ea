// Preflight's pure parts: settings parsing, manifest checks, and the checks
// over recorded API responses (tests/data/ops/kube/<scenario>/...).

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "ops/kube/json_access.h"
#include "ops/kube/nodes.h"
#include "ops/preflight/checks.h"
#include "ops/preflight/manifests.h"
#include "ops/report.h"
#include "ops/preflight/settings.h"

namespace garret::ops::preflight {
namespace {

const std::string kData = std::string(GARRET_TEST_DATA_DIR) + "/ops";

nlohmann::json fixture(const std::string& scenario, const std::string& path) {
  std::ifstream in(kData + "/kube/" + scenario + "/" + path + ".json");
  std::ostringstream s;
  s << in.rdbuf();
  auto j = parseJson(s.str());
  EXPECT_TRUE(j) << scenario << "/" << path;
  return j.value_or(nlohmann::json());
}

std::set<std::string> ids(const std::vector<Finding>& findings) {
  std::set<std::string> out;
  for (const Finding& f : findings) out.insert(f.id);
  return out;
}

Settings settings(Database db = Database::kCnpg) {
  Settings s;
  s.namespace_name = "garret";
  s.host = "cache.example.org";
  s.ingress_class = "nginx";
  s.tls_issuer = "letsencrypt-prod";
  s.storage_class = "fast-ssd";
  s.database = db;
  s.dns_provider = DnsProvider::kExternalDns;
  return s;
}

TEST(PreflightSettings, ParsesAllKeys) {
  auto s = parseSettings(
      "namespace = \"garret\"\nhost = \"c.example\"\ningress_class = \"nginx\"\ntls_issuer = \"le\"\n"
      "storage_class = \"ssd\"\ndatabase = \"external\"\ndns_provider = \"cloudflare\"\n",
      "s.toml");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->namespace_name, "garret");
  EXPECT_EQ(s->host, "c.example");
  EXPECT_EQ(s->ingress_class, "nginx");
  EXPECT_EQ(s->tls_issuer, "le");
  EXPECT_EQ(s->storage_class, "ssd");
  EXPECT_EQ(s->database, Database::kExternal);
  EXPECT_EQ(s->dns_provider, DnsProvider::kCloudflare);
}

TEST(PreflightSettings, RejectsBadInputWithClearErrors) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"namespace = \"g\"\ningres_class = \"nginx\"\n", "unknown key 'ingres_class'"},
      {"namespace = \"g\"\ndatabase = \"mysql\"\n", "database must be \"cnpg\" or \"external\""},
      {"namespace = \"g\"\ndns_provider = \"route53\"\n", "dns_provider must be"},
      {"namespace = 3\n", "'namespace' must be a string"},
      {"host = \"x\"\n", "'namespace' is required"},
      {"namespace = \"g\n", "s.toml"},
  };
  for (const Case& c : cases) {
    auto s = parseSettings(c.text, "s.toml");
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_NE(s.error().message.find(c.expect), std::string::npos) << s.error().message;
    EXPECT_EQ(s.error().message.rfind("s.toml", 0), 0u) << s.error().message;
  }
}

TEST(PreflightChecks, CrdMissingAndNotEstablished) {
  std::vector<CrdNeed> needs = requiredCrds(settings());
  ASSERT_EQ(needs.size(), 3u);
  EXPECT_EQ(needs[0].name, "clusters.postgresql.cnpg.io");
  std::vector<Finding> missing = checkCrd(needs[0], std::nullopt);
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].id, "crd-missing");
  EXPECT_EQ(missing[0].severity, Severity::kBlocker);
  EXPECT_NE(missing[0].fix.find("cnpg-1.30.1.yaml"), std::string::npos);

  auto pending = checkCrd(needs[2], fixture("broken", "apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                                                       "clusterissuers.cert-manager.io"));
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].id, "crd-not-established");
  EXPECT_NE(pending[0].message.find("Established=False"), std::string::npos);
  EXPECT_NE(pending[0].fix.find("cert-manager.yaml"), std::string::npos);

  for (const CrdNeed& need : needs) {
    auto ok = checkCrd(need, fixture("healthy", "apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + need.name));
    EXPECT_TRUE(ok.empty()) << need.name;
  }
  Settings plain = settings(Database::kExternal);
  plain.tls_issuer.clear();
  EXPECT_TRUE(requiredCrds(plain).empty());
}

TEST(PreflightChecks, IngressClassListsExistingAndDefault) {
  Settings s = settings();
  s.ingress_class = "traefik";
  auto f = checkIngressClass(s, fixture("broken", "apis/networking.k8s.io/v1/ingressclasses"));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].id, "ingress-class-missing");
  EXPECT_NE(f[0].message.find("classes on this cluster: nginx (default: none)"), std::string::npos) << f[0].message;
  EXPECT_NE(f[0].fix.find("nginx"), std::string::npos);

  s.ingress_class.clear();  // wants the default class: broken has none, healthy has nginx
  EXPECT_EQ(ids(checkIngressClass(s, fixture("broken", "apis/networking.k8s.io/v1/ingressclasses"))),
            std::set<std::string>{"ingress-class-missing"});
  EXPECT_TRUE(checkIngressClass(s, fixture("healthy", "apis/networking.k8s.io/v1/ingressclasses")).empty());
  s.ingress_class = "traefik";
  EXPECT_TRUE(checkIngressClass(s, fixture("healthy", "apis/networking.k8s.io/v1/ingressclasses")).empty());
}

TEST(PreflightChecks, IssuerStorageClassAndExternalDns) {
  Settings s = settings();
  auto issuer = checkIssuer(s, fixture("broken", "apis/cert-manager.io/v1/clusterissuers/letsencrypt-prod"));
  ASSERT_EQ(issuer.size(), 1u);
  EXPECT_EQ(issuer[0].id, "issuer-not-ready");
  EXPECT_NE(issuer[0].message.find("ErrRegisterACMEAccount"), std::string::npos);
  EXPECT_EQ(ids(checkIssuer(s, std::nullopt)), std::set<std::string>{"issuer-not-ready"});
  EXPECT_TRUE(checkIssuer(s, fixture("healthy", "apis/cert-manager.io/v1/clusterissuers/letsencrypt-prod")).empty());

  auto storage = checkStorageClass(s, fixture("broken", "apis/storage.k8s.io/v1/storageclasses"));
  ASSERT_EQ(storage.size(), 1u);
  EXPECT_EQ(storage[0].id, "storage-class-missing");
  EXPECT_NE(storage[0].message.find("local-path (default: local-path)"), std::string::npos) << storage[0].message;
  EXPECT_TRUE(checkStorageClass(s, fixture("healthy", "apis/storage.k8s.io/v1/storageclasses")).empty());
  Settings external = settings(Database::kExternal);
  external.storage_class.clear();  // no volumes: nothing to check
  EXPECT_TRUE(checkStorageClass(external, fixture("bare", "apis/storage.k8s.io/v1/storageclasses")).empty());

  EXPECT_EQ(ids(checkExternalDns(s, fixture("bare", "apis/apps/v1/deployments"))),
            std::set<std::string>{"external-dns-missing"});
  EXPECT_TRUE(checkExternalDns(s, fixture("healthy", "apis/apps/v1/deployments")).empty());
  s.dns_provider = DnsProvider::kNone;
  EXPECT_TRUE(checkExternalDns(s, fixture("bare", "apis/apps/v1/deployments")).empty());
}

TEST(PreflightChecks, CloudflareCredentials) {
  nlohmann::json list = fixture("healthy", "apis/apps/v1/deployments");
  auto deployments = externalDnsDeployments(list);
  ASSERT_EQ(deployments.size(), 1u);
  CredentialSource source = cloudflareCredentials(*deployments[0]);
  EXPECT_EQ(source.namespace_name, "external-dns");
  EXPECT_EQ(source.secret, "cloudflare-api-token");
  EXPECT_EQ(source.key, "api-token");
  auto secret = fixture("healthy", "api/v1/namespaces/external-dns/secrets/cloudflare-api-token");
  EXPECT_TRUE(checkCloudflareCredentials(source, secret).empty());
  EXPECT_EQ(ids(checkCloudflareCredentials(source, std::nullopt)), std::set<std::string>{"dns-credentials-missing"});
  source.key = "other-key";
  EXPECT_EQ(ids(checkCloudflareCredentials(source, secret)), std::set<std::string>{"dns-credentials-missing"});

  CredentialSource none = cloudflareCredentials(fixture("bare", "apis/apps/v1/deployments")["items"][0]);
  auto f = checkCloudflareCredentials(none, std::nullopt);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("neither CF_API_TOKEN nor CF_API_KEY"), std::string::npos);
}

TEST(PreflightChecks, RbacDeniedNamesVerbResourceAndNamespace) {
  auto access = requiredAccess(settings());
  EXPECT_EQ(access.size(), 8u);  // six core kinds + CNPG clusters + certificates
  Finding f = rbacDenied({"garret", "create", "networking.k8s.io", "ingresses"}, "");
  EXPECT_EQ(f.id, "rbac-denied");
  EXPECT_EQ(f.severity, Severity::kBlocker);
  EXPECT_EQ(f.subject, "ingresses.networking.k8s.io");
  EXPECT_NE(f.message.find("may not create ingresses.networking.k8s.io in namespace garret"), std::string::npos);
  EXPECT_NE(f.fix.find("kubectl auth can-i create ingresses.networking.k8s.io -n garret"), std::string::npos);
}

TEST(PreflightChecks, NodeNotReadyIsAWarning) {
  auto f = kube::nodeFindings(fixture("broken", "api/v1/nodes"));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].id, "node-not-ready");
  EXPECT_EQ(f[0].severity, Severity::kWarning);
  EXPECT_EQ(f[0].subject, "node/worker-2");
  EXPECT_NE(f[0].message.find("Ready=Unknown"), std::string::npos);
  EXPECT_TRUE(kube::nodeFindings(fixture("healthy", "api/v1/nodes")).empty());
}

TEST(PreflightManifests, BrokenManifestsGiveConflictEmptyTlsHostAndUndefinedSecrets) {
  std::vector<Finding> load_errors;
  auto docs = loadManifestDir(kData + "/preflight/manifests-broken", load_errors);
  ASSERT_TRUE(docs.ok()) << docs.error().message;
  EXPECT_TRUE(load_errors.empty());
  ManifestScan scan = scanManifests(*docs, "garret");
  EXPECT_EQ(ids(scan.findings), (std::set<std::string>{"ingress-class-conflict", "tls-host-empty"}));
  for (const Finding& f : scan.findings) {
    EXPECT_NE(f.file.find("manifests-broken/garret.yaml"), std::string::npos);
    // The Ingress document starts at line 24; its tls entry is at line 34.
    EXPECT_EQ(f.line, f.id == "tls-host-empty" ? 34 : 24) << f.id;
  }
  ASSERT_EQ(scan.undefined_secrets.size(), 2u);
  EXPECT_EQ(scan.undefined_secrets[0].name, "garret-s3-credentials");
  EXPECT_EQ(scan.undefined_secrets[1].name, "registry-credentials");
  EXPECT_EQ(scan.undefined_secrets[0].user, "Deployment/garret-api");
  EXPECT_EQ(secretRefMissing(scan.undefined_secrets[0]).id, "secret-ref-missing");
}

TEST(PreflightManifests, HealthyManifestsOnlyNeedSecretsTheClusterHas) {
  std::vector<Finding> load_errors;
  auto docs = loadManifestDir(kData + "/preflight/manifests-healthy", load_errors);
  ASSERT_TRUE(docs.ok());
  ManifestScan scan = scanManifests(*docs, "garret");
  EXPECT_TRUE(scan.findings.empty());
  // garret-s3 and garret-db-app are Secrets in the manifests, garret-tls comes
  // from the Certificate, not-there is optional; garret-jwt must be in the cluster.
  ASSERT_EQ(scan.undefined_secrets.size(), 1u);
  EXPECT_EQ(scan.undefined_secrets[0].name, "garret-jwt");
}

TEST(PreflightManifests, InvalidYamlIsAFindingNotACrash) {
  std::vector<Finding> findings;
  auto docs = parseManifests("kind: Ingress\nmetadata: {name: [\n", "bad.yaml", findings);
  EXPECT_TRUE(docs.empty());
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].id, "manifest-invalid");
  EXPECT_EQ(findings[0].file, "bad.yaml");
  // Scalars where maps are expected are ignored, never thrown on.
  auto odd = parseManifests("kind: Deployment\nspec: 3\n---\nkind: Ingress\nspec: {tls: 5}\n---\n- a\n", "odd.yaml",
                            findings);
  EXPECT_EQ(odd.size(), 2u);
  EXPECT_TRUE(scanManifests(odd, "g").findings.empty());
}

TEST(PreflightReport, JsonShapeStatusAndExitCodes) {
  std::vector<Finding> findings = {{"crd-missing", Severity::kBlocker, "crd/x", "", 0, "m", "f"}};
  nlohmann::json j = reportJson(findings, reportStatus(findings, Severity::kBlocker, false));
  EXPECT_EQ(j["status"], "fail");
  ASSERT_EQ(j["findings"].size(), 1u);
  for (const char* key : {"id", "severity", "subject", "message", "fix"}) EXPECT_TRUE(j["findings"][0].contains(key));
  EXPECT_EQ(reportExitCode(findings, Severity::kBlocker, false), 1);
  findings[0].severity = Severity::kError;
  EXPECT_EQ(reportExitCode(findings, Severity::kBlocker, false), 0);
  EXPECT_STREQ(reportStatus(findings, Severity::kBlocker, false), "pass");
  EXPECT_EQ(reportExitCode(findings, Severity::kBlocker, true), 2);
  EXPECT_STREQ(reportStatus(findings, Severity::kBlocker, true), "error");
  EXPECT_FALSE(parseReportFormat("yaml"));
}

}  // namespace
}  // namespace garret::ops::preflight

namespace garret::ops::preflight {
namespace {

TEST(PreflightManifests, SecretsCloudNativePgCreatesAreNotMissing) {
  std::vector<Finding> errors;
  auto docs = parseManifests(R"(apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata: {name: db, namespace: garret}
spec: {instances: 1}
---
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata: {name: own, namespace: garret}
spec: {bootstrap: {initdb: {secret: {name: own-credentials}}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: garret}
spec:
  template:
    spec:
      containers:
        - name: api
          env:
            - {name: A, valueFrom: {secretKeyRef: {name: db-app, key: uri}}}
            - {name: B, valueFrom: {secretKeyRef: {name: own-app, key: uri}}}
            - {name: C, valueFrom: {secretKeyRef: {name: own-credentials, key: password}}}
)",
                             "m.yaml", errors);
  ASSERT_TRUE(errors.empty());
  ManifestScan scan = scanManifests(docs, "garret");
  std::set<std::string> missing;
  for (const auto& u : scan.undefined_secrets) missing.insert(u.name);
  // db-app comes from the operator; own-app does not (own bootstrap secret),
  // and own-credentials is the user's to create.
  EXPECT_EQ(missing, (std::set<std::string>{"own-app", "own-credentials"}));
}

}  // namespace
}  // namespace garret::ops::preflight
