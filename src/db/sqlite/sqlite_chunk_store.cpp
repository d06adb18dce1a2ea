// SqliteMetadataDb: chunks, packs, NAR commits, garbage collection and
// integrity repair (the chunked storage layout, migration 2).

#include <functional>
#include <string>
#include <unordered_map>

#include "db/sqlite/sqlite_connection.h"
#include "db/sqlite/sqlite_metadata_db.h"
#include "db/sqlite/sqlite_query.h"

namespace garret::db {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;
using sqlite::queryAll;
using sqlite::queryOne;
using sqlite::queryRow;
using sqlite::readHash;

std::string_view packStateName(PackState state) {
  switch (state) {
    case PackState::kWriting: return "writing";
    case PackState::kLive: return "live";
    case PackState::kDead: return "dead";
  }
  return "writing";
}

namespace {

// A reused chunk's last_used_at is refreshed only when older than this, so
// that a stream of uploads sharing chunks does not write on every lookup.
constexpr std::int64_t kClaimRefresh = 300;


using rows::kChunkColumns;
using rows::kPackColumns;
constexpr auto readChunk = &rows::chunk<Statement>;
Result<PackRecord> readPackAt(const Statement& s, int first) { return rows::pack(s, first); }
Result<PackRecord> readPack(const Statement& s) { return rows::pack(s, 0); }

Result<ChunkLocation> readLocation(const Statement& s) {
  ChunkLocation l;
  l.chunk_id = s.int64(0);
  l.pack_id = s.int64(1);
  l.blob_key = s.text(2);
  l.offset = static_cast<std::uint64_t>(s.int64(3));
  l.length = static_cast<std::uint64_t>(s.int64(4));
  return l;
}

std::int64_t i64(std::uint64_t v) { return static_cast<std::int64_t>(v); }

// Runs a statement that returns one integer row (COUNT, SUM).
Result<std::uint64_t> scalar(Connection& conn, const std::string& text,
                             const std::function<void(Statement&)>& bind) {
  GARRET_ASSIGN_OR_RETURN(auto stmt, conn.prepare(text));
  bind(stmt);
  GARRET_ASSIGN_OR_RETURN(bool row, stmt.step());
  std::uint64_t value = row ? static_cast<std::uint64_t>(stmt.int64(0)) : 0;
  GARRET_TRY(stmt.run());
  return value;
}

// The chunk id for a new chunk of a commit: inserts it unless a chunk with
// the same hash exists (another upload stored the same bytes meanwhile;
// its copy wins and ours stays unreferenced in our pack until a rewrite).
Result<std::int64_t> insertChunk(Connection& conn, const ChunkRecord& c, std::int64_t now) {
  GARRET_ASSIGN_OR_RETURN(
      auto insert,
      conn.prepare("INSERT INTO chunk (chunk_hash, size, compression, pack_id, pack_offset, "
                   "length, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                   "ON CONFLICT (chunk_hash) DO UPDATE SET last_used_at = excluded.last_used_at "
                   "RETURNING id"));
  insert.bind(1, c.chunk_hash.toHex()).bind(2, i64(c.size)).bind(3, c.compression);
  insert.bind(4, c.pack_id).bind(5, i64(c.offset)).bind(6, i64(c.length)).bind(7, now);
  insert.bind(8, now);
  GARRET_ASSIGN_OR_RETURN(bool row, insert.step());
  if (!row) return makeError(ErrorCode::kInternal, "chunk insert returned no id");
  std::int64_t id = insert.int64(0);
  GARRET_TRY(insert.run());
  return id;
}

Error chunkGone(const Error& error) {
  if (error.code != ErrorCode::kConflict) return error;
  return makeError(ErrorCode::kUnavailable,
                   "a chunk this upload reuses was garbage-collected during the upload; "
                   "upload again");
}

}  // namespace

Result<CommittedNar> SqliteMetadataDb::commitNar(const NarCommit& commit) {
  std::int64_t now = commit.nar.created_at != 0 ? commit.nar.created_at : sqlite::currentTime();
  std::lock_guard lock(mu_);
  Transaction txn(*conn_);
  GARRET_TRY(txn.begin());
  CommittedNar out;
  std::optional<std::int64_t> invalid_id;
  {
    static const std::string kFind =
        sql({"SELECT ", sqlite::kNarColumnsN, ", n.state FROM nar n WHERE n.nar_hash = ?"});
    GARRET_ASSIGN_OR_RETURN(auto find, conn_->prepare(kFind));
    find.bind(1, commit.nar.nar_hash.toHex());
    GARRET_ASSIGN_OR_RETURN(bool row, find.step());
    if (row) {
      GARRET_ASSIGN_OR_RETURN(out.nar, sqlite::readNar(find, 0));
      if (find.text(7) == "valid") {
        out.existed = true;
      } else {
        invalid_id = out.nar.id;
      }
    }
    GARRET_TRY(find.run());
  }
  if (!out.existed) {
    // New chunks first; a hash repeated within the NAR is stored once.
    std::unordered_map<std::string, std::int64_t> new_ids;
    std::vector<std::int64_t> ids;
    ids.reserve(commit.chunks.size());
    for (const ChunkRecord& c : commit.chunks) {
      if (c.id != 0) {
        ids.push_back(c.id);
        continue;
      }
      std::string key = c.chunk_hash.toHex();
      auto it = new_ids.find(key);
      if (it == new_ids.end()) {
        GARRET_ASSIGN_OR_RETURN(std::int64_t id, insertChunk(*conn_, c, now));
        it = new_ids.emplace(std::move(key), id).first;
      }
      ids.push_back(it->second);
    }
    if (invalid_id) {
      GARRET_ASSIGN_OR_RETURN(
          auto revive,
          conn_->prepare("UPDATE nar SET nar_size = ?, compression = ?, file_hash = ?, "
                         "file_size = ?, state = 'valid' WHERE id = ?"));
      revive.bind(1, i64(commit.nar.nar_size)).bind(2, commit.nar.compression);
      revive.bind(3, commit.nar.file_hash.toHex()).bind(4, i64(commit.nar.file_size));
      revive.bind(5, *invalid_id);
      GARRET_TRY(revive.run());
      GARRET_ASSIGN_OR_RETURN(auto clear, conn_->prepare("DELETE FROM chunkref WHERE nar_id = ?"));
      clear.bind(1, *invalid_id);
      GARRET_TRY(clear.run());
    } else {
      GARRET_ASSIGN_OR_RETURN(
          auto insert,
          conn_->prepare("INSERT INTO nar (nar_hash, nar_size, compression, file_hash, file_size, "
                         "created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id"));
      insert.bind(1, commit.nar.nar_hash.toHex()).bind(2, i64(commit.nar.nar_size));
      insert.bind(3, commit.nar.compression).bind(4, commit.nar.file_hash.toHex());
      insert.bind(5, i64(commit.nar.file_size)).bind(6, now);
      GARRET_ASSIGN_OR_RETURN(bool row, insert.step());
      if (!row) return makeError(ErrorCode::kInternal, "NAR insert returned no id");
      invalid_id = insert.int64(0);
      GARRET_TRY(insert.run());
    }
    std::int64_t created_at = out.nar.id != 0 ? out.nar.created_at : now;  // revived: kept
    out.nar = commit.nar;
    out.nar.id = *invalid_id;
    out.nar.created_at = created_at;
    for (std::size_t seq = 0; seq < ids.size(); ++seq) {
      GARRET_ASSIGN_OR_RETURN(
          auto ref, conn_->prepare("INSERT INTO chunkref (nar_id, seq, chunk_id) VALUES (?, ?, ?)"));
      ref.bind(1, out.nar.id).bind(2, static_cast<std::int64_t>(seq)).bind(3, ids[seq]);
      auto ran = ref.run();
      if (!ran.ok()) return chunkGone(ran.error());
    }
    for (const PackRecord& p : commit.packs) {
      GARRET_ASSIGN_OR_RETURN(
          auto live, conn_->prepare("UPDATE pack SET state = 'live', size = ? WHERE id = ?"));
      live.bind(1, i64(p.size)).bind(2, p.id);
      GARRET_TRY(live.run());
    }
  }
  if (commit.object) {
    ObjectRecord object = *commit.object;
    object.nar_id = out.nar.id;
    GARRET_TRY(sqlite::upsertObjectOn(*conn_, object));
  }
  if (commit.staged) {
    StagedUpload staged = *commit.staged;
    staged.nar_id = out.nar.id;
    GARRET_TRY(sqlite::putStagedOn(*conn_, staged));
  }
  GARRET_TRY(txn.commit());
  return out;
}

Result<std::vector<ChunkLocation>> SqliteMetadataDb::narChunks(std::int64_t nar_id) {
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(
      auto stmt,
      conn_->prepare("SELECT c.id, c.pack_id, p.blob_key, c.pack_offset, c.length "
                     "FROM chunkref r JOIN chunk c ON c.id = r.chunk_id "
                     "JOIN pack p ON p.id = c.pack_id WHERE r.nar_id = ? ORDER BY r.seq"));
  stmt.bind(1, nar_id);
  return queryAll(stmt, readLocation);
}

Result<std::optional<ChunkRecord>> SqliteMetadataDb::claimChunk(const Hash& chunk_hash,
                                                                std::int64_t now) {
  static const std::string kFind =
      "SELECT c.id, c.chunk_hash, c.size, c.compression, c.pack_id, c.pack_offset, c.length, "
      "c.created_at, c.last_used_at, p.blob_key FROM chunk c JOIN pack p ON p.id = c.pack_id "
      "WHERE c.chunk_hash = ?";
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(auto find, conn_->prepare(kFind));
  find.bind(1, chunk_hash.toHex());
  GARRET_ASSIGN_OR_RETURN(auto found, queryOne(find, [](const Statement& s) -> Result<ChunkRecord> {
    GARRET_ASSIGN_OR_RETURN(ChunkRecord c, readChunk(s));
    c.pack_key = s.text(9);
    return c;
  }));
  if (!found || found->last_used_at >= now - kClaimRefresh) return found;
  GARRET_ASSIGN_OR_RETURN(auto touch,
                          conn_->prepare("UPDATE chunk SET last_used_at = ? WHERE id = ?"));
  touch.bind(1, now).bind(2, found->id);
  GARRET_TRY(touch.run());
  found->last_used_at = now;
  return found;
}

Result<PackRecord> SqliteMetadataDb::createPack(const PackRecord& pack) {
  static const std::string kSql =
      sql({"INSERT INTO pack (blob_key, size, state, created_at) VALUES (?, ?, 'writing', ?) "
           "RETURNING ",
           kPackColumns});
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(auto stmt, conn_->prepare(kSql));
  stmt.bind(1, pack.blob_key).bind(2, i64(pack.size));
  stmt.bind(3, pack.created_at != 0 ? pack.created_at : sqlite::currentTime());
  return queryRow(stmt, readPack);
}

Status SqliteMetadataDb::deletePack(std::int64_t pack_id) {
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(auto stmt, conn_->prepare("DELETE FROM pack WHERE id = ?"));
  stmt.bind(1, pack_id);
  auto ran = stmt.run();
  if (!ran.ok() && ran.error().code == ErrorCode::kConflict) {
    return makeError(ErrorCode::kConflict,
                     "pack " + std::to_string(pack_id) + " still holds chunks");
  }
  return ran;
}

Result<std::vector<PackRecord>> SqliteMetadataDb::listPacks() {
  static const std::string kSql = sql({"SELECT ", kPackColumns, " FROM pack ORDER BY id"});
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(auto stmt, conn_->prepare(kSql));
  return queryAll(stmt, readPack);
}

Result<std::vector<ChunkRecord>> SqliteMetadataDb::packChunks(std::int64_t pack_id) {
  static const std::string kSql =
      sql({"SELECT ", kChunkColumns, " FROM chunk WHERE pack_id = ? ORDER BY pack_offset"});
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(auto stmt, conn_->prepare(kSql));
  stmt.bind(1, pack_id);
  return queryAll(stmt, readChunk);
}

Result<std::vector<std::pair<PackRecord, std::uint64_t>>> SqliteMetadataDb::packUsage() {
  static const std::string kSql =
      "SELECT p.id, p.blob_key, p.size, p.state, p.created_at, p.dead_at, "
      "(SELECT COALESCE(SUM(c.length), 0) FROM chunk c WHERE c.pack_id = p.id) "
      "FROM pack p WHERE p.state = 'live' ORDER BY p.id";
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(auto stmt, conn_->prepare(kSql));
  return queryAll(stmt, [](const Statement& s) -> Result<std::pair<PackRecord, std::uint64_t>> {
    GARRET_ASSIGN_OR_RETURN(PackRecord p, readPackAt(s, 0));
    return std::pair(std::move(p), static_cast<std::uint64_t>(s.int64(6)));
  });
}

Status SqliteMetadataDb::relocateChunks(const PackRecord& to, const std::vector<ChunkMove>& moves,
                                        const std::vector<std::int64_t>& retired,
                                        std::int64_t now) {
  std::lock_guard lock(mu_);
  Transaction txn(*conn_);
  GARRET_TRY(txn.begin());
  for (const ChunkMove& m : moves) {
    GARRET_ASSIGN_OR_RETURN(
        auto move, conn_->prepare("UPDATE chunk SET pack_id = ?, pack_offset = ? "
                                  "WHERE id = ? AND pack_id = ? AND pack_offset = ?"));
    move.bind(1, to.id).bind(2, i64(m.to_offset)).bind(3, m.chunk_id).bind(4, m.from_pack);
    move.bind(5, i64(m.from_offset));
    GARRET_TRY(move.run());
  }
  GARRET_ASSIGN_OR_RETURN(auto live,
                          conn_->prepare("UPDATE pack SET state = 'live', size = ? WHERE id = ?"));
  live.bind(1, i64(to.size)).bind(2, to.id);
  GARRET_TRY(live.run());
  for (std::int64_t id : retired) {
    GARRET_ASSIGN_OR_RETURN(
        auto dead, conn_->prepare("UPDATE pack SET state = 'dead', dead_at = ? WHERE id = ? AND "
                                  "NOT EXISTS (SELECT 1 FROM chunk c WHERE c.pack_id = pack.id)"));
    dead.bind(1, now).bind(2, id);
    GARRET_TRY(dead.run());
  }
  return txn.commit();
}

Result<GcReport> SqliteMetadataDb::collectGarbage(const GcRequest& request) {
  const std::int64_t now = request.now != 0 ? request.now : sqlite::currentTime();
  const std::int64_t grace_cutoff = now - request.grace_period;
  std::lock_guard lock(mu_);
  Connection& conn = *conn_;
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
  auto exec = [&](const std::string& text,
                  const std::function<void(Statement&)>& bind) -> Result<std::uint64_t> {
    GARRET_ASSIGN_OR_RETURN(auto stmt, conn.prepare(text));
    bind(stmt);
    GARRET_TRY(stmt.run());
    return static_cast<std::uint64_t>(conn.changes());
  };
  auto none = [](Statement&) {};

  // 1. Objects of soft-deleted caches, then objects past their retention.
  GARRET_TRY(step([&]() -> Status {
    GARRET_ASSIGN_OR_RETURN(
        std::uint64_t gone,
        exec("DELETE FROM object WHERE cache_id IN "
             "(SELECT id FROM cache WHERE deleted_at IS NOT NULL)",
             none));
    GARRET_TRY(exec("DELETE FROM staged_upload WHERE cache_id IN "
                    "(SELECT id FROM cache WHERE deleted_at IS NOT NULL)",
                    none));
    GARRET_TRY(exec("DELETE FROM cache WHERE deleted_at IS NOT NULL", none));
    GARRET_ASSIGN_OR_RETURN(
        std::uint64_t expired,
        exec("DELETE FROM object WHERE id IN (SELECT o.id FROM object o "
             "JOIN cache c ON c.id = o.cache_id WHERE o.pinned = 0 "
             "AND COALESCE(c.retention_period, ?1) > 0 "
             "AND o.last_accessed_at < ?2 - COALESCE(c.retention_period, ?1))",
             [&](Statement& s) { s.bind(1, request.default_retention_period).bind(2, now); }));
    report.objects = gone + expired;
    return okStatus();
  }));
  // 2. Staged uploads never bound, and aliases whose cache dropped the NAR.
  GARRET_TRY(step([&]() -> Status {
    GARRET_ASSIGN_OR_RETURN(
        report.staged,
        exec("DELETE FROM staged_upload WHERE (bound = 0 AND expires_at <= ?) OR (bound = 1 "
             "AND NOT EXISTS (SELECT 1 FROM object o WHERE o.cache_id = staged_upload.cache_id "
             "AND o.nar_id = staged_upload.nar_id))",
             [&](Statement& s) { s.bind(1, now); }));
    return okStatus();
  }));
  // 3. NARs nothing refers to (their chunk lists go with them).
  GARRET_TRY(step([&]() -> Status {
    const std::string unreferenced =
        " FROM nar WHERE NOT EXISTS (SELECT 1 FROM object o WHERE o.nar_id = nar.id) "
        "AND NOT EXISTS (SELECT 1 FROM staged_upload s WHERE s.nar_id = nar.id)";
    GARRET_ASSIGN_OR_RETURN(report.nar_bytes,
                            scalar(conn, "SELECT COALESCE(SUM(nar_size), 0)" + unreferenced, none));
    GARRET_ASSIGN_OR_RETURN(report.nars, exec("DELETE" + unreferenced, none));
    return okStatus();
  }));
  // 4. Chunks no NAR uses, unless an upload reused them recently.
  GARRET_TRY(step([&]() -> Status {
    const std::string unreferenced =
        " FROM chunk WHERE last_used_at <= ? AND "
        "NOT EXISTS (SELECT 1 FROM chunkref r WHERE r.chunk_id = chunk.id)";
    auto bind = [&](Statement& s) { s.bind(1, grace_cutoff); };
    GARRET_ASSIGN_OR_RETURN(report.chunk_bytes,
                            scalar(conn, "SELECT COALESCE(SUM(length), 0)" + unreferenced, bind));
    GARRET_ASSIGN_OR_RETURN(report.chunks, exec("DELETE" + unreferenced, bind));
    return okStatus();
  }));
  // 5. Packs: live ones left without chunks and writing ones abandoned by
  // a crashed upload die; dead ones past the grace period are returned.
  GARRET_TRY(step([&]() -> Status {
    GARRET_TRY(exec("UPDATE pack SET state = 'dead', dead_at = ?1 WHERE "
                    "(state = 'live' OR (state = 'writing' AND created_at <= ?2)) AND "
                    "NOT EXISTS (SELECT 1 FROM chunk c WHERE c.pack_id = pack.id)",
                    [&](Statement& s) { s.bind(1, now).bind(2, grace_cutoff); }));
    static const std::string kDue =
        sql({"SELECT ", kPackColumns, " FROM pack WHERE state = 'dead' AND dead_at <= ? "
                                      "ORDER BY id"});
    GARRET_ASSIGN_OR_RETURN(auto due, conn.prepare(kDue));
    due.bind(1, grace_cutoff);
    GARRET_ASSIGN_OR_RETURN(report.packs, queryAll(due, readPack));
    return okStatus();
  }));
  // Dry run: the transaction rolls back when `dry` goes out of scope.
  return report;
}

Result<bool> SqliteMetadataDb::acquireGcLease(std::string_view holder, std::int64_t now,
                                              std::int64_t ttl, std::string_view replace) {
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(
      auto stmt,
      conn_->prepare("INSERT INTO gc_lease (id, holder, expires_at) VALUES (1, ?1, ?2) "
                     "ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, "
                     "expires_at = excluded.expires_at "
                     "WHERE gc_lease.holder = excluded.holder OR gc_lease.expires_at <= ?3 "
                     "OR gc_lease.holder = ?4"));
  stmt.bind(1, holder).bind(2, now + ttl).bind(3, now).bind(4, replace);
  GARRET_TRY(stmt.run());
  return conn_->changes() > 0;
}

Result<std::optional<std::string>> SqliteMetadataDb::gcLeaseHolder(std::int64_t now) {
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(
      auto stmt, conn_->prepare("SELECT holder FROM gc_lease WHERE id = 1 AND expires_at > ?"));
  stmt.bind(1, now);
  return queryOne(stmt, [](const Statement& s) -> Result<std::string> { return s.text(0); });
}

Status SqliteMetadataDb::releaseGcLease(std::string_view holder) {
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(auto stmt, conn_->prepare("DELETE FROM gc_lease WHERE holder = ?"));
  stmt.bind(1, holder);
  return stmt.run();
}

Result<std::uint64_t> SqliteMetadataDb::dropDamagedChunks(const std::vector<std::int64_t>& chunk_ids,
                                                          bool dry_run) {
  std::lock_guard lock(mu_);
  Transaction txn(*conn_);
  GARRET_TRY(txn.begin());
  GARRET_TRY(conn_->exec("CREATE TEMP TABLE IF NOT EXISTS damaged_chunk (id INTEGER PRIMARY KEY); "
                         "DELETE FROM damaged_chunk"));
  for (std::int64_t id : chunk_ids) {
    GARRET_ASSIGN_OR_RETURN(auto add,
                            conn_->prepare("INSERT OR IGNORE INTO damaged_chunk (id) VALUES (?)"));
    add.bind(1, id);
    GARRET_TRY(add.run());
  }
  GARRET_ASSIGN_OR_RETURN(
      std::uint64_t nars,
      scalar(*conn_,
             "SELECT COUNT(DISTINCT r.nar_id) FROM chunkref r JOIN damaged_chunk d "
             "ON d.id = r.chunk_id",
             [](Statement&) {}));
  if (dry_run) return nars;  // rolled back
  GARRET_TRY(conn_->exec(
      "UPDATE nar SET state = 'invalid' WHERE id IN (SELECT r.nar_id FROM chunkref r "
      "JOIN damaged_chunk d ON d.id = r.chunk_id); "
      "DELETE FROM chunkref WHERE nar_id IN (SELECT id FROM nar WHERE state = 'invalid'); "
      "DELETE FROM chunk WHERE id IN (SELECT id FROM damaged_chunk); "
      "DELETE FROM damaged_chunk"));
  GARRET_TRY(txn.commit());
  return nars;
}

Result<std::vector<ChunkRecord>> SqliteMetadataDb::listChunks(std::int64_t after_id, int limit) {
  static const std::string kSql =
      sql({"SELECT ", kChunkColumns, " FROM chunk WHERE id > ? ORDER BY id LIMIT ?"});
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(auto stmt, conn_->prepare(kSql));
  stmt.bind(1, after_id).bind(2, std::int64_t{limit});
  return queryAll(stmt, readChunk);
}

}  // namespace garret::db
