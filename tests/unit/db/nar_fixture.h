#pragma once

#include <atomic>
#include <string>

#include "db/metadata_db.h"

namespace garret::db {

// Records `nar` as one chunk in a pack of its own, the way an upload of a
// small NAR does: the NAR (or the existing one with its hash).
inline Result<NarRecord> commitWholeNar(MetadataDb& db, const NarRecord& nar) {
  static std::atomic<int> packs{0};
  PackRecord pack;
  pack.blob_key = "pack/test/" + std::to_string(++packs) + ".pack";
  pack.created_at = nar.created_at;
  GARRET_ASSIGN_OR_RETURN(pack, db.createPack(pack));
  pack.size = nar.file_size;
  NarCommit commit;
  commit.nar = nar;
  ChunkRecord chunk;
  chunk.chunk_hash = nar.nar_hash;
  chunk.size = nar.nar_size;
  chunk.pack_id = pack.id;
  chunk.length = nar.file_size;
  commit.chunks.push_back(chunk);
  commit.packs.push_back(pack);
  GARRET_ASSIGN_OR_RETURN(CommittedNar committed, db.commitNar(commit));
  return committed.nar;
}

}  // namespace garret::db
