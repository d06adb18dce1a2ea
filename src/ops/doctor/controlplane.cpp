#include "ops/doctor/controlplane.h"

#include <algorithm>
#include <array>
#include <string>

#include "ops/kube/json_access.h"

namespace garret::ops::doctor {

namespace {

constexpr std::array<const char*, 4> kComponents = {"kube-apiserver", "kube-controller-manager", "kube-scheduler",
                                                     "etcd"};

const char* componentOf(const std::string& pod) {
  for (const char* c : kComponents) {
    if (pod.starts_with(c)) return c;
  }
  return nullptr;
}

// "last termination: Error, exit code 1 at 2024-..: <first line of message>"
std::string lastTermination(const nlohmann::json& status) {
  const nlohmann::json* t = jsonAt(status, {"lastState", "terminated"});
  if (t == nullptr) return "no previous termination recorded";
  std::string out = "last termination: " + jsonString(*t, {"reason"}, "unknown reason") + ", exit code " +
                    std::to_string(jsonInt(*t, {"exitCode"}, -1));
  std::string at = jsonString(*t, {"finishedAt"});
  if (!at.empty()) out += " at " + at;
  // The last line of a crashed component's log is the fatal one ("leaderelection lost").
  std::string message = jsonString(*t, {"message"});
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  std::size_t nl = message.rfind('\n');
  if (nl != std::string::npos) message = message.substr(nl + 1);
  if (message.size() > 200) message = message.substr(0, 200) + "...";
  return message.empty() ? out : out + ": " + message;
}

std::string fixFor(const std::string& pod, const std::string& container, const char* component) {
  std::string fix = "kubectl -n kube-system logs " + pod + " -c " + container + " --previous";
  if (std::string(component) == "etcd") {
    return fix + "; etcd needs low-latency disks: check fsync latency (etcd_disk_wal_fsync_duration_seconds) "
                 "and free space on its data dir";
  }
  return fix + "; 'leaderelection lost' means the apiserver/etcd answered too slowly (disk or CPU pressure "
               "on the control-plane node)";
}

void containerFindings(const nlohmann::json& pod, const nlohmann::json& status, const RestartLimits& limits,
                       std::vector<Finding>& out, std::vector<Metric>& metrics) {
  std::string name = jsonString(pod, {"metadata", "name"});
  const char* component = componentOf(name);
  std::string container = jsonString(status, {"name"}, "?");
  std::int64_t restarts = jsonInt(status, {"restartCount"});
  metrics.push_back({"garret_doctor_controlplane_restarts", "Restart count of a control-plane container.",
                     {{"pod", name}, {"container", container}}, static_cast<double>(restarts)});
  std::string subject = "kube-system/" + name;
  std::string detail = std::to_string(restarts) + " restarts, " + lastTermination(status);
  if (jsonString(status, {"state", "waiting", "reason"}) == "CrashLoopBackOff") {
    out.push_back({"controlplane-crashloop", Severity::kError, subject, "", 0,
                   std::string(component) + " container " + container + " is in CrashLoopBackOff (" + detail + ")",
                   fixFor(name, container, component)});
  } else if (restarts >= limits.warn) {
    Severity sev = restarts >= limits.error ? Severity::kError : Severity::kWarning;
    out.push_back({"controlplane-restarts", sev, subject, "", 0,
                   std::string(component) + " container " + container + " has restarted often (" + detail + ")",
                   fixFor(name, container, component)});
  }
}

}  // namespace

std::vector<Finding> controlPlaneFindings(const nlohmann::json& pods, const RestartLimits& limits,
                                          std::vector<Metric>& metrics) {
  std::vector<Finding> out;
  for (const nlohmann::json& pod : jsonArray(pods, {"items"})) {
    if (componentOf(jsonString(pod, {"metadata", "name"})) == nullptr) continue;
    for (const nlohmann::json& status : jsonArray(pod, {"status", "containerStatuses"})) {
      containerFindings(pod, status, limits, out, metrics);
    }
  }
  return out;
}

std::vector<Finding> leaseFindings(const nlohmann::json& leases, std::int64_t now, std::vector<Metric>& metrics) {
  std::vector<Finding> out;
  for (const nlohmann::json& lease : jsonArray(leases, {"items"})) {
    std::string name = jsonString(lease, {"metadata", "name"});
    auto renewed = parseRfc3339(jsonString(lease, {"spec", "renewTime"}));
    if (!renewed) continue;
    std::int64_t age = now - *renewed;
    std::int64_t duration = jsonInt(lease, {"spec", "leaseDurationSeconds"}, 15);
    metrics.push_back({"garret_doctor_lease_age_seconds", "Seconds since a kube-system Lease was renewed.",
                       {{"lease", name}}, static_cast<double>(age)});
    if (age <= std::max<std::int64_t>(3 * duration, 60)) continue;
    bool leader = name == "kube-controller-manager" || name == "kube-scheduler";
    std::string holder = jsonString(lease, {"spec", "holderIdentity"}, "nobody");
    out.push_back({"lease-stale", leader ? Severity::kError : Severity::kWarning, "kube-system/lease/" + name, "", 0,
                   "lease " + name + " (held by " + holder + ") was last renewed " + std::to_string(age) +
                       " s ago (lease duration " + std::to_string(duration) + " s, " +
                       std::to_string(jsonInt(lease, {"spec", "leaseTransitions"})) + " transitions)" +
                       (leader ? "; there is no active leader" : ""),
                   leader ? "check the " + name + " pods in kube-system (kubectl -n kube-system get pods -o wide) and "
                            "their logs for 'leaderelection lost'"
                          : "its holder (" + holder + ") stopped renewing it: check that component; kubectl -n "
                            "kube-system get lease " + name + " -o yaml"});
  }
  return out;
}

}  // namespace garret::ops::doctor
