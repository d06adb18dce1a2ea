// Answers of the APIs doctor and preflight read, as arbitrary bytes:
// Docker /system/df, kube-system pods and leases, nodes, vgs JSON, mountinfo,
// /proc/stat and loadavg, certificate dates. Invariants: nothing throws;
// byte counts are never negative; every finding has an id, a subject and a
// fix; the Prometheus rendering of the findings is one HELP and TYPE per family.

#include <cstdint>
#include <set>
#include <sstream>
#include <string>

#include "fuzz_util.h"
#include "ops/docker/disk_usage.h"
#include "ops/doctor/cache_check.h"
#include "ops/doctor/controlplane.h"
#include "ops/doctor/disks.h"
#include "ops/doctor/host_checks.h"
#include "ops/doctor/prometheus.h"
#include "ops/kube/json_access.h"
#include "ops/kube/nodes.h"

namespace {

using garret::ops::Finding;

void checkFindings(const std::vector<Finding>& findings, const std::vector<garret::ops::doctor::Metric>& metrics) {
  for (const Finding& f : findings) FUZZ_CHECK(!f.id.empty() && !f.subject.empty() && !f.fix.empty());
  std::string text = garret::ops::doctor::renderPrometheus(findings, metrics, 1);
  std::set<std::string> help;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# HELP ", 0) == 0) FUZZ_CHECK_MSG(help.insert(line.substr(7, line.find(' ', 7) - 7)).second, line);
  }
}

void checkJson(const nlohmann::json& j) {
  garret::ops::docker::DiskUsage u = garret::ops::docker::parseDiskUsage(j);
  for (const auto& t : u.types) FUZZ_CHECK(t.total_bytes >= 0 && t.reclaimable_bytes >= 0 && t.total_count >= 0);
  std::vector<garret::ops::doctor::Metric> metrics;
  std::vector<Finding> findings = garret::ops::docker::diskUsageFindings(u, 0);
  auto nodes = garret::ops::kube::nodeFindings(j);
  findings.insert(findings.end(), nodes.begin(), nodes.end());
  auto pods = garret::ops::doctor::controlPlaneFindings(j, {}, metrics);
  auto leases = garret::ops::doctor::leaseFindings(j, 1795780800, metrics);
  findings.insert(findings.end(), pods.begin(), pods.end());
  findings.insert(findings.end(), leases.begin(), leases.end());
  checkFindings(findings, metrics);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = garret::fuzz::asText(data, size);
  if (auto j = garret::ops::parseJson(text)) checkJson(*j);
  std::vector<garret::ops::doctor::Metric> metrics;
  if (auto vgs = garret::ops::doctor::parseVgsJson(text); vgs.ok()) {
    checkFindings(garret::ops::doctor::volumeGroupFindings(*vgs, metrics), metrics);
  }
  for (const auto& m : garret::ops::doctor::parseMountinfo(text)) FUZZ_CHECK(!m.mount_point.empty());
  if (auto t = garret::ops::doctor::parseProcStat(text)) FUZZ_CHECK(t->total > 0);
  (void)garret::ops::doctor::parseLoadavg(text);
  (void)garret::ops::doctor::parseCertDate(text);
  (void)garret::ops::parseRfc3339(text);
  (void)garret::ops::doctor::urlHost(text);
  return 0;
}
