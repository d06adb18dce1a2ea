#include "ops/docker/disk_usage.h"

#include <cstdio>

#include "ops/kube/json_access.h"

namespace garret::ops::docker {

namespace {

constexpr std::array<const char*, 4> kNames = {"images", "containers", "volumes", "build-cache"};
constexpr std::array<const char*, 4> kNouns = {"images", "containers", "volumes", "build cache records"};
constexpr std::array<const char*, 4> kPrune = {"docker image prune -a", "docker container prune",
                                                "docker volume prune", "docker builder prune"};
// Summary objects of the newer shape; the second spelling is accepted too.
constexpr std::array<const char*, 4> kSummary = {"ImagesDiskUsage", "ContainersDiskUsage", "VolumesDiskUsage",
                                                  "BuildCacheDiskUsage"};
constexpr std::array<const char*, 4> kSummaryAlt = {"ImageUsage", "ContainerUsage", "VolumeUsage", "BuildCacheUsage"};

std::int64_t positive(std::int64_t v) { return v < 0 ? 0 : v; }

TypeUsage images(const nlohmann::json& df) {
  TypeUsage u{UsageType::kImages};
  for (const nlohmann::json& i : jsonArray(df, {"Images"})) {
    // Size includes layers shared with other images; count only unique bytes.
    std::int64_t unique = positive(jsonInt(i, {"Size"}) - positive(jsonInt(i, {"SharedSize"})));
    ++u.total_count;
    u.total_bytes += unique;
    if (jsonInt(i, {"Containers"}) > 0) ++u.active_count;
    else u.reclaimable_bytes += unique;
  }
  if (jsonAt(df, {"LayersSize"}) != nullptr) u.total_bytes = positive(jsonInt(df, {"LayersSize"}));
  return u;
}

TypeUsage containers(const nlohmann::json& df) {
  TypeUsage u{UsageType::kContainers};
  for (const nlohmann::json& c : jsonArray(df, {"Containers"})) {
    std::int64_t size = positive(jsonInt(c, {"SizeRw"}));
    std::string state = jsonString(c, {"State"});
    ++u.total_count;
    u.total_bytes += size;
    if (state == "running" || state == "paused" || state == "restarting") ++u.active_count;
    else u.reclaimable_bytes += size;
  }
  return u;
}

TypeUsage volumes(const nlohmann::json& df) {
  TypeUsage u{UsageType::kVolumes};
  for (const nlohmann::json& v : jsonArray(df, {"Volumes"})) {
    std::int64_t size = positive(jsonInt(v, {"UsageData", "Size"}));  // -1 when unknown
    ++u.total_count;
    u.total_bytes += size;
    if (jsonInt(v, {"UsageData", "RefCount"}) > 0) ++u.active_count;
    else u.reclaimable_bytes += size;
  }
  return u;
}

TypeUsage buildCache(const nlohmann::json& df) {
  TypeUsage u{UsageType::kBuildCache};
  for (const nlohmann::json& b : jsonArray(df, {"BuildCache"})) {
    std::int64_t size = positive(jsonInt(b, {"Size"}));
    ++u.total_count;
    if (!jsonBool(b, {"Shared"})) u.total_bytes += size;
    if (jsonBool(b, {"InUse"})) ++u.active_count;
    else if (!jsonBool(b, {"Shared"})) u.reclaimable_bytes += size;
  }
  return u;
}

std::optional<TypeUsage> summary(const nlohmann::json& df, int i) {
  const nlohmann::json* s = jsonAt(df, {kSummary[i]});
  if (s == nullptr || !s->is_object()) s = jsonAt(df, {kSummaryAlt[i]});
  if (s == nullptr || !s->is_object()) return std::nullopt;
  TypeUsage u{static_cast<UsageType>(i)};
  u.total_bytes = positive(jsonInt(*s, {"TotalSize"}));
  u.reclaimable_bytes = positive(jsonInt(*s, {"Reclaimable"}));
  u.total_count = positive(jsonInt(*s, {"TotalCount"}));
  u.active_count = positive(jsonInt(*s, {"ActiveCount"}));
  return u;
}

}  // namespace

const char* usageTypeName(UsageType t) { return kNames[static_cast<int>(t)]; }
const char* pruneCommand(UsageType t) { return kPrune[static_cast<int>(t)]; }

DiskUsage parseDiskUsage(const nlohmann::json& df) {
  DiskUsage out;
  out.types = {images(df), containers(df), volumes(df), buildCache(df)};
  for (int i = 0; i < 4; ++i) {
    if (auto s = summary(df, i)) {
      out.types[i] = *s;
      out.summary_shape = true;
    }
  }
  return out;
}

std::vector<Finding> diskUsageFindings(const DiskUsage& usage, std::int64_t warn_bytes) {
  std::vector<Finding> out;
  for (const TypeUsage& u : usage.types) {
    if (u.reclaimable_bytes < warn_bytes || u.reclaimable_bytes == 0) continue;
    Finding f;
    f.id = "docker-reclaimable";
    f.severity = Severity::kWarning;
    f.subject = std::string("docker/") + usageTypeName(u.type);
    f.message = humanBytes(u.reclaimable_bytes) + " of " + humanBytes(u.total_bytes) + " in " +
                std::to_string(u.total_count) + " " + kNouns[static_cast<int>(u.type)] + " (" +
                std::to_string(u.active_count) + " in use) can be reclaimed";
    f.fix = std::string(pruneCommand(u.type)) + " (doctor never deletes anything)";
    out.push_back(std::move(f));
  }
  return out;
}

std::string humanBytes(std::int64_t bytes) {
  static constexpr std::array<const char*, 6> kUnits = {"B", "kB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (v >= 1000 && unit + 1 < kUnits.size()) {
    v /= 1000;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", v, kUnits[unit]);
  return buf;
}

}  // namespace garret::ops::docker
