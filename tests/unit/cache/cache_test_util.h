#pragma once

// Helpers shared by the cache layer's tests.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>

#include "cache/cache_service.h"
#include "core/hash.h"
#include "db/sqlite/sqlite_metadata_db.h"

namespace garret::cache::testing {

// A migrated private in-memory database (fails the test if it cannot open).
inline std::unique_ptr<db::SqliteMetadataDb> memoryDb() {
  auto opened = db::SqliteMetadataDb::open(":memory:");
  EXPECT_TRUE(opened.ok()) << opened.error().message;
  if (!opened.ok()) return nullptr;
  EXPECT_TRUE((*opened)->migrate().ok());
  return std::move(*opened);
}

// A narinfo for /nix/store/<hash>-hello whose NAR is `nar_bytes`.
inline std::string narInfoText(std::string_view hash, std::string_view nar_bytes,
                               std::string_view url, std::string extra = "") {
  return "StorePath: /nix/store/" + std::string(hash) + "-hello\nURL: " + std::string(url) +
         "\nCompression: none\nNarHash: " + Hash::of(nar_bytes).toNix() +
         "\nNarSize: " + std::to_string(nar_bytes.size()) + "\nReferences: \n" + extra;
}

// Every byte of an opened NAR, in order, as a client receives them.
inline std::string readAll(const OpenNar& opened) {
  std::string out;
  for (const auto& piece : opened.pieces) {
    std::string part(piece.length, '\0');
    auto n = piece.blob->read(piece.offset, reinterpret_cast<std::uint8_t*>(part.data()),
                              piece.length);
    EXPECT_TRUE(n.ok() && *n == piece.length);
    out += part;
  }
  EXPECT_EQ(out.size(), opened.size);
  return out;
}

}  // namespace garret::cache::testing
