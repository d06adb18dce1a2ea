#pragma once

// The column lists and row readers both database backends share: a row type
// R only needs int64(i), text(i) and isNull(i) (and boolean(i) where the
// backend has real booleans), so SQLite's Statement and PostgreSQL's Row
// read records the same way.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "core/hash.h"
#include "db/json_text.h"
#include "db/metadata_db.h"

namespace garret::db {

// Joins SQL text from pieces (the column lists below are shared constants).
inline std::string sql(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view part : parts) out += part;
  return out;
}

}  // namespace garret::db

namespace garret::db::rows {

inline constexpr const char* kCacheColumns =
    "id, name, keypair, is_public, store_dir, priority, upstream_cache_key_names, "
    "retention_period, created_at";
inline constexpr const char* kObjectColumns =
    "id, cache_id, store_path_hash, store_path, nar_id, \"references\", deriver, system, ca, "
    "sigs, created_at, last_accessed_at, created_by, pinned";
inline constexpr int kObjectColumnCount = 14;
// The prefixed lists of the joins, in the same order.
inline constexpr const char* kObjectColumnsO =
    "o.id, o.cache_id, o.store_path_hash, o.store_path, o.nar_id, o.\"references\", o.deriver, "
    "o.system, o.ca, o.sigs, o.created_at, o.last_accessed_at, o.created_by, o.pinned";
inline constexpr const char* kNarColumnsN =
    "n.id, n.nar_hash, n.nar_size, n.compression, n.file_hash, n.file_size, n.created_at";
inline constexpr const char* kChunkColumns =
    "id, chunk_hash, size, compression, pack_id, pack_offset, length, created_at, last_used_at";
inline constexpr const char* kPackColumns = "id, blob_key, size, state, created_at, dead_at";

template <class R>
bool flag(const R& r, int column) {
  if constexpr (requires { r.boolean(column); }) {
    return r.boolean(column);
  } else {
    return r.int64(column) != 0;
  }
}

template <class R>
std::uint64_t u64(const R& r, int column) {
  return static_cast<std::uint64_t>(r.int64(column));
}

template <class R>
Result<Hash> hash(const R& r, int column) {
  auto parsed = Hash::parseBare(r.text(column));
  if (!parsed.ok()) {
    return makeError(ErrorCode::kInternal, "stored hash is corrupt: " + parsed.error().message);
  }
  return parsed;
}

template <class R>
Result<CacheRecord> cache(const R& r) {
  CacheRecord c;
  c.id = r.int64(0);
  c.name = r.text(1);
  c.keypair = r.text(2);
  c.is_public = flag(r, 3);
  c.store_dir = r.text(4);
  c.priority = static_cast<int>(r.int64(5));
  GARRET_ASSIGN_OR_RETURN(c.upstream_cache_key_names, parseJsonArray(r.text(6)));
  if (!r.isNull(7)) c.retention_period = r.int64(7);
  c.created_at = r.int64(8);
  return c;
}

template <class R>
Result<NarRecord> nar(const R& r, int first) {
  NarRecord n;
  n.id = r.int64(first);
  GARRET_ASSIGN_OR_RETURN(n.nar_hash, hash(r, first + 1));
  n.nar_size = u64(r, first + 2);
  n.compression = r.text(first + 3);
  GARRET_ASSIGN_OR_RETURN(n.file_hash, hash(r, first + 4));
  n.file_size = u64(r, first + 5);
  n.created_at = r.int64(first + 6);
  return n;
}

template <class R>
Result<ObjectRecord> object(const R& r, int first) {
  ObjectRecord o;
  o.id = r.int64(first);
  o.cache_id = r.int64(first + 1);
  o.store_path_hash = r.text(first + 2);
  o.store_path = r.text(first + 3);
  o.nar_id = r.int64(first + 4);
  GARRET_ASSIGN_OR_RETURN(o.references, parseJsonArray(r.text(first + 5)));
  o.deriver = r.text(first + 6);
  o.system = r.text(first + 7);
  o.ca = r.text(first + 8);
  GARRET_ASSIGN_OR_RETURN(o.sigs, parseJsonArray(r.text(first + 9)));
  o.created_at = r.int64(first + 10);
  o.last_accessed_at = r.int64(first + 11);
  o.created_by = r.text(first + 12);
  o.pinned = flag(r, first + 13);
  return o;
}

template <class R>
Result<ObjectWithNar> objectWithNar(const R& r) {
  ObjectWithNar row;
  GARRET_ASSIGN_OR_RETURN(row.object, object(r, 0));
  GARRET_ASSIGN_OR_RETURN(row.nar, nar(r, kObjectColumnCount));
  return row;
}

template <class R>
Result<StagedUpload> staged(const R& r) {
  StagedUpload st;
  st.cache_id = r.int64(0);
  st.file_name = r.text(1);
  st.nar_id = r.int64(2);
  GARRET_ASSIGN_OR_RETURN(st.client_file_hash, hash(r, 3));
  st.client_file_size = u64(r, 4);
  st.expires_at = r.int64(5);
  st.bound = flag(r, 6);
  return st;
}

template <class R>
Result<ChunkRecord> chunk(const R& r) {
  ChunkRecord c;
  c.id = r.int64(0);
  GARRET_ASSIGN_OR_RETURN(c.chunk_hash, hash(r, 1));
  c.size = u64(r, 2);
  c.compression = r.text(3);
  c.pack_id = r.int64(4);
  c.offset = u64(r, 5);
  c.length = u64(r, 6);
  c.created_at = r.int64(7);
  c.last_used_at = r.int64(8);
  return c;
}

template <class R>
Result<PackRecord> pack(const R& r, int first) {
  PackRecord p;
  p.id = r.int64(first);
  p.blob_key = r.text(first + 1);
  p.size = u64(r, first + 2);
  std::string state = r.text(first + 3);
  if (state == "live") {
    p.state = PackState::kLive;
  } else if (state == "dead") {
    p.state = PackState::kDead;
  } else if (state == "writing") {
    p.state = PackState::kWriting;
  } else {
    return makeError(ErrorCode::kInternal,
                     "pack " + std::to_string(p.id) + " has an unknown state: " + state);
  }
  p.created_at = r.int64(first + 4);
  p.dead_at = r.isNull(first + 5) ? 0 : r.int64(first + 5);
  return p;
}

}  // namespace garret::db::rows
