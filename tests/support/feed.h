#pragma once

// Feeding a Sink in tests: whole, or in seeded pieces of random size.

#include <algorithm>
#include <cstdint>
#include <random>
#include <string_view>

#include "core/stream.h"

namespace garret::testing {

// Writes `data` in pieces of random size in [1, max_piece], then finishes;
// returns the first error.
inline Status feedRandomly(Sink& sink, std::string_view data, std::uint32_t seed,
                           std::size_t max_piece) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::size_t> piece(1, max_piece);
  while (!data.empty()) {
    std::size_t n = std::min(piece(rng), data.size());
    GARRET_TRY(sink.write(asBytes(data.substr(0, n))));
    data.remove_prefix(n);
  }
  return sink.finish();
}

inline Status feedWhole(Sink& sink, std::string_view data) {
  GARRET_TRY(sink.write(asBytes(data)));
  return sink.finish();
}

}  // namespace garret::testing
