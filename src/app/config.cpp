#include "app/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <sstream>
#include <system_error>
#include <toml.hpp>
#include <utility>
#include <variant>

#include "auth/claims.h"
#include "chunk/fastcdc.h"
#include "core/duration.h"
#include "core/encoding.h"
#include "core/text.h"
#include "storage/blob_store.h"

namespace garret::app {
namespace {

namespace fs = std::filesystem;

// std::map keeps keys sorted, so the first unknown key reported is stable.
using TomlValue = toml::basic_value<toml::discard_comments, std::map, std::vector>;

// ---------------------------------------------------------------------------
// The key table. Each key names its place in ServerConfig through a field
// accessor; the accessor's type decides how values are read and rendered.

using StringField = std::string& (*)(ServerConfig&);
using OptStringField = std::optional<std::string>& (*)(ServerConfig&);
using ListField = std::vector<std::string>& (*)(ServerConfig&);
using BoolField = bool& (*)(ServerConfig&);
using U64Field = std::uint64_t& (*)(ServerConfig&);
using I64Field = std::int64_t& (*)(ServerConfig&);
using IntField = int& (*)(ServerConfig&);
using OptIntField = std::optional<int>& (*)(ServerConfig&);
// Seconds, written as a human duration ("12 hours") or an integer.
struct DurationField {
  explicit DurationField(std::int64_t& (*g)(ServerConfig&)) : get(g) {}
  std::int64_t& (*get)(ServerConfig&);
};

using Field = std::variant<StringField, OptStringField, ListField, BoolField, U64Field, I64Field,
                           IntField, OptIntField, DurationField>;

#define GARRET_FIELD(member) (+[](ServerConfig & c) -> auto& { return c.member; })
#define GARRET_DURATION(member) Field(DurationField(GARRET_FIELD(member)))

using TextCheck = Status (*)(std::string_view value);

// How an Attic environment variable fills a key that is still unset.
enum class Fallback {
  kNone,
  kWhenUnset,            // the key itself is unset
  kWhenTableUnset,       // every fallback key of its table was unset
  kFirstWhenTableUnset,  // as above, and only the first variable found is used
};

struct Key {
  std::string_view path;  // "storage.path"; [garret] keys are "garret.<key>"
  Field field;
  std::string_view help;
  std::string_view example = {};       // TOML shown commented out when unset
  std::string_view default_note = {};  // documented default when derived
  std::string_view choices = {};       // "a|b|c"
  TextCheck check = nullptr;
  std::int64_t min = 0;
  std::int64_t max = std::numeric_limits<std::int64_t>::max();
  bool secret = false;
  std::string_view attic_env = {};
  Fallback fallback = Fallback::kNone;
  // A conventional variable tried after attic_env, by the same rule
  // (DATABASE_URL, which Heroku-style platforms and operators set).
  std::string_view extra_env = {};
};

Status checkListen(std::string_view value);
Status checkDatabaseUrl(std::string_view value);
Status checkHttpUrl(std::string_view value);
Status checkApiEndpoint(std::string_view value);
Status checkBase64Secret(std::string_view value);
Status checkBase64Pem(std::string_view value);
Status checkNotEmpty(std::string_view value);
Status checkKeyPrefix(std::string_view value);
Status checkCacheName(std::string_view value);
Status checkStoragePrefix(std::string_view value);

// Order matters: keys of one table are contiguous, top-level keys come
// first, and Attic's JWT variables are tried in this order (as Attic does).
const Key kKeys[] = {
    {.path = "listen",
     .field = GARRET_FIELD(listen),
     .help = "Address to listen on, `host:port` (`[::]:8080` for every interface; port 0 picks "
             "a free port). Attic's default is `[::]:8080`; garret's is loopback only.",
     .check = checkListen},
    {.path = "allowed-hosts",
     .field = GARRET_FIELD(allowed_hosts),
     .help = "Accepted `Host` headers; empty accepts any. Set this in production."},
    {.path = "api-endpoint",
     .field = GARRET_FIELD(api_endpoint),
     .help = "Canonical API URL given to clients, ending in `/`. Unset: built from the "
             "request's `Host` header.",
     .example = R"("https://cache.example.org/")",
     .check = checkApiEndpoint},
    {.path = "substituter-endpoint",
     .field = GARRET_FIELD(substituter_endpoint),
     .help = "Canonical binary cache URL given to clients. Unset: same as `api-endpoint`. "
             "A missing trailing `/` is added.",
     .example = R"("https://cache.example.org/")",
     .check = checkHttpUrl},
    {.path = "soft-delete-caches",
     .field = GARRET_FIELD(soft_delete_caches),
     .help = "Mark destroyed caches deleted instead of removing their records; their names "
             "stay taken."},
    {.path = "require-proof-of-possession",
     .field = GARRET_FIELD(require_proof_of_possession),
     .help = "Make a client upload a NAR the server already has before adding it to another "
             "cache. If false, knowing the NAR hash is enough."},
    {.path = "max-nar-info-size",
     .field = GARRET_FIELD(max_nar_info_size),
     .help = "Largest upload info (the JSON sent with a NAR upload), in bytes.",
     .min = 1},

    {.path = "database.url",
     .field = GARRET_FIELD(database_url),
     .help = "Database URL: `sqlite://<path>` or `postgres://`/`postgresql://` "
             "(use PostgreSQL to run several garretd replicas).",
     .example = R"("postgresql://garret@db.example.org/garret")",
     .default_note = "`sqlite://<data-dir>/garret.db`",
     .check = checkDatabaseUrl,
     .attic_env = "ATTIC_SERVER_DATABASE_URL",
     .fallback = Fallback::kWhenUnset,
     .extra_env = "DATABASE_URL"},
    {.path = "database.password-file",
     .field = GARRET_FIELD(database_password_file),
     .help = "PostgreSQL only (garret's own key): a file holding the password, e.g. a mounted "
             "Kubernetes secret. Its content without surrounding whitespace replaces any "
             "password in `url`; it is read again for every new connection, so a rotated "
             "password needs no restart.",
     .example = R"("/run/secrets/garret-db-password")"},
    {.path = "database.heartbeat",
     .field = GARRET_FIELD(database_heartbeat),
     .help = "Send a query every minute to keep database connections alive."},

    {.path = "storage.type",
     .field = GARRET_FIELD(storage.type),
     .help = "Where NARs and chunks are stored: `local` (a directory) or `s3`.",
     .choices = "local|s3"},
    {.path = "storage.path",
     .field = GARRET_FIELD(storage.path),
     .help = "Directory for local storage.",
     .example = R"("/var/lib/garret/storage")",
     .default_note = "`<data-dir>/storage`"},
    {.path = "storage.region",
     .field = GARRET_FIELD(storage.region),
     .help = "S3 region (required with `type = \"s3\"`).",
     .example = R"("us-east-1")"},
    {.path = "storage.bucket",
     .field = GARRET_FIELD(storage.bucket),
     .help = "S3 bucket (required with `type = \"s3\"`).",
     .example = R"("garret")"},
    {.path = "storage.endpoint",
     .field = GARRET_FIELD(storage.endpoint),
     .help = "S3-compatible server URL (MinIO, Garage, R2, ...), `http://` or `https://`. "
             "Unset: AWS (`https://s3.<region>.amazonaws.com`).",
     .example = R"("https://s3.example.org")",
     .check = checkHttpUrl},
    {.path = "storage.addressing",
     .field = GARRET_FIELD(storage.addressing),
     .help = "S3 request style (garret only): `path` (`<endpoint>/<bucket>/<key>`), "
             "`virtual-hosted` (`<bucket>.<endpoint host>/<key>`), or `auto`: path-style with "
             "an `endpoint`, virtual-hosted on AWS unless the bucket name has dots.",
     .choices = "auto|path|virtual-hosted"},
    {.path = "storage.prefix",
     .field = GARRET_FIELD(storage.prefix),
     .help = "S3 object name prefix (garret only), e.g. \"garret/\" to share a bucket; a "
             "missing trailing `/` is added.",
     .example = R"("garret/")",
     .check = checkStoragePrefix},
    {.path = "storage.part-size",
     .field = GARRET_FIELD(storage.part_size),
     .help = "S3 upload part size, bytes (garret only): blobs up to this size are one "
             "PutObject, larger ones multipart uploads in parts of this size. Each upload "
             "buffers about two parts in memory.",
     .min = 5 << 20,
     .max = std::int64_t{5} << 30},
    {.path = "storage.max-connections",
     .field = GARRET_FIELD(storage.max_connections),
     .help = "Most S3 requests in flight at once (garret only); further requests wait.",
     .min = 1,
     .max = 1024},
    {.path = "storage.credentials.access_key_id",
     .field = GARRET_FIELD(storage.access_key_id),
     .help = "S3 access key id. If neither credential is set, read from `AWS_ACCESS_KEY_ID`.",
     .example = R"("GK0123456789")",
     .attic_env = "AWS_ACCESS_KEY_ID",
     .fallback = Fallback::kWhenTableUnset},
    {.path = "storage.credentials.secret_access_key",
     .field = GARRET_FIELD(storage.secret_access_key),
     .help = "S3 secret access key. If neither credential is set, read from "
             "`AWS_SECRET_ACCESS_KEY`.",
     .example = R"("secret")",
     .secret = true,
     .attic_env = "AWS_SECRET_ACCESS_KEY",
     .fallback = Fallback::kWhenTableUnset},

    {.path = "chunking.nar-size-threshold",
     .field = GARRET_FIELD(chunking.nar_size_threshold),
     .help = "NARs of at least this many bytes are split into content-defined chunks; "
             "smaller ones are one chunk. 1 chunks every NAR; 0 turns content-defined chunking "
             "off (NARs are then cut every `max-size` bytes, which dedups only identical "
             "NARs). Changing any chunking value lowers deduplication with chunks stored "
             "before the change."},
    {.path = "chunking.min-size",
     .field = GARRET_FIELD(chunking.min_size),
     .help = "Smallest chunk, bytes.",
     .min = 64,
     .max = 1 << 20},
    {.path = "chunking.avg-size",
     .field = GARRET_FIELD(chunking.avg_size),
     .help = "Preferred average chunk, bytes; between `min-size` and `max-size`.",
     .min = 256,
     .max = 4 << 20},
    {.path = "chunking.max-size",
     .field = GARRET_FIELD(chunking.max_size),
     .help = "Largest chunk, bytes.",
     .min = 1024,
     .max = 16 << 20},

    {.path = "compression.type",
     .field = GARRET_FIELD(compression.type),
     .help = "Compression of stored NARs: `none`, `brotli`, `zstd` or `xz`.",
     .choices = "none|brotli|zstd|xz"},
    {.path = "compression.level",
     .field = GARRET_FIELD(compression.level),
     .help = "Compression level: zstd 1-22, xz 0-9, brotli 0-11.",
     .example = "8",
     .default_note = "zstd 8, xz 2, brotli 5",
     .max = 22},

    {.path = "garbage-collection.interval",
     .field = GARRET_DURATION(garbage_collection.interval_seconds),
     .help = "How often garbage collection runs, e.g. \"12 hours\"; 0 disables the periodic "
             "run (`garretd gc` still works)."},
    {.path = "garbage-collection.default-retention-period",
     .field = GARRET_DURATION(garbage_collection.default_retention_period),
     .help = "Objects neither created nor accessed within this period are deleted, for caches "
             "without their own period, e.g. \"6 months\"; 0 keeps them forever."},

    {.path = "jwt.token-bound-issuer",
     .field = GARRET_FIELD(jwt.bound_issuer),
     .help = "If set, tokens must carry this `iss` claim.",
     .example = R"("garret")"},
    {.path = "jwt.token-bound-audiences",
     .field = GARRET_FIELD(jwt.bound_audiences),
     .help = "If set, a token's `aud` claim must contain one of these.",
     .example = R"(["garret"])"},
    {.path = "jwt.signing.token-rs256-pubkey-base64",
     .field = GARRET_FIELD(jwt.rs256_pubkey_base64),
     .help = "Base64 of a PEM RSA public key: verify RS256 tokens, mint none.",
     .example = R"("LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0K...")",
     .check = checkBase64Pem,
     .attic_env = "ATTIC_SERVER_TOKEN_RS256_PUBKEY_BASE64",
     .fallback = Fallback::kFirstWhenTableUnset},
    {.path = "jwt.signing.token-rs256-secret-base64",
     .field = GARRET_FIELD(jwt.rs256_secret_base64),
     .help = "Base64 of a PEM RSA private key: sign and verify RS256 tokens.",
     .example = R"("LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo...")",
     .check = checkBase64Pem,
     .secret = true,
     .attic_env = "ATTIC_SERVER_TOKEN_RS256_SECRET_BASE64",
     .fallback = Fallback::kFirstWhenTableUnset},
    {.path = "jwt.signing.token-hs256-secret-base64",
     .field = GARRET_FIELD(jwt.hs256_secret_base64),
     .help = "Base64 of an HMAC secret (e.g. `openssl rand 64 | base64 -w0`): sign and verify "
             "HS256 tokens. Set at most one of the three signing keys.",
     .example = R"("c2VjcmV0...")",
     .check = checkBase64Secret,
     .secret = true,
     .attic_env = "ATTIC_SERVER_TOKEN_HS256_SECRET_BASE64",
     .fallback = Fallback::kFirstWhenTableUnset},
    {.path = "jwt.blacklist.subjects",
     .field = GARRET_FIELD(jwt.blacklist_subjects),
     .help = "Tokens with one of these `sub` claims are refused.",
     .example = R"(["former-ci-runner"])"},

    {.path = "garret.data-dir",
     .field = GARRET_FIELD(data_dir),
     .help = "Directory for the default SQLite database and local storage.",
     .check = checkNotEmpty},
    {.path = "garret.threads",
     .field = GARRET_FIELD(threads),
     .help = "Network threads; 0 = one per CPU.",
     .max = 1024},
    {.path = "garret.worker-threads",
     .field = GARRET_FIELD(worker_threads),
     .help = "Threads for blocking database and storage work; 0 = one per CPU.",
     .max = 4096},
    {.path = "garret.database-pool-size",
     .field = GARRET_FIELD(database_pool_size),
     .help = "PostgreSQL connections each garretd process opens at most (on demand); a call "
             "finding all busy waits up to 10 s, then fails with 503. Keep replicas times this "
             "below the server's `max_connections`.",
     .min = 1,
     .max = 1000},
    {.path = "garret.max-body-size",
     .field = GARRET_FIELD(max_body_size),
     .help = "Largest request body (a NAR upload), bytes.",
     .min = 1},
    {.path = "garret.max-header-size",
     .field = GARRET_FIELD(max_header_size),
     .help = "Largest request header block, bytes.",
     .min = 1024,
     .max = 1 << 20},
    {.path = "garret.idle-timeout",
     .field = GARRET_DURATION(idle_timeout_seconds),
     .help = "Close keep-alive connections idle this long.",
     .min = 1},
    {.path = "garret.read-timeout",
     .field = GARRET_DURATION(read_timeout_seconds),
     .help = "Fail a request whose client sends nothing for this long.",
     .min = 1},
    {.path = "garret.signing-key-prefix",
     .field = GARRET_FIELD(signing_key_prefix),
     .help = "Prefix of the names of newly generated cache signing keys, e.g. "
             "\"cache.example.org-\" names them \"cache.example.org-<cache>-1\". Empty: the host "
             "name and a dash, so that two servers' keys never share a name. Keys imported "
             "from Attic keep their names.",
     .check = checkKeyPrefix},
    {.path = "garret.log-format",
     .field = GARRET_FIELD(log_format),
     .help = "Log lines as `text` or `json`.",
     .choices = "text|json"},
    {.path = "garret.staged-upload-ttl",
     .field = GARRET_DURATION(staged_upload_ttl_seconds),
     .help = "Unfinished uploads (chunks, `nix copy` NARs awaiting their narinfo) are "
             "removed after this long.",
     .min = 60},
    {.path = "garret.pack-size",
     .field = GARRET_FIELD(pack_size),
     .help = "Target size of pack objects, bytes: new chunks of an upload are appended to "
             "packs of about this size, and garbage collection merges smaller packs.",
     .min = 1 << 20,
     .max = std::int64_t{4} << 30},
    {.path = "garret.pack-rewrite-percent",
     .field = GARRET_FIELD(pack_rewrite_percent),
     .help = "Garbage collection rewrites a pack once less than this percentage of its bytes "
             "is still used.",
     .max = 100},
    {.path = "garret.gc-grace-period",
     .field = GARRET_DURATION(gc_grace_period_seconds),
     .help = "How long garbage collection leaves alone what work in flight may still need: "
             "chunks an upload is reusing, packs an upload is writing, packs a download is "
             "reading. Longer than your longest upload."},
    {.path = "garret.ingest-threads",
     .field = GARRET_FIELD(ingest_threads),
     .help = "Threads hashing and compressing chunks of uploads; 0 = one per CPU.",
     .max = 1024},
    {.path = "garret.narinfo-cache-entries",
     .field = GARRET_FIELD(narinfo_cache_entries),
     .help = "Narinfos kept in memory; 0 disables the cache."},
    {.path = "garret.narinfo-cache-ttl",
     .field = GARRET_DURATION(narinfo_cache_ttl_seconds),
     .help = "How long caches, narinfos, NAR locations and the path list of a cache stay in "
             "memory before being read again: the bound on how long changes made by another "
             "process (a replica, `garretd gc`) take to show. Must be shorter than "
             "`gc-grace-period`.",
     .min = 1,
     .max = 86400},
    {.path = "garret.create-default-cache",
     .field = GARRET_FIELD(create_default_cache),
     .help = "Create `default-cache` at start-up if no cache exists."},
    {.path = "garret.default-cache",
     .field = GARRET_FIELD(default_cache),
     .help = "Name of the cache created at start-up.",
     .check = checkCacheName},
};

#undef GARRET_DURATION
#undef GARRET_FIELD

const Key* findKey(std::string_view path) {
  for (const Key& key : kKeys) {
    if (key.path == path) return &key;
  }
  return nullptr;
}

// True if some key lives in the table `path` (or below it).
bool isTable(std::string_view path) {
  for (const Key& key : kKeys) {
    if (key.path.size() > path.size() && key.path.starts_with(path) &&
        key.path[path.size()] == '.') {
      return true;
    }
  }
  return false;
}

std::pair<std::string_view, std::string_view> splitPath(std::string_view path) {
  std::size_t dot = path.rfind('.');
  if (dot == std::string_view::npos) return {{}, path};
  return {path.substr(0, dot), path.substr(dot + 1)};
}

// GARRET_ + path with [garret]'s table name dropped, '.'/'-' → '_', uppercased.
std::string envName(std::string_view path) {
  if (path.starts_with("garret.")) path.remove_prefix(7);
  std::string name = "GARRET_";
  for (char c : path) {
    name += (c == '.' || c == '-') ? '_'
                                   : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

std::string backticked(std::string_view key) { return "`" + std::string(key) + "`"; }

// ---------------------------------------------------------------------------
// Value checks.

bool isHttpUrl(std::string_view v) {
  return (v.starts_with("http://") && v.size() > 7) || (v.starts_with("https://") && v.size() > 8);
}

Status checkListen(std::string_view value) {
  const Error bad =
      invalid("expected host:port (e.g. \"127.0.0.1:8080\" or \"[::]:8080\"), got \"" +
              std::string(value) + "\"");
  std::size_t colon = value.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad;
  std::string_view host = value.substr(0, colon);
  std::string_view port = value.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad;
  } else if (host.find_first_of(":[] \t") != std::string_view::npos) {
    return bad;
  }
  unsigned number = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || number > 65535) {
    return bad;
  }
  return okStatus();
}

Status checkDatabaseUrl(std::string_view value) {
  std::size_t colon = value.find(':');
  std::string_view scheme = value.substr(0, colon);
  if (colon == std::string_view::npos ||
      (scheme != "sqlite" && scheme != "postgres" && scheme != "postgresql")) {
    return invalid("unsupported database URL \"" + std::string(value) +
                   "\" (expected sqlite://, postgres:// or postgresql://)");
  }
  if (value.size() == colon + 1) return invalid("database URL has no location");
  return okStatus();
}

Status checkHttpUrl(std::string_view value) {
  if (!isHttpUrl(value)) {
    return invalid("expected an http:// or https:// URL, got \"" + std::string(value) + "\"");
  }
  return okStatus();
}

Status checkApiEndpoint(std::string_view value) {
  GARRET_TRY(checkHttpUrl(value));
  if (!value.ends_with('/')) {
    return invalid("must end with `/` (e.g. \"https://cache.example.org/\")");
  }
  return okStatus();
}

Result<std::vector<std::uint8_t>> decodeBase64Key(std::string_view value) {
  auto bytes = base64Decode(value);
  if (!bytes.ok()) return invalid("not valid base64: " + bytes.error().message);
  if (bytes->empty()) return invalid("must not be empty");
  return bytes;
}

Status checkBase64Secret(std::string_view value) {
  GARRET_TRY(decodeBase64Key(value));
  return okStatus();
}

Status checkBase64Pem(std::string_view value) {
  GARRET_ASSIGN_OR_RETURN(auto bytes, decodeBase64Key(value));
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (text.find("-----BEGIN ") == std::string_view::npos) {
    return invalid("does not decode to a PEM key (\"-----BEGIN ...\")");
  }
  return okStatus();
}

Status checkNotEmpty(std::string_view value) {
  if (value.empty()) return invalid("must not be empty");
  return okStatus();
}

// Nix key names are "<name>:<base64>", so a name holds no ':' or space.
Status checkKeyPrefix(std::string_view value) {
  for (char c : value) {
    if (c == ':' || std::isspace(static_cast<unsigned char>(c)) ||
        std::iscntrl(static_cast<unsigned char>(c))) {
      return invalid("must not contain ':', spaces or control characters");
    }
  }
  return okStatus();
}

Status checkCacheName(std::string_view value) {
  if (!auth::isValidCacheName(value)) {
    return invalid("\"" + std::string(value) +
                   "\" is not a cache name (letters, digits, '-', '_', '+'; at most 50)");
  }
  return okStatus();
}

// Object names are <prefix><key>: the prefix is key characters in
// non-empty segments, like a key ("a/b" or "a/b/").
Status checkStoragePrefix(std::string_view value) {
  std::string_view segments = value;
  if (segments.ends_with('/')) segments.remove_suffix(1);
  if (!value.empty() && !storage::isValidBlobKey(segments)) {
    return invalid("\"" + std::string(value) +
                   "\" is not a valid prefix (letters, digits, '.', '_', '-' in '/'-separated "
                   "parts)");
  }
  return okStatus();
}

Status checkChoice(std::string_view choices, std::string_view value) {
  std::string_view rest = choices;
  while (!rest.empty()) {
    std::size_t bar = rest.find('|');
    if (rest.substr(0, bar) == value) return okStatus();
    rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
  }
  std::string list;
  for (char c : choices) list += c == '|' ? std::string(", ") : std::string(1, c);
  return invalid("unknown value \"" + std::string(value) + "\" (expected one of: " + list + ")");
}

Status checkText(const Key& key, std::string_view value) {
  if (!key.choices.empty()) GARRET_TRY(checkChoice(key.choices, value));
  if (key.check) GARRET_TRY(key.check(value));
  return okStatus();
}

Status checkRange(const Key& key, std::int64_t n) {
  if (n >= key.min && n <= key.max) return okStatus();
  if (key.max == std::numeric_limits<std::int64_t>::max()) {
    return invalid("must be at least " + std::to_string(key.min) + ", got " + std::to_string(n));
  }
  return invalid("must be between " + std::to_string(key.min) + " and " + std::to_string(key.max) +
                 ", got " + std::to_string(n));
}

// ---------------------------------------------------------------------------
// Reading values: a TOML value from a file, or text from the environment.

struct Input {
  const TomlValue* toml = nullptr;  // null: use text
  std::string_view text;
};

std::string typeName(const TomlValue& v) {
  switch (v.type()) {
    case toml::value_t::boolean:
      return "a boolean";
    case toml::value_t::integer:
      return "an integer";
    case toml::value_t::floating:
      return "a float";
    case toml::value_t::string:
      return "a string";
    case toml::value_t::array:
      return "an array";
    case toml::value_t::table:
      return "a table";
    case toml::value_t::empty:
      return "nothing";
    default:
      return "a date/time";
  }
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Result<std::int64_t> parseInteger(std::string_view text) {
  std::string_view t = trimSpace(text);
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size()) {
    return invalid("expected an integer, got \"" + std::string(text) + "\"");
  }
  return n;
}

Result<std::string> readString(const Input& in) {
  if (!in.toml) return std::string(in.text);
  if (!in.toml->is_string()) return invalid("expected a string, got " + typeName(*in.toml));
  return in.toml->as_string().str;
}

Result<std::vector<std::string>> readList(const Input& in) {
  std::vector<std::string> out;
  if (!in.toml) {  // comma-separated
    std::string_view rest = in.text;
    while (!rest.empty()) {
      std::size_t comma = rest.find(',');
      std::string_view item = trimSpace(rest.substr(0, comma));
      if (!item.empty()) out.emplace_back(item);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    return out;
  }
  if (!in.toml->is_array()) {
    return invalid("expected an array of strings, got " + typeName(*in.toml));
  }
  for (const TomlValue& item : in.toml->as_array()) {
    if (!item.is_string()) {
      return invalid("expected an array of strings, found " + typeName(item) + " in it");
    }
    out.push_back(item.as_string().str);
  }
  return out;
}

Result<bool> readBool(const Input& in) {
  if (in.toml) {
    if (!in.toml->is_boolean()) return invalid("expected true or false, got " + typeName(*in.toml));
    return in.toml->as_boolean();
  }
  std::string t = lower(trimSpace(in.text));
  if (t == "true" || t == "1" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "0" || t == "no" || t == "off") return false;
  return invalid("expected true or false, got \"" + std::string(in.text) + "\"");
}

Result<std::int64_t> readInteger(const Input& in) {
  if (!in.toml) return parseInteger(in.text);
  if (!in.toml->is_integer()) return invalid("expected an integer, got " + typeName(*in.toml));
  return in.toml->as_integer();
}

// "12 hours", "0", or a bare number of seconds.
Result<std::int64_t> parseSeconds(std::string_view text) {
  std::string_view t = trimSpace(text);
  if (!t.empty() && std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return parseInteger(t);
  }
  auto seconds = parseDuration(t);
  if (!seconds.ok())
    return invalid("bad duration \"" + std::string(text) + "\": " + seconds.error().message);
  return seconds;
}

Result<std::int64_t> readDuration(const Input& in) {
  if (!in.toml) return parseSeconds(in.text);
  if (in.toml->is_integer()) return in.toml->as_integer();
  if (in.toml->is_string()) return parseSeconds(in.toml->as_string().str);
  return invalid("expected a duration such as \"12 hours\", got " + typeName(*in.toml));
}

// ---------------------------------------------------------------------------
// Assigning a value to the key's field, with the key's checks.

Status assignTo(const Key& key, StringField f, const Input& in, ServerConfig& c) {
  GARRET_ASSIGN_OR_RETURN(std::string s, readString(in));
  GARRET_TRY(checkText(key, s));
  f(c) = std::move(s);
  return okStatus();
}

Status assignTo(const Key& key, OptStringField f, const Input& in, ServerConfig& c) {
  GARRET_ASSIGN_OR_RETURN(std::string s, readString(in));
  GARRET_TRY(checkText(key, s));
  f(c) = std::move(s);
  return okStatus();
}

Status assignTo(const Key& key, ListField f, const Input& in, ServerConfig& c) {
  GARRET_ASSIGN_OR_RETURN(auto list, readList(in));
  for (const std::string& item : list) GARRET_TRY(checkText(key, item));
  f(c) = std::move(list);
  return okStatus();
}

Status assignTo(const Key&, BoolField f, const Input& in, ServerConfig& c) {
  GARRET_ASSIGN_OR_RETURN(f(c), readBool(in));
  return okStatus();
}

template <class Get>
Status assignNumber(const Key& key, Get get, Result<std::int64_t> n, ServerConfig& c) {
  if (!n.ok()) return std::move(n).error();
  GARRET_TRY(checkRange(key, *n));
  using T = std::remove_cvref_t<decltype(get(c))>;
  if constexpr (std::is_same_v<T, std::optional<int>>) {
    get(c) = static_cast<int>(*n);  // keys of int fields have an int range
  } else {
    get(c) = static_cast<T>(*n);
  }
  return okStatus();
}

Status assignTo(const Key& key, U64Field f, const Input& in, ServerConfig& c) {
  return assignNumber(key, f, readInteger(in), c);
}
Status assignTo(const Key& key, I64Field f, const Input& in, ServerConfig& c) {
  return assignNumber(key, f, readInteger(in), c);
}
Status assignTo(const Key& key, IntField f, const Input& in, ServerConfig& c) {
  return assignNumber(key, f, readInteger(in), c);
}
Status assignTo(const Key& key, OptIntField f, const Input& in, ServerConfig& c) {
  return assignNumber(key, f, readInteger(in), c);
}
Status assignTo(const Key& key, DurationField f, const Input& in, ServerConfig& c) {
  return assignNumber(key, f.get, readDuration(in), c);
}

Status assign(const Key& key, const Input& in, ServerConfig& c) {
  return std::visit([&](auto field) { return assignTo(key, field, in, c); }, key.field);
}

// Empty strings, lists and optionals; numbers and booleans are never empty.
bool isEmpty(const Key& key, ServerConfig& c) {
  return std::visit(
      [&](auto field) -> bool {
        if constexpr (std::is_same_v<decltype(field), DurationField>) {
          return false;
        } else {
          using T = std::remove_cvref_t<decltype(field(c))>;
          if constexpr (std::is_same_v<T, std::string> ||
                        std::is_same_v<T, std::vector<std::string>>) {
            return field(c).empty();
          } else if constexpr (std::is_same_v<T, std::optional<std::string>> ||
                               std::is_same_v<T, std::optional<int>>) {
            return !field(c).has_value();
          } else {
            return false;
          }
        }
      },
      key.field);
}

// ---------------------------------------------------------------------------
// Rules spanning keys.

Status checkSigningKeys(const JwtConfig& jwt) {
  int count = jwt.hs256_secret_base64.has_value() + jwt.rs256_secret_base64.has_value() +
              jwt.rs256_pubkey_base64.has_value();
  if (count > 1) {
    return invalid(
        "`jwt.signing`: set only one of `token-hs256-secret-base64`, "
        "`token-rs256-secret-base64`, `token-rs256-pubkey-base64` (" +
        std::to_string(count) + " are set)");
  }
  return okStatus();
}

Status checkChunking(const ChunkingConfig& c) {
  auto narrow = [](std::uint64_t v) {
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(v, UINT32_MAX));
  };
  chunk::ChunkingParams p{narrow(c.nar_size_threshold), narrow(c.min_size), narrow(c.avg_size),
                          narrow(c.max_size)};
  return p.validate();
}

struct LevelRange {
  std::string_view type;
  int default_level, min, max;
};
constexpr LevelRange kLevelRanges[] = {
    {"zstd", 8, 1, 22}, {"xz", 2, 0, 9}, {"brotli", 5, 0, 11}, {"none", 0, 0, 22}};

Status checkCompressionLevel(const CompressionConfig& c) {
  if (!c.level) return okStatus();
  for (const LevelRange& r : kLevelRanges) {
    if (r.type == c.type && (*c.level < r.min || *c.level > r.max)) {
      return invalid("`compression.level`: " + std::string(r.type) + " takes levels " +
                     std::to_string(r.min) + " to " + std::to_string(r.max) + ", got " +
                     std::to_string(*c.level));
    }
  }
  return okStatus();
}

Status checkInvariants(const ServerConfig& c) {
  GARRET_TRY(checkSigningKeys(c.jwt));
  GARRET_TRY(checkChunking(c.chunking));
  if (c.gc_grace_period_seconds < c.narinfo_cache_ttl_seconds) {
    return invalid("`garret.gc-grace-period` (" + std::to_string(c.gc_grace_period_seconds) +
                   " s) must be at least `garret.narinfo-cache-ttl` (" +
                   std::to_string(c.narinfo_cache_ttl_seconds) +
                   " s): a server may read a pack for that long after it was rewritten");
  }
  GARRET_TRY(checkCompressionLevel(c.compression));
  return okStatus();
}

// ---------------------------------------------------------------------------
// The TOML document.

// Index just past the string starting at text[i] (a quote), or text.size()
// if it is unterminated; counts the newlines it spans.
std::size_t skipString(std::string_view text, std::size_t i, std::size_t& line) {
  const char quote = text[i];
  const bool multiline = text.substr(i, 3) == std::string(3, quote);
  const std::string_view end = multiline ? text.substr(i, 3) : text.substr(i, 1);
  for (std::size_t j = i + end.size(); j < text.size(); ++j) {
    if (text[j] == '\n') ++line;
    if (quote == '"' && text[j] == '\\') {
      if (j + 1 < text.size() && text[j + 1] == '\n') ++line;
      ++j;
    } else if (text.substr(j, end.size()) == end) {
      std::size_t k = j + end.size();
      // A multi-line string may end with up to two quotes of content right
      // before its closing delimiter: five quotes in a row close it.
      while (multiline && k < text.size() && text[k] == quote && k - j < 5) ++k;
      return k;
    }
  }
  return text.size();
}

// toml11 parses nested arrays and inline tables recursively and overflows the
// stack at around a thousand levels, so deep nesting is refused first.
Status checkNesting(std::string_view text, std::string_view source) {
  constexpr int kMaxDepth = 32;
  int depth = 0;
  std::size_t line = 1;
  for (std::size_t i = 0; i < text.size();) {
    char c = text[i];
    if (c == '"' || c == '\'') {
      i = skipString(text, i, line);
      continue;
    }
    if (c == '#') {
      i = std::min(text.find('\n', i), text.size());
      continue;
    }
    if (c == '\n') ++line;
    if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) {
        return invalid(std::string(source) + ":" + std::to_string(line) +
                       ": arrays or tables nested more than " + std::to_string(kMaxDepth) +
                       " deep");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
    ++i;
  }
  return okStatus();
}

// TOML is UTF-8; toml11 misreads memory on some invalid sequences, so they
// are refused before it sees them.
Status checkUtf8(std::string_view text, std::string_view source) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') ++line;
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = n != 0 && i + n <= text.size();
    for (std::size_t k = 1; ok && k < n; ++k) {
      ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    }
    if (!ok) {
      return invalid(std::string(source) + ":" + std::to_string(line) +
                     ": the file is not valid UTF-8");
    }
    i += n;
  }
  return okStatus();
}

Result<TomlValue> parseToml(std::string_view text, std::string_view source) {
  GARRET_TRY(checkUtf8(text, source));
  GARRET_TRY(checkNesting(text, source));
  try {
    std::istringstream in{std::string(text)};
    return toml::parse<toml::discard_comments, std::map, std::vector>(in, std::string(source));
  } catch (const std::exception& e) {
    std::string_view message = e.what();  // "[error] toml::parse_key: …" and a source excerpt
    if (message.starts_with("[error] ")) message.remove_prefix(8);
    while (message.ends_with('\n')) message.remove_suffix(1);
    return invalid(std::string(source) + ": " + std::string(message));
  }
}

std::string where(std::string_view source, const TomlValue& v) {
  auto line = v.location().line();
  if (line == 0) return std::string(source);
  return std::string(source) + ":" + std::to_string(line);
}

std::size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// A known key that was probably meant: same name in another table, or a
// near spelling.
std::string suggestion(std::string_view path) {
  std::string_view leaf = splitPath(path).second;
  for (const Key& key : kKeys) {
    if (splitPath(key.path).second == leaf) return " (did you mean " + backticked(key.path) + "?)";
  }
  for (const Key& key : kKeys) {
    if (editDistance(key.path, path) <= 2) return " (did you mean " + backticked(key.path) + "?)";
  }
  return "";
}

Status readTable(const TomlValue& table, const std::string& prefix, std::string_view source,
                 ServerConfig& config) {
  for (const auto& [name, value] : table.as_table()) {
    std::string path = prefix.empty() ? name : prefix + "." + name;
    bool plain_name = name.find('.') == std::string::npos;
    if (const Key* key = plain_name ? findKey(path) : nullptr) {
      Status s = assign(*key, Input{&value, {}}, config);
      if (!s.ok()) return s.error().context(where(source, value) + ": " + backticked(path));
    } else if (plain_name && isTable(path)) {
      if (!value.is_table()) {
        return invalid(where(source, value) + ": " + backticked(path) + ": expected a table, got " +
                       typeName(value));
      }
      GARRET_TRY(readTable(value, path, source, config));
    } else {
      return invalid(where(source, value) + ": unknown key " + backticked(path) + suggestion(path));
    }
  }
  return okStatus();
}

// ---------------------------------------------------------------------------
// Environment.

std::optional<std::string> nonEmptyVariable(const EnvLookup& env, const std::string& name) {
  auto value = env(name.c_str());
  if (!value || value->empty()) return std::nullopt;
  return value;
}

Status applyEnvVariable(const Key& key, const std::string& name, const std::string& value,
                        ServerConfig& config) {
  Status s = assign(key, Input{nullptr, value}, config);
  if (!s.ok())
    return s.error().context("environment variable " + name + " (" + backticked(key.path) + ")");
  return okStatus();
}

// Attic reads its variables only for values its file leaves unset.
Status applyAtticFallbacks(ServerConfig& config, const EnvLookup& env) {
  std::vector<std::string_view> set_tables;  // tables with a fallback key set before this step
  for (const Key& key : kKeys) {
    if (key.fallback != Fallback::kNone && !isEmpty(key, config)) {
      set_tables.push_back(splitPath(key.path).first);
    }
  }
  std::vector<std::string_view> done_tables;
  auto contains = [](const auto& v, std::string_view x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  for (const Key& key : kKeys) {
    if (key.fallback == Fallback::kNone || !isEmpty(key, config)) continue;
    std::string_view table = splitPath(key.path).first;
    if (key.fallback != Fallback::kWhenUnset && contains(set_tables, table)) continue;
    if (key.fallback == Fallback::kFirstWhenTableUnset && contains(done_tables, table)) continue;
    std::string name(key.attic_env);
    auto value = nonEmptyVariable(env, name);
    if (!value && !key.extra_env.empty()) {
      name = key.extra_env;
      value = nonEmptyVariable(env, name);
    }
    if (!value) continue;
    GARRET_TRY(applyEnvVariable(key, name, *value, config));
    done_tables.push_back(table);
  }
  return okStatus();
}

// ---------------------------------------------------------------------------
// Rendering.

std::string tomlString(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string tomlList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + tomlString(items[i]);
  return out + "]";
}

// The value as TOML; an unset optional renders as "".
std::string renderValue(const Key& key, ServerConfig& c) {
  return std::visit(
      [&](auto field) -> std::string {
        if constexpr (std::is_same_v<decltype(field), DurationField>) {
          return tomlString(formatDuration(field.get(c)));
        } else {
          const auto& v = field(c);
          using T = std::remove_cvref_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string>)
            return tomlString(v);
          else if constexpr (std::is_same_v<T, std::optional<std::string>>)
            return v ? tomlString(*v) : "";
          else if constexpr (std::is_same_v<T, std::vector<std::string>>)
            return tomlList(v);
          else if constexpr (std::is_same_v<T, bool>)
            return v ? "true" : "false";
          else if constexpr (std::is_same_v<T, std::optional<int>>)
            return v ? std::to_string(*v) : "";
          else
            return std::to_string(v);
        }
      },
      key.field);
}

std::string typeLabel(const Key& key) {
  return std::visit(
      [](auto field) -> std::string {
        using F = decltype(field);
        if constexpr (std::is_same_v<F, StringField> || std::is_same_v<F, OptStringField>)
          return "string";
        else if constexpr (std::is_same_v<F, ListField>)
          return "list of strings";
        else if constexpr (std::is_same_v<F, BoolField>)
          return "boolean";
        else if constexpr (std::is_same_v<F, DurationField>)
          return "duration";
        else
          return "integer";
      },
      key.field);
}

// "# "-prefixed lines of at most ~80 columns.
std::string commentBlock(std::string_view text) {
  std::string out, line = "#";
  std::istringstream words{std::string(text)};
  for (std::string word; words >> word;) {
    if (line.size() + 1 + word.size() > 80 && line.size() > 1) {
      out += line + "\n";
      line = "#";
    }
    line += " " + word;
  }
  return out + line + "\n";
}

enum class RenderMode { kExample, kEffective };

// One TOML table's text; `active` tells whether any key line is uncommented.
struct TableText {
  std::string body;
  bool active = false;
};

void renderKey(const Key& key, ServerConfig& c, RenderMode mode, TableText& t) {
  std::string leaf(splitPath(key.path).second);
  bool unset = isEmpty(key, c) && (!key.example.empty() || renderValue(key, c).empty());
  if (mode == RenderMode::kExample) {
    t.body += commentBlock(key.help);
    if (unset) {
      t.body += "# " + leaf + " = " + std::string(key.example) + "\n\n";
      return;
    }
  } else if (unset) {
    return;
  }
  std::string value = key.secret && mode == RenderMode::kEffective && !isEmpty(key, c)
                          ? tomlString("<redacted>")
                          : renderValue(key, c);
  if (key.path == "database.url" && mode == RenderMode::kEffective) {
    value = tomlString(redactUrlPassword(c.database_url));
  }
  t.body += leaf + " = " + value + (mode == RenderMode::kExample ? "\n\n" : "\n");
  t.active = true;
}

}  // namespace

std::string redactUrlPassword(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  auto at = url.find('@', scheme + 3);
  if (at == std::string_view::npos) return std::string(url);
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

namespace {

std::string renderToml(ServerConfig c, RenderMode mode) {
  std::string out;
  auto flush = [&](std::string_view table, const TableText& t) {
    if (t.body.empty()) return;
    if (!table.empty()) {
      if (t.active)
        out += "[" + std::string(table) + "]\n";
      else
        out += "# [" + std::string(table) + "]\n";
      if (mode == RenderMode::kExample) out += "\n";
    }
    out += t.body;
    if (mode == RenderMode::kEffective) out += "\n";
  };
  std::string_view table;
  TableText text;
  for (const Key& key : kKeys) {
    std::string_view key_table = splitPath(key.path).first;
    if (key_table != table) {
      flush(table, text);
      table = key_table;
      text = TableText{};
    }
    renderKey(key, c, mode, text);
  }
  flush(table, text);
  while (out.size() >= 2 && out.ends_with("\n\n")) out.pop_back();
  return out;
}

std::string markdownCell(std::string_view s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string referenceRow(const Key& key, ServerConfig& defaults) {
  std::string type = typeLabel(key);
  if (!key.choices.empty()) {
    type.clear();
    for (char c : key.choices) type += c == '|' ? std::string("`, `") : std::string(1, c);
    type = "`" + type + "`";
  }
  std::string def;
  if (!key.default_note.empty())
    def = key.default_note;
  else if (isEmpty(key, defaults) && !key.example.empty())
    def = "unset";
  else
    def = "`" + renderValue(key, defaults) + "`";
  std::string env = "`" + envName(key.path) + "`";
  if (!key.attic_env.empty()) env += ", `" + std::string(key.attic_env) + "` (if unset)";
  if (!key.extra_env.empty()) env += ", then `" + std::string(key.extra_env) + "`";
  return "| `" + std::string(splitPath(key.path).second) + "` | " + markdownCell(type) + " | " +
         markdownCell(def) + " | " + env + " | " + markdownCell(key.help) + " |\n";
}

}  // namespace

EnvLookup processEnvironment() {
  return [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    if (!value) return std::nullopt;
    return std::string(value);
  };
}

Result<ServerConfig> parseConfig(std::string_view toml_text, std::string_view source_name) {
  try {
    GARRET_ASSIGN_OR_RETURN(TomlValue root, parseToml(toml_text, source_name));
    ServerConfig config;
    GARRET_TRY(readTable(root, "", source_name, config));
    Status s = checkInvariants(config);
    if (!s.ok()) return s.error().context(std::string(source_name));
    return config;
  } catch (const std::exception& e) {  // toml11 accessors; not expected after the type checks
    return invalid(std::string(source_name) + ": " + e.what());
  }
}

Result<ServerConfig> loadConfigFile(const std::filesystem::path& path) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (!fs::exists(status)) return notFound("config file " + path.string() + " does not exist");
  if (fs::is_directory(status))
    return makeError(ErrorCode::kIo, "config file " + path.string() + " is a directory");
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    return makeError(ErrorCode::kIo, "cannot read config file " + path.string());
  }
  return parseConfig(text, path.string());
}

Status applyEnvironment(ServerConfig& config, const EnvLookup& env) {
  for (const Key& key : kKeys) {
    std::string name = envName(key.path);
    if (auto value = nonEmptyVariable(env, name)) {
      GARRET_TRY(applyEnvVariable(key, name, *value, config));
    }
  }
  return applyAtticFallbacks(config, env);
}

Status finalizeConfig(ServerConfig& config) {
  if (config.data_dir.empty()) return invalid("`garret.data-dir`: must not be empty");
  fs::path dir(config.data_dir);
  if (config.database_url.empty()) config.database_url = "sqlite://" + (dir / "garret.db").string();
  if (!config.database_password_file.empty() && config.database_url.starts_with("sqlite:")) {
    return invalid("`database.password-file` is set but `database.url` is SQLite; the password "
                   "file is for PostgreSQL only");
  }
  if (config.storage.type == "local" && config.storage.path.empty()) {
    config.storage.path = (dir / "storage").string();
  }
  if (config.storage.type == "s3") {
    if (config.storage.bucket.empty())
      return invalid("`storage.bucket`: required with type \"s3\"");
    if (config.storage.region.empty())
      return invalid("`storage.region`: required with type \"s3\"");
  }
  if (!config.compression.level)
    config.compression.level = defaultCompressionLevel(config.compression.type);
  auto& substituter = config.substituter_endpoint;
  if (substituter && !substituter->ends_with('/')) *substituter += '/';
  return checkInvariants(config);
}

Result<ServerConfig> loadServerConfig(const std::optional<std::filesystem::path>& file,
                                      const EnvLookup& env) {
  ServerConfig config;
  if (file) {
    GARRET_ASSIGN_OR_RETURN(config, loadConfigFile(*file));
  } else if (auto encoded = nonEmptyVariable(env, "ATTIC_SERVER_CONFIG_BASE64")) {
    // `base64` wraps its output; accept that.
    std::erase_if(*encoded, [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
    auto bytes = base64Decode(*encoded);
    if (!bytes.ok()) return bytes.error().context("ATTIC_SERVER_CONFIG_BASE64");
    std::string text(bytes->begin(), bytes->end());
    GARRET_ASSIGN_OR_RETURN(config, parseConfig(text, "ATTIC_SERVER_CONFIG_BASE64"));
  }
  GARRET_TRY(applyEnvironment(config, env));
  GARRET_TRY(finalizeConfig(config));
  return config;
}

int defaultCompressionLevel(std::string_view compression_type) {
  for (const LevelRange& r : kLevelRanges) {
    if (r.type == compression_type) return r.default_level;
  }
  return 0;
}

std::string renderExampleConfig() {
  return "# garretd server configuration. Attic's server.toml keys, plus garret's own\n"
         "# under [garret]. Every key is shown at its default; commented-out keys have\n"
         "# no default and show an example.\n\n" +
         renderToml(ServerConfig{}, RenderMode::kExample);
}

std::string renderConfigReference() {
  ServerConfig defaults;
  std::string out;
  std::string_view table = "-";
  for (const Key& key : kKeys) {
    std::string_view key_table = splitPath(key.path).first;
    if (key_table != table) {
      table = key_table;
      if (!out.empty()) out += "\n";
      out += table.empty() ? "### Top level\n\n" : "### `[" + std::string(table) + "]`\n\n";
      out += "| Key | Type | Default | Environment | Description |\n";
      out += "|---|---|---|---|---|\n";
    }
    out += referenceRow(key, defaults);
  }
  return out;
}

std::string renderEffectiveConfig(const ServerConfig& config) {
  return renderToml(config, RenderMode::kEffective);
}

}  // namespace garret::app
