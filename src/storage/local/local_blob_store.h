#pragma once

// LocalBlobStore: blobs as files under a root directory. A key maps to the
// path <root>/<key>, so callers shard by choosing keys such as
// "nar/ab/abcdef….nar.zst". Writes go to <root>/tmp/<random>, are fsynced,
// renamed into place and the directory is fsynced: a blob is visible whole
// or not at all and survives a crash once commit() returned. The top-level
// name "tmp" is reserved (keys under "tmp/" are kInvalidArgument), and a key
// cannot be both a blob and a parent of other keys ("a" and "a/b").
//
// The factory open(path) and the reader open(key) share a name: pass the
// factory a std::filesystem::path, and call open(key) with a
// std::string_view or through BlobStore& (a string literal is ambiguous).
//
// Thread-safe. Errors: a missing blob is kNotFound; every other failed
// system call is kIo naming the path and strerror.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/blob_store.h"

namespace garret::storage {

class LocalBlobStore final : public BlobStore {
 public:
  // Temp files older than this are leftovers of crashed writers.
  static constexpr std::int64_t kDefaultStaleTempAge = 24 * 60 * 60;

  // Opens the store rooted at `root`, creating the directory (and its
  // parents) if missing, and removes temp files older than
  // `stale_temp_age_seconds`.
  static Result<std::unique_ptr<LocalBlobStore>> open(std::filesystem::path root);
  static Result<std::unique_ptr<LocalBlobStore>> open(std::filesystem::path root,
                                                      std::int64_t stale_temp_age_seconds);

  Result<std::unique_ptr<BlobWriter>> create(std::string_view key) override;
  // The reader holds an open file descriptor (nativeHandle()), so it keeps
  // reading the same bytes even if the key is overwritten or removed.
  Result<std::unique_ptr<BlobReader>> open(std::string_view key) override;
  Result<bool> exists(std::string_view key) override;
  Status remove(std::string_view key) override;
  // Sorted keys starting with `prefix` (a plain string prefix); temp files
  // are never listed.
  Result<std::vector<std::string>> list(std::string_view prefix) override;
  // Checks that a file can be created in the root.
  Status ping() override;
  bool openIsCheap() const override { return true; }

  // Deletes temp files whose mtime is more than `max_age_seconds` ago;
  // returns how many were deleted.
  Result<std::size_t> removeStaleTempFiles(std::int64_t max_age_seconds);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path tempDir() const { return root_ / kTempDirName; }

 private:
  static constexpr const char* kTempDirName = "tmp";

  explicit LocalBlobStore(std::filesystem::path root) : root_(std::move(root)) {}
  // kInvalidArgument unless `key` is a valid, non-reserved key.
  Status checkKey(std::string_view key) const;
  std::filesystem::path pathOf(std::string_view key) const { return root_ / key; }

  const std::filesystem::path root_;
};

}  // namespace garret::storage
