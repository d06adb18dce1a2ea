#include "ops/doctor/host_checks.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>

namespace garret::ops::doctor {

namespace {

constexpr long long kMinWatches = 524288;
constexpr long long kMinInstances = 512;

std::string fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::optional<long long> readNumber(host::HostSystem& host, const std::string& path) {
  auto text = host.readFile(path);
  if (!text.ok()) return std::nullopt;
  long long v = 0;
  if (std::sscanf(text->c_str(), "%lld", &v) != 1) return std::nullopt;
  return v;
}

Finding skipped(const std::string& what, const std::string& why) {
  return {"source-skipped", Severity::kInfo, what, "", 0, what + " not checked: " + why, ""};
}

}  // namespace

std::optional<CpuTimes> parseProcStat(std::string_view text) {
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string label;
    fields >> label;
    if (label != "cpu") continue;
    CpuTimes t;
    unsigned long long v = 0;
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    for (int i = 0; i < 8 && fields >> v; ++i) {
      t.total += v;
      if (i == 4) t.iowait = v;
    }
    if (t.total == 0) return std::nullopt;
    return t;
  }
  return std::nullopt;
}

double iowaitPercent(const CpuTimes& before, const CpuTimes& after) {
  if (after.total <= before.total || after.iowait < before.iowait) return 0;
  return 100.0 * static_cast<double>(after.iowait - before.iowait) / static_cast<double>(after.total - before.total);
}

std::optional<LoadAvg> parseLoadavg(std::string_view text) {
  LoadAvg l;
  if (std::sscanf(std::string(text).c_str(), "%lf %lf %lf", &l.load1, &l.load5, &l.load15) != 3) return std::nullopt;
  return l;
}

std::vector<Finding> inotifyFindings(long long max_watches, long long max_instances) {
  std::vector<Finding> out;
  if (max_watches < kMinWatches) {
    out.push_back({"inotify-limit-low", Severity::kWarning, "fs.inotify.max_user_watches", "", 0,
                   "fs.inotify.max_user_watches is " + std::to_string(max_watches) + " (recommended >= " +
                       std::to_string(kMinWatches) + ")",
                   "sysctl -w fs.inotify.max_user_watches=524288 and persist it in /etc/sysctl.d/90-inotify.conf"});
  }
  if (max_instances < kMinInstances) {
    out.push_back({"inotify-limit-low", Severity::kWarning, "fs.inotify.max_user_instances", "", 0,
                   "fs.inotify.max_user_instances is " + std::to_string(max_instances) + " (recommended >= " +
                       std::to_string(kMinInstances) + "); 'too many open files' in containers follows",
                   "sysctl -w fs.inotify.max_user_instances=512 and persist it in /etc/sysctl.d/90-inotify.conf"});
  }
  return out;
}

std::vector<Finding> iowaitFindings(double percent) {
  if (percent < 20) return {};
  return {{"iowait-high", percent >= 50 ? Severity::kError : Severity::kWarning, "cpu", "", 0,
           fixed1(percent) + " % of CPU time waited for I/O over the last second",
           "find the busy disk and process (iostat -x 1, iotop); move Docker's data root or build caches to "
           "faster storage"}};
}

std::vector<Finding> loadFindings(const LoadAvg& load, unsigned cpus) {
  double per_core = load.load5 / (cpus == 0 ? 1 : cpus);
  if (per_core <= 2) return {};
  return {{"load-high", per_core > 4 ? Severity::kError : Severity::kWarning, "load", "", 0,
           "5-minute load average " + fixed1(load.load5) + " on " + std::to_string(cpus) + " cores (" +
               fixed1(per_core) + " per core)",
           "lower the runner's concurrency (concurrent / limit in the GitLab runner's config.toml) or add cores"}};
}

namespace {

void inotify(host::HostSystem& host, std::vector<Finding>& out) {
  auto watches = readNumber(host, "/proc/sys/fs/inotify/max_user_watches");
  auto instances = readNumber(host, "/proc/sys/fs/inotify/max_user_instances");
  if (!watches || !instances) return out.push_back(skipped("inotify", "/proc/sys/fs/inotify is not readable"));
  for (Finding& f : inotifyFindings(*watches, *instances)) out.push_back(std::move(f));
}

void iowait(host::HostSystem& host, std::vector<Finding>& out, std::vector<Metric>& metrics) {
  auto before = host.readFile("/proc/stat");
  host.sleep(std::chrono::seconds(1));
  auto after = host.readFile("/proc/stat");
  auto b = before.ok() ? parseProcStat(*before) : std::nullopt;
  auto a = after.ok() ? parseProcStat(*after) : std::nullopt;
  if (!a || !b) return out.push_back(skipped("iowait", "/proc/stat is not readable"));
  double p = iowaitPercent(*b, *a);
  metrics.push_back({"garret_doctor_iowait_ratio", "Fraction of CPU time in iowait over a one-second sample.", {}, p / 100});
  for (Finding& f : iowaitFindings(p)) out.push_back(std::move(f));
}

void load(host::HostSystem& host, std::vector<Finding>& out, std::vector<Metric>& metrics) {
  auto text = host.readFile("/proc/loadavg");
  auto l = text.ok() ? parseLoadavg(*text) : std::nullopt;
  if (!l) return out.push_back(skipped("load", "/proc/loadavg is not readable"));
  unsigned cpus = std::max(1u, host.cpuCount());
  metrics.push_back({"garret_doctor_load_per_core", "5-minute load average divided by the number of cores.", {},
                     l->load5 / cpus});
  for (Finding& f : loadFindings(*l, cpus)) out.push_back(std::move(f));
}

}  // namespace

std::vector<Finding> runHostChecks(host::HostSystem& host, std::vector<Metric>& metrics) {
  std::vector<Finding> out;
  inotify(host, out);
  iowait(host, out, metrics);
  load(host, out, metrics);
  return out;
}

}  // namespace garret::ops::doctor
