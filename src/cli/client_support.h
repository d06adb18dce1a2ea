#pragma once

// Shared pieces of garret's cache-client commands: resolving SERVER:CACHE to
// a logged-in server, printing errors, sizes and JSON.

#include <CLI/CLI.hpp>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "client/api_client.h"
#include "client/client_config.h"
#include "client/http_client.h"
#include "core/result.h"

namespace garret::cli {

// A logged-in server and an API client for it.
struct Connection {
  std::string server_name;
  client::ServerEntry server;
  std::string cache;  // empty when the command names no cache
  std::unique_ptr<client::HttpClient> http;
  std::unique_ptr<client::ApiClient> api;
};

// "SERVER:CACHE" (or "CACHE" on the default server) → connection.
Result<Connection> connectCache(const std::string& ref);
// A server by name ("" = default).
Result<Connection> connectServer(const std::string& name);

// Prints "garret: <message>" to stderr; returns the exit code for the error
// (2 for usage/configuration errors, 1 otherwise).
int reportError(const Error& e);
int reportError(const Error& e, int code);

// "1.5 GiB", "312 KiB", "12 B".
std::string formatBytes(double bytes);

void printJson(const nlohmann::json& j);

// The first line of standard input without surrounding whitespace (a token
// piped in, e.g. `garret token make … | garret login …`).
std::string readSecretLine();

}  // namespace garret::cli

namespace garret::cli {
class Dispatch;
// push and watch-store (push_commands.cpp); token distribute (token_commands.cpp).
void addPushCommands(CLI::App& root, Dispatch& dispatch);
void addTokenCommands(CLI::App& root, Dispatch& dispatch);
}  // namespace garret::cli
