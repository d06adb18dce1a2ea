#pragma once

// Helpers shared by the fuzz targets: invariant checks that stay on in
// release builds (assert() does not), and a deterministic split of an input
// into pieces for streaming parsers.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/stream.h"

namespace garret::fuzz {

// Printable copy of untrusted bytes for a failure message.
inline std::string escaped(std::string_view s, std::size_t max = 400) {
  std::string out;
  for (unsigned char c : s.substr(0, max)) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

[[noreturn]] inline void fail(const char* condition, const char* file, int line,
                              const std::string& detail) {
  std::fprintf(stderr, "\n%s:%d: fuzz invariant violated: %s\n", file, line, condition);
  if (!detail.empty()) std::fprintf(stderr, "%s\n", detail.c_str());
  std::fflush(stderr);
  std::abort();
}

inline std::string_view asText(const std::uint8_t* data, std::size_t size) {
  return size == 0 ? std::string_view() : std::string_view(reinterpret_cast<const char*>(data), size);
}

inline std::uint64_t fnv64(std::string_view data, std::uint64_t salt = 0) {
  std::uint64_t h = 1469598103934665603ull ^ salt;
  for (unsigned char c : data) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Piece boundaries for feeding `size` bytes to a Sink: mostly short pieces
// (to cross every token boundary), some long ones, an occasional empty one.
// Derived from the input's own hash, so a run is reproducible from the
// input alone.
inline std::vector<std::size_t> pieceSizes(std::string_view input, std::uint64_t salt) {
  std::uint64_t state = fnv64(input, salt);
  auto next = [&state] {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  std::vector<std::size_t> sizes;
  std::size_t left = input.size();
  while (left > 0) {
    std::uint64_t r = next();
    std::size_t n;
    switch (r % 8) {
      case 0:
        n = 0;
        break;
      case 1:
      case 2:
        n = 1;
        break;
      case 3:
        n = 1 + (r >> 8) % 1024;
        break;
      default:
        n = 1 + (r >> 8) % 16;
        break;
    }
    n = std::min(n, left);
    sizes.push_back(n);
    left -= n;
  }
  return sizes;
}

}  // namespace garret::fuzz

#define FUZZ_CHECK_MSG(condition, detail)                                       \
  do {                                                                          \
    if (!(condition)) ::garret::fuzz::fail(#condition, __FILE__, __LINE__, (detail)); \
  } while (0)

#define FUZZ_CHECK(condition) FUZZ_CHECK_MSG(condition, std::string())

namespace garret::fuzz {

// Records what a pipeline emits, checking it is finished at most once and
// never written after that, and never grows past `limit` bytes.
class CollectingSink final : public garret::Sink {
 public:
  explicit CollectingSink(std::uint64_t limit = UINT64_MAX) : limit_(limit) {}
  Status write(ByteSpan data) override {
    FUZZ_CHECK(!finished);
    bytes.append(reinterpret_cast<const char*>(data.data()), data.size());
    FUZZ_CHECK(bytes.size() <= limit_);
    return {};
  }
  Status finish() override {
    FUZZ_CHECK(!finished);
    finished = true;
    return {};
  }
  std::string bytes;
  bool finished = false;

 private:
  std::uint64_t limit_;
};

}  // namespace garret::fuzz
