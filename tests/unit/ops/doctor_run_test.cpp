// runDoctor end to end with every source: a FakeHostSystem (fixture /proc,
// statvfs, mountinfo and vgs), the fake Docker Engine API on a Unix socket,
// the fake Kubernetes API with recorded clusters, and a fake cache over TLS
// with certificates made by the openssl CLI. A healthy setup has no finding;
// a broken one has each doctor id; absent sources are info findings.

#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <set>
#include <sstream>

#include "ops/doctor/cache_check.h"
#include "ops/doctor/doctor.h"
#include "support/child_process.h"
#include "support/temp_dir.h"

namespace garret::ops::doctor {
namespace {

using garret::testing::ChildProcess;
using garret::testing::TempDir;

const std::string kData = GARRET_TEST_DATA_DIR;
constexpr std::int64_t kNow = 1795780800;  // 2026-11-27T12:00:00Z, what the recorded leases are relative to
constexpr std::uint64_t kGiB = 1ULL << 30;

std::string readText(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::unique_ptr<ChildProcess> start(std::vector<std::string> argv, std::string& line) {
  std::string why;
  auto p = ChildProcess::start(argv, why);
  EXPECT_TRUE(p) << why;
  auto l = p ? p->waitForLine("listening ") : std::nullopt;
  EXPECT_TRUE(l) << argv[1] << " did not start";
  line = l.value_or("");
  return p;
}

// A CA and a server certificate for 127.0.0.1 valid for `days`.
std::string makeCerts(const std::filesystem::path& dir, int days) {
  std::string cmd = "cd '" + dir.string() + "' && (printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext && "
                    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key "
                    "-out ca.crt -days 800 -subj '/CN=Garret Test CA' && "
                    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key "
                    "-out server.csr -subj /CN=127.0.0.1 && "
                    "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt "
                    "-days " + std::to_string(days) + " -extfile san.ext) >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << "openssl failed";
  return readText((dir / "ca.crt").string());
}

host::FakeHostSystem makeHost(bool healthy) {
  host::FakeHostSystem h;
  std::string stat0 = "cpu  1000 0 100 10000 50 0 0 0 0 0\n";
  h.files["/proc/sys/fs/inotify/max_user_watches"] = healthy ? "1048576" : "8192";
  h.files["/proc/sys/fs/inotify/max_user_instances"] = healthy ? "8192" : "128";
  h.file_sequences["/proc/stat"] = {stat0, healthy ? "cpu  1100 0 100 10290 60 0 0 0 0 0\n"
                                                   : "cpu  1100 0 100 10200 150 0 0 0 0 0\n"};
  h.files["/proc/loadavg"] = healthy ? "0.5 0.7 0.9 1/300 1\n" : "9.5 9.9 8.0 1/300 1\n";
  h.files["/proc/self/mountinfo"] = readText(kData + (healthy ? "/ops/host/mountinfo-runner" : "/ops/host/mountinfo-no-cache"));
  h.commands["vgs --reportformat json --units b"] = readText(kData + (healthy ? "/ops/host/vgs-healthy.json" : "/ops/host/vgs-full.json"));
  h.fs["/"] = healthy ? host::FsStats{100 * kGiB, 70 * kGiB, 75 * kGiB, 1000000, 900000}
                      : host::FsStats{100 * kGiB, 4 * kGiB, 4 * kGiB, 1000000, 50000};
  h.hosts["127.0.0.1"] = {"127.0.0.1"};
  h.cpus = 4;
  return h;
}

std::multiset<std::string> ids(const DoctorReport& r) {
  std::multiset<std::string> out;
  for (const Finding& f : r.findings) out.insert(f.id);
  return out;
}

std::string dump(const DoctorReport& r) {
  std::string out;
  for (const Finding& f : r.findings) out += std::string(severityName(f.severity)) + " " + f.id + " " + f.subject + ": " + f.message + "\n";
  return out;
}

class DoctorRun : public ::testing::Test {
 protected:
  // Starts every fake and runs doctor against them.
  DoctorReport run(bool healthy, int cert_days) {
    std::string line;
    std::string socket = (dir_.path() / "docker.sock").string();
    docker_proc_ = start({"python3", kData + "/../support/fake_docker_api.py", socket,
                          kData + (healthy ? "/ops/docker/df-healthy.json" : "/ops/docker/df-classic.json")}, line);
    kube_proc_ = start({"python3", kData + "/../support/fake_kube_api.py", "--fixtures",
                        kData + "/ops/kube/" + (healthy ? "healthy" : "broken")}, line);
    std::string kube_url = "http://127.0.0.1:" + line;
    std::string ca = makeCerts(dir_.path(), cert_days);
    cache_proc_ = start({"python3", kData + "/../support/fake_kube_api.py", "--fixtures",
                         kData + "/ops/cache/" + (healthy ? "healthy" : "unready"), "--tls-cert",
                         (dir_.path() / "server.crt").string(), "--tls-key", (dir_.path() / "server.key").string()},
                        line);
    client::HttpOptions docker_http;
    docker_http.unix_socket = socket;
    client::HttpOptions cache_http;
    cache_http.ca_pem = ca;
    cache_http.cert_info = true;
    auto dh = client::makeCurlHttpClient(docker_http);
    auto kh = client::makeCurlHttpClient();
    auto ch = client::makeCurlHttpClient(cache_http);
    docker::DockerClient docker(*dh);
    kube::KubeClient kube(*kh, kube_url, "");
    DoctorOptions o;
    o.mounts = {{"/", 80, 90}};
    o.expected_mounts = {{"/cache", {"noatime"}}, {"/var/lib/docker", {"noatime"}}};
    o.cache.url = "https://127.0.0.1:" + line;
    host_ = makeHost(healthy);
    FakeClock clock(kNow);
    DoctorSources s{host_, clock, &docker, "", &kube, "", ch.get()};
    DoctorReport r = runDoctor(o, s);
    EXPECT_FALSE(docker_proc_->waitForLine("write ", std::chrono::milliseconds(100)));
    return r;
  }

  TempDir dir_;
  host::FakeHostSystem host_;
  std::unique_ptr<ChildProcess> docker_proc_, kube_proc_, cache_proc_;
};

TEST_F(DoctorRun, HealthyEverythingHasNoFindings) {
  DoctorReport r = run(true, 3650);
  EXPECT_TRUE(r.findings.empty()) << dump(r);
  EXPECT_EQ(r.generated_at, kNow);
  std::set<std::string> passed(r.passed.begin(), r.passed.end());
  for (const char* check : {"disk /", "mount /cache", "lvm", "docker", "kubernetes", "cache", "host"}) {
    EXPECT_EQ(passed.count(check), 1u) << check;
  }
  std::set<std::string> families;
  for (const Metric& m : r.metrics) families.insert(m.name);
  for (const char* name : {"garret_doctor_disk_used_ratio", "garret_doctor_docker_reclaimable_bytes",
                           "garret_doctor_controlplane_restarts", "garret_doctor_lease_age_seconds",
                           "garret_doctor_cache_up", "garret_doctor_tls_expiry_days", "garret_doctor_iowait_ratio"}) {
    EXPECT_EQ(families.count(name), 1u) << name;
  }
}

TEST_F(DoctorRun, BrokenEverythingHasEachId) {
  // The certificate expires in 5 days of real time; the doctor's clock is kNow,
  // so the test only checks the id and severity, not the day count.
  DoctorReport r = run(false, 5);
  std::multiset<std::string> all = ids(r);
  std::set<std::string> got(all.begin(), all.end());
  std::set<std::string> expected = {"disk-usage", "inode-usage", "mount-missing", "mount-option-missing",
                                    "lvm-vg-full", "docker-reclaimable", "controlplane-crashloop",
                                    "controlplane-restarts", "lease-stale", "node-not-ready", "cache-unhealthy",
                                    "inotify-limit-low", "iowait-high", "load-high"};
  for (const std::string& id : expected) EXPECT_EQ(got.count(id), 1u) << id << "\n" << dump(r);
  for (const Finding& f : r.findings) {
    if (f.id == "cache-unhealthy") {
      EXPECT_EQ(f.subject, "cache/ready");
      EXPECT_NE(f.message.find("HTTP 404"), std::string::npos);
    }
  }
}

TEST_F(DoctorRun, ExpiringCertificateNamesIssuerAndDays) {
  std::string line;
  makeCerts(dir_.path(), 5);
  cache_proc_ = start({"python3", kData + "/../support/fake_kube_api.py", "--fixtures", kData + "/ops/cache/healthy",
                       "--tls-cert", (dir_.path() / "server.crt").string(), "--tls-key",
                       (dir_.path() / "server.key").string()},
                      line);
  client::HttpOptions o;
  o.ca_pem = readText((dir_.path() / "ca.crt").string());
  o.cert_info = true;
  auto http = client::makeCurlHttpClient(o);
  host::FakeHostSystem host = makeHost(true);
  CacheCheckOptions cache{"https://127.0.0.1:" + line, 30, 7};
  std::vector<Metric> metrics;
  auto now = static_cast<std::int64_t>(std::time(nullptr));
  std::vector<Finding> f = checkCache(cache, *http, host, now, metrics);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].id, "tls-expiring");
  EXPECT_EQ(f[0].severity, Severity::kError);  // < 7 days
  EXPECT_TRUE(f[0].message.find("expires in 4 days") != std::string::npos ||
              f[0].message.find("expires in 5 days") != std::string::npos)
      << f[0].message;
  EXPECT_NE(f[0].message.find("Garret Test CA"), std::string::npos) << f[0].message;
  // Three weeks before, the same certificate is only a warning; two months before, nothing.
  // (A new client each time: libcurl reports certificates only for a new handshake.)
  http = client::makeCurlHttpClient(o);
  f = checkCache(cache, *http, host, now - 21 * 86400, metrics);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::kWarning);
  http = client::makeCurlHttpClient(o);
  EXPECT_TRUE(checkCache(cache, *http, host, now - 60 * 86400, metrics).empty());
}

TEST_F(DoctorRun, AbsentSourcesAreInfoFindings) {
  host::FakeHostSystem host = makeHost(true);
  host.commands.clear();  // no vgs
  FakeClock clock(kNow);
  DoctorSources s{host, clock, nullptr, "no Docker socket at /var/run/docker.sock", nullptr, "no kubeconfig", nullptr};
  DoctorOptions o;
  o.mounts = {{"/", 80, 90}};
  DoctorReport r = runDoctor(o, s);
  EXPECT_EQ(ids(r), (std::multiset<std::string>{"source-skipped", "source-skipped", "source-skipped", "source-skipped"}))
      << dump(r);
  for (const Finding& f : r.findings) EXPECT_EQ(f.severity, Severity::kInfo);
  EXPECT_EQ(exitCodeFor(r.findings, Severity::kError), 0);
}

TEST_F(DoctorRun, UnresolvableCacheAndUnreachableApi) {
  host::FakeHostSystem host = makeHost(true);
  auto http = client::makeCurlHttpClient();
  std::vector<Metric> metrics;
  auto dns = checkCache({"https://cache.example.invalid/", 30, 7}, *http, host, kNow, metrics);
  ASSERT_EQ(dns.size(), 1u);
  EXPECT_EQ(dns[0].id, "dns-unresolved");
  EXPECT_EQ(dns[0].subject, "cache.example.invalid");

  std::string line;
  auto dead = start({"python3", kData + "/../support/fake_kube_api.py", "--fixtures", kData + "/ops/kube/healthy"}, line);
  dead.reset();
  kube::KubeClient kube(*http, "http://127.0.0.1:" + line, "", std::chrono::seconds(3));
  auto f = runControlPlaneChecks(kube, {}, kNow, metrics);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].id, "api-unreachable");
  EXPECT_EQ(f[0].severity, Severity::kError);
}

TEST(DoctorCache, UrlHostAndCertificateDates) {
  EXPECT_EQ(urlHost("https://cache.example.org/sub?x"), "cache.example.org");
  EXPECT_EQ(urlHost("http://user@h:8080"), "h");
  EXPECT_EQ(urlHost("https://[::1]:8443/"), "::1");
  EXPECT_FALSE(urlHost("ftp://x"));
  EXPECT_FALSE(urlHost("cache.example.org"));
  EXPECT_FALSE(urlHost("https://[::1"));
  EXPECT_EQ(parseCertDate("Nov 27 12:00:00 2026 GMT"), kNow);
  EXPECT_EQ(parseCertDate(" Jan  2 03:04:05 2030 GMT"), 1893553445);
  EXPECT_EQ(parseCertDate("2026-11-27 12:00:00 GMT"), kNow);
  EXPECT_FALSE(parseCertDate("Foo 27 12:00:00 2026 GMT"));
  EXPECT_FALSE(parseCertDate("Nov 27 12:00:00 2026"));
  EXPECT_FALSE(parseCertDate(""));
  std::vector<Metric> metrics;
  CacheCheckOptions o{"https://c", 30, 7};
  EXPECT_TRUE(certificateFindings({{"Subject", "CN=c"}}, o, kNow, metrics).empty());
  auto expired = certificateFindings({{"Expire date", "Nov 20 12:00:00 2026 GMT"}}, o, kNow, metrics);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_NE(expired[0].message.find("expired 7 days ago"), std::string::npos);
}

TEST(DoctorCache, RealResolver) {
  auto host = host::makeRealHostSystem();
  auto addrs = host->resolve("localhost");
  ASSERT_TRUE(addrs.ok()) << addrs.error().message;
  EXPECT_FALSE(addrs->empty());
}

}  // namespace
}  // namespace garret::ops::doctor
