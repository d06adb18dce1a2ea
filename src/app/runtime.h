#pragma once

// Wiring: a ServerConfig becomes concrete objects. The only place that
// names implementations (SqliteMetadataDb, LocalBlobStore, …).

#include <memory>
#include <string>

#include "app/config.h"
#include "auth/token_key.h"
#include "cache/authenticator.h"
#include "cache/cache_service.h"
#include "cache/garbage_collector.h"
#include "core/clock.h"
#include "db/metadata_db.h"
#include "http/metrics.h"
#include "http/server.h"
#include "storage/blob_store.h"

namespace garret::app {

struct Runtime {
  ServerConfig config;
  SystemClock clock;
  std::unique_ptr<db::MetadataDb> db;
  std::unique_ptr<storage::BlobStore> blobs;
  std::unique_ptr<cache::CacheService> service;
  std::unique_ptr<cache::Authenticator> authenticator;
  http::Metrics metrics;
};

// Opens the database (running migrations) and the blob store, and loads the
// token key: from [jwt.signing], else from <data_dir>/jwt-secret (created
// with a random HS256 secret on first use, mode 0600).
Result<std::unique_ptr<Runtime>> openRuntime(const ServerConfig& config);

// The token key alone (for make-token), same rules as openRuntime.
Result<auth::TokenKey> loadTokenKey(const ServerConfig& config);

// Creates config.default_cache if the server has no cache at all.
// Returns true if it created one.
Result<bool> ensureDefaultCache(Runtime& runtime);

http::ServerOptions serverOptions(const ServerConfig& config);
cache::ServiceOptions serviceOptions(const ServerConfig& config);
// Garbage collection settings from [garbage-collection] and [garret].
cache::GcOptions gcOptions(const ServerConfig& config);

// The text printed when `garretd serve` starts: URLs, a token, nix.conf and
// netrc lines and the push command, for `base_url` ("http://host:port").
std::string quickStart(const Runtime& runtime, const cache::CacheView& cache,
                       const std::string& base_url, const std::string& token);

}  // namespace garret::app
