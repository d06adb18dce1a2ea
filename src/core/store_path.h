#pragma once

// Store paths: "<storeDir>/<hash>-<name>", hash = 32 nix-base32 chars,
// name = 1..211 chars of [A-Za-z0-9+-._?=], not starting with '.'.

#include <string>
#include <string_view>

#include "core/result.h"

namespace garret {

inline constexpr std::string_view kDefaultStoreDir = "/nix/store";
inline constexpr std::size_t kStorePathHashLength = 32;

bool isValidStorePathHash(std::string_view hash);
bool isValidStorePathName(std::string_view name);
// A store dir is an absolute path without trailing slash, "." or ".." parts.
bool isValidStoreDir(std::string_view dir);

struct StorePath {
  std::string hash;
  std::string name;

  // "<hash>-<name>"
  static Result<StorePath> parseBaseName(std::string_view base_name);
  // "<store_dir>/<hash>-<name>"; the directory must equal store_dir.
  static Result<StorePath> parseFull(std::string_view full, std::string_view store_dir);

  std::string baseName() const { return hash + "-" + name; }
  std::string full(std::string_view store_dir) const {
    return std::string(store_dir) + "/" + baseName();
  }
  bool operator==(const StorePath&) const = default;
};

}  // namespace garret
