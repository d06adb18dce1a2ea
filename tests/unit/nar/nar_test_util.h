#pragma once

// Helpers for NAR tests: a tiny NAR writer, piecewise feeding, temp dirs and
// running the Nix CLI.

#include "support/feed.h"
#include "support/temp_dir.h"
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/stream.h"

namespace garret::nar::testing {

// str(s): u64 little-endian length, bytes, zero padding to a multiple of 8.
inline std::string narString(std::string_view s) {
  std::string out;
  std::uint64_t n = s.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out.append(s);
  out.append((8 - s.size() % 8) % 8, '\0');
  return out;
}

// Concatenates str(t) for every token.
inline std::string narStrings(const std::vector<std::string>& tokens) {
  std::string out;
  for (const std::string& t : tokens) out += narString(t);
  return out;
}

inline std::string regularNode(std::string_view contents, bool executable = false) {
  std::string out = narStrings({"(", "type", "regular"});
  if (executable) out += narStrings({"executable", ""});
  return out + narString("contents") + narString(contents) + narString(")");
}

inline std::string symlinkNode(std::string_view target) {
  return narStrings({"(", "type", "symlink", "target", std::string(target), ")"});
}

// Entries are written in the given order (tests pass unsorted ones on purpose).
inline std::string directoryNode(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out = narStrings({"(", "type", "directory"});
  for (const auto& [name, node] : entries) {
    out += narStrings({"entry", "(", "name", name, "node"}) + node + narString(")");
  }
  return out + narString(")");
}

inline std::string nar(std::string_view root_node) {
  return narString("nix-archive-1") + std::string(root_node);
}

using garret::testing::feedRandomly;
using garret::testing::feedWhole;

// Records everything written and whether finish() was called.
class CollectingSink final : public Sink {
 public:
  Status write(ByteSpan data) override {
    data_.append(reinterpret_cast<const char*>(data.data()), data.size());
    ++writes_;
    return {};
  }
  Status finish() override {
    ++finishes_;
    return {};
  }
  const std::string& data() const { return data_; }
  int writes() const { return writes_; }
  int finishes() const { return finishes_; }

 private:
  std::string data_;
  int writes_ = 0;
  int finishes_ = 0;
};

using garret::testing::TempDir;

// Runs a shell command and returns its stdout; `ok` is false on a non-zero
// exit status.
inline std::string runCommand(const std::string& command, bool& ok) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ok = false;
    return out;
  }
  char buf[65536];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  ok = pclose(pipe) == 0;
  return out;
}

}  // namespace garret::nar::testing
