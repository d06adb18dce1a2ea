#include "ops/doctor/disks.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <sstream>

#include "ops/docker/disk_usage.h"
#include "ops/kube/json_access.h"

namespace garret::ops::doctor {

namespace {

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::optional<double> percent(std::string s) {
  if (!s.empty() && s.back() == '%') s.pop_back();
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0 || v > 100) return std::nullopt;
  return v;
}

// \040 (space), \011 (tab), \012 (newline), \134 (backslash) in mountinfo paths.
std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string pct(double v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", v);
  return buf;
}

std::optional<Finding> thresholdFinding(const char* id, const MountSpec& spec, double used_pct, std::string what,
                                        std::string fix) {
  if (used_pct < spec.warn_pct) return std::nullopt;
  Severity sev = used_pct >= spec.error_pct ? Severity::kError : Severity::kWarning;
  double limit = sev == Severity::kError ? spec.error_pct : spec.warn_pct;
  return Finding{id, sev, spec.path, "", 0, what + " at " + pct(used_pct) + " (" + severityName(sev) + " at " + pct(limit) + ")",
                 std::move(fix)};
}

std::uint64_t bytesField(const nlohmann::json& vg, const char* key) {
  std::string s = jsonString(vg, {key});
  while (!s.empty() && (s.back() == 'B' || s.back() == 'b')) s.pop_back();
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() ? v : 0;
}

}  // namespace

Result<MountSpec> parseMountSpec(std::string_view text) {
  std::vector<std::string> parts = split(text, ':');
  if (parts.empty() || parts[0].empty() || parts[0][0] != '/' || parts.size() > 3) {
    return invalid("--mount " + std::string(text) + ": expected PATH[:WARN%[:ERROR%]] with an absolute PATH");
  }
  MountSpec spec{parts[0]};
  if (parts.size() > 1) {
    auto w = percent(parts[1]);
    if (!w) return invalid("--mount " + std::string(text) + ": WARN must be a percentage 0-100");
    spec.warn_pct = *w;
    spec.error_pct = std::max(spec.error_pct, *w);
  }
  if (parts.size() > 2) {
    auto e = percent(parts[2]);
    if (!e || *e < spec.warn_pct) return invalid("--mount " + std::string(text) + ": ERROR must be a percentage >= WARN");
    spec.error_pct = *e;
  }
  return spec;
}

Result<ExpectedMount> parseExpectedMount(std::string_view text) {
  std::size_t colon = text.find(':');
  ExpectedMount m{std::string(text.substr(0, colon))};
  if (m.path.empty() || m.path[0] != '/') {
    return invalid("--expect-mount " + std::string(text) + ": expected PATH[:OPTION[,OPTION...]] with an absolute PATH");
  }
  if (colon != std::string_view::npos) {
    for (std::string& o : split(text.substr(colon + 1), ',')) {
      if (!o.empty()) m.options.push_back(std::move(o));
    }
  }
  return m;
}

std::vector<MountEntry> parseMountinfo(std::string_view text) {
  std::vector<MountEntry> out;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string w; fields >> w;) f.push_back(w);
    auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 10 || dash == f.end() || dash - f.begin() < 6 || f.end() - dash < 4) continue;
    MountEntry e{unescape(f[4]), *(dash + 1), unescape(*(dash + 2)), split(f[5], ',')};
    for (std::string& o : split(*(dash + 3), ',')) e.options.push_back(std::move(o));
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<Finding> usageFindings(const MountSpec& spec, const host::FsStats& st, std::vector<Metric>& metrics) {
  std::vector<Finding> out;
  std::uint64_t used = st.total_bytes - std::min(st.total_bytes, st.free_bytes);
  std::uint64_t denom = used + st.avail_bytes;  // what df shows: the root reserve is not "available"
  if (denom > 0) {
    double p = 100.0 * static_cast<double>(used) / static_cast<double>(denom);
    metrics.push_back({"garret_doctor_disk_used_ratio", "Used fraction of a checked mount (as df computes it).",
                       {{"mount", spec.path}}, p / 100});
    if (auto f = thresholdFinding("disk-usage", spec, p, "disk usage " + docker::humanBytes(static_cast<std::int64_t>(used)) +
                                  " of " + docker::humanBytes(static_cast<std::int64_t>(denom)),
                                  "free space on " + spec.path + " (docker system df; du -xsh " + spec.path +
                                  "/* | sort -h) or grow the filesystem")) {
      out.push_back(*f);
    }
  }
  if (st.total_inodes > 0) {  // some filesystems (btrfs) report no inode limit
    std::uint64_t iused = st.total_inodes - std::min(st.total_inodes, st.free_inodes);
    double p = 100.0 * static_cast<double>(iused) / static_cast<double>(st.total_inodes);
    metrics.push_back({"garret_doctor_inode_used_ratio", "Used fraction of the inodes of a checked mount.",
                       {{"mount", spec.path}}, p / 100});
    if (auto f = thresholdFinding("inode-usage", spec, p,
                                  "inode usage " + std::to_string(iused) + " of " + std::to_string(st.total_inodes),
                                  "delete many small files (build trees, caches) under " + spec.path +
                                  ", or recreate the filesystem with more inodes")) {
      out.push_back(*f);
    }
  }
  return out;
}

std::vector<Finding> expectedMountFindings(const ExpectedMount& want, const std::vector<MountEntry>& mounts) {
  const MountEntry* found = nullptr;
  for (const MountEntry& m : mounts) {
    if (m.mount_point == want.path) found = &m;
  }
  if (found == nullptr) {
    return {{"mount-missing", Severity::kError, want.path, "", 0,
             want.path + " is not a mount point; data written there lands on the parent filesystem",
             "mount it (check /etc/fstab or the systemd .mount unit, then mount " + want.path + ")"}};
  }
  std::vector<std::string> missing;
  for (const std::string& o : want.options) {
    if (std::find(found->options.begin(), found->options.end(), o) == found->options.end()) missing.push_back(o);
  }
  if (missing.empty()) return {};
  std::string list;
  for (const std::string& o : missing) list += (list.empty() ? "" : ",") + o;
  return {{"mount-option-missing", Severity::kWarning, want.path, "", 0,
           want.path + " (" + found->fs_type + " on " + found->source + ") is mounted without " + list,
           "add " + list + " to its options in /etc/fstab, then mount -o remount," + list + " " + want.path}};
}

Result<std::vector<VolumeGroup>> parseVgsJson(std::string_view text) {
  auto j = parseJson(text);
  if (!j) return invalid("vgs output is not JSON");
  std::vector<VolumeGroup> out;
  for (const nlohmann::json& report : jsonArray(*j, {"report"})) {
    for (const nlohmann::json& vg : jsonArray(report, {"vg"})) {
      out.push_back({jsonString(vg, {"vg_name"}), bytesField(vg, "vg_size"), bytesField(vg, "vg_free")});
    }
  }
  return out;
}

std::vector<Finding> volumeGroupFindings(const std::vector<VolumeGroup>& vgs, std::vector<Metric>& metrics) {
  std::vector<Finding> out;
  for (const VolumeGroup& vg : vgs) {
    if (vg.size == 0) continue;
    double free_pct = 100.0 * static_cast<double>(vg.free) / static_cast<double>(vg.size);
    metrics.push_back({"garret_doctor_lvm_vg_free_ratio", "Free fraction of an LVM volume group.", {{"vg", vg.name}},
                       free_pct / 100});
    if (free_pct >= 10) continue;
    out.push_back({"lvm-vg-full", free_pct < 2 ? Severity::kError : Severity::kWarning, "vg/" + vg.name, "", 0,
                   "volume group " + vg.name + " has " + docker::humanBytes(static_cast<std::int64_t>(vg.free)) +
                       " free of " + docker::humanBytes(static_cast<std::int64_t>(vg.size)) + " (" + pct(free_pct) + ")",
                   "add a physical volume (vgextend " + vg.name + " /dev/...) or shrink/remove unused logical volumes "
                   "(lvs " + vg.name + ")"});
  }
  return out;
}

}  // namespace garret::ops::doctor
