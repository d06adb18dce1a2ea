#pragma once

// How a stored NAR is served: its chunks' frames, in order, as byte ranges
// of pack blobs. Adjacent frames of one pack (a freshly uploaded NAR is one
// contiguous run) are coalesced, so most NARs are one or a few ranges and
// the read path sends them straight from the page cache.

#include <cstdint>
#include <string>
#include <vector>

#include "db/metadata_db.h"

namespace garret::cache {

struct Segment {
  std::string blob_key;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  bool operator==(const Segment&) const = default;
};

// Coalesces the chunk locations (in NAR order) into segments.
std::vector<Segment> coalesceChunks(const std::vector<db::ChunkLocation>& chunks);

std::uint64_t totalLength(const std::vector<Segment>& segments);

}  // namespace garret::cache
