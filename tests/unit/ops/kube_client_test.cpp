// KubeClient against tests/support/fake_kube_api.py: plain HTTP with a
// bearer token, HTTPS verified with certificate-authority-data, client
// certificates, insecure-skip-tls-verify, and the errors for a wrong token,
// a denied path, a TLS mismatch and an unreachable server.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "ops/kube/connect.h"
#include "ops/kube/kube_client.h"
#include "ops/kube/kubeconfig.h"
#include "support/child_process.h"
#include "support/temp_dir.h"

namespace garret::ops::kube {
namespace {

using garret::testing::ChildProcess;
using garret::testing::TempDir;

const std::string kData = GARRET_TEST_DATA_DIR;
const std::string kFakeKube = kData + "/../support/fake_kube_api.py";

std::string readText(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A CA, a server certificate for 127.0.0.1 and a client certificate, made
// with the openssl CLI.
void makeCerts(const std::filesystem::path& dir) {
  std::string cmd = "cd '" + dir.string() + "' && (printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
                    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key "
                    "-out ca.crt -days 2 -subj /CN=test-ca && "
                    "for n in server client; do openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                    "-keyout $n.key -out $n.csr -subj /CN=$n && "
                    "openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $n.crt -days 2 "
                    "-extfile san.ext || exit 1; done) >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl failed";
}

struct FakeKube {
  std::unique_ptr<ChildProcess> process;
  std::string port;
};

FakeKube startKube(const std::string& scenario, std::vector<std::string> extra) {
  std::vector<std::string> argv = {"python3", kFakeKube, "--fixtures", kData + "/ops/kube/" + scenario};
  argv.insert(argv.end(), extra.begin(), extra.end());
  std::string why;
  FakeKube k;
  k.process = ChildProcess::start(argv, why);
  EXPECT_TRUE(k.process) << why;
  if (!k.process) return k;
  auto port = k.process->waitForLine("listening ");
  EXPECT_TRUE(port) << "fake kube API did not start";
  k.port = port.value_or("0");
  return k;
}

class KubeClientTest : public ::testing::Test {
 protected:
  void SetUp() override { makeCerts(dir_.path()); }

  std::string cert(const char* name) { return (dir_.path() / name).string(); }

  // HTTPS fake requiring a client certificate signed by the test CA.
  FakeKube startTls(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--tls-cert", cert("server.crt"), "--tls-key", cert("server.key")};
    args.insert(args.end(), extra.begin(), extra.end());
    return startKube("healthy", args);
  }

  TempDir dir_;
};

TEST_F(KubeClientTest, PlainHttpWithBearerToken) {
  FakeKube k = startKube("healthy", {"--token", "s3cret"});
  auto http = client::makeCurlHttpClient();
  KubeClient good(*http, "http://127.0.0.1:" + k.port, "s3cret");
  auto version = good.getRequired("/version");
  ASSERT_TRUE(version.ok()) << version.error().message;
  EXPECT_EQ((*version)["gitVersion"], "v1.30.6+rke2r1");
  auto absent = good.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/nope.example.com");
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());

  KubeClient bad(*http, "http://127.0.0.1:" + k.port, "wrong");
  auto denied = bad.get("/version");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, ErrorCode::kUnauthorized);
  EXPECT_NE(denied.error().message.find("rejected the credentials"), std::string::npos);
}

TEST_F(KubeClientTest, DeniedPathAndAccessReview) {
  FakeKube k = startKube("healthy", {"--deny", "/api/v1/nodes", "--deny-access", "secrets"});
  auto http = client::makeCurlHttpClient();
  KubeClient kube(*http, "http://127.0.0.1:" + k.port, "");
  auto nodes = kube.get("/api/v1/nodes");
  ASSERT_FALSE(nodes.ok());
  EXPECT_EQ(nodes.error().code, ErrorCode::kForbidden);
  EXPECT_NE(nodes.error().message.find("cannot get resource"), std::string::npos) << nodes.error().message;
  auto secrets = kube.canI({"garret", "create", "", "secrets"});
  ASSERT_TRUE(secrets.ok()) << secrets.error().message;
  EXPECT_FALSE(*secrets);
  auto deployments = kube.canI({"garret", "create", "apps", "deployments"});
  ASSERT_TRUE(deployments.ok());
  EXPECT_TRUE(*deployments);
}

TEST_F(KubeClientTest, TlsWithCertificateAuthorityDataAndClientCertificate) {
  FakeKube k = startTls({"--client-ca", cert("ca.crt")});
  client::HttpOptions o;
  o.ca_pem = readText(cert("ca.crt"));
  o.client_cert_pem = readText(cert("client.crt"));
  o.client_key_pem = readText(cert("client.key"));
  auto http = client::makeCurlHttpClient(o);
  KubeClient kube(*http, "https://127.0.0.1:" + k.port, "");
  auto version = kube.getRequired("/version");
  ASSERT_TRUE(version.ok()) << version.error().message;

  // Without the client certificate the handshake fails: a transport error.
  client::HttpOptions no_client;
  no_client.ca_pem = o.ca_pem;
  auto http2 = client::makeCurlHttpClient(no_client);
  auto refused = KubeClient(*http2, "https://127.0.0.1:" + k.port, "").get("/version");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
}

TEST_F(KubeClientTest, KubeconfigWithTokenOverTlsAndInsecureSkipVerify) {
  FakeKube k = startTls({"--token", "tok"});
  std::string server = "https://127.0.0.1:" + k.port;
  std::ofstream(dir_.path() / "token") << "tok\n";
  std::ofstream(dir_.path() / "config")
      << "current-context: verified\n"
      << "contexts:\n- name: verified\n  context: {cluster: v, user: u}\n"
      << "- name: insecure\n  context: {cluster: i, user: u}\n"
      << "- name: unverified\n  context: {cluster: n, user: u}\n"
      << "clusters:\n- name: v\n  cluster: {server: '" << server << "', certificate-authority: ca.crt}\n"
      << "- name: i\n  cluster: {server: '" << server << "', insecure-skip-tls-verify: true}\n"
      << "- name: n\n  cluster: {server: '" << server << "'}\n"
      << "users:\n- name: u\n  user: {tokenFile: token}\n";
  std::string path = (dir_.path() / "config").string();
  for (const char* context : {"verified", "insecure"}) {
    auto conn = connectKube(path, context, std::chrono::seconds(5));
    ASSERT_TRUE(conn.ok()) << conn.error().message;
    auto version = conn->client->getRequired("/version");
    EXPECT_TRUE(version.ok()) << context << ": " << version.error().message;
  }
  // The test CA is not in the system store: verification must fail.
  auto conn = connectKube(path, "unverified", std::chrono::seconds(5));
  ASSERT_TRUE(conn.ok());
  auto version = conn->client->get("/version");
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.error().code, ErrorCode::kUnavailable);
}

TEST_F(KubeClientTest, UnreachableServerIsUnavailableAndNamesTheServer) {
  FakeKube k = startKube("healthy", {});
  std::string port = k.port;
  k.process.reset();  // the port is free again
  auto http = client::makeCurlHttpClient();
  KubeClient kube(*http, "http://127.0.0.1:" + port, "", std::chrono::seconds(3));
  auto r = kube.get("/version");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("cannot reach the Kubernetes API at http://127.0.0.1:" + port),
            std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace garret::ops::kube
