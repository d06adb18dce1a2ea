#pragma once

// garretd's server configuration: Attic's server.toml keys as they are, plus
// garret's own keys under a [garret] table, environment overrides, and the
// defaults derived from the data directory.
//
// Loading runs in three steps, each usable on its own:
//   parseConfig / loadConfigFile  TOML → ServerConfig; unknown keys, wrong
//                                 types and bad values are errors naming the
//                                 key ("`storage.pathh`").
//   applyEnvironment              GARRET_<KEY> overrides every key; Attic's
//                                 ATTIC_SERVER_* and AWS_* variables fill
//                                 values the file leaves unset, as in Attic.
//   finalizeConfig                defaults derived from data_dir, then the
//                                 checks that span several keys.
// loadServerConfig runs all three the way `garretd` does.
//
// All keys live in one table in config.cpp; the parser, the environment step,
// the example config and the reference in docs/configuration.md are all
// generated from it. Nothing here throws.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace garret::app {

struct StorageConfig {
  std::string type = "local";  // "local" or "s3"
  std::string path;            // local; finalizeConfig: <data_dir>/storage
  // s3:
  std::string bucket;
  std::string region;
  std::string endpoint;  // S3-compatible server; path-style addressing by default
  std::string access_key_id;
  std::string secret_access_key;
  // garret's own s3 keys.
  std::string addressing = "auto";  // auto | path | virtual-hosted
  std::string prefix;               // object names are <prefix><key>
  std::uint64_t part_size = 8ull << 20;
  int max_connections = 16;
};

// FastCDC parameters, bytes. NARs smaller than nar_size_threshold are stored
// whole; 0 disables chunking.
struct ChunkingConfig {
  std::uint64_t nar_size_threshold = 65536;
  std::uint64_t min_size = 16384;
  std::uint64_t avg_size = 65536;
  std::uint64_t max_size = 262144;
};

struct CompressionConfig {
  std::string type = "zstd";  // none | brotli | zstd | xz
  // Unset means the type's default; finalizeConfig fills it in.
  std::optional<int> level;
};

struct GcConfig {
  std::int64_t interval_seconds = 12 * 3600;  // 0 disables periodic GC
  std::int64_t default_retention_period = 0;  // seconds; 0 = keep forever
};

struct JwtConfig {
  // At most one of the three signing keys is set (base64, as in Attic).
  std::optional<std::string> hs256_secret_base64;
  std::optional<std::string> rs256_secret_base64;  // PEM RSA private key
  std::optional<std::string> rs256_pubkey_base64;  // PEM RSA public key; verify only
  std::optional<std::string> bound_issuer;         // required `iss`
  std::vector<std::string> bound_audiences;        // one must be in `aud`
  std::vector<std::string> blacklist_subjects;     // `sub` values always refused
};

struct ServerConfig {
  // Attic's top-level keys. garret listens on loopback by default (Attic:
  // "[::]:8080") so that a zero-config start is not exposed to the network.
  std::string listen = "127.0.0.1:8080";
  std::vector<std::string> allowed_hosts;           // empty: any Host header
  std::optional<std::string> api_endpoint;          // ends with '/'
  std::optional<std::string> substituter_endpoint;  // finalizeConfig appends '/'
  bool soft_delete_caches = false;
  bool require_proof_of_possession = true;
  std::uint64_t max_nar_info_size = 1048576;

  std::string database_url;  // finalizeConfig: sqlite://<data_dir>/garret.db
  // PostgreSQL: a file holding the password (garret's own key).
  std::string database_password_file;
  bool database_heartbeat = false;

  StorageConfig storage;
  ChunkingConfig chunking;
  CompressionConfig compression;
  GcConfig garbage_collection;
  JwtConfig jwt;

  // garret's own keys, under [garret].
  std::string data_dir = "garret-data";
  int threads = 0;         // network threads; 0 = hardware concurrency
  int worker_threads = 0;  // blocking database/storage work; 0 = hardware concurrency
  int database_pool_size = 8;  // PostgreSQL connections per process
  std::uint64_t max_body_size = 32ull << 30;
  std::uint64_t max_header_size = 16384;
  std::int64_t idle_timeout_seconds = 60;
  std::int64_t read_timeout_seconds = 300;
  // Qualifies the names of newly created cache signing keys:
  // "<prefix><cache>-1", e.g. "cache.example.org-main-1". Empty: "<hostname>-"
  // (filled in by app::serviceOptions).
  std::string signing_key_prefix;
  std::string log_format = "text";  // text | json
  std::int64_t staged_upload_ttl_seconds = 86400;
  // Chunked storage and garbage collection.
  std::uint64_t pack_size = 32ull << 20;
  int pack_rewrite_percent = 50;
  std::int64_t gc_grace_period_seconds = 3600;
  int ingest_threads = 0;  // chunk hashing/compression; 0 = hardware concurrency
  std::int64_t narinfo_cache_entries = 100000;
  std::int64_t narinfo_cache_ttl_seconds = 60;
  bool create_default_cache = true;
  std::string default_cache = "main";
};

// A URL fit for logs and printed configs: "postgresql://user:secret@host/db"
// becomes "postgresql://user:***@host/db"; URLs without a password are kept.
std::string redactUrlPassword(std::string_view url);

// getenv-like; returns nullopt for unset variables. Injected for tests.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

// The process environment (std::getenv).
EnvLookup processEnvironment();

// Parses server.toml text. source_name prefixes error messages
// ("server.toml:12: unknown key `storage.pathh`"). Checks each value and the
// rules that need only the file (at most one [jwt.signing] key, chunk size
// order, compression level range); finalizeConfig checks the rest.
Result<ServerConfig> parseConfig(std::string_view toml_text, std::string_view source_name);

// Reads and parses a file: kNotFound if it does not exist, kIo if unreadable.
Result<ServerConfig> loadConfigFile(const std::filesystem::path& path);

// Overrides keys from the environment. Empty variables count as unset.
//  1. GARRET_<KEY> for every key, e.g. GARRET_LISTEN, GARRET_DATABASE_URL,
//     GARRET_STORAGE_PATH, GARRET_DATA_DIR (keys of [garret] drop the table
//     name). Values are text checked like the TOML value: numbers, booleans
//     (true/false/1/0/yes/no/on/off), durations ("12 hours"), lists
//     (comma-separated).
//  2. Attic's variables, only where the value is still unset, as Attic reads
//     them: ATTIC_SERVER_DATABASE_URL (then the conventional DATABASE_URL);
//     the first of ATTIC_SERVER_TOKEN_RS256_PUBKEY_BASE64,
//     …_RS256_SECRET_BASE64, …_HS256_SECRET_BASE64 when no signing key is set;
//     AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY when neither storage
//     credential is set.
// Errors name the variable and the key.
Status applyEnvironment(ServerConfig& config, const EnvLookup& env);

// Fills the defaults derived from other keys (database url and local storage
// path under data_dir, compression level from the type) and checks the rules
// that span keys (s3 needs bucket and region, chunk sizes min <= avg <= max,
// at most one signing key). A config without a signing key is valid; the
// caller decides what to do without one.
Status finalizeConfig(ServerConfig& config);

// What `garretd` does: parse `file` if given, else the base64 TOML in
// ATTIC_SERVER_CONFIG_BASE64 if set, else start from the defaults; then
// applyEnvironment and finalizeConfig.
Result<ServerConfig> loadServerConfig(const std::optional<std::filesystem::path>& file,
                                      const EnvLookup& env);

// The level used when [compression] level is unset (Attic's choices):
// zstd 8, xz 2, brotli 5, none 0.
int defaultCompressionLevel(std::string_view compression_type);

// A complete server.toml with every key at its default and a comment per key;
// keys without a default are shown commented out with an example value.
// Parses back to ServerConfig{}.
std::string renderExampleConfig();

// Markdown tables (one per TOML table) of every key: type, default,
// environment variables, meaning. Embedded in docs/configuration.md.
std::string renderConfigReference();

// TOML of an effective config (e.g. after finalizeConfig), secrets replaced by
// "<redacted>"; for `check-config`-style output.
std::string renderEffectiveConfig(const ServerConfig& config);

}  // namespace garret::app
