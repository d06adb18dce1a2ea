#pragma once

// The client's login file: servers and their tokens, in the same format as
// Attic's client config so either tool can read the other's:
//
//   default-server = "prod"
//   [servers.prod]
//   endpoint = "https://cache.example.org/"
//   token = "eyJ..."            # or token-file = "/run/secrets/cache-token"
//
// garret keeps its own file at $XDG_CONFIG_HOME/garret/config.toml (default
// ~/.config/garret/config.toml), written atomically with mode 0600; servers
// it does not know are looked up in Attic's file ($XDG_CONFIG_HOME/attic/
// config.toml), which garret never writes.

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "core/result.h"

namespace garret::client {

struct ServerEntry {
  std::string endpoint;  // always ends in "/"
  std::string token;     // empty: anonymous
  std::string token_file;  // read at use time when set (and token is empty)
};

struct ClientConfig {
  std::string default_server;
  std::map<std::string, ServerEntry> servers;
};

struct ConfigPaths {
  std::filesystem::path garret;  // read and written
  std::filesystem::path attic;   // read only
};

// From XDG_CONFIG_HOME / HOME; GARRET_CONFIG overrides the garret file.
ConfigPaths defaultConfigPaths();

// Parses the TOML text; unknown keys are ignored (Attic may add some), bad
// types and missing endpoints are errors naming the server.
Result<ClientConfig> parseClientConfig(std::string_view text, std::string_view source);
std::string renderClientConfig(const ClientConfig& config);

// Reads a file; a missing file is an empty config.
Result<ClientConfig> loadClientConfig(const std::filesystem::path& path);
// Writes atomically (temp file, fsync, rename) with mode 0600, creating the
// directory with mode 0700.
Status saveClientConfig(const std::filesystem::path& path, const ClientConfig& config);

// A server by name: garret's file first, then Attic's. An empty name means
// the default server (garret's default, else Attic's). The token is resolved
// (token-file read) and GARRET_TOKEN, when set, replaces it.
Result<std::pair<std::string, ServerEntry>> findServer(const ConfigPaths& paths,
                                                       std::string_view name);

// "server:cache" or "cache" (default server) → {server, cache}; validates
// the cache name.
Result<std::pair<std::string, std::string>> parseCacheRef(std::string_view ref);

// Adds a trailing "/" and checks the scheme is http or https.
Result<std::string> normalizeEndpoint(std::string_view url);

}  // namespace garret::client
