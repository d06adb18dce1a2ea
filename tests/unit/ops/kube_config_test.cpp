// kubeconfig parsing, the kubeconfig search order, and the JSON helpers the
// kube and docker clients use on untrusted answers.

#include <gtest/gtest.h>

#include <map>

#include "core/encoding.h"
#include "ops/kube/json_access.h"
#include "ops/kube/kubeconfig.h"

namespace garret::ops::kube {
namespace {

std::string b64(std::string_view s) {
  return base64Encode(ByteSpan(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

FileReader files(std::map<std::string, std::string> contents) {
  return [contents](const std::filesystem::path& p) -> std::optional<std::string> {
    auto it = contents.find(p.string());
    if (it == contents.end()) return std::nullopt;
    return it->second;
  };
}

std::string config(const std::string& cluster, const std::string& user) {
  return "apiVersion: v1\nkind: Config\ncurrent-context: prod\n"
         "contexts:\n- name: prod\n  context: {cluster: c1, user: u1, namespace: garret}\n"
         "- name: other\n  context: {cluster: c2, user: u2}\n"
         "clusters:\n- name: c1\n  cluster:\n" + cluster +
         "- name: c2\n  cluster: {server: 'http://127.0.0.1:8080'}\n"
         "users:\n- name: u1\n  user:\n" + user + "- name: u2\n  user: {}\n";
}

TEST(KubeConfig, InlineCertificateDataAndToken) {
  std::string text = config("    server: https://10.0.0.1:6443/\n    certificate-authority-data: " + b64("CA PEM") + "\n",
                            "    token: abc.def\n    client-certificate-data: " + b64("CERT") +
                                "\n    client-key-data: " + b64("KEY") + "\n");
  auto t = parseKubeconfig(text, "", "/home/u/.kube", files({}));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->context, "prod");
  EXPECT_EQ(t->server, "https://10.0.0.1:6443");
  EXPECT_EQ(t->namespace_name, "garret");
  EXPECT_EQ(t->token, "abc.def");
  EXPECT_EQ(t->http.ca_pem, "CA PEM");
  EXPECT_EQ(t->http.client_cert_pem, "CERT");
  EXPECT_EQ(t->http.client_key_pem, "KEY");
  EXPECT_FALSE(t->http.insecure);
}

TEST(KubeConfig, FilePathsResolveAgainstTheKubeconfigDirectory) {
  std::string text = config("    server: https://k8s:6443\n    certificate-authority: pki/ca.crt\n",
                            "    tokenFile: /var/run/token\n    client-certificate: /abs/client.crt\n"
                            "    client-key: client.key\n");
  auto t = parseKubeconfig(text, "", "/home/u/.kube", files({{"/var/run/token", "tok-from-file\n"}}));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->http.ca_file, "/home/u/.kube/pki/ca.crt");
  EXPECT_EQ(t->http.client_cert_file, "/abs/client.crt");
  EXPECT_EQ(t->http.client_key_file, "/home/u/.kube/client.key");
  EXPECT_EQ(t->token, "tok-from-file");
}

TEST(KubeConfig, InsecureSkipTlsVerifyAndExplicitContext) {
  std::string text = config("    server: https://k8s:6443\n    insecure-skip-tls-verify: true\n", "    token: x\n");
  auto t = parseKubeconfig(text, "", "/", files({}));
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->http.insecure);
  auto other = parseKubeconfig(text, "other", "/", files({}));
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_EQ(other->server, "http://127.0.0.1:8080");
  EXPECT_TRUE(other->token.empty());
}

TEST(KubeConfig, ErrorsNameWhatIsWrong) {
  struct Case {
    std::string text, context, expect;
  } cases[] = {
      {"[unclosed", "", "malformed YAML"},
      {"- a\n- b\n", "", "not a kubeconfig"},
      {"contexts: []\n", "", "no current-context"},
      {config("    server: https://k\n", "    token: t\n"), "missing", "context 'missing' not found"},
      {config("    certificate-authority-data: x\n", "    token: t\n"), "", "cluster has no server"},
      {config("    server: ftp://k\n", "    token: t\n"), "", "not an http:// or https:// URL"},
      {config("    server: https://k\n    certificate-authority-data: '***'\n", "    token: t\n"), "", "not valid base64"},
      {config("    server: https://k\n", "    exec: {command: aws}\n"), "", "exec and auth-provider"},
      {config("    server: https://k\n", "    tokenFile: /nope\n"), "", "cannot read tokenFile /nope"},
      {"current-context: a\ncontexts:\n- name: a\n  context: {cluster: gone, user: u}\n", "", "cluster 'gone'"},
  };
  for (const Case& c : cases) {
    auto t = parseKubeconfig(c.text, c.context, "/", files({}));
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_NE(t.error().message.find(c.expect), std::string::npos) << t.error().message;
  }
}

TEST(KubeConfig, LoadNamesTheFile) {
  auto missing = loadKubeconfig("/no/such/kubeconfig", "", files({}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("/no/such/kubeconfig"), std::string::npos);
  auto bad = loadKubeconfig("/k/config", "", files({{"/k/config", "current-context: x\n"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "kubeconfig /k/config: context 'x' not found");
}

TEST(KubeConfig, PathOrder) {
  EXPECT_EQ(kubeconfigPath("/flag", "/a:/b", "/home/u"), "/flag");
  EXPECT_EQ(kubeconfigPath("", "/a:/b", "/home/u"), "/a");
  EXPECT_EQ(kubeconfigPath("", "/only", "/home/u"), "/only");
  EXPECT_EQ(kubeconfigPath("", "", "/home/u"), "/home/u/.kube/config");
  EXPECT_EQ(kubeconfigPath("", nullptr, nullptr), "");
}

TEST(KubeJson, AccessorsNeverThrowOnWrongTypes) {
  auto j = parseJson(R"({"a": {"s": "x", "n": 5, "f": 2.9, "b": true, "arr": [1], "big": 18446744073709551615}})");
  ASSERT_TRUE(j);
  EXPECT_EQ(jsonString(*j, {"a", "s"}), "x");
  EXPECT_EQ(jsonString(*j, {"a", "n"}, "fb"), "fb");
  EXPECT_EQ(jsonInt(*j, {"a", "n"}), 5);
  EXPECT_EQ(jsonInt(*j, {"a", "f"}), 2);
  EXPECT_EQ(jsonInt(*j, {"a", "s"}, -1), -1);
  EXPECT_TRUE(jsonBool(*j, {"a", "b"}));
  EXPECT_FALSE(jsonBool(*j, {"a", "s"}));
  EXPECT_EQ(jsonArray(*j, {"a", "arr"}).size(), 1u);
  EXPECT_TRUE(jsonArray(*j, {"a", "s"}).empty());
  EXPECT_EQ(jsonAt(*j, {"a", "s", "deeper"}), nullptr);
  EXPECT_FALSE(parseJson("{not json"));
}

TEST(KubeJson, Rfc3339) {
  EXPECT_EQ(parseRfc3339("2026-11-27T12:00:00Z"), 1795780800);
  EXPECT_EQ(parseRfc3339("2026-11-27T11:59:58.412087Z"), 1795780798);
  EXPECT_EQ(parseRfc3339("2026-11-27T13:00:00+01:00"), 1795780800);
  EXPECT_EQ(parseRfc3339("2026-11-27T11:00:00-01:00"), 1795780800);
  EXPECT_FALSE(parseRfc3339("2026-11-27 12:00:00Z"));
  EXPECT_FALSE(parseRfc3339("2026-13-27T12:00:00Z"));
  EXPECT_FALSE(parseRfc3339("2026-11-27T12:00:00"));
  EXPECT_FALSE(parseRfc3339(""));
}

}  // namespace
}  // namespace garret::ops::kube
