#include "app/runtime.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/encoding.h"
#include "db/postgres/postgres_metadata_db.h"
#include "db/sqlite/sqlite_metadata_db.h"
#include "storage/local/local_blob_store.h"
#include "storage/s3/s3_blob_store.h"

namespace garret::app {

namespace fs = std::filesystem;

namespace {

// PostgreSQL: a pool of connections; the URL goes to libpq as it is. Its
// password never appears in messages.
Result<std::unique_ptr<db::MetadataDb>> openPostgres(const ServerConfig& config) {
  db::PostgresOptions options;
  options.pool_size = config.database_pool_size;
  options.password_file = config.database_password_file;
  GARRET_ASSIGN_OR_RETURN(auto db, db::PostgresMetadataDb::open(config.database_url, options));
  auto migrated = db->migrate();
  if (!migrated.ok()) {
    Error error = migrated.error();
    if (error.message.find("permission denied") != std::string::npos) {
      error.message += "; the database user must be allowed to create tables (make it the "
                       "database's owner, e.g. `createdb -O <user> <name>`)";
    }
    return error;
  }
  return std::unique_ptr<db::MetadataDb>(std::move(db));
}

Result<std::unique_ptr<db::MetadataDb>> openDatabase(const ServerConfig& config) {
  const std::string& url = config.database_url;
  if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
    return openPostgres(config);
  }
  constexpr std::string_view kSqlite = "sqlite://";
  if (!url.starts_with(kSqlite)) {
    return invalid("`database.url` must start with sqlite://, postgres:// or postgresql://");
  }
  std::string path = url.substr(kSqlite.size());
  if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
  if (path != ":memory:") {
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path().empty() ? "." : fs::path(path).parent_path(), ec);
  }
  GARRET_ASSIGN_OR_RETURN(auto db, db::SqliteMetadataDb::open(path));
  GARRET_TRY(db->migrate());
  return std::unique_ptr<db::MetadataDb>(std::move(db));
}

storage::S3Addressing s3Addressing(const std::string& style) {
  if (style == "path") return storage::S3Addressing::kPath;
  if (style == "virtual-hosted") return storage::S3Addressing::kVirtualHosted;
  return storage::S3Addressing::kAuto;
}

// The config already holds [storage.credentials] or, failing those,
// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY. AWS_SESSION_TOKEN belongs to the
// key id in AWS_ACCESS_KEY_ID, so it is used only with that key id.
storage::S3Options s3Options(const StorageConfig& s, const EnvLookup& env) {
  storage::S3Options o;
  o.bucket = s.bucket;
  o.region = s.region;
  o.endpoint = s.endpoint;
  o.addressing = s3Addressing(s.addressing);
  o.access_key_id = s.access_key_id;
  o.secret_access_key = s.secret_access_key;
  auto env_key_id = env("AWS_ACCESS_KEY_ID");
  auto token = env("AWS_SESSION_TOKEN");
  if (token && !token->empty() && env_key_id && *env_key_id == s.access_key_id) {
    o.session_token = *token;
  }
  o.prefix = s.prefix;
  o.part_size = static_cast<std::size_t>(s.part_size);
  o.max_connections = s.max_connections;
  return o;
}

Result<std::unique_ptr<storage::BlobStore>> openStorage(const StorageConfig& s) {
  if (s.type == "s3") {
    auto store = storage::S3BlobStore::open(s3Options(s, processEnvironment()));
    if (!store.ok()) return store.error().context("[storage] type = \"s3\"");
    return std::unique_ptr<storage::BlobStore>(std::move(store).value());
  }
  if (s.type != "local") {
    return invalid("storage type " + s.type + " is not supported; use \"local\" or \"s3\"");
  }
  GARRET_ASSIGN_OR_RETURN(auto store, storage::LocalBlobStore::open(std::filesystem::path(s.path)));
  return std::unique_ptr<storage::BlobStore>(std::move(store));
}

Result<std::string> readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError(ErrorCode::kIo, "cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A random HS256 secret kept in the data directory, so that tokens stay
// valid across restarts without any configuration.
Result<auth::TokenKey> localSecret(const ServerConfig& config) {
  fs::path file = fs::path(config.data_dir) / "jwt-secret";
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    fs::create_directories(config.data_dir, ec);
    GARRET_ASSIGN_OR_RETURN(auto secret, auth::generateHs256Secret());
    fs::path tmp = file.string() + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << base64Encode(ByteSpan(secret.data(), secret.size())) << "\n";
      if (!out) return makeError(ErrorCode::kIo, "cannot write " + tmp.string());
    }
    ::chmod(tmp.c_str(), 0600);
    fs::rename(tmp, file, ec);
    if (ec) return makeError(ErrorCode::kIo, "cannot create " + file.string() + ": " + ec.message());
  }
  GARRET_ASSIGN_OR_RETURN(std::string text, readFile(file));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  auto key = auth::TokenKey::hs256FromBase64(text);
  if (!key.ok()) return key.error().context(file.string());
  return key;
}

// Key names must not collide across servers (two "main-1" keys would be
// trusted interchangeably), so by default they carry the host name.
std::string hostKeyPrefix() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "garret-";
  std::string name(host);
  for (char& ch : name) {
    if (ch == ':' || ch == ' ' || ch == '\t') ch = '-';
  }
  return name + "-";
}

}  // namespace

Result<auth::TokenKey> loadTokenKey(const ServerConfig& config) {
  const auto& j = config.jwt;
  if (j.hs256_secret_base64) return auth::TokenKey::hs256FromBase64(*j.hs256_secret_base64);
  if (j.rs256_secret_base64) return auth::TokenKey::rs256FromBase64Pem(*j.rs256_secret_base64, true);
  if (j.rs256_pubkey_base64) return auth::TokenKey::rs256FromBase64Pem(*j.rs256_pubkey_base64, false);
  return localSecret(config);
}

http::ServerOptions serverOptions(const ServerConfig& c) {
  http::ServerOptions o;
  o.listen = c.listen;
  o.threads = c.threads;
  o.worker_threads = c.worker_threads;
  o.max_header_size = c.max_header_size;
  o.max_nar_info_size = c.max_nar_info_size;
  o.max_body_size = c.max_body_size;
  o.idle_timeout_seconds = static_cast<int>(c.idle_timeout_seconds);
  o.io_timeout_seconds = static_cast<int>(c.read_timeout_seconds);
  o.api_endpoint = c.api_endpoint;
  o.substituter_endpoint = c.substituter_endpoint;
  return o;
}

cache::ServiceOptions serviceOptions(const ServerConfig& c) {
  cache::ServiceOptions o;
  o.zstd_level = c.compression.level.value_or(defaultCompressionLevel("zstd"));
  o.max_nar_size = c.max_body_size * 16;
  o.staged_upload_ttl = c.staged_upload_ttl_seconds;
  o.signing_key_prefix = c.signing_key_prefix.empty() ? hostKeyPrefix() : c.signing_key_prefix;
  o.soft_delete_caches = c.soft_delete_caches;
  o.narinfo_cache_entries = static_cast<std::size_t>(c.narinfo_cache_entries);
  o.memory_ttl = c.narinfo_cache_ttl_seconds;
  o.chunking = chunk::ChunkingParams{static_cast<std::uint32_t>(c.chunking.nar_size_threshold),
                                     static_cast<std::uint32_t>(c.chunking.min_size),
                                     static_cast<std::uint32_t>(c.chunking.avg_size),
                                     static_cast<std::uint32_t>(c.chunking.max_size)};
  o.pack_size = c.pack_size;
  o.ingest_threads = static_cast<unsigned>(c.ingest_threads);
  return o;
}

cache::GcOptions gcOptions(const ServerConfig& c) {
  cache::GcOptions o;
  o.default_retention_period = c.garbage_collection.default_retention_period;
  o.grace_period = c.gc_grace_period_seconds;
  o.rewrite_threshold = c.pack_rewrite_percent / 100.0;
  o.pack_size = c.pack_size;
  return o;
}

Result<std::unique_ptr<Runtime>> openRuntime(const ServerConfig& config) {
  auto rt = std::make_unique<Runtime>();
  rt->config = config;
  GARRET_ASSIGN_OR_RETURN(rt->db, openDatabase(config));
  GARRET_ASSIGN_OR_RETURN(rt->blobs, openStorage(config.storage));
  GARRET_ASSIGN_OR_RETURN(auth::TokenKey key, loadTokenKey(config));
  auth::VerifyOptions verify;
  verify.issuer = config.jwt.bound_issuer;
  verify.audiences = config.jwt.bound_audiences;
  rt->authenticator = std::make_unique<cache::Authenticator>(std::move(key), verify, rt->clock,
                                                             config.jwt.blacklist_subjects);
  rt->service = std::make_unique<cache::CacheService>(*rt->db, *rt->blobs, rt->clock,
                                                      serviceOptions(config));
  return rt;
}

Result<bool> ensureDefaultCache(Runtime& rt) {
  if (!rt.config.create_default_cache) return false;
  GARRET_ASSIGN_OR_RETURN(auto caches, rt.service->listCaches());
  if (!caches.empty()) return false;
  cache::CacheSettings settings;
  settings.is_public = false;
  GARRET_TRY(rt.service->createCache(rt.config.default_cache, settings));
  return true;
}

std::string quickStart(const Runtime&, const cache::CacheView& cache, const std::string& base_url,
                       const std::string& token) {
  std::string host = base_url.substr(base_url.find("://") + 3);
  host = host.substr(0, host.find(':'));
  std::string url = base_url + "/" + cache.record.name;
  return fmt::format(
      "\n"
      "garretd is serving cache \"{0}\" ({5}) at {1}\n"
      "\n"
      "A token that may pull from and push to \"{0}\" (valid 1 year; make more with\n"
      "`garretd make-token --sub NAME --validity 1y --pull {0} --push {0}`):\n"
      "\n"
      "  {2}\n"
      "\n"
      "Substitute from it — add to nix.conf (/etc/nix/nix.conf or ~/.config/nix/nix.conf):\n"
      "\n"
      "  extra-substituters = {1}\n"
      "  extra-trusted-public-keys = {3}\n"
      "  netrc-file = /etc/nix/netrc\n"
      "\n"
      "and to /etc/nix/netrc (chmod 600):\n"
      "\n"
      "  machine {4} password {2}\n"
      "\n"
      "Push to it:\n"
      "\n"
      "  nix copy --to '{1}?compression=zstd' /nix/store/…\n",
      cache.record.name, url, token, cache.public_key, host,
      cache.record.is_public ? "public" : "private");
}

}  // namespace garret::app
