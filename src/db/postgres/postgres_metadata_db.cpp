#include "db/postgres/postgres_metadata_db.h"

#include <algorithm>
#include <unordered_set>
#include <utility>

#include "db/json_text.h"
#include "db/postgres/postgres_connection.h"
#include "db/postgres/postgres_migrations.h"
#include "db/postgres/postgres_pool.h"
#include "db/postgres/postgres_query.h"

namespace garret::db {

using postgres::Connection;
using postgres::ConnectionPool;
using postgres::currentTime;
using postgres::kNarColumnsN;
using postgres::Params;
using postgres::readAll;
using postgres::readFirst;
using postgres::readHash;
using postgres::readNar;
using postgres::readOne;
using postgres::Row;
using postgres::Rows;
using postgres::Transaction;

namespace {

// Hashes per missingPaths query (one array parameter).
constexpr std::size_t kMissingBatch = 10000;


using rows::kCacheColumns;
using rows::kObjectColumns;
using rows::kObjectColumnsO;
constexpr auto readCache = &rows::cache<Row>;
constexpr auto readStaged = &rows::staged<Row>;
constexpr auto readObjectWithNar = &rows::objectWithNar<Row>;
Result<ObjectRecord> readObject(const Row& r, int first) { return rows::object(r, first); }
Result<NarRecord> readNarAt0(const Row& r) { return readNar(r, 0); }
Result<ObjectRecord> readObjectAt0(const Row& r) { return readObject(r, 0); }
Result<std::string> readText0(const Row& r) { return r.text(0); }

Status withContext(Status status, std::string_view what) {
  if (status.ok()) return status;
  return status.error().context(what);
}

Error cacheNameTaken(const Error& error, std::string_view name) {
  if (error.code != ErrorCode::kAlreadyExists) return error;
  return makeError(ErrorCode::kAlreadyExists, "cache \"" + std::string(name) + "\" already exists");
}

// Opens connections for the pool. A password file that cannot be read
// later on makes the database unavailable, like a refused login.
ConnectionPool::Connect connector(postgres::ConnectSpec spec, std::string password_file) {
  return [spec = std::move(spec),
          file = std::move(password_file)]() -> Result<std::unique_ptr<Connection>> {
    postgres::ConnectSpec with_password = spec;
    if (!file.empty()) {
      auto password = postgres::readPasswordFile(file);
      if (!password.ok()) return makeError(ErrorCode::kUnavailable, password.error().message);
      with_password.password = std::move(password).value();
    }
    return Connection::open(with_password);
  };
}

}  // namespace

PostgresMetadataDb::PostgresMetadataDb(std::unique_ptr<ConnectionPool> pool)
    : pool_(std::move(pool)) {}
PostgresMetadataDb::~PostgresMetadataDb() = default;

Result<std::unique_ptr<PostgresMetadataDb>> PostgresMetadataDb::open(
    const std::string& url, const PostgresOptions& options) {
  postgres::ConnectSpec spec;
  spec.url = url;
  spec.connect_timeout_seconds = options.connect_timeout_seconds;
  spec.statement_timeout_ms = static_cast<int>(options.statement_timeout.count());
  // Configuration mistakes are reported as such, before any connection.
  GARRET_TRY(postgres::connectParams(spec));
  if (!options.password_file.empty()) GARRET_TRY(postgres::readPasswordFile(options.password_file));
  auto pool = std::make_unique<ConnectionPool>(
      connector(spec, options.password_file),
      postgres::PoolOptions{options.pool_size, options.acquire_timeout,
                            options.reconnect_interval});
  {
    GARRET_ASSIGN_OR_RETURN(auto first, pool->acquire());  // kept in the pool
  }
  return std::unique_ptr<PostgresMetadataDb>(new PostgresMetadataDb(std::move(pool)));
}

Status PostgresMetadataDb::migrate() {
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  return withContext(postgres::runMigrations(*conn), "migrating database");
}

Status PostgresMetadataDb::migrateTo(int version) {
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  return withContext(postgres::runMigrations(*conn, version), "migrating database");
}

Result<int> PostgresMetadataDb::schemaVersion() {
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  return postgres::schemaVersion(*conn);
}

int PostgresMetadataDb::openConnections() { return pool_->openConnections(); }

Status PostgresMetadataDb::ping() {
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_TRY(conn->exec("SELECT 1"));
  return okStatus();
}

// --- caches ----------------------------------------------------------------

Result<std::optional<CacheRecord>> PostgresMetadataDb::findCache(std::string_view name) {
  static const std::string kSql =
      sql({"SELECT ", kCacheColumns, " FROM cache WHERE name = $1 AND deleted_at IS NULL"});
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_ASSIGN_OR_RETURN(Rows rows, conn->exec(kSql, Params().add(name)));
  return readOne(rows, readCache);
}

Result<std::vector<CacheRecord>> PostgresMetadataDb::listCaches() {
  // COLLATE "C": byte order whatever the database's collation, as in SQLite.
  static const std::string kSql = sql({"SELECT ", kCacheColumns,
                                       " FROM cache WHERE deleted_at IS NULL "
                                       "ORDER BY name COLLATE \"C\""});
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_ASSIGN_OR_RETURN(Rows rows, conn->exec(kSql));
  return readAll(rows, readCache);
}

Result<CacheRecord> PostgresMetadataDb::createCache(const CacheRecord& cache) {
  static const std::string kSql =
      sql({"INSERT INTO cache (name, keypair, is_public, store_dir, priority, "
           "upstream_cache_key_names, retention_period, created_at) "
           "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ",
           kCacheColumns});
  GARRET_ASSIGN_OR_RETURN(std::string upstream, toJsonArray(cache.upstream_cache_key_names));
  Params params;
  params.add(cache.name).add(cache.keypair).add(cache.is_public).add(cache.store_dir);
  params.add(std::int64_t{cache.priority}).add(upstream).add(cache.retention_period);
  params.add(cache.created_at != 0 ? cache.created_at : currentTime());
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  auto rows = conn->exec(kSql, params);
  if (!rows.ok()) return cacheNameTaken(rows.error(), cache.name);
  return readFirst(*rows, readCache);
}

Status PostgresMetadataDb::updateCache(const CacheRecord& cache) {
  GARRET_ASSIGN_OR_RETURN(std::string upstream, toJsonArray(cache.upstream_cache_key_names));
  Params params;
  params.add(cache.keypair).add(cache.is_public).add(cache.store_dir);
  params.add(std::int64_t{cache.priority}).add(upstream).add(cache.retention_period);
  params.add(cache.id);
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_ASSIGN_OR_RETURN(
      Rows rows, conn->exec("UPDATE cache SET keypair = $1, is_public = $2, store_dir = $3, "
                            "priority = $4, upstream_cache_key_names = $5, retention_period = $6 "
                            "WHERE id = $7 AND deleted_at IS NULL",
                            params));
  if (rows.affected() == 0) return notFound("no cache with id " + std::to_string(cache.id));
  return okStatus();
}

Status PostgresMetadataDb::deleteCache(std::int64_t cache_id, bool soft, std::int64_t now) {
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  auto rows = soft ? conn->exec(
                         "UPDATE cache SET deleted_at = $1 "
                         "WHERE id = $2 AND deleted_at IS NULL",
                         Params().add(now).add(cache_id))
                   : conn->exec("DELETE FROM cache WHERE id = $1", Params().add(cache_id));
  if (!rows.ok()) return std::move(rows).error();
  if (rows->affected() == 0) return notFound("no cache with id " + std::to_string(cache_id));
  return okStatus();
}

// --- NARs ------------------------------------------------------------------

Result<std::optional<NarRecord>> PostgresMetadataDb::findNarByHash(const Hash& nar_hash) {
  static const std::string kSql =
      sql({"SELECT ", kNarColumnsN, " FROM nar n WHERE nar_hash = $1 AND state = 'valid'"});
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_ASSIGN_OR_RETURN(Rows rows, conn->exec(kSql, Params().add(nar_hash.toHex())));
  return readOne(rows, readNarAt0);
}

Result<std::optional<NarRecord>> PostgresMetadataDb::findNarById(std::int64_t nar_id) {
  static const std::string kSql =
      sql({"SELECT ", kNarColumnsN, " FROM nar n WHERE id = $1 AND state = 'valid'"});
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_ASSIGN_OR_RETURN(Rows rows, conn->exec(kSql, Params().add(nar_id)));
  return readOne(rows, readNarAt0);
}

// --- staged uploads ----------------------------------------------------------

Status postgres::putStagedOn(Connection& conn, const StagedUpload& staged) {
  Params params;
  params.add(staged.cache_id).add(staged.file_name).add(staged.nar_id);
  params.add(staged.client_file_hash.toHex()).add(postgres::i64(staged.client_file_size));
  params.add(staged.expires_at).add(staged.bound);
  GARRET_TRY(
      conn.exec("INSERT INTO staged_upload (cache_id, file_name, nar_id, client_file_hash, "
                "client_file_size, expires_at, bound) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                "ON CONFLICT (cache_id, file_name) DO UPDATE SET nar_id = excluded.nar_id, "
                "client_file_hash = excluded.client_file_hash, "
                "client_file_size = excluded.client_file_size, "
                "expires_at = excluded.expires_at, bound = excluded.bound",
                params));
  return okStatus();
}

Status PostgresMetadataDb::putStaged(const StagedUpload& staged) {
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  return postgres::putStagedOn(*conn, staged);
}

Result<std::optional<StagedUpload>> PostgresMetadataDb::findStaged(std::int64_t cache_id,
                                                                   std::string_view file_name,
                                                                   std::int64_t now) {
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_ASSIGN_OR_RETURN(
      Rows rows,
      conn->exec("SELECT cache_id, file_name, nar_id, client_file_hash, client_file_size, "
                 "expires_at, bound FROM staged_upload "
                 "WHERE cache_id = $1 AND file_name = $2 AND (bound OR expires_at > $3)",
                 Params().add(cache_id).add(file_name).add(now)));
  return readOne(rows, readStaged);
}

// --- objects -----------------------------------------------------------------

Result<ObjectRecord> postgres::upsertObjectOn(Connection& conn, const ObjectRecord& object) {
  static const std::string kSql = sql(
      {"INSERT INTO object (cache_id, store_path_hash, store_path, nar_id, \"references\", "
       "deriver, system, ca, sigs, created_at, last_accessed_at, created_by, pinned) "
       "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) "
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
  Params params;
  params.add(object.cache_id).add(object.store_path_hash).add(object.store_path);
  params.add(object.nar_id).add(references).add(object.deriver).add(object.system);
  params.add(object.ca).add(sigs).add(created_at).add(accessed_at).add(object.created_by);
  params.add(object.pinned);
  GARRET_ASSIGN_OR_RETURN(Rows rows, conn.exec(kSql, params));
  return readFirst(rows, readObjectAt0);
}

Result<ObjectRecord> PostgresMetadataDb::upsertObject(const ObjectRecord& object) {
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  return postgres::upsertObjectOn(*conn, object);
}

Result<std::optional<ObjectWithNar>> PostgresMetadataDb::findObject(
    std::int64_t cache_id, std::string_view store_path_hash) {
  static const std::string kSql = sql({"SELECT ", kObjectColumnsO, ", ", kNarColumnsN,
                                       " FROM object o JOIN nar n ON n.id = o.nar_id "
                                       "WHERE o.cache_id = $1 AND o.store_path_hash = $2 "
                                       "AND n.state = 'valid'"});
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_ASSIGN_OR_RETURN(Rows rows, conn->exec(kSql, Params().add(cache_id).add(store_path_hash)));
  return readOne(rows, readObjectWithNar);
}

Result<std::optional<NarRecord>> PostgresMetadataDb::findNarInCache(std::int64_t cache_id,
                                                                    const Hash& file_hash) {
  static const std::string kSql =
      sql({"SELECT ", kNarColumnsN,
           " FROM nar n WHERE n.file_hash = $1 AND n.state = 'valid' AND EXISTS "
           "(SELECT 1 FROM object o WHERE o.nar_id = n.id AND o.cache_id = $2) LIMIT 1"});
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_ASSIGN_OR_RETURN(Rows rows,
                          conn->exec(kSql, Params().add(file_hash.toHex()).add(cache_id)));
  return readOne(rows, readNarAt0);
}

Result<std::vector<std::string>> PostgresMetadataDb::missingPaths(
    std::int64_t cache_id, const std::vector<std::string>& store_path_hashes) {
  if (store_path_hashes.empty()) return std::vector<std::string>();
  std::unordered_set<std::string> present;
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  for (std::size_t start = 0; start < store_path_hashes.size(); start += kMissingBatch) {
    std::size_t end = std::min(store_path_hashes.size(), start + kMissingBatch);
    std::vector<std::string> batch(store_path_hashes.begin() + static_cast<std::ptrdiff_t>(start),
                                   store_path_hashes.begin() + static_cast<std::ptrdiff_t>(end));
    GARRET_ASSIGN_OR_RETURN(
        Rows rows,
        conn->exec("SELECT o.store_path_hash FROM object o JOIN nar n ON n.id = o.nar_id "
                   "WHERE n.state = 'valid' AND o.cache_id = $1 "
                   "AND o.store_path_hash = ANY ($2::text[])",
                   Params().add(cache_id).addArray(batch)));
    GARRET_ASSIGN_OR_RETURN(auto found, readAll(rows, readText0));
    present.insert(found.begin(), found.end());
  }
  std::vector<std::string> missing;
  for (const std::string& hash : store_path_hashes) {
    if (!present.contains(hash)) missing.push_back(hash);
  }
  return missing;
}

Result<std::vector<std::string>> PostgresMetadataDb::listPathHashes(std::int64_t cache_id) {
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_ASSIGN_OR_RETURN(
      Rows rows, conn->exec("SELECT o.store_path_hash FROM object o JOIN nar n "
                            "ON n.id = o.nar_id WHERE o.cache_id = $1 AND n.state = 'valid'",
                            Params().add(cache_id)));
  return readAll(rows, readText0);
}

Status PostgresMetadataDb::touchObjects(const std::vector<AccessTouch>& touches) {
  if (touches.empty()) return okStatus();
  // Two statements for the whole batch (the read path sends large ones);
  // each target row takes the latest of its touches.
  std::vector<std::int64_t> path_caches, path_ats, nar_caches, nar_ids, nar_ats;
  std::vector<std::string> path_hashes;
  for (const AccessTouch& touch : touches) {
    if (touch.store_path_hash.empty()) {
      nar_caches.push_back(touch.cache_id);
      nar_ids.push_back(touch.nar_id);
      nar_ats.push_back(touch.at);
    } else {
      path_caches.push_back(touch.cache_id);
      path_hashes.push_back(touch.store_path_hash);
      path_ats.push_back(touch.at);
    }
  }
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  Transaction txn(*conn);
  GARRET_TRY(txn.begin());
  if (!path_hashes.empty()) {
    GARRET_TRY(conn->exec(
        "UPDATE object o SET last_accessed_at = GREATEST(o.last_accessed_at, t.at) "
        "FROM (SELECT cache_id, store_path_hash, MAX(at) AS at "
        "FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS u(cache_id, store_path_hash, at) "
        "GROUP BY cache_id, store_path_hash) t "
        "WHERE o.cache_id = t.cache_id AND o.store_path_hash = t.store_path_hash",
        Params().addArray(path_caches).addArray(path_hashes).addArray(path_ats)));
  }
  if (!nar_ids.empty()) {
    GARRET_TRY(conn->exec(
        "UPDATE object o SET last_accessed_at = GREATEST(o.last_accessed_at, t.at) "
        "FROM (SELECT cache_id, nar_id, MAX(at) AS at "
        "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(cache_id, nar_id, at) "
        "GROUP BY cache_id, nar_id) t "
        "WHERE o.cache_id = t.cache_id AND o.nar_id = t.nar_id",
        Params().addArray(nar_caches).addArray(nar_ids).addArray(nar_ats)));
  }
  return txn.commit();
}

Status PostgresMetadataDb::setPinned(std::int64_t cache_id, std::string_view store_path_hash,
                                     bool pinned) {
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_ASSIGN_OR_RETURN(
      Rows rows,
      conn->exec("UPDATE object SET pinned = $1 WHERE cache_id = $2 AND store_path_hash = $3",
                 Params().add(pinned).add(cache_id).add(store_path_hash)));
  if (rows.affected() == 0) {
    return notFound("the cache has no store path " + std::string(store_path_hash));
  }
  return okStatus();
}

Result<std::vector<ObjectRecord>> PostgresMetadataDb::listPinned(std::int64_t cache_id) {
  static const std::string kSql = sql({"SELECT ", kObjectColumns,
                                       " FROM object WHERE cache_id = $1 AND pinned "
                                       "ORDER BY store_path COLLATE \"C\""});
  GARRET_ASSIGN_OR_RETURN(auto conn, pool_->acquire());
  GARRET_ASSIGN_OR_RETURN(Rows rows, conn->exec(kSql, Params().add(cache_id)));
  return readAll(rows, readObjectAt0);
}

}  // namespace garret::db
