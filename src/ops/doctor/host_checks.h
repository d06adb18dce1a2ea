#pragma once

// Host checks for a CI runner:
//   inotify-limit-low  fs.inotify.max_user_watches < 524288 or
//                      max_user_instances < 512 (warning): file watchers,
//                      kind/k3d clusters and many containers run out
//   iowait-high        CPU time waiting for I/O over a one-second sample
//                      of /proc/stat: warning >= 20 %, error >= 50 %
//   load-high          5-minute load average per core: warning > 2, error > 4
// Parsers are pure; runHostChecks reads through a HostSystem.

#include <optional>
#include <string_view>
#include <vector>

#include "ops/doctor/metric.h"
#include "ops/finding.h"
#include "ops/host/system.h"

namespace garret::ops::doctor {

struct CpuTimes {
  unsigned long long total = 0;
  unsigned long long iowait = 0;
};
// The aggregate "cpu" line of /proc/stat.
std::optional<CpuTimes> parseProcStat(std::string_view text);
// Percentage of time in iowait between two samples (0 when no time passed).
double iowaitPercent(const CpuTimes& before, const CpuTimes& after);

struct LoadAvg {
  double load1 = 0, load5 = 0, load15 = 0;
};
std::optional<LoadAvg> parseLoadavg(std::string_view text);

std::vector<Finding> inotifyFindings(long long max_watches, long long max_instances);
std::vector<Finding> iowaitFindings(double percent);
std::vector<Finding> loadFindings(const LoadAvg& load, unsigned cpus);

// All of the above; a /proc file that cannot be read becomes a
// source-skipped info finding.
std::vector<Finding> runHostChecks(host::HostSystem& host, std::vector<Metric>& metrics);

}  // namespace garret::ops::doctor
