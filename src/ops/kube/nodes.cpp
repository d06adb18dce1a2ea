#include "ops/kube/nodes.h"

#include "ops/kube/json_access.h"

namespace garret::ops::kube {

namespace {

const nlohmann::json* condition(const nlohmann::json& object, std::string_view type) {
  for (const nlohmann::json& c : jsonArray(object, {"status", "conditions"})) {
    if (jsonString(c, {"type"}) == type) return &c;
  }
  return nullptr;
}

}  // namespace

std::string conditionStatus(const nlohmann::json& object, std::string_view type) {
  const nlohmann::json* c = condition(object, type);
  return c == nullptr ? "" : jsonString(*c, {"status"});
}

std::string conditionDetail(const nlohmann::json& object, std::string_view type) {
  const nlohmann::json* c = condition(object, type);
  if (c == nullptr) return "";
  std::string reason = jsonString(*c, {"reason"});
  std::string message = jsonString(*c, {"message"});
  if (reason.empty() || message.empty()) return reason + message;
  return reason + ": " + message;
}

std::vector<Finding> nodeFindings(const nlohmann::json& node_list) {
  std::vector<Finding> out;
  for (const nlohmann::json& node : jsonArray(node_list, {"items"})) {
    std::string ready = conditionStatus(node, "Ready");
    if (ready == "True") continue;
    std::string name = jsonString(node, {"metadata", "name"}, "?");
    std::string detail = conditionDetail(node, "Ready");
    Finding f;
    f.id = "node-not-ready";
    f.severity = Severity::kWarning;
    f.subject = "node/" + name;
    f.message = "node " + name + " is not Ready (Ready=" + (ready.empty() ? "missing" : ready) + ")" +
                (detail.empty() ? "" : ": " + detail);
    f.fix = "kubectl describe node " + name + "; check the kubelet and container runtime on it "
            "(journalctl -u kubelet)";
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace garret::ops::kube
