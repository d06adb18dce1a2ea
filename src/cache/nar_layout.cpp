#include "cache/nar_layout.h"

namespace garret::cache {

std::vector<Segment> coalesceChunks(const std::vector<db::ChunkLocation>& chunks) {
  std::vector<Segment> out;
  for (const db::ChunkLocation& c : chunks) {
    if (c.length == 0) continue;
    if (!out.empty() && out.back().blob_key == c.blob_key &&
        out.back().offset + out.back().length == c.offset) {
      out.back().length += c.length;
      continue;
    }
    out.push_back(Segment{c.blob_key, c.offset, c.length});
  }
  return out;
}

std::uint64_t totalLength(const std::vector<Segment>& segments) {
  std::uint64_t total = 0;
  for (const Segment& s : segments) total += s.length;
  return total;
}

}  // namespace garret::cache
