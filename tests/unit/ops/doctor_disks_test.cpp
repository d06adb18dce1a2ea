// Disk checks: --mount / --expect-mount parsing, mountinfo fixtures, usage
// and inode thresholds, LVM from recorded vgs output, and the real machine.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "ops/doctor/disks.h"

namespace garret::ops::doctor {
namespace {

const std::string kHost = std::string(GARRET_TEST_DATA_DIR) + "/ops/host/";

std::string fixture(const std::string& name) {
  std::ifstream in(kHost + name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

constexpr std::uint64_t kGiB = 1ULL << 30;

TEST(DoctorDisks, MountSpecs) {
  auto plain = parseMountSpec("/");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->warn_pct, 80);
  EXPECT_EQ(plain->error_pct, 90);
  auto both = parseMountSpec("/var/lib/docker:70%:85");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->path, "/var/lib/docker");
  EXPECT_EQ(both->warn_pct, 70);
  EXPECT_EQ(both->error_pct, 85);
  auto high_warn = parseMountSpec("/x:95");
  ASSERT_TRUE(high_warn.ok());
  EXPECT_EQ(high_warn->error_pct, 95);  // error never below warn
  for (const char* bad : {"", "relative", "/x:abc", "/x:101", "/x:80:70", "/x:1:2:3", "/x:-5"}) {
    EXPECT_FALSE(parseMountSpec(bad).ok()) << bad;
  }
  auto want = parseExpectedMount("/cache:noatime,nodev");
  ASSERT_TRUE(want.ok());
  EXPECT_EQ(want->options, (std::vector<std::string>{"noatime", "nodev"}));
  EXPECT_TRUE(parseExpectedMount("/cache").ok());
  EXPECT_FALSE(parseExpectedMount("cache:noatime").ok());
}

TEST(DoctorDisks, MountinfoFixture) {
  std::vector<MountEntry> mounts = parseMountinfo(fixture("mountinfo-runner"));
  ASSERT_EQ(mounts.size(), 9u);
  EXPECT_EQ(mounts[3].mount_point, "/");
  EXPECT_EQ(mounts[3].fs_type, "ext4");
  EXPECT_EQ(mounts[3].source, "/dev/mapper/vg0-root");
  EXPECT_EQ(mounts[7].mount_point, "/srv/runner builds");  // \040 decoded
  EXPECT_EQ(parseMountinfo(fixture("mountinfo-no-cache")).size(), 4u);  // the garbage line is skipped
}

TEST(DoctorDisks, ExpectedMountsAndOptions) {
  std::vector<MountEntry> good = parseMountinfo(fixture("mountinfo-runner"));
  std::vector<MountEntry> bad = parseMountinfo(fixture("mountinfo-no-cache"));
  ExpectedMount cache{"/cache", {"noatime"}};
  ExpectedMount docker{"/var/lib/docker", {"noatime"}};
  ExpectedMount superopt{"/var/lib/docker", {"prjquota"}};  // a super-block option counts too
  EXPECT_TRUE(expectedMountFindings(cache, good).empty());
  EXPECT_TRUE(expectedMountFindings(docker, good).empty());
  EXPECT_TRUE(expectedMountFindings(superopt, good).empty());
  EXPECT_TRUE(expectedMountFindings({"/srv/runner builds", {}}, good).empty());

  auto missing = expectedMountFindings(cache, bad);
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].id, "mount-missing");
  EXPECT_EQ(missing[0].severity, Severity::kError);
  auto option = expectedMountFindings(docker, bad);
  ASSERT_EQ(option.size(), 1u);
  EXPECT_EQ(option[0].id, "mount-option-missing");
  EXPECT_EQ(option[0].severity, Severity::kWarning);
  EXPECT_NE(option[0].message.find("xfs on /dev/mapper/vg0-docker"), std::string::npos);
  EXPECT_NE(option[0].fix.find("remount,noatime"), std::string::npos);
}

TEST(DoctorDisks, UsageAndInodeThresholds) {
  MountSpec spec{"/var/lib/docker", 80, 90};
  struct Case {
    std::uint64_t total, free, avail, inodes, ifree;
    std::vector<std::pair<std::string, Severity>> expect;
  } cases[] = {
      {100 * kGiB, 50 * kGiB, 45 * kGiB, 1000, 900, {}},
      // used 82 of 82+18: warning; the root reserve (free - avail) is not available.
      {100 * kGiB, 18 * kGiB + kGiB / 2, 18 * kGiB, 1000, 900, {{"disk-usage", Severity::kWarning}}},
      {100 * kGiB, 8 * kGiB, 3 * kGiB, 1000, 900, {{"disk-usage", Severity::kError}}},
      {100 * kGiB, 50 * kGiB, 50 * kGiB, 1000, 150, {{"inode-usage", Severity::kWarning}}},
      {100 * kGiB, 5 * kGiB, 5 * kGiB, 1000, 10, {{"disk-usage", Severity::kError}, {"inode-usage", Severity::kError}}},
      {100 * kGiB, 50 * kGiB, 50 * kGiB, 0, 0, {}},  // no inode limit (btrfs)
  };
  for (const Case& c : cases) {
    std::vector<Metric> metrics;
    auto f = usageFindings(spec, {c.total, c.avail, c.free, c.inodes, c.ifree}, metrics);
    ASSERT_EQ(f.size(), c.expect.size()) << c.free;
    for (std::size_t i = 0; i < f.size(); ++i) {
      EXPECT_EQ(f[i].id, c.expect[i].first);
      EXPECT_EQ(f[i].severity, c.expect[i].second);
      EXPECT_EQ(f[i].subject, "/var/lib/docker");
    }
    EXPECT_EQ(metrics.size(), c.inodes > 0 ? 2u : 1u);
  }
}

TEST(DoctorDisks, VolumeGroups) {
  auto full = parseVgsJson(fixture("vgs-full.json"));
  ASSERT_TRUE(full.ok()) << full.error().message;
  ASSERT_EQ(full->size(), 2u);
  EXPECT_EQ((*full)[0].name, "vg0");
  EXPECT_EQ((*full)[0].size, 510001266688u);
  EXPECT_EQ((*full)[0].free, 20401094656u);
  std::vector<Metric> metrics;
  auto f = volumeGroupFindings(*full, metrics);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].id, "lvm-vg-full");
  EXPECT_EQ(f[0].subject, "vg/vg0");
  EXPECT_EQ(f[0].severity, Severity::kWarning);  // 4 % free
  auto nearly = volumeGroupFindings({{"vg1", 100 * kGiB, kGiB}}, metrics);  // 1 % free
  ASSERT_EQ(nearly.size(), 1u);
  EXPECT_EQ(nearly[0].severity, Severity::kError);
  auto healthy = parseVgsJson(fixture("vgs-healthy.json"));
  ASSERT_TRUE(healthy.ok());
  EXPECT_TRUE(volumeGroupFindings(*healthy, metrics).empty());
  EXPECT_FALSE(parseVgsJson("  WARNING: Running as a non-root user.").ok());
}

TEST(DoctorDisks, RealMachine) {
  auto host = host::makeRealHostSystem();
  auto root = host->fsStats("/");
  ASSERT_TRUE(root.ok()) << root.error().message;
  EXPECT_GT(root->total_bytes, 0u);
  EXPECT_LE(root->avail_bytes, root->total_bytes);
  std::vector<Metric> metrics;
  (void)usageFindings({"/", 80, 90}, *root, metrics);
  ASSERT_FALSE(metrics.empty());
  EXPECT_GE(metrics[0].value, 0.0);
  EXPECT_LE(metrics[0].value, 1.0);
  auto mountinfo = host->readFile("/proc/self/mountinfo");
  ASSERT_TRUE(mountinfo.ok());
  std::vector<MountEntry> mounts = parseMountinfo(*mountinfo);
  EXPECT_TRUE(expectedMountFindings({"/", {}}, mounts).empty());
  EXPECT_TRUE(expectedMountFindings({"/proc", {"rw"}}, mounts).empty());
  EXPECT_EQ(expectedMountFindings({"/no/such/mount/point", {}}, mounts).size(), 1u);
  EXPECT_EQ(host->fsStats("/no/such/path").error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace garret::ops::doctor
