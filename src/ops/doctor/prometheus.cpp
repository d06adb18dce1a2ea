#include "ops/doctor/prometheus.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

namespace garret::ops::doctor {

namespace {

constexpr std::array<int, 4> kPenalty = {0, 5, 20, 50};

std::string escapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string formatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  // Shortest form that reads back the same, for stable and readable files.
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string series(const Metric& m) {
  std::string out = m.name;
  if (!m.labels.empty()) {
    out += "{";
    for (std::size_t i = 0; i < m.labels.size(); ++i) {
      out += (i ? "," : "") + m.labels[i].first + "=\"" + escapeLabel(m.labels[i].second) + "\"";
    }
    out += "}";
  }
  return out;
}

std::vector<Metric> findingMetrics(const std::vector<Finding>& findings, std::int64_t now) {
  std::vector<Metric> out;
  for (const Finding& f : findings) {
    out.push_back({"garret_doctor_finding", "A finding of the last garret doctor run (1 per finding).",
                   {{"id", f.id}, {"severity", severityName(f.severity)}, {"subject", f.subject}}, 1});
  }
  std::array<int, 4> counts{};
  for (const Finding& f : findings) ++counts[static_cast<int>(f.severity)];
  for (int s = 0; s < 4; ++s) {
    out.push_back({"garret_doctor_findings", "Number of findings of the last garret doctor run by severity.",
                   {{"severity", severityName(static_cast<Severity>(s))}}, static_cast<double>(counts[s])});
  }
  out.push_back({"garret_doctor_score", "Health score 0-100 of the last garret doctor run (100 = no findings).", {},
                 static_cast<double>(score(findings))});
  out.push_back({"garret_doctor_last_run_timestamp_seconds", "Unix time of the last garret doctor run.", {},
                 static_cast<double>(now)});
  return out;
}

}  // namespace

int score(const std::vector<Finding>& findings) {
  int total = 100;
  for (const Finding& f : findings) total -= kPenalty[static_cast<int>(f.severity)];
  return std::max(0, total);
}

std::string renderPrometheus(const std::vector<Finding>& findings, const std::vector<Metric>& metrics,
                             std::int64_t now) {
  std::vector<Metric> all = findingMetrics(findings, now);
  all.insert(all.end(), metrics.begin(), metrics.end());
  // Group by family in first-seen order; drop duplicate series.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const Metric*>> families;
  std::set<std::string> seen;
  for (const Metric& m : all) {
    if (!seen.insert(series(m)).second) continue;
    if (families.find(m.name) == families.end()) order.push_back(m.name);
    families[m.name].push_back(&m);
  }
  std::string out;
  for (const std::string& name : order) {
    const auto& members = families[name];
    out += "# HELP " + name + " " + members.front()->help + "\n# TYPE " + name + " gauge\n";
    for (const Metric* m : members) out += series(*m) + " " + formatValue(m->value) + "\n";
  }
  return out;
}

Status writeTextfile(const std::filesystem::path& dir, const std::string& content) {
  std::filesystem::path target = dir / "garret_doctor.prom";
  // node_exporter only reads *.prom, so the temporary name is never scraped half-written.
  std::filesystem::path tmp = dir / ("garret_doctor.prom." + std::to_string(::getpid()) + ".tmp");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return makeError(ErrorCode::kIo, "cannot create " + tmp.string() + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  bool ok = done == content.size() && ::fsync(fd) == 0;
  int err = errno;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), target.c_str()) != 0) {
    err = ok ? errno : err;
    ::unlink(tmp.c_str());
    return makeError(ErrorCode::kIo, "cannot write " + target.string() + ": " + std::strerror(err));
  }
  return okStatus();
}

}  // namespace garret::ops::doctor
