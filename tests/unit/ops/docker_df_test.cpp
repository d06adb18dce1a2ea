// Docker disk usage: both /system/df shapes (recorded), the healthy case,
// and DockerClient over a Unix socket against tests/support/fake_docker_api.py
// (including the timeout on a slow /system/df).

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "ops/docker/disk_usage.h"
#include "ops/docker/docker_client.h"
#include "ops/kube/json_access.h"
#include "support/child_process.h"
#include "support/temp_dir.h"

namespace garret::ops::docker {
namespace {

using garret::testing::ChildProcess;
using garret::testing::TempDir;

const std::string kData = GARRET_TEST_DATA_DIR;
constexpr std::int64_t kGB = 1000LL * 1000 * 1000;

nlohmann::json df(const std::string& name) {
  std::ifstream in(kData + "/ops/docker/" + name);
  std::ostringstream s;
  s << in.rdbuf();
  auto j = parseJson(s.str());
  EXPECT_TRUE(j) << name;
  return j.value_or(nlohmann::json::object());
}

const TypeUsage& of(const DiskUsage& u, UsageType t) { return u.types[static_cast<int>(t)]; }

TEST(DockerDf, ClassicShapeComputesReclaimableLikeTheCli) {
  DiskUsage u = parseDiskUsage(df("df-classic.json"));
  EXPECT_FALSE(u.summary_shape);
  // Unused images: 2 x (9 - 2 shared) GB + 8 x (4 - 0.5) GB.
  EXPECT_EQ(of(u, UsageType::kImages).reclaimable_bytes, 42 * kGB);
  EXPECT_EQ(of(u, UsageType::kImages).total_count, 12);
  EXPECT_EQ(of(u, UsageType::kImages).active_count, 2);
  EXPECT_EQ(of(u, UsageType::kImages).total_bytes, 52 * kGB + 431000000);  // LayersSize
  EXPECT_EQ(of(u, UsageType::kContainers).reclaimable_bytes, 5500000000);  // exited and created
  EXPECT_EQ(of(u, UsageType::kContainers).active_count, 2);
  EXPECT_EQ(of(u, UsageType::kVolumes).reclaimable_bytes, 4 * kGB);  // Size -1 counts as 0
  EXPECT_EQ(of(u, UsageType::kBuildCache).reclaimable_bytes, 12 * kGB);  // not in use, not shared

  auto f = diskUsageFindings(u, 10 * kGB);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].id, "docker-reclaimable");
  EXPECT_EQ(f[0].subject, "docker/images");
  EXPECT_EQ(f[0].severity, Severity::kWarning);
  EXPECT_NE(f[0].message.find("42.0 GB of 52.4 GB in 12 images (2 in use)"), std::string::npos) << f[0].message;
  EXPECT_NE(f[0].fix.find("docker image prune -a"), std::string::npos);
  EXPECT_EQ(f[1].subject, "docker/build-cache");
  EXPECT_NE(f[1].fix.find("docker builder prune"), std::string::npos);
}

TEST(DockerDf, SummaryShapeUsesTheEnginesNumbers) {
  DiskUsage u = parseDiskUsage(df("df-summary.json"));
  EXPECT_TRUE(u.summary_shape);
  EXPECT_EQ(of(u, UsageType::kImages).reclaimable_bytes, 46 * kGB + 880000000);
  EXPECT_EQ(of(u, UsageType::kImages).total_count, 14);
  EXPECT_EQ(of(u, UsageType::kBuildCache).total_bytes, 23 * kGB + 400000000);
  auto f = diskUsageFindings(u, 10 * kGB);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].subject, "docker/images");
  EXPECT_EQ(f[1].subject, "docker/build-cache");
  EXPECT_EQ(diskUsageFindings(u, 50 * kGB).size(), 0u);
}

TEST(DockerDf, HealthyHostAndOddInput) {
  EXPECT_TRUE(diskUsageFindings(parseDiskUsage(df("df-healthy.json")), 10 * kGB).empty());
  // Wrong types and a summary that is not an object are ignored, not thrown on.
  auto odd = parseJson(R"({"Images": [{"Size": "big"}, 3], "ImagesDiskUsage": [], "Volumes": {"x": 1},
                           "BuildCacheDiskUsage": {"TotalSize": -5, "Reclaimable": "x"}})");
  ASSERT_TRUE(odd);
  DiskUsage u = parseDiskUsage(*odd);
  EXPECT_EQ(of(u, UsageType::kImages).total_count, 2);
  EXPECT_EQ(of(u, UsageType::kImages).reclaimable_bytes, 0);
  EXPECT_EQ(of(u, UsageType::kBuildCache).total_bytes, 0);
  EXPECT_TRUE(diskUsageFindings(u, 0).empty());
}

TEST(DockerDf, HumanBytes) {
  EXPECT_EQ(humanBytes(0), "0 B");
  EXPECT_EQ(humanBytes(999), "999 B");
  EXPECT_EQ(humanBytes(45'200'000'000), "45.2 GB");
  EXPECT_EQ(humanBytes(1'500'000), "1.5 MB");
}

class DockerClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<ChildProcess> start(const std::string& fixture, const char* delay = nullptr) {
    socket_ = (dir_.path() / "docker.sock").string();
    std::vector<std::string> argv = {"python3", kData + "/../support/fake_docker_api.py", socket_,
                                     kData + "/ops/docker/" + fixture};
    if (delay != nullptr) argv.insert(argv.end(), {"--delay", delay});
    std::string why;
    auto p = ChildProcess::start(argv, why);
    EXPECT_TRUE(p) << why;
    EXPECT_EQ(p ? p->waitForLine("listening ") : std::nullopt, socket_);
    client::HttpOptions o;
    o.unix_socket = socket_;
    http_ = client::makeCurlHttpClient(o);
    return p;
  }

  TempDir dir_;
  std::string socket_;
  std::unique_ptr<client::HttpClient> http_;
};

TEST_F(DockerClientTest, ReadsSystemDfOverTheUnixSocket) {
  for (const char* fixture : {"df-classic.json", "df-summary.json"}) {
    auto server = start(fixture);
    DockerClient docker(*http_);
    EXPECT_TRUE(docker.ping().ok());
    auto j = docker.systemDf();
    ASSERT_TRUE(j.ok()) << j.error().message;
    EXPECT_EQ(diskUsageFindings(parseDiskUsage(*j), 10 * kGB).size(), 2u) << fixture;
    EXPECT_FALSE(server->waitForLine("write ", std::chrono::milliseconds(100)));
  }
}

TEST_F(DockerClientTest, SlowEngineTimesOut) {
  auto server = start("df-classic.json", "5");
  DockerClient docker(*http_, std::chrono::milliseconds(500));
  auto j = docker.systemDf();
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.error().code, ErrorCode::kUnavailable);
}

TEST_F(DockerClientTest, MissingSocketIsUnavailable) {
  client::HttpOptions o;
  o.unix_socket = (dir_.path() / "absent.sock").string();
  auto http = client::makeCurlHttpClient(o);
  auto j = DockerClient(*http).systemDf();
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(j.error().message.find("Docker Engine API"), std::string::npos);
}

}  // namespace
}  // namespace garret::ops::docker
