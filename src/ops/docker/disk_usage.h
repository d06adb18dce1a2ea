#pragma once

// Docker disk usage from GET /system/df, in either response shape:
//   older engines: LayersSize, Images[], Containers[], Volumes[], BuildCache[]
//     (reclaimable computed here the way `docker system df` does: images no
//     container uses, containers not running, volumes with RefCount 0, build
//     cache not in use);
//   newer engines (API 1.52+): ImagesDiskUsage, ContainersDiskUsage,
//     VolumesDiskUsage, BuildCacheDiskUsage objects with TotalSize,
//     Reclaimable, ActiveCount, TotalCount (and optional Items).
// When a summary object is present it wins over the array of the same type.

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "ops/finding.h"

namespace garret::ops::docker {

enum class UsageType { kImages = 0, kContainers = 1, kVolumes = 2, kBuildCache = 3 };

struct TypeUsage {
  UsageType type = UsageType::kImages;
  std::int64_t total_count = 0;
  std::int64_t active_count = 0;
  std::int64_t total_bytes = 0;
  std::int64_t reclaimable_bytes = 0;
};

struct DiskUsage {
  std::array<TypeUsage, 4> types;  // indexed by UsageType
  bool summary_shape = false;      // the newer shape was seen
};

const char* usageTypeName(UsageType t);    // "images", "containers", "volumes", "build-cache"
const char* pruneCommand(UsageType t);     // "docker image prune -a", ...

DiskUsage parseDiskUsage(const nlohmann::json& df);

// docker-reclaimable (warning) per type whose reclaimable bytes reach
// `warn_bytes`; the fix names the prune command (doctor never prunes).
std::vector<Finding> diskUsageFindings(const DiskUsage& usage, std::int64_t warn_bytes);

// "45.2 GB" style, decimal units as docker prints them.
std::string humanBytes(std::int64_t bytes);

}  // namespace garret::ops::docker
