#pragma once

// A measured value doctor reports besides its findings (disk usage ratio,
// reclaimable Docker bytes, ...), rendered as a Prometheus gauge.

#include <string>
#include <utility>
#include <vector>

namespace garret::ops::doctor {

struct Metric {
  std::string name;  // "garret_doctor_disk_used_ratio"
  std::string help;
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

}  // namespace garret::ops::doctor
