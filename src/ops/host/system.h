#pragma once

// HostSystem: everything doctor asks the local machine, behind one interface
// so tests run against fixtures (the LevelDB Env idea). The real one reads
// /proc under a root prefix, calls statvfs(3), getaddrinfo(3), and runs
// helper tools (vgs) without a shell.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace garret::ops::host {

struct FsStats {
  std::uint64_t total_bytes = 0;
  std::uint64_t avail_bytes = 0;  // available to unprivileged users
  std::uint64_t free_bytes = 0;   // including the root reserve
  std::uint64_t total_inodes = 0;
  std::uint64_t free_inodes = 0;
};

class HostSystem {
 public:
  virtual ~HostSystem() = default;
  // Contents of a kernel file such as "/proc/stat"; kNotFound when absent.
  virtual Result<std::string> readFile(const std::string& path) = 0;
  // statvfs(3) of a mounted path; kNotFound when it does not exist.
  virtual Result<FsStats> fsStats(const std::string& path) = 0;
  // Runs argv (no shell) and returns its stdout; kNotFound when the program
  // is not installed, kIo when it fails.
  virtual Result<std::string> run(const std::vector<std::string>& argv) = 0;
  // IPv4/IPv6 addresses of a host name; kNotFound when it does not resolve.
  virtual Result<std::vector<std::string>> resolve(const std::string& host) = 0;
  virtual unsigned cpuCount() = 0;
  virtual void sleep(std::chrono::milliseconds d) = 0;
};

// `root` prefixes the /proc and /sys paths given to readFile ("" = "/").
std::unique_ptr<HostSystem> makeRealHostSystem(std::string root = "");

// In-memory HostSystem for tests: files, statvfs results, command outputs
// and DNS answers are set up front; anything else is kNotFound.
class FakeHostSystem final : public HostSystem {
 public:
  std::map<std::string, std::string> files;
  // readFile returns these in turn for a path read more than once (e.g. /proc/stat).
  std::map<std::string, std::vector<std::string>> file_sequences;
  std::map<std::string, FsStats> fs;
  std::map<std::string, std::string> commands;  // argv joined by spaces -> stdout
  std::map<std::string, std::vector<std::string>> hosts;
  unsigned cpus = 4;
  std::chrono::milliseconds slept{0};

  Result<std::string> readFile(const std::string& path) override {
    auto seq = file_sequences.find(path);
    if (seq != file_sequences.end() && !seq->second.empty()) {
      std::string next = seq->second.front();
      if (seq->second.size() > 1) seq->second.erase(seq->second.begin());
      return next;
    }
    auto it = files.find(path);
    if (it == files.end()) return notFound(path + ": no such file");
    return it->second;
  }
  Result<FsStats> fsStats(const std::string& path) override {
    auto it = fs.find(path);
    if (it == fs.end()) return notFound(path + ": no such file or directory");
    return it->second;
  }
  Result<std::string> run(const std::vector<std::string>& argv) override {
    std::string key;
    for (const std::string& a : argv) key += (key.empty() ? "" : " ") + a;
    auto it = commands.find(key);
    if (it == commands.end()) return notFound(argv.empty() ? "" : argv[0] + ": command not found");
    return it->second;
  }
  Result<std::vector<std::string>> resolve(const std::string& host) override {
    auto it = hosts.find(host);
    if (it == hosts.end()) return notFound(host + ": Name or service not known");
    return it->second;
  }
  unsigned cpuCount() override { return cpus; }
  void sleep(std::chrono::milliseconds d) override { slept += d; }
};

}  // namespace garret::ops::host
