// Host checks (inotify, iowait, load) over a FakeHostSystem with fixture
// /proc contents, and the parsers on their own.

#include <gtest/gtest.h>

#include <set>

#include "ops/doctor/host_checks.h"

namespace garret::ops::doctor {
namespace {

// /proc/stat with the aggregate cpu line: user nice system idle iowait irq softirq steal.
std::string stat(unsigned long long user, unsigned long long idle, unsigned long long iowait) {
  return "cpu  " + std::to_string(user) + " 0 100 " + std::to_string(idle) + " " + std::to_string(iowait) +
         " 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 12345\nctxt 999\n";
}

host::FakeHostSystem healthyHost() {
  host::FakeHostSystem h;
  h.files["/proc/sys/fs/inotify/max_user_watches"] = "1048576\n";
  h.files["/proc/sys/fs/inotify/max_user_instances"] = "8192\n";
  h.file_sequences["/proc/stat"] = {stat(1000, 10000, 50), stat(1100, 10290, 60)};  // 10 of 400 ticks = 2.5 %
  h.files["/proc/loadavg"] = "1.20 2.10 1.90 3/812 44123\n";
  h.cpus = 4;
  return h;
}

std::set<std::string> ids(const std::vector<Finding>& f) {
  std::set<std::string> out;
  for (const Finding& x : f) out.insert(x.id + "/" + severityName(x.severity));
  return out;
}

TEST(DoctorHost, HealthyHostHasNoFindingsAndSamplesForASecond) {
  host::FakeHostSystem h = healthyHost();
  std::vector<Metric> metrics;
  EXPECT_TRUE(runHostChecks(h, metrics).empty());
  EXPECT_EQ(h.slept, std::chrono::seconds(1));
  ASSERT_EQ(metrics.size(), 2u);
  EXPECT_DOUBLE_EQ(metrics[0].value, 0.025);  // iowait ratio
  EXPECT_DOUBLE_EQ(metrics[1].value, 2.1 / 4);
}

TEST(DoctorHost, LowLimitsHighIowaitAndLoad) {
  host::FakeHostSystem h = healthyHost();
  h.files["/proc/sys/fs/inotify/max_user_watches"] = "8192\n";
  h.files["/proc/sys/fs/inotify/max_user_instances"] = "128\n";
  h.file_sequences["/proc/stat"] = {stat(1000, 10000, 50), stat(1100, 10100, 250)};  // 200 of 400 = 50 %
  h.files["/proc/loadavg"] = "19.0 18.5 12.0 40/900 1\n";
  std::vector<Metric> metrics;
  std::vector<Finding> f = runHostChecks(h, metrics);
  EXPECT_EQ(ids(f), (std::set<std::string>{"inotify-limit-low/warning", "iowait-high/error", "load-high/error"}));
  EXPECT_EQ(f.size(), 4u);  // both inotify limits
}

TEST(DoctorHost, UnreadableProcIsSkippedNotFailed) {
  host::FakeHostSystem empty;
  std::vector<Metric> metrics;
  std::vector<Finding> f = runHostChecks(empty, metrics);
  ASSERT_EQ(f.size(), 3u);
  for (const Finding& x : f) {
    EXPECT_EQ(x.id, "source-skipped");
    EXPECT_EQ(x.severity, Severity::kInfo);
  }
}

TEST(DoctorHost, Thresholds) {
  EXPECT_TRUE(iowaitFindings(19.9).empty());
  EXPECT_EQ(iowaitFindings(20)[0].severity, Severity::kWarning);
  EXPECT_EQ(iowaitFindings(50)[0].severity, Severity::kError);
  EXPECT_TRUE(loadFindings({0, 8.0, 0}, 4).empty());
  EXPECT_EQ(loadFindings({0, 8.1, 0}, 4)[0].severity, Severity::kWarning);
  EXPECT_EQ(loadFindings({0, 16.1, 0}, 4)[0].severity, Severity::kError);
  EXPECT_FALSE(loadFindings({0, 3, 0}, 0).empty());  // zero cores is treated as one
  EXPECT_TRUE(inotifyFindings(524288, 512).empty());
  EXPECT_EQ(inotifyFindings(524287, 512).size(), 1u);
}

TEST(DoctorHost, Parsers) {
  auto t = parseProcStat(stat(10, 20, 5));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->iowait, 5u);
  EXPECT_EQ(t->total, 10u + 100 + 20 + 5);
  EXPECT_FALSE(parseProcStat("cpu0 1 2 3\n"));
  EXPECT_FALSE(parseProcStat(""));
  EXPECT_EQ(iowaitPercent({100, 10}, {100, 10}), 0);  // no time passed
  EXPECT_EQ(iowaitPercent({200, 10}, {100, 5}), 0);   // counters went backwards
  auto l = parseLoadavg("0.50 1.25 2.00 1/100 7");
  ASSERT_TRUE(l);
  EXPECT_DOUBLE_EQ(l->load5, 1.25);
  EXPECT_FALSE(parseLoadavg("garbage"));
}

TEST(DoctorHost, RealMachineProcFilesParse) {
  auto h = host::makeRealHostSystem();
  auto s = h->readFile("/proc/stat");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(parseProcStat(*s));
  auto l = h->readFile("/proc/loadavg");
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(parseLoadavg(*l));
  EXPECT_GE(h->cpuCount(), 1u);
  // A root prefix redirects every /proc read (for a container with the host's /proc elsewhere).
  EXPECT_FALSE(host::makeRealHostSystem("/no/such/root")->readFile("/proc/stat").ok());
}

}  // namespace
}  // namespace garret::ops::doctor
