#pragma once

// The doctor's score and its Prometheus output (node_exporter textfile
// collector format).
//
// Score: 100 minus a penalty per finding (blocker 50, error 20, warning 5,
// info 0), never below 0. One error and two warnings score 70.
//
// Metric families (each with one # HELP and # TYPE, all gauges):
//   garret_doctor_finding{id,severity,subject} 1   one series per finding
//   garret_doctor_findings{severity}               count per severity (all four)
//   garret_doctor_score                            the score above
//   garret_doctor_last_run_timestamp_seconds       when the report was made
//   plus the measured values of the checks (Metric), e.g.
//   garret_doctor_disk_used_ratio{mount}.
// Duplicate series (same name and labels) keep the first value: a textfile
// with duplicates makes node_exporter drop the whole scrape.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"
#include "ops/doctor/metric.h"
#include "ops/finding.h"

namespace garret::ops::doctor {

int score(const std::vector<Finding>& findings);

std::string renderPrometheus(const std::vector<Finding>& findings, const std::vector<Metric>& metrics,
                             std::int64_t now);

// Writes `content` to dir/garret_doctor.prom atomically: a temporary file in
// the same directory, fsync, then rename over the old file.
Status writeTextfile(const std::filesystem::path& dir, const std::string& content);

}  // namespace garret::ops::doctor
