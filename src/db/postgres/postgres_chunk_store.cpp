// PostgresMetadataDb: chunks, packs, NAR commits, garbage collection and
// integrity repair (the chunked storage layout, migration 2).
//
// SQLite runs one writer at a time; PostgreSQL runs these transactions
// concurrently at READ COMMITTED. Where a method reads and then writes on
// what it read, a lock restores the single-writer outcome:
//  - commitNar: an advisory lock on the NAR hash (two uploads of one NAR
//    record it once) and FOR KEY SHARE on the NAR it finds (a GC step
//    deleting it finishes first, and the NAR is then recorded anew);
//  - collectGarbage: each deleting step locks its table EXCLUSIVE, which
//    readers pass but writers and foreign key checks of new references
//    wait for, so a row is never deleted while a reference to it appears.

#include <charconv>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>

#include "db/postgres/postgres_connection.h"
#include "db/postgres/postgres_metadata_db.h"
#include "db/postgres/postgres_pool.h"
#include "db/postgres/postgres_query.h"

namespace garret::db {

using postgres::Connection;
using postgres::i64;
using postgres::Params;
using postgres::readAll;
using postgres::readFirst;
using postgres::readHash;
using postgres::readOne;
using postgres::Row;
using postgres::Rows;
using postgres::Transaction;

namespace {

// A reused chunk's last_used_at is refreshed only when older than this, so
// that a stream of uploads sharing chunks does not write on every lookup.
constexpr std::int64_t kClaimRefresh = 300;


using rows::kChunkColumns;
using rows::kPackColumns;
constexpr auto readChunk = &rows::chunk<Row>;
Result<PackRecord> readPackAt(const Row& r, int first) { return rows::pack(r, first); }
Result<PackRecord> readPack(const Row& r) { return rows::pack(r, 0); }

// A chunk with its pack's blob key.
Result<ChunkRecord> readClaimed(const Row& r) {
  GARRET_ASSIGN_OR_RETURN(ChunkRecord c, readChunk(r));
  c.pack_key = r.text(9);
  return c;
}

Result<ChunkLocation> readLocation(const Row& r) {
  ChunkLocation l;
  l.chunk_id = r.int64(0);
  l.pack_id = r.int64(1);
  l.blob_key = r.text(2);
  l.offset = static_cast<std::uint64_t>(r.int64(3));
  l.length = static_cast<std::uint64_t>(r.int64(4));
  return l;
}

// The advisory lock key of a NAR: the first 64 bits of its hash (one-key
// space; migrations use the two-key space).
std::int64_t narLockKey(const std::string& hex) {
  std::uint64_t key = 0;
  std::from_chars(hex.data(), hex.data() + std::min<std::size_t>(16, hex.size()), key, 16);
  return static_cast<std::int64_t>(key);
}

// Ids of a commit's chunks in NAR order, inserting the new ones: each
// distinct hash once (its first occurrence), in hash order so that
// concurrent commits sharing chunks lock their rows in the same order. A
// chunk another upload stored meanwhile wins and keeps its place; ours stays
// unreferenced in our pack until a rewrite.
Result<std::vector<std::int64_t>> chunkIds(Connection& conn, const std::vector<ChunkRecord>& chunks,
                                           std::int64_t now) {
  std::map<std::string, const ChunkRecord*> fresh;
  for (const ChunkRecord& c : chunks) {
    if (c.id == 0) fresh.emplace(c.chunk_hash.toHex(), &c);
  }
  std::unordered_map<std::string, std::int64_t> new_ids;
  if (!fresh.empty()) {
    std::vector<std::string> hashes, compressions;
    std::vector<std::int64_t> sizes, pack_ids, offsets, lengths;
    for (const auto& [hash, c] : fresh) {
      hashes.push_back(hash);
      sizes.push_back(i64(c->size));
      compressions.push_back(c->compression);
      pack_ids.push_back(c->pack_id);
      offsets.push_back(i64(c->offset));
      lengths.push_back(i64(c->length));
    }
    Params params;
    params.addArray(hashes).addArray(sizes).addArray(compressions).addArray(pack_ids);
    params.addArray(offsets).addArray(lengths).add(now);
    GARRET_ASSIGN_OR_RETURN(
        Rows rows,
        conn.exec("INSERT INTO chunk (chunk_hash, size, compression, pack_id, pack_offset, "
                  "length, created_at, last_used_at) "
                  "SELECT t.h, t.s, t.c, t.p, t.o, t.l, $7::bigint, $7::bigint FROM unnest("
                  "$1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], "
                  "$6::bigint[]) AS t(h, s, c, p, o, l) "
                  "ON CONFLICT (chunk_hash) DO UPDATE SET last_used_at = excluded.last_used_at "
                  "RETURNING id, chunk_hash",
                  params));
    for (int i = 0; i < rows.size(); ++i) new_ids[rows.row(i).text(1)] = rows.row(i).int64(0);
    if (new_ids.size() != fresh.size()) {
      return makeError(ErrorCode::kInternal, "chunk insert returned " +
                                                 std::to_string(new_ids.size()) + " ids for " +
                                                 std::to_string(fresh.size()) + " chunks");
    }
  }
  std::vector<std::int64_t> ids;
  ids.reserve(chunks.size());
  for (const ChunkRecord& c : chunks) {
    ids.push_back(c.id != 0 ? c.id : new_ids.at(c.chunk_hash.toHex()));
  }
  return ids;
}

Error chunkGone(const Error& error) {
  if (error.code != ErrorCode::kConflict) return error;
  return makeError(ErrorCode::kUnavailable,
                   "a chunk this upload reuses was garbage-collected during the upload; "
                   "upload again");
}

// Records the NAR's chunk list and makes the upload's packs live.
Status recordChunks(Connection& conn, std::int64_t nar_id, const std::vector<std::int64_t>& ids,
                    const std::vector<PackRecord>& packs) {
  auto refs = conn.exec(
      "INSERT INTO chunkref (nar_id, seq, chunk_id) "
      "SELECT $1::bigint, t.ord - 1, t.id FROM unnest($2::bigint[]) WITH ORDINALITY AS t(id, ord)",
      Params().add(nar_id).addArray(ids));
  if (!refs.ok()) return chunkGone(refs.error());
  std::vector<std::int64_t> pack_ids, sizes;
  for (const PackRecord& p : packs) {
    pack_ids.push_back(p.id);
    sizes.push_back(i64(p.size));
  }
  GARRET_TRY(
      conn.exec("UPDATE pack SET state = 'live', size = t.size "
                "FROM unnest($1::bigint[], $2::bigint[]) AS t(id, size) "
                "WHERE pack.id = t.id",
                Params().addArray(pack_ids).addArray(sizes)));
  return okStatus();
}

// The NAR row with this hash, whatever its state; locked against deletion.
struct FoundNar {
  NarRecord nar;
  bool valid = false;
};
Result<std::optional<FoundNar>> lockNar(Connection& conn, const std::string& nar_hash) {
  static const std::string kFind = sql({"SELECT ", postgres::kNarColumnsN,
                                        ", n.state FROM nar n WHERE n.nar_hash = $1 "
                                        "FOR KEY SHARE"});
  GARRET_ASSIGN_OR_RETURN(Rows rows, conn.exec(kFind, Params().add(nar_hash)));
  return readOne(rows, [](const Row& r) -> Result<FoundNar> {
    GARRET_ASSIGN_OR_RETURN(NarRecord nar, postgres::readNar(r, 0));
    return FoundNar{std::move(nar), r.text(7) == "valid"};
  });
}

// A new NAR row, or the invalid one revived (keeping its id and
// created_at, its old chunk list dropped); returns the id.
Result<std::int64_t> writeNar(Connection& conn, const NarRecord& nar,
                              std::optional<std::int64_t> invalid_id, std::int64_t now) {
  Params fields;
  fields.add(i64(nar.nar_size)).add(nar.compression).add(nar.file_hash.toHex());
  fields.add(i64(nar.file_size));
  if (invalid_id) {
    GARRET_TRY(
        conn.exec("UPDATE nar SET nar_size = $1, compression = $2, file_hash = $3, "
                  "file_size = $4, state = 'valid' WHERE id = $5",
                  fields.add(*invalid_id)));
    GARRET_TRY(conn.exec("DELETE FROM chunkref WHERE nar_id = $1", Params().add(*invalid_id)));
    return *invalid_id;
  }
  GARRET_ASSIGN_OR_RETURN(
      Rows rows,
      conn.exec("INSERT INTO nar (nar_size, compression, file_hash, file_size, nar_hash, "
                "created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                fields.add(nar.nar_hash.toHex()).add(now)));
  if (rows.size() == 0) return makeError(ErrorCode::kInternal, "NAR insert returned no id");
  return rows.row(0).int64(0);
}

}  // namespace

Result<CommittedNar> PostgresMetadataDb::commitNar(const NarCommit& commit) {
  const std::int64_t now =
      commit.nar.created_at != 0 ? commit.nar.created_at : postgres::currentTime();
  const std::string nar_hash = commit.nar.nar_hash.toHex();
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  Transaction txn(*conn);
  GARRET_TRY(txn.begin());
  GARRET_TRY(
      conn->exec("SELECT pg_advisory_xact_lock($1::bigint)", Params().add(narLockKey(nar_hash))));
  CommittedNar out;
  GARRET_ASSIGN_OR_RETURN(auto found, lockNar(*conn, nar_hash));
  out.existed = found && found->valid;
  if (out.existed) {
    out.nar = found->nar;
  } else {
    GARRET_ASSIGN_OR_RETURN(auto ids, chunkIds(*conn, commit.chunks, now));
    std::optional<std::int64_t> invalid_id;
    if (found) invalid_id = found->nar.id;
    GARRET_ASSIGN_OR_RETURN(std::int64_t id, writeNar(*conn, commit.nar, invalid_id, now));
    out.nar = commit.nar;
    out.nar.id = id;
    out.nar.created_at = found ? found->nar.created_at : now;  // revived: kept
    GARRET_TRY(recordChunks(*conn, id, ids, commit.packs));
  }
  if (commit.object) {
    ObjectRecord object = *commit.object;
    object.nar_id = out.nar.id;
    GARRET_TRY(postgres::upsertObjectOn(*conn, object));
  }
  if (commit.staged) {
    StagedUpload staged = *commit.staged;
    staged.nar_id = out.nar.id;
    GARRET_TRY(postgres::putStagedOn(*conn, staged));
  }
  GARRET_TRY(txn.commit());
  return out;
}

Result<std::vector<ChunkLocation>> PostgresMetadataDb::narChunks(std::int64_t nar_id) {
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_ASSIGN_OR_RETURN(
      Rows rows, conn->exec("SELECT c.id, c.pack_id, p.blob_key, c.pack_offset, c.length "
                            "FROM chunkref r JOIN chunk c ON c.id = r.chunk_id "
                            "JOIN pack p ON p.id = c.pack_id WHERE r.nar_id = $1 ORDER BY r.seq",
                            Params().add(nar_id)));
  return readAll(rows, readLocation);
}

Result<std::optional<ChunkRecord>> PostgresMetadataDb::claimChunk(const Hash& chunk_hash,
                                                                  std::int64_t now) {
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_ASSIGN_OR_RETURN(
      Rows rows,
      conn->exec("SELECT c.id, c.chunk_hash, c.size, c.compression, c.pack_id, c.pack_offset, "
                 "c.length, c.created_at, c.last_used_at, p.blob_key "
                 "FROM chunk c JOIN pack p ON p.id = c.pack_id WHERE c.chunk_hash = $1",
                 Params().add(chunk_hash.toHex())));
  GARRET_ASSIGN_OR_RETURN(auto found, readOne(rows, readClaimed));
  if (!found || found->last_used_at >= now - kClaimRefresh) return found;
  // GREATEST: another claimer may have refreshed it meanwhile. No row: a
  // garbage collection deleted it meanwhile, so it cannot be reused.
  GARRET_ASSIGN_OR_RETURN(Rows touched,
                          conn->exec("UPDATE chunk SET last_used_at = GREATEST(last_used_at, $1) "
                                     "WHERE id = $2 RETURNING last_used_at",
                                     Params().add(now).add(found->id)));
  if (touched.size() == 0) return std::optional<ChunkRecord>();
  found->last_used_at = touched.row(0).int64(0);
  return found;
}

Result<PackRecord> PostgresMetadataDb::createPack(const PackRecord& pack) {
  static const std::string kSql =
      sql({"INSERT INTO pack (blob_key, size, state, created_at) VALUES ($1, $2, 'writing', $3) "
           "RETURNING ",
           kPackColumns});
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_ASSIGN_OR_RETURN(
      Rows rows,
      conn->exec(kSql, Params()
                           .add(pack.blob_key)
                           .add(i64(pack.size))
                           .add(pack.created_at != 0 ? pack.created_at : postgres::currentTime())));
  return readFirst(rows, readPack);
}

Status PostgresMetadataDb::deletePack(std::int64_t pack_id) {
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  auto ran = conn->exec("DELETE FROM pack WHERE id = $1", Params().add(pack_id));
  if (!ran.ok() && ran.error().code == ErrorCode::kConflict) {
    return makeError(ErrorCode::kConflict,
                     "pack " + std::to_string(pack_id) + " still holds chunks");
  }
  if (!ran.ok()) return std::move(ran).error();
  return okStatus();
}

Result<std::vector<PackRecord>> PostgresMetadataDb::listPacks() {
  static const std::string kSql = sql({"SELECT ", kPackColumns, " FROM pack ORDER BY id"});
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_ASSIGN_OR_RETURN(Rows rows, conn->exec(kSql));
  return readAll(rows, readPack);
}

Result<std::vector<ChunkRecord>> PostgresMetadataDb::packChunks(std::int64_t pack_id) {
  static const std::string kSql =
      sql({"SELECT ", kChunkColumns, " FROM chunk WHERE pack_id = $1 ORDER BY pack_offset"});
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_ASSIGN_OR_RETURN(Rows rows, conn->exec(kSql, Params().add(pack_id)));
  return readAll(rows, readChunk);
}

Result<std::vector<std::pair<PackRecord, std::uint64_t>>> PostgresMetadataDb::packUsage() {
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_ASSIGN_OR_RETURN(
      Rows rows,
      conn->exec("SELECT p.id, p.blob_key, p.size, p.state, p.created_at, p.dead_at, "
                 "(SELECT COALESCE(SUM(c.length), 0) FROM chunk c WHERE c.pack_id = p.id)::bigint "
                 "FROM pack p WHERE p.state = 'live' ORDER BY p.id"));
  return readAll(rows, [](const Row& r) -> Result<std::pair<PackRecord, std::uint64_t>> {
    GARRET_ASSIGN_OR_RETURN(PackRecord p, readPackAt(r, 0));
    return std::pair(std::move(p), static_cast<std::uint64_t>(r.int64(6)));
  });
}

Status PostgresMetadataDb::relocateChunks(const PackRecord& to, const std::vector<ChunkMove>& moves,
                                          const std::vector<std::int64_t>& retired,
                                          std::int64_t now) {
  std::vector<std::int64_t> chunk_ids, from_packs, from_offsets, to_offsets;
  for (const ChunkMove& m : moves) {
    chunk_ids.push_back(m.chunk_id);
    from_packs.push_back(m.from_pack);
    from_offsets.push_back(i64(m.from_offset));
    to_offsets.push_back(i64(m.to_offset));
  }
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  Transaction txn(*conn);
  GARRET_TRY(txn.begin());
  Params move;
  move.add(to.id).addArray(chunk_ids).addArray(from_packs).addArray(from_offsets);
  move.addArray(to_offsets);
  GARRET_TRY(
      conn->exec("UPDATE chunk SET pack_id = $1, pack_offset = t.to_offset "
                 "FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) "
                 "AS t(chunk_id, from_pack, from_offset, to_offset) "
                 "WHERE chunk.id = t.chunk_id AND chunk.pack_id = t.from_pack "
                 "AND chunk.pack_offset = t.from_offset",
                 move));
  GARRET_TRY(conn->exec("UPDATE pack SET state = 'live', size = $1 WHERE id = $2",
                        Params().add(i64(to.size)).add(to.id)));
  GARRET_TRY(
      conn->exec("UPDATE pack SET state = 'dead', dead_at = $1 "
                 "WHERE id = ANY ($2::bigint[]) AND "
                 "NOT EXISTS (SELECT 1 FROM chunk c WHERE c.pack_id = pack.id)",
                 Params().add(now).addArray(retired)));
  return txn.commit();
}

Result<GcReport> PostgresMetadataDb::collectGarbage(const GcRequest& request) {
  const std::int64_t now = request.now != 0 ? request.now : postgres::currentTime();
  const std::int64_t grace_cutoff = now - request.grace_period;
  GARRET_ASSIGN_OR_RETURN(auto lease, pool_->acquire());
  Connection& conn = *lease;
  GcReport report;
  // A dry run is one transaction that is rolled back; a real pass commits
  // each step, so a kill between steps loses nothing already done.
  std::optional<Transaction> dry;
  if (request.dry_run) {
    dry.emplace(conn);
    GARRET_TRY(dry->begin());
  }
  auto step = [&](const std::function<Status()>& body) -> Status {
    if (request.dry_run) return body();
    Transaction txn(conn);
    GARRET_TRY(txn.begin());
    GARRET_TRY(body());
    return txn.commit();
  };
  // A dry run deletes nothing, so it need not hold writers back.
  auto lockTable = [&](const char* statement) -> Status {
    if (request.dry_run) return okStatus();
    return conn.execScript(statement);
  };
  auto deleted = [&](const std::string& text, const Params& params) -> Result<std::uint64_t> {
    GARRET_ASSIGN_OR_RETURN(Rows rows, conn.exec(text, params));
    return rows.affected();
  };
  // COUNT and byte SUM of a DELETE … RETURNING <bytes>.
  auto counted = [&](const std::string& del, const Params& params, std::uint64_t& count,
                     std::uint64_t& bytes) -> Status {
    GARRET_ASSIGN_OR_RETURN(Rows rows,
                            conn.exec("WITH gone AS (" + del +
                                          ") SELECT COUNT(*), COALESCE(SUM(bytes), 0)::bigint "
                                          "FROM gone",
                                      params));
    count = static_cast<std::uint64_t>(rows.row(0).int64(0));
    bytes = static_cast<std::uint64_t>(rows.row(0).int64(1));
    return okStatus();
  };

  // 1. Objects of soft-deleted caches, then objects past their retention.
  GARRET_TRY(step([&]() -> Status {
    GARRET_ASSIGN_OR_RETURN(std::uint64_t gone,
                            deleted("DELETE FROM object WHERE cache_id IN "
                                    "(SELECT id FROM cache WHERE deleted_at IS NOT NULL)",
                                    Params()));
    GARRET_TRY(
        deleted("DELETE FROM staged_upload WHERE cache_id IN "
                "(SELECT id FROM cache WHERE deleted_at IS NOT NULL)",
                Params()));
    GARRET_TRY(deleted("DELETE FROM cache WHERE deleted_at IS NOT NULL", Params()));
    GARRET_ASSIGN_OR_RETURN(
        std::uint64_t expired,
        deleted("DELETE FROM object WHERE id IN (SELECT o.id FROM object o "
                "JOIN cache c ON c.id = o.cache_id WHERE NOT o.pinned "
                "AND COALESCE(c.retention_period, $1::bigint) > 0 "
                "AND o.last_accessed_at < $2::bigint - COALESCE(c.retention_period, $1::bigint))",
                Params().add(request.default_retention_period).add(now)));
    report.objects = gone + expired;
    return okStatus();
  }));
  // 2. Staged uploads never bound, and aliases whose cache dropped the NAR.
  GARRET_TRY(step([&]() -> Status {
    GARRET_ASSIGN_OR_RETURN(
        report.staged,
        deleted("DELETE FROM staged_upload WHERE (NOT bound AND expires_at <= $1) OR (bound "
                "AND NOT EXISTS (SELECT 1 FROM object o WHERE o.cache_id = staged_upload.cache_id "
                "AND o.nar_id = staged_upload.nar_id))",
                Params().add(now)));
    return okStatus();
  }));
  // 3. NARs nothing refers to (their chunk lists go with them).
  GARRET_TRY(step([&]() -> Status {
    GARRET_TRY(lockTable("LOCK TABLE nar IN EXCLUSIVE MODE"));
    return counted(
        "DELETE FROM nar WHERE NOT EXISTS (SELECT 1 FROM object o WHERE o.nar_id = "
        "nar.id) AND NOT EXISTS (SELECT 1 FROM staged_upload s WHERE s.nar_id = "
        "nar.id) RETURNING nar_size AS bytes",
        Params(), report.nars, report.nar_bytes);
  }));
  // 4. Chunks no NAR uses, unless an upload reused them recently.
  GARRET_TRY(step([&]() -> Status {
    GARRET_TRY(lockTable("LOCK TABLE chunk IN EXCLUSIVE MODE"));
    return counted(
        "DELETE FROM chunk WHERE last_used_at <= $1 AND NOT EXISTS "
        "(SELECT 1 FROM chunkref r WHERE r.chunk_id = chunk.id) "
        "RETURNING length AS bytes",
        Params().add(grace_cutoff), report.chunks, report.chunk_bytes);
  }));
  // 5. Packs: live ones left without chunks and writing ones abandoned by
  // a crashed upload die; dead ones past the grace period are returned.
  GARRET_TRY(step([&]() -> Status {
    GARRET_TRY(lockTable("LOCK TABLE pack IN EXCLUSIVE MODE"));
    GARRET_TRY(
        deleted("UPDATE pack SET state = 'dead', dead_at = $1 WHERE "
                "(state = 'live' OR (state = 'writing' AND created_at <= $2)) AND "
                "NOT EXISTS (SELECT 1 FROM chunk c WHERE c.pack_id = pack.id)",
                Params().add(now).add(grace_cutoff)));
    static const std::string kDue = sql(
        {"SELECT ", kPackColumns, " FROM pack WHERE state = 'dead' AND dead_at <= $1 ORDER BY id"});
    GARRET_ASSIGN_OR_RETURN(Rows due, conn.exec(kDue, Params().add(grace_cutoff)));
    GARRET_ASSIGN_OR_RETURN(report.packs, readAll(due, readPack));
    return okStatus();
  }));
  // Dry run: the transaction rolls back when `dry` goes out of scope.
  return report;
}

Result<bool> PostgresMetadataDb::acquireGcLease(std::string_view holder, std::int64_t now,
                                                std::int64_t ttl, std::string_view replace) {
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_ASSIGN_OR_RETURN(
      Rows rows, conn->exec("INSERT INTO gc_lease (id, holder, expires_at) VALUES (1, $1, $2) "
                            "ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, "
                            "expires_at = excluded.expires_at "
                            "WHERE gc_lease.holder = excluded.holder OR gc_lease.expires_at <= $3 "
                            "OR gc_lease.holder = $4",
                            Params().add(holder).add(now + ttl).add(now).add(replace)));
  return rows.affected() > 0;
}

Result<std::optional<std::string>> PostgresMetadataDb::gcLeaseHolder(std::int64_t now) {
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_ASSIGN_OR_RETURN(
      Rows rows, conn->exec("SELECT holder FROM gc_lease WHERE id = 1 AND expires_at > $1",
                            Params().add(now)));
  if (rows.size() == 0) return std::optional<std::string>();
  return std::optional<std::string>(rows.row(0).text(0));
}

Status PostgresMetadataDb::releaseGcLease(std::string_view holder) {
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_TRY(conn->exec("DELETE FROM gc_lease WHERE holder = $1", Params().add(holder)));
  return okStatus();
}

Result<std::uint64_t> PostgresMetadataDb::dropDamagedChunks(
    const std::vector<std::int64_t>& chunk_ids, bool dry_run) {
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  Transaction txn(*conn);
  GARRET_TRY(txn.begin());
  Params damaged;
  damaged.addArray(chunk_ids);
  GARRET_ASSIGN_OR_RETURN(Rows counted,
                          conn->exec("SELECT COUNT(DISTINCT r.nar_id) FROM chunkref r "
                                     "WHERE r.chunk_id = ANY ($1::bigint[])",
                                     damaged));
  auto nars = static_cast<std::uint64_t>(counted.row(0).int64(0));
  if (dry_run) return nars;  // rolled back
  GARRET_TRY(
      conn->exec("UPDATE nar SET state = 'invalid' WHERE id IN "
                 "(SELECT r.nar_id FROM chunkref r WHERE r.chunk_id = ANY ($1::bigint[]))",
                 damaged));
  GARRET_TRY(
      conn->exec("DELETE FROM chunkref WHERE nar_id IN "
                 "(SELECT id FROM nar WHERE state = 'invalid')"));
  GARRET_TRY(conn->exec("DELETE FROM chunk WHERE id = ANY ($1::bigint[])", damaged));
  GARRET_TRY(txn.commit());
  return nars;
}

Result<std::vector<ChunkRecord>> PostgresMetadataDb::listChunks(std::int64_t after_id, int limit) {
  static const std::string kSql =
      sql({"SELECT ", kChunkColumns, " FROM chunk WHERE id > $1 ORDER BY id LIMIT $2"});
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_ASSIGN_OR_RETURN(Rows rows,
                          conn->exec(kSql, Params().add(after_id).add(std::int64_t{limit})));
  return readAll(rows, readChunk);
}

}  // namespace garret::db
