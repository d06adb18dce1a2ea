// Control-plane checks over recorded kube-system pods and leases: the
// "broken" cluster's controller-manager and scheduler in CrashLoopBackOff
// with more than 1000 restarts, etcd restarting, stale leader leases; and
// the "healthy" one with none of that. Time is fixed (2026-11-27T12:00:00Z).

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "ops/doctor/controlplane.h"
#include "ops/kube/json_access.h"

namespace garret::ops::doctor {
namespace {

constexpr std::int64_t kNow = 1795780800;

nlohmann::json fixture(const std::string& scenario, const std::string& path) {
  std::ifstream in(std::string(GARRET_TEST_DATA_DIR) + "/ops/kube/" + scenario + "/" + path + ".json");
  std::ostringstream s;
  s << in.rdbuf();
  auto j = parseJson(s.str());
  EXPECT_TRUE(j) << path;
  return j.value_or(nlohmann::json());
}

const char* kPods = "api/v1/namespaces/kube-system/pods";
const char* kLeases = "apis/coordination.k8s.io/v1/namespaces/kube-system/leases";

TEST(DoctorControlPlane, CrashLoopsWithThousandsOfRestarts) {
  std::vector<Metric> metrics;
  std::vector<Finding> f = controlPlaneFindings(fixture("broken", kPods), {}, metrics);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].id, "controlplane-crashloop");
  EXPECT_EQ(f[0].subject, "kube-system/kube-controller-manager-cp-1");
  EXPECT_EQ(f[0].severity, Severity::kError);
  EXPECT_NE(f[0].message.find("1342 restarts"), std::string::npos) << f[0].message;
  EXPECT_NE(f[0].message.find("last termination: Error, exit code 1"), std::string::npos);
  EXPECT_NE(f[0].message.find("controllermanager.go:318] leaderelection lost)"), std::string::npos);  // last line
  EXPECT_NE(f[0].fix.find("logs kube-controller-manager-cp-1 -c kube-controller-manager --previous"),
            std::string::npos);
  EXPECT_EQ(f[1].id, "controlplane-crashloop");
  EXPECT_EQ(f[1].subject, "kube-system/kube-scheduler-cp-1");
  EXPECT_NE(f[1].message.find("1187 restarts"), std::string::npos);
  // etcd runs now but restarted 57 times: a warning (>= 10, < 100), with its last exit.
  EXPECT_EQ(f[2].id, "controlplane-restarts");
  EXPECT_EQ(f[2].subject, "kube-system/etcd-cp-1");
  EXPECT_EQ(f[2].severity, Severity::kWarning);
  EXPECT_NE(f[2].message.find("exit code 2"), std::string::npos);
  EXPECT_NE(f[2].fix.find("fsync"), std::string::npos);
  // coredns restarts 311 times but is not control plane; 4 components measured.
  EXPECT_EQ(metrics.size(), 4u);
}

TEST(DoctorControlPlane, RestartLimitsAreConfigurable) {
  std::vector<Metric> metrics;
  auto f = controlPlaneFindings(fixture("broken", kPods), {3, 50}, metrics);
  ASSERT_EQ(f.size(), 4u);  // the apiserver's 4 restarts now count
  EXPECT_EQ(f[0].subject, "kube-system/kube-apiserver-cp-1");
  EXPECT_EQ(f[0].severity, Severity::kWarning);
  EXPECT_EQ(f[3].subject, "kube-system/etcd-cp-1");
  EXPECT_EQ(f[3].severity, Severity::kError);  // etcd's 57 >= 50
}

TEST(DoctorControlPlane, StaleLeaderLeases) {
  std::vector<Metric> metrics;
  std::vector<Finding> f = leaseFindings(fixture("broken", kLeases), kNow, metrics);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].id, "lease-stale");
  EXPECT_EQ(f[0].subject, "kube-system/lease/kube-controller-manager");
  EXPECT_EQ(f[0].severity, Severity::kError);
  EXPECT_NE(f[0].message.find("last renewed 1133 s ago"), std::string::npos) << f[0].message;
  EXPECT_NE(f[0].message.find("1342 transitions"), std::string::npos);
  EXPECT_EQ(f[1].subject, "kube-system/lease/kube-scheduler");
  EXPECT_EQ(metrics.size(), 3u);
}

TEST(DoctorControlPlane, HealthyClusterAndOtherLeases) {
  std::vector<Metric> metrics;
  EXPECT_TRUE(controlPlaneFindings(fixture("healthy", kPods), {}, metrics).empty());
  EXPECT_TRUE(leaseFindings(fixture("healthy", kLeases), kNow, metrics).empty());
  // The apiserver identity lease (3600 s) is only stale after three hours, and a
  // non-leader lease is a warning.
  auto later = leaseFindings(fixture("healthy", kLeases), kNow + 3 * 3600 + 60, metrics);
  ASSERT_EQ(later.size(), 3u);
  EXPECT_EQ(later[0].severity, Severity::kError);
  EXPECT_EQ(later[2].subject, "kube-system/lease/apiserver-4ybqnvz5f5ffeiv4ahbpbcinva");
  EXPECT_EQ(later[2].severity, Severity::kWarning);
}

TEST(DoctorControlPlane, OddInputIsIgnored) {
  std::vector<Metric> metrics;
  auto pods = parseJson(R"({"items": [{"metadata": {"name": "etcd-x"}, "status": {"containerStatuses": [
      {"name": "etcd", "restartCount": "many", "state": {"waiting": {"reason": 5}}, "lastState": []}]}}, 7]})");
  ASSERT_TRUE(pods);
  EXPECT_TRUE(controlPlaneFindings(*pods, {}, metrics).empty());
  auto leases = parseJson(R"({"items": [{"metadata": {"name": "x"}, "spec": {"renewTime": "yesterday"}}]})");
  ASSERT_TRUE(leases);
  EXPECT_TRUE(leaseFindings(*leases, kNow, metrics).empty());
}

}  // namespace
}  // namespace garret::ops::doctor
