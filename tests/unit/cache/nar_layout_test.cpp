#include "cache/nar_layout.h"

#include <gtest/gtest.h>

namespace garret::cache {
namespace {

db::ChunkLocation at(std::string key, std::uint64_t offset, std::uint64_t length) {
  db::ChunkLocation c;
  c.blob_key = std::move(key);
  c.offset = offset;
  c.length = length;
  return c;
}

TEST(NarLayout, CoalescesAdjacentFramesOfOnePack) {
  auto segments = coalesceChunks({at("p1", 0, 10), at("p1", 10, 5), at("p1", 15, 1),
                                  at("p2", 0, 7), at("p1", 100, 3), at("p1", 103, 2)});
  std::vector<Segment> want = {{"p1", 0, 16}, {"p2", 0, 7}, {"p1", 100, 5}};
  EXPECT_EQ(segments, want);
  EXPECT_EQ(totalLength(segments), 28u);
}

TEST(NarLayout, RepeatedOrBackwardFramesStaySeparate) {
  // A chunk repeated within a NAR, or an earlier frame of the same pack.
  auto segments = coalesceChunks({at("p", 0, 4), at("p", 0, 4), at("p", 8, 4), at("p", 4, 4)});
  std::vector<Segment> want = {{"p", 0, 4}, {"p", 0, 4}, {"p", 8, 4}, {"p", 4, 4}};
  EXPECT_EQ(segments, want);
}

TEST(NarLayout, EmptyFramesAreDropped) {
  EXPECT_TRUE(coalesceChunks({at("p", 0, 0)}).empty());
  EXPECT_EQ(totalLength({}), 0u);
}

}  // namespace
}  // namespace garret::cache
