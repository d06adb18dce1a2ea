#pragma once

// Helpers for codec tests: sinks that record output, piecewise feeding,
// temp dirs and running the compression CLIs.

#include "support/feed.h"
#include "support/temp_dir.h"
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>

#include "core/stream.h"

namespace garret::codec::testing {

// Records everything written, the largest piece and finish() calls.
class CollectingSink final : public Sink {
 public:
  Status write(ByteSpan data) override {
    data_.append(reinterpret_cast<const char*>(data.data()), data.size());
    max_piece_ = std::max(max_piece_, data.size());
    return {};
  }
  Status finish() override {
    ++finishes_;
    return {};
  }
  const std::string& data() const { return data_; }
  std::size_t maxPiece() const { return max_piece_; }
  int finishes() const { return finishes_; }

 private:
  std::string data_;
  std::size_t max_piece_ = 0;
  int finishes_ = 0;
};

using garret::testing::feedRandomly;
using garret::testing::feedWhole;

// Half random bytes, half repetitive text: compresses somewhat, and expands
// to several output chunks.
inline std::string sampleData(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    if (rng() % 2) {
      for (int i = 0; i < 512 && out.size() < n; ++i) out.push_back(static_cast<char>(rng()));
    } else {
      std::string line = "line " + std::to_string(rng() % 100) + " of some text\n";
      for (int i = 0; i < 40 && out.size() < n; ++i) out += line;
    }
  }
  out.resize(n);
  return out;
}

using garret::testing::TempDir;

inline std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void writeFile(const std::filesystem::path& path, std::string_view data) {
  std::ofstream(path, std::ios::binary)
      .write(data.data(), static_cast<std::streamsize>(data.size()));
}

// Runs `tool` (e.g. "xz -c") on `input` through files in a temp dir; `ok`
// is false if the tool is missing or fails.
inline std::string runFilter(const std::string& tool, std::string_view input, bool& ok) {
  TempDir dir;
  std::filesystem::path in = dir.path() / "in";
  std::filesystem::path out = dir.path() / "out";
  writeFile(in, input);
  std::string command = tool + " < '" + in.string() + "' > '" + out.string() + "' 2>/dev/null";
  ok = std::system(command.c_str()) == 0;
  return readFile(out);
}

inline bool haveTool(const std::string& name) {
  std::string command = "command -v " + name + " >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

}  // namespace garret::codec::testing
