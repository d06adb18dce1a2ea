#pragma once

// canonicalYaml: a one-line form of a YAML tree with map keys sorted and tags
// ignored, so two trees compare equal when GitLab would read them the same.

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>

namespace garret::testing {

inline std::string canonicalYaml(const YAML::Node& n) {
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  if (n.IsSequence()) {
    std::string out = "[";
    for (const auto& e : n) out += canonicalYaml(e) + ",";
    return out + "]";
  }
  if (n.IsMap()) {
    std::multimap<std::string, std::string> sorted;
    for (const auto& kv : n) sorted.emplace(canonicalYaml(kv.first), canonicalYaml(kv.second));
    std::string out = "{";
    for (const auto& [k, v] : sorted) out += k + ":" + v + ",";
    return out + "}";
  }
  return "~";
}

}  // namespace garret::testing
