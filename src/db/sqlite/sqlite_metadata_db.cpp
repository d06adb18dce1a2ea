#include "db/sqlite/sqlite_metadata_db.h"

#include <algorithm>
#include <ctime>
#include <initializer_list>
#include <type_traits>
#include <unordered_set>
#include <utility>

#include "db/json_text.h"
#include "db/sqlite/sqlite_connection.h"
#include "db/sqlite/sqlite_migrations.h"
#include "db/sqlite/sqlite_query.h"

namespace garret::db {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;
using sqlite::currentTime;
using sqlite::queryAll;
using sqlite::queryOne;
using sqlite::queryRow;
using sqlite::readHash;
using sqlite::kNarColumnsN;
using sqlite::readNar;

namespace {

// Hashes per missingPaths query; with the cache id that is 500 parameters.
constexpr std::size_t kMissingChunk = 499;

constexpr const char* kPragmas =
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";




using rows::kCacheColumns;
using rows::kObjectColumns;
using rows::kObjectColumnsO;
constexpr auto readCache = &rows::cache<Statement>;
constexpr auto readStaged = &rows::staged<Statement>;
constexpr auto readObjectWithNar = &rows::objectWithNar<Statement>;
Result<ObjectRecord> readObject(const Statement& s, int first) { return rows::object(s, first); }
Result<NarRecord> readNarAt0(const Statement& s) { return readNar(s, 0); }
Result<ObjectRecord> readObjectAt0(const Statement& s) { return readObject(s, 0); }
Result<std::string> readText0(const Statement& s) { return s.text(0); }

Status withContext(Status status, std::string_view what) {
  if (status.ok()) return status;
  return status.error().context(what);
}

Error cacheNameTaken(const Error& error, std::string_view name) {
  if (error.code != ErrorCode::kAlreadyExists) return error;
  return makeError(ErrorCode::kAlreadyExists, "cache \"" + std::string(name) + "\" already exists");
}

}  // namespace

SqliteMetadataDb::SqliteMetadataDb(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}
SqliteMetadataDb::~SqliteMetadataDb() = default;

Result<std::unique_ptr<SqliteMetadataDb>> SqliteMetadataDb::open(const std::string& path) {
  return open(path, SqliteOptions{});
}

Result<std::unique_ptr<SqliteMetadataDb>> SqliteMetadataDb::open(const std::string& path,
                                                                 const SqliteOptions& options) {
  GARRET_ASSIGN_OR_RETURN(auto conn, Connection::open(path));
  sqlite3_busy_timeout(conn->handle(), options.busy_timeout_ms);
  GARRET_TRY(withContext(conn->exec(kPragmas), "configuring database " + path));
  return std::unique_ptr<SqliteMetadataDb>(new SqliteMetadataDb(std::move(conn)));
}

Status SqliteMetadataDb::migrate() {
  std::lock_guard lock(mu_);
  return withContext(sqlite::runMigrations(*conn_), "migrating database");
}

Status SqliteMetadataDb::migrateTo(int version) {
  std::lock_guard lock(mu_);
  return withContext(sqlite::runMigrations(*conn_, version), "migrating database");
}

Result<int> SqliteMetadataDb::schemaVersion() {
  std::lock_guard lock(mu_);
  return sqlite::schemaVersion(*conn_);
}

Status SqliteMetadataDb::ping() {
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(auto stmt, conn_->prepare("SELECT 1"));
  return stmt.run();
}

// --- caches ----------------------------------------------------------------

Result<std::optional<CacheRecord>> SqliteMetadataDb::findCache(std::string_view name) {
  static const std::string kSql =
      sql({"SELECT ", kCacheColumns, " FROM cache WHERE name = ? AND deleted_at IS NULL"});
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(auto stmt, conn_->prepare(kSql));
  stmt.bind(1, name);
  return queryOne(stmt, readCache);
}

Result<std::vector<CacheRecord>> SqliteMetadataDb::listCaches() {
  static const std::string kSql =
      sql({"SELECT ", kCacheColumns, " FROM cache WHERE deleted_at IS NULL ORDER BY name"});
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(auto stmt, conn_->prepare(kSql));
  return queryAll(stmt, readCache);
}

Result<CacheRecord> SqliteMetadataDb::createCache(const CacheRecord& cache) {
  static const std::string kSql = sql(
      {"INSERT INTO cache (name, keypair, is_public, store_dir, priority, "
       "upstream_cache_key_names, retention_period, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
       "RETURNING ",
       kCacheColumns});
  GARRET_ASSIGN_OR_RETURN(std::string upstream, toJsonArray(cache.upstream_cache_key_names));
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(auto stmt, conn_->prepare(kSql));
  stmt.bind(1, cache.name).bind(2, cache.keypair).bind(3, std::int64_t{cache.is_public});
  stmt.bind(4, cache.store_dir).bind(5, std::int64_t{cache.priority}).bind(6, upstream);
  stmt.bind(7, cache.retention_period)
      .bind(8, cache.created_at != 0 ? cache.created_at : currentTime());
  auto created = queryRow(stmt, readCache);
  if (!created.ok()) return cacheNameTaken(created.error(), cache.name);
  return created;
}

Status SqliteMetadataDb::updateCache(const CacheRecord& cache) {
  GARRET_ASSIGN_OR_RETURN(std::string upstream, toJsonArray(cache.upstream_cache_key_names));
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(
      auto stmt, conn_->prepare("UPDATE cache SET keypair = ?, is_public = ?, store_dir = ?, "
                                "priority = ?, upstream_cache_key_names = ?, retention_period = ? "
                                "WHERE id = ? AND deleted_at IS NULL"));
  stmt.bind(1, cache.keypair).bind(2, std::int64_t{cache.is_public}).bind(3, cache.store_dir);
  stmt.bind(4, std::int64_t{cache.priority}).bind(5, upstream).bind(6, cache.retention_period);
  stmt.bind(7, cache.id);
  GARRET_TRY(stmt.run());
  if (conn_->changes() == 0) return notFound("no cache with id " + std::to_string(cache.id));
  return okStatus();
}

Status SqliteMetadataDb::deleteCache(std::int64_t cache_id, bool soft, std::int64_t now) {
  std::lock_guard lock(mu_);
  if (soft) {
    GARRET_ASSIGN_OR_RETURN(
        auto stmt,
        conn_->prepare("UPDATE cache SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL"));
    stmt.bind(1, now).bind(2, cache_id);
    GARRET_TRY(stmt.run());
  } else {
    GARRET_ASSIGN_OR_RETURN(auto stmt, conn_->prepare("DELETE FROM cache WHERE id = ?"));
    stmt.bind(1, cache_id);
    GARRET_TRY(stmt.run());
  }
  if (conn_->changes() == 0) return notFound("no cache with id " + std::to_string(cache_id));
  return okStatus();
}

// --- NARs ------------------------------------------------------------------

Result<std::optional<NarRecord>> SqliteMetadataDb::findNarByHash(const Hash& nar_hash) {
  static const std::string kSql = sql({"SELECT ", kNarColumnsN, " FROM nar n WHERE nar_hash = ? AND state = 'valid'"});
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(auto stmt, conn_->prepare(kSql));
  stmt.bind(1, nar_hash.toHex());
  return queryOne(stmt, readNarAt0);
}

Result<std::optional<NarRecord>> SqliteMetadataDb::findNarById(std::int64_t nar_id) {
  static const std::string kSql = sql({"SELECT ", kNarColumnsN, " FROM nar n WHERE id = ? AND state = 'valid'"});
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(auto stmt, conn_->prepare(kSql));
  stmt.bind(1, nar_id);
  return queryOne(stmt, readNarAt0);
}

// --- staged uploads ----------------------------------------------------------

Status sqlite::putStagedOn(Connection& conn, const StagedUpload& staged) {
  GARRET_ASSIGN_OR_RETURN(
      auto stmt,
      conn.prepare("INSERT INTO staged_upload (cache_id, file_name, nar_id, client_file_hash, "
                     "client_file_size, expires_at, bound) VALUES (?, ?, ?, ?, ?, ?, ?) "
                     "ON CONFLICT (cache_id, file_name) DO UPDATE SET nar_id = excluded.nar_id, "
                     "client_file_hash = excluded.client_file_hash, "
                     "client_file_size = excluded.client_file_size, "
                     "expires_at = excluded.expires_at, bound = excluded.bound"));
  stmt.bind(1, staged.cache_id).bind(2, staged.file_name).bind(3, staged.nar_id);
  stmt.bind(4, staged.client_file_hash.toHex());
  stmt.bind(5, static_cast<std::int64_t>(staged.client_file_size)).bind(6, staged.expires_at);
  stmt.bind(7, std::int64_t{staged.bound});
  return stmt.run();
}

Status SqliteMetadataDb::putStaged(const StagedUpload& staged) {
  std::lock_guard lock(mu_);
  return sqlite::putStagedOn(*conn_, staged);
}

Result<std::optional<StagedUpload>> SqliteMetadataDb::findStaged(std::int64_t cache_id,
                                                                 std::string_view file_name,
                                                                 std::int64_t now) {
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(
      auto stmt,
      conn_->prepare("SELECT cache_id, file_name, nar_id, client_file_hash, client_file_size, "
                     "expires_at, bound FROM staged_upload "
                     "WHERE cache_id = ? AND file_name = ? AND (bound = 1 OR expires_at > ?)"));
  stmt.bind(1, cache_id).bind(2, file_name).bind(3, now);
  return queryOne(stmt, readStaged);
}

// --- objects -----------------------------------------------------------------

Result<ObjectRecord> sqlite::upsertObjectOn(Connection& conn, const ObjectRecord& object) {
  static const std::string kSql = sql(
      {"INSERT INTO object (cache_id, store_path_hash, store_path, nar_id, \"references\", "
       "deriver, system, ca, sigs, created_at, last_accessed_at, created_by, pinned) "
       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
       "ON CONFLICT (cache_id, store_path_hash) DO UPDATE SET store_path = excluded.store_path, "
       "nar_id = excluded.nar_id, \"references\" = excluded.\"references\", "
       "deriver = excluded.deriver, system = excluded.system, ca = excluded.ca, "
       "sigs = excluded.sigs, created_at = excluded.created_at, "
       "last_accessed_at = excluded.last_accessed_at, created_by = excluded.created_by, "
       "pinned = excluded.pinned RETURNING ",
       kObjectColumns});
  GARRET_ASSIGN_OR_RETURN(std::string references, toJsonArray(object.references));
  GARRET_ASSIGN_OR_RETURN(std::string sigs, toJsonArray(object.sigs));
  std::int64_t created_at = object.created_at != 0 ? object.created_at : currentTime();
  std::int64_t accessed_at = object.last_accessed_at != 0 ? object.last_accessed_at : created_at;
  GARRET_ASSIGN_OR_RETURN(auto stmt, conn.prepare(kSql));
  stmt.bind(1, object.cache_id).bind(2, object.store_path_hash).bind(3, object.store_path);
  stmt.bind(4, object.nar_id).bind(5, references).bind(6, object.deriver);
  stmt.bind(7, object.system).bind(8, object.ca).bind(9, sigs).bind(10, created_at);
  stmt.bind(11, accessed_at).bind(12, object.created_by).bind(13, std::int64_t{object.pinned});
  return queryRow(stmt, readObjectAt0);
}

Result<ObjectRecord> SqliteMetadataDb::upsertObject(const ObjectRecord& object) {
  std::lock_guard lock(mu_);
  return sqlite::upsertObjectOn(*conn_, object);
}

Result<std::optional<ObjectWithNar>> SqliteMetadataDb::findObject(
    std::int64_t cache_id, std::string_view store_path_hash) {
  static const std::string kSql = sql({"SELECT ", kObjectColumnsO, ", ", kNarColumnsN,
                                       " FROM object o JOIN nar n ON n.id = o.nar_id "
                                       "WHERE o.cache_id = ? AND o.store_path_hash = ? "
                                       "AND n.state = 'valid'"});
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(auto stmt, conn_->prepare(kSql));
  stmt.bind(1, cache_id).bind(2, store_path_hash);
  return queryOne(stmt, readObjectWithNar);
}

Result<std::optional<NarRecord>> SqliteMetadataDb::findNarInCache(std::int64_t cache_id,
                                                                  const Hash& file_hash) {
  static const std::string kSql =
      sql({"SELECT ", kNarColumnsN,
           " FROM nar n WHERE n.file_hash = ? AND n.state = 'valid' AND EXISTS "
           "(SELECT 1 FROM object o WHERE o.nar_id = n.id AND o.cache_id = ?) LIMIT 1"});
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(auto stmt, conn_->prepare(kSql));
  stmt.bind(1, file_hash.toHex()).bind(2, cache_id);
  return queryOne(stmt, readNarAt0);
}

Result<std::vector<std::string>> SqliteMetadataDb::missingPaths(
    std::int64_t cache_id, const std::vector<std::string>& store_path_hashes) {
  static const std::string kSql = [] {
    std::string text =
        "SELECT o.store_path_hash FROM object o JOIN nar n ON n.id = o.nar_id "
        "WHERE n.state = 'valid' AND o.cache_id = ? AND o.store_path_hash IN (?";
    for (std::size_t i = 1; i < kMissingChunk; ++i) text += ", ?";
    return text + ")";
  }();
  std::unordered_set<std::string> present;
  std::lock_guard lock(mu_);
  for (std::size_t start = 0; start < store_path_hashes.size(); start += kMissingChunk) {
    GARRET_ASSIGN_OR_RETURN(auto stmt, conn_->prepare(kSql));
    stmt.bind(1, cache_id);
    // Unused slots stay NULL, which matches nothing.
    std::size_t end = std::min(store_path_hashes.size(), start + kMissingChunk);
    for (std::size_t i = start; i < end; ++i) {
      stmt.bind(static_cast<int>(i - start + 2), store_path_hashes[i]);
    }
    GARRET_ASSIGN_OR_RETURN(auto found, queryAll(stmt, readText0));
    present.insert(found.begin(), found.end());
  }
  std::vector<std::string> missing;
  for (const std::string& hash : store_path_hashes) {
    if (!present.contains(hash)) missing.push_back(hash);
  }
  return missing;
}

Result<std::vector<std::string>> SqliteMetadataDb::listPathHashes(std::int64_t cache_id) {
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(
      auto stmt, conn_->prepare("SELECT o.store_path_hash FROM object o JOIN nar n "
                                "ON n.id = o.nar_id WHERE o.cache_id = ? AND n.state = 'valid'"));
  stmt.bind(1, cache_id);
  return queryAll(stmt, readText0);
}

Status SqliteMetadataDb::touchObjects(const std::vector<AccessTouch>& touches) {
  if (touches.empty()) return okStatus();
  std::lock_guard lock(mu_);
  Transaction txn(*conn_);
  GARRET_TRY(txn.begin());
  for (const AccessTouch& touch : touches) {
    if (touch.store_path_hash.empty()) {
      GARRET_ASSIGN_OR_RETURN(
          auto stmt,
          conn_->prepare("UPDATE object SET last_accessed_at = MAX(last_accessed_at, ?) "
                         "WHERE cache_id = ? AND nar_id = ?"));
      stmt.bind(1, touch.at).bind(2, touch.cache_id).bind(3, touch.nar_id);
      GARRET_TRY(stmt.run());
      continue;
    }
    GARRET_ASSIGN_OR_RETURN(
        auto stmt, conn_->prepare("UPDATE object SET last_accessed_at = MAX(last_accessed_at, ?) "
                                  "WHERE cache_id = ? AND store_path_hash = ?"));
    stmt.bind(1, touch.at).bind(2, touch.cache_id).bind(3, touch.store_path_hash);
    GARRET_TRY(stmt.run());
  }
  return txn.commit();
}

Status SqliteMetadataDb::setPinned(std::int64_t cache_id, std::string_view store_path_hash,
                                   bool pinned) {
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(
      auto stmt,
      conn_->prepare("UPDATE object SET pinned = ? WHERE cache_id = ? AND store_path_hash = ?"));
  stmt.bind(1, std::int64_t{pinned}).bind(2, cache_id).bind(3, store_path_hash);
  GARRET_TRY(stmt.run());
  if (conn_->changes() == 0) {
    return notFound("the cache has no store path " + std::string(store_path_hash));
  }
  return okStatus();
}

Result<std::vector<ObjectRecord>> SqliteMetadataDb::listPinned(std::int64_t cache_id) {
  static const std::string kSql = sql(
      {"SELECT ", kObjectColumns, " FROM object WHERE cache_id = ? AND pinned = 1 ORDER BY store_path"});
  std::lock_guard lock(mu_);
  GARRET_ASSIGN_OR_RETURN(auto stmt, conn_->prepare(kSql));
  stmt.bind(1, cache_id);
  return queryAll(stmt, readObjectAt0);
}

}  // namespace garret::db
