#include "app/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "core/encoding.h"

namespace garret::app {
namespace {

namespace fs = std::filesystem;

const std::string kDataDir = std::string(GARRET_TEST_DATA_DIR) + "/app/";

// base64 of a short PEM public key / private key / HMAC secret.
const std::string kPubkeyPem = "-----BEGIN PUBLIC KEY-----\nMIIBIjAN\n-----END PUBLIC KEY-----\n";
const std::string kSecretPem =
    "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n";

std::string b64(std::string_view s) { return base64Encode(asBytes(s)); }

class FakeEnv {
 public:
  FakeEnv(std::initializer_list<std::pair<const std::string, std::string>> vars = {})  // NOLINT
      : vars_(vars) {}
  EnvLookup lookup() const {
    return [this](const char* name) -> std::optional<std::string> {
      auto it = vars_.find(name);
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
  }

 private:
  std::map<std::string, std::string> vars_;
};

ServerConfig parseOk(std::string_view text) {
  auto config = parseConfig(text, "test.toml");
  EXPECT_TRUE(config.ok()) << config.error().message;
  return config.ok() ? *config : ServerConfig{};
}

std::string parseError(std::string_view text) {
  auto config = parseConfig(text, "test.toml");
  EXPECT_FALSE(config.ok()) << "accepted:\n" << text;
  if (config.ok()) return "";
  EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument);
  return config.error().message;
}

// --- Attic's files ---------------------------------------------------------

TEST(ConfigTest, ParsesAtticServerToml) {
  auto config = loadConfigFile(kDataDir + "attic_server.toml");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->listen, "[::]:8080");
  EXPECT_TRUE(config->allowed_hosts.empty());
  EXPECT_FALSE(config->api_endpoint.has_value());
  EXPECT_EQ(config->database_url, "sqlite:///var/lib/atticd/server.db?mode=rwc");
  EXPECT_FALSE(config->database_heartbeat);
  EXPECT_EQ(config->storage.type, "local");
  EXPECT_EQ(config->storage.path, "/var/lib/atticd/storage");
  EXPECT_EQ(config->chunking.nar_size_threshold, 65536u);
  EXPECT_EQ(config->chunking.min_size, 16384u);
  EXPECT_EQ(config->chunking.avg_size, 65536u);
  EXPECT_EQ(config->chunking.max_size, 262144u);
  EXPECT_EQ(config->compression.type, "zstd");
  EXPECT_FALSE(config->compression.level.has_value());
  EXPECT_EQ(config->garbage_collection.interval_seconds, 12 * 3600);
  EXPECT_EQ(config->garbage_collection.default_retention_period, 6 * 2630016);  // 30.44 days
  ASSERT_TRUE(config->jwt.hs256_secret_base64.has_value());
  EXPECT_EQ(*config->jwt.hs256_secret_base64,
            "dGhpcyBpcyBhIHRlc3Qgc2VjcmV0IGZvciBnYXJyZXQncyBjb25maWcgdGVzdHM=");
  EXPECT_FALSE(config->jwt.rs256_secret_base64.has_value());
  EXPECT_FALSE(config->jwt.rs256_pubkey_base64.has_value());

  ASSERT_TRUE(finalizeConfig(*config).ok());
  EXPECT_EQ(config->compression.level, 8);
  EXPECT_EQ(config->storage.path, "/var/lib/atticd/storage");  // kept
  EXPECT_EQ(config->database_url, "sqlite:///var/lib/atticd/server.db?mode=rwc");
}

TEST(ConfigTest, ParsesAtticS3Config) {
  auto config = loadConfigFile(kDataDir + "attic_s3.toml");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->listen, "0.0.0.0:8080");
  EXPECT_EQ(config->allowed_hosts,
            (std::vector<std::string>{"cache.example.org", "cache.internal"}));
  EXPECT_EQ(config->api_endpoint, "https://cache.example.org/");
  EXPECT_EQ(config->substituter_endpoint, "https://cdn.example.org/nix");
  EXPECT_FALSE(config->require_proof_of_possession);
  EXPECT_TRUE(config->soft_delete_caches);
  EXPECT_EQ(config->max_nar_info_size, 2097152u);
  EXPECT_EQ(config->database_url, "postgresql://attic:hunter2@db.example.org:5432/attic");
  EXPECT_TRUE(config->database_heartbeat);
  EXPECT_EQ(config->storage.type, "s3");
  EXPECT_EQ(config->storage.region, "eu-central-1");
  EXPECT_EQ(config->storage.bucket, "attic-nars");
  EXPECT_EQ(config->storage.endpoint, "https://minio.example.org");
  EXPECT_EQ(config->storage.access_key_id, "AKIAEXAMPLE");
  EXPECT_EQ(config->storage.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  EXPECT_EQ(config->chunking.min_size, 65536u);
  EXPECT_EQ(config->chunking.max_size, 524288u);
  EXPECT_EQ(config->compression.type, "xz");
  EXPECT_EQ(config->compression.level, 6);
  EXPECT_EQ(config->garbage_collection.interval_seconds, 86400);
  EXPECT_EQ(config->garbage_collection.default_retention_period, 0);
  EXPECT_EQ(config->jwt.bound_issuer, "attic.example.org");
  EXPECT_EQ(config->jwt.bound_audiences, (std::vector<std::string>{"ci", "developers"}));
  EXPECT_TRUE(config->jwt.rs256_pubkey_base64.has_value());
  EXPECT_EQ(config->jwt.blacklist_subjects, (std::vector<std::string>{"old-ci"}));

  ASSERT_TRUE(finalizeConfig(*config).ok());
  EXPECT_EQ(config->substituter_endpoint, "https://cdn.example.org/nix/");
  EXPECT_TRUE(config->storage.path.empty());  // s3: no local directory
}

TEST(ConfigTest, ParsesGarretS3Keys) {
  auto config = parseConfig(
      "[storage]\ntype = \"s3\"\nbucket = \"b\"\nregion = \"r\"\n"
      "endpoint = \"http://127.0.0.1:9000\"\naddressing = \"virtual-hosted\"\n"
      "prefix = \"garret/cache\"\npart-size = 16777216\nmax-connections = 4\n",
      "s3.toml");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->storage.addressing, "virtual-hosted");
  EXPECT_EQ(config->storage.prefix, "garret/cache");
  EXPECT_EQ(config->storage.part_size, 16777216u);
  EXPECT_EQ(config->storage.max_connections, 4);
  ServerConfig defaults;
  EXPECT_EQ(defaults.storage.addressing, "auto");
  EXPECT_EQ(defaults.storage.part_size, 8u << 20);
  EXPECT_EQ(defaults.storage.max_connections, 16);
}

TEST(ConfigTest, ParsesGarretTable) {
  auto config = loadConfigFile(kDataDir + "garret_full.toml");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->listen, "[::1]:9090");
  EXPECT_EQ(config->data_dir, "/var/lib/garret");
  EXPECT_EQ(config->threads, 4);
  EXPECT_EQ(config->worker_threads, 16);
  EXPECT_EQ(config->max_body_size, 1073741824u);
  EXPECT_EQ(config->max_header_size, 32768u);
  EXPECT_EQ(config->idle_timeout_seconds, 120);
  EXPECT_EQ(config->read_timeout_seconds, 120);
  EXPECT_EQ(config->signing_key_prefix, "cache.example.org-");
  EXPECT_EQ(config->log_format, "json");
  EXPECT_EQ(config->staged_upload_ttl_seconds, 6 * 3600);
  EXPECT_EQ(config->narinfo_cache_entries, 5000);
  EXPECT_FALSE(config->create_default_cache);
  EXPECT_EQ(config->default_cache, "ci");

  ASSERT_TRUE(finalizeConfig(*config).ok());
  EXPECT_EQ(config->database_url, "sqlite:///var/lib/garret/garret.db");
  EXPECT_EQ(config->storage.path, "/var/lib/garret/storage");
}

TEST(ConfigTest, EmptyFileGivesDefaults) {
  ServerConfig config = parseOk("");
  EXPECT_EQ(config.listen, "127.0.0.1:8080");
  EXPECT_TRUE(config.database_url.empty());
  EXPECT_EQ(config.compression.type, "zstd");
  EXPECT_EQ(config.garbage_collection.interval_seconds, 43200);
  EXPECT_TRUE(config.require_proof_of_possession);
  EXPECT_EQ(config.data_dir, "garret-data");
  EXPECT_EQ(config.default_cache, "main");
}

TEST(ConfigTest, DurationsAcceptIntegersAndText) {
  ServerConfig config = parseOk(
      "[garbage-collection]\ninterval = 3600\ndefault-retention-period = \"90\"\n"
      "[garret]\nidle-timeout = \"1h 30m\"\n");
  EXPECT_EQ(config.garbage_collection.interval_seconds, 3600);
  EXPECT_EQ(config.garbage_collection.default_retention_period, 90);
  EXPECT_EQ(config.idle_timeout_seconds, 5400);
  config = parseOk("[garbage-collection]\ninterval = \"0\"\n");
  EXPECT_EQ(config.garbage_collection.interval_seconds, 0);
}

TEST(ConfigTest, AcceptsInlineAndDottedTables) {
  ServerConfig config = parseOk(
      "storage = { type = \"s3\", bucket = \"b\", region = \"r\" }\n"
      "chunking.min-size = 8192\n");
  EXPECT_EQ(config.storage.type, "s3");
  EXPECT_EQ(config.storage.bucket, "b");
  EXPECT_EQ(config.chunking.min_size, 8192u);
}

// --- Unknown keys ----------------------------------------------------------

TEST(ConfigTest, RejectsUnknownTopLevelKey) {
  std::string error = parseError("listen = \"[::]:8080\"\nlistenn = \"x\"\n");
  EXPECT_NE(error.find("unknown key `listenn`"), std::string::npos) << error;
  EXPECT_NE(error.find("did you mean `listen`?"), std::string::npos) << error;
  EXPECT_NE(error.find("test.toml:2"), std::string::npos) << error;
}

TEST(ConfigTest, RejectsUnknownNestedKey) {
  std::string error = parseError("[storage]\ntype = \"local\"\npathh = \"/x\"\n");
  EXPECT_NE(error.find("test.toml:3: unknown key `storage.pathh`"), std::string::npos) << error;
  EXPECT_NE(error.find("did you mean `storage.path`?"), std::string::npos) << error;

  error = parseError("[storage.credentials]\naccess_key_id = \"a\"\nsession_token = \"t\"\n");
  EXPECT_NE(error.find("unknown key `storage.credentials.session_token`"), std::string::npos)
      << error;
}

TEST(ConfigTest, RejectsUnknownTable) {
  std::string error = parseError("[metrics]\nenabled = true\n");
  EXPECT_NE(error.find("unknown key `metrics`"), std::string::npos) << error;
  error = parseError("[garret.http]\nport = 1\n");
  EXPECT_NE(error.find("unknown key `garret.http`"), std::string::npos) << error;
}

TEST(ConfigTest, PointsMisplacedKeysToTheirTable) {
  // Attic moved this key to [jwt.signing]; its old place is rejected.
  std::string error = parseError("token-hs256-secret-base64 = \"c2VjcmV0\"\n");
  EXPECT_NE(error.find("unknown key `token-hs256-secret-base64`"), std::string::npos) << error;
  EXPECT_NE(error.find("`jwt.signing.token-hs256-secret-base64`"), std::string::npos) << error;

  error = parseError("url = \"sqlite://x.db\"\n");
  EXPECT_NE(error.find("did you mean `database.url`?"), std::string::npos) << error;
}

TEST(ConfigTest, RejectsQuotedKeyThatLooksLikeAPath) {
  std::string error = parseError("\"storage.path\" = \"/x\"\n");
  EXPECT_NE(error.find("unknown key `storage.path`"), std::string::npos) << error;
}

TEST(ConfigTest, RejectsValueWhereTableExpected) {
  std::string error = parseError("storage = \"local\"\n");
  EXPECT_NE(error.find("`storage`: expected a table, got a string"), std::string::npos) << error;
  error = parseError("[[storage]]\ntype = \"local\"\n");
  EXPECT_NE(error.find("`storage`: expected a table, got an array"), std::string::npos) << error;
}

TEST(ConfigTest, ReportsSyntaxErrorsWithLine) {
  auto config = parseConfig("listen = \"[::]:8080\"\n[storage\ntype = \"local\"\n", "bad.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(config.error().message.find("bad.toml"), std::string::npos) << config.error().message;
  EXPECT_NE(config.error().message.find(" 2 "), std::string::npos) << config.error().message;

  config = parseConfig("listen = \"a\"\nlisten = \"b\"\n", "dup.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("dup.toml"), std::string::npos) << config.error().message;
}

// --- Bad values ------------------------------------------------------------

struct BadValueCase {
  std::string toml;
  std::string expected;  // substring of the error
};

class BadValueTest : public ::testing::TestWithParam<BadValueCase> {};

TEST_P(BadValueTest, NamesKeyAndProblem) {
  std::string error = parseError(GetParam().toml);
  EXPECT_NE(error.find(GetParam().expected), std::string::npos)
      << "error: " << error << "\nexpected: " << GetParam().expected;
}

INSTANTIATE_TEST_SUITE_P(
    ConfigTest, BadValueTest,
    ::testing::Values(
        BadValueCase{"listen = 8080", "test.toml:1: `listen`: expected a string, got an integer"},
        BadValueCase{"listen = \"localhost\"", "`listen`: expected host:port"},
        BadValueCase{"listen = \"[::1]\"", "`listen`: expected host:port"},
        BadValueCase{"listen = \"::1:8080\"", "`listen`: expected host:port"},
        BadValueCase{"listen = \"1.2.3.4:99999\"", "`listen`: expected host:port"},
        BadValueCase{"listen = \"1.2.3.4:http\"", "`listen`: expected host:port"},
        BadValueCase{"allowed-hosts = \"a\"", "`allowed-hosts`: expected an array of strings"},
        BadValueCase{"allowed-hosts = [\"a\", 1]", "`allowed-hosts`: expected an array of strings"},
        BadValueCase{"api-endpoint = \"https://cache.example.org\"",
                     "`api-endpoint`: must end with `/`"},
        BadValueCase{"api-endpoint = \"cache.example.org/\"",
                     "`api-endpoint`: expected an http://"},
        BadValueCase{"substituter-endpoint = \"ftp://x/\"",
                     "`substituter-endpoint`: expected an http://"},
        BadValueCase{"soft-delete-caches = \"yes\"",
                     "`soft-delete-caches`: expected true or false"},
        BadValueCase{"max-nar-info-size = 0", "`max-nar-info-size`: must be at least 1, got 0"},
        BadValueCase{"max-nar-info-size = -5", "`max-nar-info-size`: must be at least 1"},
        BadValueCase{"[database]\nurl = \"mysql://db/x\"",
                     "`database.url`: unsupported database URL"},
        BadValueCase{"[database]\nurl = \"sqlite:\"",
                     "`database.url`: database URL has no location"},
        BadValueCase{"[database]\nheartbeat = 1", "`database.heartbeat`: expected true or false"},
        BadValueCase{"[storage]\ntype = \"gcs\"",
                     "`storage.type`: unknown value \"gcs\" (expected one of: local, s3)"},
        BadValueCase{"[storage]\nendpoint = \"minio:9000\"",
                     "`storage.endpoint`: expected an http://"},
        BadValueCase{"[storage]\npath = 5", "`storage.path`: expected a string"},
        BadValueCase{"[storage]\naddressing = \"dns\"",
                     "`storage.addressing`: unknown value \"dns\" (expected one of: auto, path, "
                     "virtual-hosted)"},
        BadValueCase{"[storage]\nprefix = \"../x\"", "`storage.prefix`: \"../x\" is not a valid"},
        BadValueCase{"[storage]\npart-size = 1048576",
                     "`storage.part-size`: must be between 5242880 and 5368709120"},
        BadValueCase{"[storage]\nmax-connections = 0",
                     "`storage.max-connections`: must be between 1 and 1024"},
        BadValueCase{"[chunking]\nmin-size = 0",
                     "`chunking.min-size`: must be between 64 and 1048576"},
        BadValueCase{"[chunking]\nmax-size = 1.5",
                     "`chunking.max-size`: expected an integer, got a float"},
        BadValueCase{"[chunking]\navg-size = 67108864", "`chunking.avg-size`: must be between"},
        BadValueCase{"[chunking]\nnar-size-threshold = -1",
                     "`chunking.nar-size-threshold`: must be at least 0"},
        BadValueCase{"[chunking]\nmin-size = 131072",
                     "[chunking] min-size = 131072 is above avg-size = 65536"},
        BadValueCase{"[chunking]\navg-size = 1048576",
                     "[chunking] max-size = 262144 is below avg-size = 1048576"},
        BadValueCase{"[chunking]\navg-size = 65537", "[chunking] avg-size = 65537"},
        BadValueCase{"[compression]\ntype = \"lz4\"", "`compression.type`: unknown value \"lz4\""},
        BadValueCase{"[compression]\nlevel = 30", "`compression.level`: must be between 0 and 22"},
        BadValueCase{"[compression]\ntype = \"xz\"\nlevel = 12",
                     "`compression.level`: xz takes levels 0 to 9"},
        BadValueCase{"[compression]\nlevel = 0", "`compression.level`: zstd takes levels 1 to 22"},
        BadValueCase{"[garbage-collection]\ninterval = \"3 fortnights\"",
                     "`garbage-collection.interval`: bad duration \"3 fortnights\""},
        BadValueCase{"[garbage-collection]\ninterval = -1",
                     "`garbage-collection.interval`: must be at least 0"},
        BadValueCase{"[garbage-collection]\ninterval = true",
                     "`garbage-collection.interval`: expected a duration"},
        BadValueCase{"[garbage-collection]\ndefault-retention-period = \"-3 days\"",
                     "`garbage-collection.default-retention-period`: bad duration"},
        BadValueCase{"[jwt]\ntoken-bound-issuer = 1",
                     "`jwt.token-bound-issuer`: expected a string"},
        BadValueCase{"[jwt]\ntoken-bound-audiences = \"ci\"",
                     "`jwt.token-bound-audiences`: expected an array"},
        BadValueCase{"[jwt.signing]\ntoken-hs256-secret-base64 = \"not base64!\"",
                     "`jwt.signing.token-hs256-secret-base64`: not valid base64"},
        BadValueCase{"[jwt.signing]\ntoken-hs256-secret-base64 = \"\"",
                     "`jwt.signing.token-hs256-secret-base64`: must not be empty"},
        BadValueCase{"[jwt.signing]\ntoken-rs256-secret-base64 = \"aGVsbG8=\"",
                     "`jwt.signing.token-rs256-secret-base64`: does not decode to a PEM key"},
        BadValueCase{"[jwt.blacklist]\nsubjects = [1]",
                     "`jwt.blacklist.subjects`: expected an array of strings"},
        BadValueCase{"[garret]\ndata-dir = \"\"", "`garret.data-dir`: must not be empty"},
        BadValueCase{"[garret]\nthreads = -1",
                     "`garret.threads`: must be between 0 and 1024, got -1"},
        BadValueCase{"[garret]\nthreads = 5000", "`garret.threads`: must be between 0 and 1024"},
        BadValueCase{"[garret]\nthreads = 9223372036854775807",
                     "`garret.threads`: must be between"},
        BadValueCase{"[garret]\nworker-threads = \"4\"",
                     "`garret.worker-threads`: expected an integer, got a string"},
        BadValueCase{"[garret]\nmax-header-size = 10",
                     "`garret.max-header-size`: must be between 1024"},
        BadValueCase{"[garret]\nidle-timeout = 0", "`garret.idle-timeout`: must be at least 1"},
        BadValueCase{"[garret]\nstaged-upload-ttl = \"10s\"",
                     "`garret.staged-upload-ttl`: must be at least 60"},
        BadValueCase{"[garret]\nsigning-key-prefix = \"a:b\"",
                     "`garret.signing-key-prefix`: must not contain ':'"},
        BadValueCase{"[garret]\nlog-format = \"xml\"",
                     "`garret.log-format`: unknown value \"xml\" (expected one of: text, json)"},
        BadValueCase{"[garret]\ndefault-cache = \"my cache\"",
                     "`garret.default-cache`: \"my cache\" is not a cache name"},
        BadValueCase{"[garret]\ncreate-default-cache = \"no\"",
                     "`garret.create-default-cache`: expected true or false"},
        BadValueCase{"[garret]\nnarinfo-cache-entries = 2020-01-01",
                     "`garret.narinfo-cache-entries`: expected an integer, got a date/time"}));

TEST(ConfigTest, RejectsTwoSigningKeys) {
  std::string error = parseError("[jwt.signing]\ntoken-hs256-secret-base64 = \"" + b64("secret") +
                                 "\"\ntoken-rs256-pubkey-base64 = \"" + b64(kPubkeyPem) + "\"\n");
  EXPECT_NE(error.find("`jwt.signing`: set only one of"), std::string::npos) << error;
  EXPECT_NE(error.find("2 are set"), std::string::npos) << error;
}

TEST(ConfigTest, AcceptsEachSigningKeyAlone) {
  EXPECT_TRUE(parseOk("[jwt.signing]\ntoken-rs256-secret-base64 = \"" + b64(kSecretPem) + "\"\n")
                  .jwt.rs256_secret_base64.has_value());
  EXPECT_TRUE(parseOk("[jwt.signing]\ntoken-rs256-pubkey-base64 = \"" + b64(kPubkeyPem) + "\"\n")
                  .jwt.rs256_pubkey_base64.has_value());
}

TEST(ConfigTest, AcceptsListenForms) {
  for (const char* listen :
       {"[::]:8080", "0.0.0.0:80", "localhost:0", "[fe80::1]:65535", "cache:1"}) {
    EXPECT_EQ(parseOk("listen = \"" + std::string(listen) + "\"\n").listen, listen);
  }
}

TEST(ConfigTest, AcceptsDatabaseUrlSchemes) {
  for (const char* url : {"sqlite:///var/lib/x.db", "sqlite://x.db?mode=rwc", "sqlite::memory:",
                          "postgres://u@h/db", "postgresql://u:p@h:5432/db?sslmode=require"}) {
    EXPECT_EQ(parseOk("[database]\nurl = \"" + std::string(url) + "\"\n").database_url, url);
  }
}

// --- Environment -----------------------------------------------------------

TEST(ConfigTest, GarretVariablesOverrideEveryKind) {
  ServerConfig config = parseOk("listen = \"[::]:8080\"\n[storage]\npath = \"/file\"\n");
  FakeEnv env({{"GARRET_LISTEN", "0.0.0.0:9000"},
               {"GARRET_ALLOWED_HOSTS", "a.example.org, b.example.org,"},
               {"GARRET_API_ENDPOINT", "https://api.example.org/"},
               {"GARRET_SOFT_DELETE_CACHES", "yes"},
               {"GARRET_REQUIRE_PROOF_OF_POSSESSION", "OFF"},
               {"GARRET_DATABASE_URL", "postgres://db/garret"},
               {"GARRET_STORAGE_TYPE", "s3"},
               {"GARRET_STORAGE_PATH", "/env"},
               {"GARRET_STORAGE_BUCKET", "bucket"},
               {"GARRET_STORAGE_CREDENTIALS_ACCESS_KEY_ID", "id"},
               {"GARRET_CHUNKING_MIN_SIZE", "8192"},
               {"GARRET_COMPRESSION_LEVEL", "3"},
               {"GARRET_GARBAGE_COLLECTION_DEFAULT_RETENTION_PERIOD", "1 week"},
               {"GARRET_GARBAGE_COLLECTION_INTERVAL", "600"},
               {"GARRET_JWT_TOKEN_BOUND_AUDIENCES", "ci"},
               {"GARRET_JWT_SIGNING_TOKEN_HS256_SECRET_BASE64", b64("secret")},
               {"GARRET_DATA_DIR", "/srv/garret"},
               {"GARRET_THREADS", " 8 "},
               {"GARRET_MAX_BODY_SIZE", "1000000"},
               {"GARRET_LOG_FORMAT", "json"},
               {"GARRET_CREATE_DEFAULT_CACHE", "false"}});
  ASSERT_TRUE(applyEnvironment(config, env.lookup()).ok());
  EXPECT_EQ(config.listen, "0.0.0.0:9000");
  EXPECT_EQ(config.allowed_hosts, (std::vector<std::string>{"a.example.org", "b.example.org"}));
  EXPECT_EQ(config.api_endpoint, "https://api.example.org/");
  EXPECT_TRUE(config.soft_delete_caches);
  EXPECT_FALSE(config.require_proof_of_possession);
  EXPECT_EQ(config.database_url, "postgres://db/garret");
  EXPECT_EQ(config.storage.type, "s3");
  EXPECT_EQ(config.storage.path, "/env");
  EXPECT_EQ(config.storage.bucket, "bucket");
  EXPECT_EQ(config.storage.access_key_id, "id");
  EXPECT_EQ(config.chunking.min_size, 8192u);
  EXPECT_EQ(config.compression.level, 3);
  EXPECT_EQ(config.garbage_collection.default_retention_period, 7 * 86400);
  EXPECT_EQ(config.garbage_collection.interval_seconds, 600);
  EXPECT_EQ(config.jwt.bound_audiences, std::vector<std::string>{"ci"});
  EXPECT_EQ(config.jwt.hs256_secret_base64, b64("secret"));
  EXPECT_EQ(config.data_dir, "/srv/garret");
  EXPECT_EQ(config.threads, 8);
  EXPECT_EQ(config.max_body_size, 1000000u);
  EXPECT_EQ(config.log_format, "json");
  EXPECT_FALSE(config.create_default_cache);
}

TEST(ConfigTest, BadEnvironmentValueNamesVariableAndKey) {
  struct Case {
    const char* name;
    const char* value;
    const char* expected;
  };
  for (const Case& c : {
           Case{"GARRET_THREADS", "many",
                "environment variable GARRET_THREADS (`garret.threads`): expected an integer"},
           Case{"GARRET_THREADS", "12x", "expected an integer, got \"12x\""},
           Case{"GARRET_SOFT_DELETE_CACHES", "maybe",
                "GARRET_SOFT_DELETE_CACHES (`soft-delete-caches`): expected true or false"},
           Case{"GARRET_GARBAGE_COLLECTION_INTERVAL", "soon",
                "(`garbage-collection.interval`): bad duration \"soon\""},
           Case{"GARRET_LISTEN", "8080", "GARRET_LISTEN (`listen`): expected host:port"},
           Case{"GARRET_STORAGE_TYPE", "gcs",
                "GARRET_STORAGE_TYPE (`storage.type`): unknown value \"gcs\""},
           Case{"GARRET_CHUNKING_MAX_SIZE", "99999999999",
                "(`chunking.max-size`): must be between 1024 and 16777216"},
           Case{"ATTIC_SERVER_DATABASE_URL", "mysql://x",
                "ATTIC_SERVER_DATABASE_URL (`database.url`): unsupported"},
           Case{"ATTIC_SERVER_TOKEN_HS256_SECRET_BASE64", "%%%",
                "ATTIC_SERVER_TOKEN_HS256_SECRET_BASE64 (`jwt.signing.token-hs256-secret-base64`): "
                "not valid base64"},
       }) {
    ServerConfig config;
    Status s = applyEnvironment(config, FakeEnv({{c.name, c.value}}).lookup());
    ASSERT_FALSE(s.ok()) << c.name << "=" << c.value;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(s.error().message.find(c.expected), std::string::npos) << s.error().message;
  }
}

TEST(ConfigTest, EmptyVariablesAreIgnored) {
  ServerConfig config;
  ASSERT_TRUE(applyEnvironment(config, FakeEnv({{"GARRET_LISTEN", ""},
                                                {"GARRET_THREADS", ""},
                                                {"ATTIC_SERVER_DATABASE_URL", ""}})
                                           .lookup())
                  .ok());
  EXPECT_EQ(config.listen, "127.0.0.1:8080");
  EXPECT_TRUE(config.database_url.empty());
}

// DATABASE_URL is the last resort: after the file, GARRET_DATABASE_URL and
// ATTIC_SERVER_DATABASE_URL.
TEST(ConfigTest, DatabaseUrlVariableFillsOnlyUnsetValue) {
  ServerConfig unset;
  ASSERT_TRUE(
      applyEnvironment(unset, FakeEnv({{"DATABASE_URL", "postgres://generic/x"}}).lookup()).ok());
  EXPECT_EQ(unset.database_url, "postgres://generic/x");

  ServerConfig from_file = parseOk("[database]\nurl = \"sqlite://file.db\"\n");
  ASSERT_TRUE(
      applyEnvironment(from_file, FakeEnv({{"DATABASE_URL", "postgres://generic/x"}}).lookup())
          .ok());
  EXPECT_EQ(from_file.database_url, "sqlite://file.db");

  for (const char* preferred : {"GARRET_DATABASE_URL", "ATTIC_SERVER_DATABASE_URL"}) {
    ServerConfig both;
    FakeEnv env({{preferred, "postgres://preferred/x"}, {"DATABASE_URL", "postgres://generic/x"}});
    ASSERT_TRUE(applyEnvironment(both, env.lookup()).ok());
    EXPECT_EQ(both.database_url, "postgres://preferred/x") << preferred;
  }
  ServerConfig empty_attic;
  ASSERT_TRUE(applyEnvironment(empty_attic, FakeEnv({{"ATTIC_SERVER_DATABASE_URL", ""},
                                                     {"DATABASE_URL", "postgres://generic/x"}})
                                                .lookup())
                  .ok());
  EXPECT_EQ(empty_attic.database_url, "postgres://generic/x");

  ServerConfig bad;
  Status s = applyEnvironment(bad, FakeEnv({{"DATABASE_URL", "mysql://x"}}).lookup());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("DATABASE_URL (`database.url`): unsupported"),
            std::string::npos)
      << s.error().message;
}

TEST(ConfigTest, DatabasePasswordFileAndPoolSize) {
  ServerConfig config = parseOk(
      "[database]\nurl = \"postgresql://garret@db/garret\"\n"
      "password-file = \"/run/secrets/db\"\n[garret]\ndatabase-pool-size = 20\n");
  EXPECT_EQ(config.database_password_file, "/run/secrets/db");
  EXPECT_EQ(config.database_pool_size, 20);
  EXPECT_TRUE(finalizeConfig(config).ok());
  EXPECT_EQ(ServerConfig{}.database_pool_size, 8);

  ServerConfig env;
  ASSERT_TRUE(applyEnvironment(env, FakeEnv({{"GARRET_DATABASE_PASSWORD_FILE", "/pw"},
                                             {"GARRET_DATABASE_POOL_SIZE", "3"}})
                                        .lookup())
                  .ok());
  EXPECT_EQ(env.database_password_file, "/pw");
  EXPECT_EQ(env.database_pool_size, 3);
  EXPECT_NE(parseError("[garret]\ndatabase-pool-size = 0\n").find("must be between 1 and 1000"),
            std::string::npos);

  // Only PostgreSQL reads it; with SQLite it would be silently ignored.
  ServerConfig sqlite = parseOk("[database]\npassword-file = \"/pw\"\n");
  Status s = finalizeConfig(sqlite);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("`database.password-file`"), std::string::npos);
}

TEST(ConfigTest, AtticDatabaseUrlFillsOnlyUnsetValue) {
  FakeEnv env({{"ATTIC_SERVER_DATABASE_URL", "postgres://from-env/attic"}});
  ServerConfig unset;
  ASSERT_TRUE(applyEnvironment(unset, env.lookup()).ok());
  EXPECT_EQ(unset.database_url, "postgres://from-env/attic");

  ServerConfig from_file = parseOk("[database]\nurl = \"sqlite://file.db\"\n");
  ASSERT_TRUE(applyEnvironment(from_file, env.lookup()).ok());
  EXPECT_EQ(from_file.database_url, "sqlite://file.db");

  ServerConfig both;
  FakeEnv env2({{"ATTIC_SERVER_DATABASE_URL", "postgres://attic/x"},
                {"GARRET_DATABASE_URL", "postgres://garret/x"}});
  ASSERT_TRUE(applyEnvironment(both, env2.lookup()).ok());
  EXPECT_EQ(both.database_url, "postgres://garret/x");
}

TEST(ConfigTest, AtticTokenVariablesFollowAtticsOrder) {
  FakeEnv env({{"ATTIC_SERVER_TOKEN_HS256_SECRET_BASE64", b64("secret")},
               {"ATTIC_SERVER_TOKEN_RS256_PUBKEY_BASE64", b64(kPubkeyPem)}});
  ServerConfig config;
  ASSERT_TRUE(applyEnvironment(config, env.lookup()).ok());
  EXPECT_EQ(config.jwt.rs256_pubkey_base64, b64(kPubkeyPem));  // pubkey first, as Attic
  EXPECT_FALSE(config.jwt.hs256_secret_base64.has_value());
  ASSERT_TRUE(finalizeConfig(config).ok());

  ServerConfig hs_only;
  ASSERT_TRUE(applyEnvironment(
                  hs_only, FakeEnv({{"ATTIC_SERVER_TOKEN_HS256_SECRET_BASE64", b64("s")}}).lookup())
                  .ok());
  EXPECT_EQ(hs_only.jwt.hs256_secret_base64, b64("s"));

  ServerConfig rs_only;
  ASSERT_TRUE(
      applyEnvironment(
          rs_only, FakeEnv({{"ATTIC_SERVER_TOKEN_RS256_SECRET_BASE64", b64(kSecretPem)}}).lookup())
          .ok());
  EXPECT_EQ(rs_only.jwt.rs256_secret_base64, b64(kSecretPem));
}

TEST(ConfigTest, AtticTokenVariablesIgnoredWhenFileHasAKey) {
  ServerConfig config =
      parseOk("[jwt.signing]\ntoken-rs256-secret-base64 = \"" + b64(kSecretPem) + "\"\n");
  FakeEnv env({{"ATTIC_SERVER_TOKEN_HS256_SECRET_BASE64", b64("secret")}});
  ASSERT_TRUE(applyEnvironment(config, env.lookup()).ok());
  EXPECT_FALSE(config.jwt.hs256_secret_base64.has_value());
  EXPECT_TRUE(finalizeConfig(config).ok());
}

TEST(ConfigTest, GarretTokenVariableConflictingWithFileIsAnError) {
  ServerConfig config =
      parseOk("[jwt.signing]\ntoken-rs256-secret-base64 = \"" + b64(kSecretPem) + "\"\n");
  FakeEnv env({{"GARRET_JWT_SIGNING_TOKEN_HS256_SECRET_BASE64", b64("secret")}});
  ASSERT_TRUE(applyEnvironment(config, env.lookup()).ok());
  Status s = finalizeConfig(config);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("`jwt.signing`: set only one of"), std::string::npos);
}

TEST(ConfigTest, AwsVariablesFillCredentialsOnlyWhenTableUnset) {
  FakeEnv env({{"AWS_ACCESS_KEY_ID", "env-id"}, {"AWS_SECRET_ACCESS_KEY", "env-secret"}});
  ServerConfig unset = parseOk("[storage]\ntype = \"s3\"\nbucket = \"b\"\nregion = \"r\"\n");
  ASSERT_TRUE(applyEnvironment(unset, env.lookup()).ok());
  EXPECT_EQ(unset.storage.access_key_id, "env-id");
  EXPECT_EQ(unset.storage.secret_access_key, "env-secret");

  ServerConfig partial = parseOk("[storage.credentials]\naccess_key_id = \"file-id\"\n");
  ASSERT_TRUE(applyEnvironment(partial, env.lookup()).ok());
  EXPECT_EQ(partial.storage.access_key_id, "file-id");
  EXPECT_TRUE(partial.storage.secret_access_key.empty());
}

TEST(ConfigTest, ProcessEnvironmentReadsGetenv) {
  ::setenv("GARRET_CONFIG_TEST_VARIABLE", "value", 1);
  EnvLookup env = processEnvironment();
  EXPECT_EQ(env("GARRET_CONFIG_TEST_VARIABLE"), "value");
  ::unsetenv("GARRET_CONFIG_TEST_VARIABLE");
  EXPECT_FALSE(env("GARRET_CONFIG_TEST_VARIABLE").has_value());
}

// --- Loading as garretd does -----------------------------------------------

TEST(ConfigTest, LoadsConfigFromAtticBase64Variable) {
  std::string toml = "listen = \"[::]:7000\"\n[storage]\ntype = \"local\"\npath = \"/b64\"\n";
  std::string encoded = b64(toml);
  encoded.insert(20, "\n");  // `base64` wraps lines
  auto config = loadServerConfig(
      std::nullopt,
      FakeEnv({{"ATTIC_SERVER_CONFIG_BASE64", encoded}, {"GARRET_THREADS", "2"}}).lookup());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->listen, "[::]:7000");
  EXPECT_EQ(config->storage.path, "/b64");
  EXPECT_EQ(config->threads, 2);
  EXPECT_EQ(config->database_url, "sqlite://garret-data/garret.db");
}

TEST(ConfigTest, Base64VariableErrorsNameTheVariable) {
  auto config =
      loadServerConfig(std::nullopt, FakeEnv({{"ATTIC_SERVER_CONFIG_BASE64", "@@@"}}).lookup());
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("ATTIC_SERVER_CONFIG_BASE64"), std::string::npos);

  config = loadServerConfig(std::nullopt,
                            FakeEnv({{"ATTIC_SERVER_CONFIG_BASE64", b64("bogus = 1\n")}}).lookup());
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("ATTIC_SERVER_CONFIG_BASE64:1: unknown key `bogus`"),
            std::string::npos)
      << config.error().message;
}

TEST(ConfigTest, FileWinsOverBase64Variable) {
  auto config = loadServerConfig(
      fs::path(kDataDir + "attic_server.toml"),
      FakeEnv({{"ATTIC_SERVER_CONFIG_BASE64", b64("listen = \"[::]:1\"\n")}}).lookup());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->listen, "[::]:8080");
}

TEST(ConfigTest, NoConfigAtAllGivesWorkingDefaults) {
  auto config = loadServerConfig(std::nullopt, FakeEnv().lookup());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->listen, "127.0.0.1:8080");
  EXPECT_EQ(config->database_url, "sqlite://garret-data/garret.db");
  EXPECT_EQ(config->storage.type, "local");
  EXPECT_EQ(config->storage.path, "garret-data/storage");
  EXPECT_EQ(config->compression.level, 8);
  EXPECT_FALSE(config->jwt.hs256_secret_base64.has_value());
}

TEST(ConfigTest, LoadConfigFileErrors) {
  auto missing = loadConfigFile(kDataDir + "does-not-exist.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("does-not-exist.toml"), std::string::npos);

  auto directory = loadConfigFile(kDataDir);
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().code, ErrorCode::kIo);

  auto via_loader =
      loadServerConfig(fs::path(kDataDir + "does-not-exist.toml"), FakeEnv().lookup());
  ASSERT_FALSE(via_loader.ok());
  EXPECT_EQ(via_loader.error().code, ErrorCode::kNotFound);
}

TEST(ConfigTest, ErrorsInFileNameThePath) {
  fs::path dir = fs::temp_directory_path() / ("garret-config-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path file = dir / "server.toml";
  std::ofstream(file) << "[storage]\ntype = \"local\"\n\n[chunking]\nmax-size = \"big\"\n";
  auto config = loadConfigFile(file);
  fs::remove_all(dir);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(
      config.error().message.find(file.string() + ":5: `chunking.max-size`: expected an integer"),
      std::string::npos)
      << config.error().message;
}

// --- finalizeConfig ----------------------------------------------------------

TEST(ConfigTest, FinalizeFillsDefaultsFromDataDir) {
  ServerConfig config;
  config.data_dir = "/srv/garret";
  ASSERT_TRUE(finalizeConfig(config).ok());
  EXPECT_EQ(config.database_url, "sqlite:///srv/garret/garret.db");
  EXPECT_EQ(config.storage.path, "/srv/garret/storage");
  EXPECT_EQ(config.compression.level, 8);

  ServerConfig again = config;  // idempotent
  ASSERT_TRUE(finalizeConfig(again).ok());
  EXPECT_EQ(again.database_url, config.database_url);
  EXPECT_EQ(again.storage.path, config.storage.path);
}

TEST(ConfigTest, FinalizeKeepsExplicitValues) {
  ServerConfig config = parseOk(
      "[database]\nurl = \"postgres://db/x\"\n[storage]\npath = \"/nars\"\n"
      "[compression]\ntype = \"brotli\"\nlevel = 3\n");
  ASSERT_TRUE(finalizeConfig(config).ok());
  EXPECT_EQ(config.database_url, "postgres://db/x");
  EXPECT_EQ(config.storage.path, "/nars");
  EXPECT_EQ(config.compression.level, 3);
}

TEST(ConfigTest, DefaultCompressionLevels) {
  EXPECT_EQ(defaultCompressionLevel("zstd"), 8);
  EXPECT_EQ(defaultCompressionLevel("xz"), 2);
  EXPECT_EQ(defaultCompressionLevel("brotli"), 5);
  EXPECT_EQ(defaultCompressionLevel("none"), 0);
  ServerConfig config = parseOk("[compression]\ntype = \"xz\"\n");
  ASSERT_TRUE(finalizeConfig(config).ok());
  EXPECT_EQ(config.compression.level, 2);
}

TEST(ConfigTest, FinalizeRequiresBucketAndRegionForS3) {
  ServerConfig no_bucket = parseOk("[storage]\ntype = \"s3\"\nregion = \"r\"\n");
  Status s = finalizeConfig(no_bucket);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("`storage.bucket`: required"), std::string::npos);

  ServerConfig no_region = parseOk("[storage]\ntype = \"s3\"\nbucket = \"b\"\n");
  s = finalizeConfig(no_region);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("`storage.region`: required"), std::string::npos);

  // The environment may complete a file.
  auto config = loadServerConfig(fs::path(kDataDir + "garret_full.toml"),
                                 FakeEnv({{"GARRET_STORAGE_TYPE", "s3"},
                                          {"GARRET_STORAGE_BUCKET", "b"},
                                          {"GARRET_STORAGE_REGION", "r"}})
                                     .lookup());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->storage.bucket, "b");
}

TEST(ConfigTest, FinalizeChecksRulesBrokenByEnvironment) {
  auto config =
      loadServerConfig(std::nullopt, FakeEnv({{"GARRET_CHUNKING_MIN_SIZE", "200000"}}).lookup());
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("[chunking] min-size = 200000 is above avg-size"),
            std::string::npos);

  ServerConfig empty_dir;
  empty_dir.data_dir.clear();
  Status s = finalizeConfig(empty_dir);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("`garret.data-dir`"), std::string::npos);
}

// --- Rendering and docs -----------------------------------------------------

std::string effective(ServerConfig config) { return renderEffectiveConfig(config); }

TEST(ConfigTest, ExampleConfigParsesToDefaults) {
  std::string example = renderExampleConfig();
  auto config = parseConfig(example, "example.toml");
  ASSERT_TRUE(config.ok()) << config.error().message << "\n" << example;
  EXPECT_EQ(effective(*config), effective(ServerConfig{}));
  EXPECT_NE(example.find("listen = \"127.0.0.1:8080\""), std::string::npos);
  EXPECT_NE(example.find("# [jwt.signing]"), std::string::npos);
  EXPECT_NE(example.find("# token-hs256-secret-base64 = "), std::string::npos);
  EXPECT_NE(example.find("[garret]"), std::string::npos);
}

TEST(ConfigTest, EffectiveConfigRoundTrips) {
  for (const char* file : {"attic_s3.toml", "garret_full.toml"}) {
    auto config = loadServerConfig(fs::path(kDataDir + file), FakeEnv().lookup());
    ASSERT_TRUE(config.ok()) << config.error().message;
    // Secrets are redacted, so compare without them.
    config->storage.secret_access_key.clear();
    std::string text = renderEffectiveConfig(*config);
    auto reparsed = parseConfig(text, "effective.toml");
    ASSERT_TRUE(reparsed.ok()) << reparsed.error().message << "\n" << text;
    EXPECT_EQ(renderEffectiveConfig(*reparsed), text) << file;
  }
}

TEST(ConfigTest, EffectiveConfigRedactsSecrets) {
  auto config = loadServerConfig(fs::path(kDataDir + "attic_server.toml"),
                                 FakeEnv({{"AWS_SECRET_ACCESS_KEY", "aws-secret-value"}}).lookup());
  ASSERT_TRUE(config.ok()) << config.error().message;
  std::string text = renderEffectiveConfig(*config);
  EXPECT_EQ(text.find(*config->jwt.hs256_secret_base64), std::string::npos) << text;
  EXPECT_EQ(text.find("aws-secret-value"), std::string::npos) << text;
  EXPECT_NE(text.find("token-hs256-secret-base64 = \"<redacted>\""), std::string::npos) << text;
  EXPECT_NE(text.find("url = \"sqlite:///var/lib/atticd/server.db?mode=rwc\""), std::string::npos)
      << text;
}

TEST(ConfigTest, ReferenceListsEveryEnvironmentName) {
  std::string reference = renderConfigReference();
  for (const char* name :
       {"`GARRET_LISTEN`", "`GARRET_DATABASE_URL`, `ATTIC_SERVER_DATABASE_URL` (if unset)",
        "`GARRET_STORAGE_PATH`", "`GARRET_STORAGE_CREDENTIALS_ACCESS_KEY_ID`, `AWS_ACCESS_KEY_ID`",
        "`GARRET_GARBAGE_COLLECTION_DEFAULT_RETENTION_PERIOD`", "`GARRET_DATA_DIR`",
        "`GARRET_THREADS`",
        "`GARRET_JWT_SIGNING_TOKEN_HS256_SECRET_BASE64`, `ATTIC_SERVER_TOKEN_HS256_SECRET_BASE64`",
        "### `[garbage-collection]`", "| `nar-size-threshold` | integer | `65536` |"}) {
    EXPECT_NE(reference.find(name), std::string::npos) << name;
  }
  // One row per key, and no environment name twice.
  std::istringstream lines(reference);
  std::map<std::string, int> seen;
  for (std::string line; std::getline(lines, line);) {
    auto start = line.find("`GARRET_");
    if (start == std::string::npos) continue;
    auto end = line.find('`', start + 1);
    EXPECT_EQ(++seen[line.substr(start, end - start)], 1) << line;
  }
  EXPECT_EQ(seen.size(), 54u);  // every key
}

// docs/configuration.md embeds the generated reference and example between
// markers. GARRET_UPDATE_DOCS=1 rewrites them.
std::string replaceBlock(std::string doc, const std::string& name, const std::string& content,
                         bool* found) {
  std::string begin = "<!-- BEGIN GENERATED " + name + " -->\n";
  std::string end = "<!-- END GENERATED " + name + " -->";
  auto b = doc.find(begin);
  auto e = doc.find(end);
  *found = b != std::string::npos && e != std::string::npos && b < e;
  if (!*found) return doc;
  return doc.replace(b + begin.size(), e - b - begin.size(), content);
}

TEST(ConfigTest, DocsMatchTheKeyTable) {
  fs::path path = fs::path(GARRET_TEST_DATA_DIR) / ".." / ".." / "docs" / "configuration.md";
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << path;
  std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  bool has_reference = false, has_example = false;
  std::string expected = replaceBlock(doc, "reference", renderConfigReference(), &has_reference);
  expected = replaceBlock(expected, "example", "```toml\n" + renderExampleConfig() + "```\n",
                          &has_example);
  ASSERT_TRUE(has_reference && has_example) << "markers missing in " << path;
  if (expected != doc && std::getenv("GARRET_UPDATE_DOCS")) {
    std::ofstream(path) << expected;
    doc = expected;
  }
  EXPECT_EQ(doc, expected) << path << " is out of date; run this test with GARRET_UPDATE_DOCS=1";
}

// --- Robustness ---------------------------------------------------------------

TEST(ConfigTest, RefusesDeepNestingBeforeToml11Recurses) {
  for (int depth : {33, 2000, 100000}) {
    std::string arrays = "a = " + std::string(depth, '[') + std::string(depth, ']');
    std::string tables = "a = ";
    for (int i = 0; i < depth; ++i) tables += "{b = ";
    for (const std::string& text : {arrays, tables}) {
      auto config = parseConfig(text, "deep.toml");
      ASSERT_FALSE(config.ok());
      EXPECT_NE(
          config.error().message.find("deep.toml:1: arrays or tables nested more than 32 deep"),
          std::string::npos)
          << config.error().message;
    }
  }
  // Brackets in strings and comments do not count.
  std::string brackets(100, '[');
  ServerConfig config = parseOk("# " + brackets + "\nlisten = \"[::]:1\" # " + brackets +
                                "\n[jwt]\ntoken-bound-issuer = '" + brackets + "'\n" +
                                "token-bound-audiences = [\"\"\"\n" + brackets + "\\\"\"\"\"]\n");
  EXPECT_EQ(config.jwt.bound_issuer, brackets);
  EXPECT_EQ(config.jwt.bound_audiences, std::vector<std::string>{brackets + "\""});
  // Depth 32 is still parsed (and then refused as an unknown key).
  std::string error = parseError("a = " + std::string(32, '[') + std::string(32, ']'));
  EXPECT_NE(error.find("unknown key `a`"), std::string::npos) << error;
}

TEST(ConfigTest, HostileInputGivesErrorsNotExceptions) {
  for (std::string text :
       {std::string("\0\0\0", 3), std::string("[a\n"), std::string("= 1"),
        std::string("listen = \"\\uD800\""), std::string("x = 99999999999999999999"),
        std::string("[storage]\n[storage]\n"), std::string(200, '['),
        std::string("a = ") + std::string(200, '[') + std::string(200, ']')}) {
    auto config = parseConfig(text, "hostile.toml");
    EXPECT_FALSE(config.ok()) << text;
  }
}

}  // namespace
}  // namespace garret::app

namespace garret::app {
namespace {

TEST(ConfigTest, RefusesInvalidUtf8NamingTheLine) {
  for (const std::string& text : {std::string("listen = \"127.0.0.1:1\"\na = '\xf0'\n"),
                                  std::string("listen = \"127.0.0.1:1\"\na = '''\xc3'''\n"),
                                  std::string("listen = \"127.0.0.1:1\"\n# \xff\n")}) {
    auto config = parseConfig(text, "bad.toml");
    ASSERT_FALSE(config.ok());
    EXPECT_NE(config.error().message.find("bad.toml:2: the file is not valid UTF-8"),
              std::string::npos)
        << config.error().message;
  }
  EXPECT_TRUE(parseConfig("listen = \"127.0.0.1:1\" # caf\xc3\xa9 \xe2\x9c\x93\n", "ok.toml").ok());
}

TEST(ConfigTest, DatabasePasswordsNeverPrinted) {
  EXPECT_EQ(redactUrlPassword("postgresql://garret:s3cret@db:5432/garret?sslmode=require"),
            "postgresql://garret:***@db:5432/garret?sslmode=require");
  EXPECT_EQ(redactUrlPassword("postgresql://garret@db/garret"), "postgresql://garret@db/garret");
  EXPECT_EQ(redactUrlPassword("sqlite://data/garret.db"), "sqlite://data/garret.db");
  ServerConfig c;
  c.database_url = "postgres://u:topsecret@h/d";
  std::string effective = renderEffectiveConfig(c);
  EXPECT_EQ(effective.find("topsecret"), std::string::npos);
  EXPECT_NE(effective.find("postgres://u:***@h/d"), std::string::npos);
}

}  // namespace
}  // namespace garret::app
