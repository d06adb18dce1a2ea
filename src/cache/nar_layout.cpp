#include "cache/nar_layout.h"

#include <algorithm>

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

std::vector<Segment> sliceSegments(const std::vector<Segment>& segments, std::uint64_t start,
                                   std::uint64_t length) {
  std::vector<Segment> out;
  std::uint64_t pos = 0;  // offset of the current segment in the stream
  for (const Segment& s : segments) {
    if (length == 0) break;
    std::uint64_t end = pos + s.length;
    if (start < end) {
      std::uint64_t skip = start > pos ? start - pos : 0;
      std::uint64_t take = std::min(s.length - skip, length);
      out.push_back(Segment{s.blob_key, s.offset + skip, take});
      start += take;
      length -= take;
    }
    pos = end;
  }
  return out;
}

}  // namespace garret::cache
