#pragma once

// A fresh directory for database files, removed with its contents when the
// object dies.

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace garret::db {

class TempDbDir {
 public:
  TempDbDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "garret-db-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~TempDbDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDbDir(const TempDbDir&) = delete;
  TempDbDir& operator=(const TempDbDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace garret::db
