#pragma once

// Shared by the two LocalStore implementations; not part of the layer's API.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "client/local_store.h"

namespace garret::client::detail {

using PathInfoLookup = std::function<Result<std::optional<PathInfo>>(const std::string&)>;

// Depth-first post-order over references: dependencies come out before the
// paths that refer to them. Iterative (closures can be deep); a path's
// reference to itself, or any cycle, is skipped rather than followed. Paths
// `lookup` does not know are an error naming them.
Result<std::vector<PathInfo>> closureInTopologicalOrder(const std::vector<std::string>& roots,
                                                        const PathInfoLookup& lookup);

}  // namespace garret::client::detail
