#pragma once

// Node readiness, shared by preflight and doctor.

#include <nlohmann/json.hpp>

#include <vector>

#include "ops/finding.h"

namespace garret::ops::kube {

// One `node-not-ready` warning per node of a NodeList (GET /api/v1/nodes)
// whose Ready condition is not "True" (False, Unknown or missing).
std::vector<Finding> nodeFindings(const nlohmann::json& node_list);

// The status of the condition `type` in an object's status.conditions[],
// or "" when absent.
std::string conditionStatus(const nlohmann::json& object, std::string_view type);
// Reason and message of that condition, "reason: message" (either may be empty).
std::string conditionDetail(const nlohmann::json& object, std::string_view type);

}  // namespace garret::ops::kube
