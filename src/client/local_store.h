#pragma once

// Read access to a local Nix store: path metadata, closures, new paths.
//
// NixDbLocalStore reads Nix's own SQLite database (<root>/nix/var/nix/db/db.sqlite,
// opened read-only, never locking out a running Nix) — fast, no process per
// path. NixCliLocalStore runs `nix-store`/`nix path-info` instead, for stores
// whose database is unreadable (permissions, schema). openLocalStore() picks
// the first that works.
//
// A store "root" is "/" for the system store or the directory given to Nix as
// `--store DIR` (a chroot store: logical paths stay /nix/store/..., files live
// under DIR/nix/store/...).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace garret::client {

struct PathInfo {
  std::string path;                     // full logical store path, /nix/store/<hash>-<name>
  std::string nar_hash;                 // "sha256:<hex or nix-base32>" as the store records it
  std::uint64_t nar_size = 0;           // 0 when the store does not know it
  std::vector<std::string> references;  // full store paths, sorted
  std::string deriver;                  // full store path or empty
  std::vector<std::string> sigs;        // "keyname:base64sig"
  std::string ca;                       // content address or empty
  std::int64_t registration_time = 0;   // seconds since the epoch
  std::int64_t id = 0;                  // database row id (NixDbLocalStore), increasing
};

class LocalStore {
 public:
  virtual ~LocalStore() = default;
  // nullopt when the path is not valid in the store.
  virtual Result<std::optional<PathInfo>> queryPathInfo(const std::string& path) = 0;
  // The closure of `paths` (themselves included), each once, dependencies
  // before the paths that refer to them (a topological order). Paths that are
  // not valid are an error naming them.
  virtual Result<std::vector<PathInfo>> closure(const std::vector<std::string>& paths) = 0;
  // Valid paths registered with an id greater than `after_id`, in id order
  // (watch-store). Stores without ids return kInvalidArgument.
  virtual Result<std::vector<PathInfo>> pathsAddedAfter(std::int64_t after_id) = 0;
  // Largest id currently registered (0 for an empty store).
  virtual Result<std::int64_t> lastPathId() = 0;

  // Where the files of a logical store path live on disk.
  virtual std::filesystem::path physicalPath(const std::string& path) const = 0;
  const std::string& storeDir() const { return store_dir_; }  // "/nix/store"

 protected:
  std::string store_dir_ = "/nix/store";
};

// Resolves a user-given path (a store path, a path inside one, or a symlink
// such as ./result pointing into the store) to the store path itself.
Result<std::string> toStorePath(const LocalStore& store, const std::string& arg);

std::unique_ptr<LocalStore> makeNixDbLocalStore(const std::filesystem::path& root);
std::unique_ptr<LocalStore> makeNixCliLocalStore(const std::filesystem::path& root);
// The database store when its database opens and has the expected tables,
// else the CLI store. Never fails: errors surface on first use.
std::unique_ptr<LocalStore> openLocalStore(const std::filesystem::path& root);

}  // namespace garret::client
