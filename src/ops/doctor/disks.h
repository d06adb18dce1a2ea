#pragma once

// Disk checks: usage and inode usage of mounts (statvfs), expected mounts
// and their options (/proc/self/mountinfo), LVM volume group free space
// (`vgs --reportformat json --units b`). Parsers and checks are pure.
//
// Ids: disk-usage, inode-usage (warning at WARN %, error at ERROR %),
// mount-missing (error), mount-option-missing (warning), lvm-vg-full
// (warning below 10 % free, error below 2 %).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "ops/doctor/metric.h"
#include "ops/finding.h"
#include "ops/host/system.h"

namespace garret::ops::doctor {

struct MountSpec {
  std::string path;
  double warn_pct = 80;
  double error_pct = 90;
};
// "PATH[:WARN%[:ERROR%]]", e.g. "/var/lib/docker:70:85" ("%" optional).
Result<MountSpec> parseMountSpec(std::string_view text);

struct ExpectedMount {
  std::string path;
  std::vector<std::string> options;  // each must be among the mount's options
};
// "PATH[:OPT[,OPT...]]", e.g. "/cache:noatime".
Result<ExpectedMount> parseExpectedMount(std::string_view text);

struct MountEntry {
  std::string mount_point;
  std::string fs_type;
  std::string source;
  std::vector<std::string> options;  // per-mount and super-block options
};
// /proc/self/mountinfo; malformed lines are skipped. Octal escapes (\040) decoded.
std::vector<MountEntry> parseMountinfo(std::string_view text);

std::vector<Finding> usageFindings(const MountSpec& spec, const host::FsStats& st, std::vector<Metric>& metrics);
// Later entries win (over-mounts), as the kernel resolves paths.
std::vector<Finding> expectedMountFindings(const ExpectedMount& want, const std::vector<MountEntry>& mounts);

struct VolumeGroup {
  std::string name;
  std::uint64_t size = 0;
  std::uint64_t free = 0;
};
// Output of vgs --reportformat json --units b; kInvalidArgument if malformed.
Result<std::vector<VolumeGroup>> parseVgsJson(std::string_view text);
std::vector<Finding> volumeGroupFindings(const std::vector<VolumeGroup>& vgs, std::vector<Metric>& metrics);

}  // namespace garret::ops::doctor
