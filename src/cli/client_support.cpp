#include "cli/client_support.h"

#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "core/text.h"

namespace garret::cli {

Result<Connection> connectServer(const std::string& name) {
  Connection c;
  GARRET_ASSIGN_OR_RETURN(auto found, client::findServer(client::defaultConfigPaths(), name));
  c.server_name = found.first;
  c.server = std::move(found.second);
  c.http = client::makeCurlHttpClient();
  c.api = std::make_unique<client::ApiClient>(*c.http, c.server.endpoint, c.server.token);
  return c;
}

Result<Connection> connectCache(const std::string& ref) {
  GARRET_ASSIGN_OR_RETURN(auto parsed, client::parseCacheRef(ref));
  GARRET_ASSIGN_OR_RETURN(Connection c, connectServer(parsed.first));
  c.cache = parsed.second;
  return c;
}

int reportError(const Error& e, int code) {
  std::cerr << "garret: " << e.message << "\n";
  return code;
}

int reportError(const Error& e) {
  return reportError(e, e.code == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailed);
}

std::string formatBytes(double bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, kUnits[unit]);
  return buf;
}

void printJson(const nlohmann::json& j) { std::cout << j.dump(2) << "\n"; }

std::string readSecretLine() {
  std::string line;
  std::getline(std::cin, line);
  return std::string(trimSpace(line));
}

}  // namespace garret::cli
