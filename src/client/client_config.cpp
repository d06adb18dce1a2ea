#include "client/client_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <toml.hpp>

namespace garret::client {

namespace fs = std::filesystem;

namespace {

fs::path configHome() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && xdg[0] == '/') return xdg;
  const char* home = std::getenv("HOME");
  return fs::path(home != nullptr ? home : "/") / ".config";
}

// TOML basic string with the escapes the spec requires.
std::string tomlString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

bool isBareKey(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

Result<std::string> stringField(const toml::value& table, const char* key, const std::string& where) {
  if (!table.contains(key)) return std::string();
  const toml::value& v = table.at(key);
  if (!v.is_string()) return invalid(where + ": " + key + " must be a string");
  return v.as_string().str;
}

Result<ServerEntry> parseServer(const std::string& name, const toml::value& v, std::string_view source) {
  std::string where = std::string(source) + ": [servers." + name + "]";
  if (!v.is_table()) return invalid(where + " must be a table");
  ServerEntry e;
  GARRET_ASSIGN_OR_RETURN(std::string endpoint, stringField(v, "endpoint", where));
  if (endpoint.empty()) return invalid(where + " has no endpoint");
  GARRET_ASSIGN_OR_RETURN(e.endpoint, normalizeEndpoint(endpoint));
  GARRET_ASSIGN_OR_RETURN(e.token, stringField(v, "token", where));
  GARRET_ASSIGN_OR_RETURN(e.token_file, stringField(v, "token-file", where));
  return e;
}

Result<std::string> readTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return makeError(ErrorCode::kIo, "cannot read token file " + path);
  std::string token;
  std::getline(in, token);
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  return token;
}

}  // namespace

ConfigPaths defaultConfigPaths() {
  ConfigPaths p{configHome() / "garret" / "config.toml", configHome() / "attic" / "config.toml"};
  const char* override_path = std::getenv("GARRET_CONFIG");
  if (override_path != nullptr && override_path[0] != '\0') p.garret = override_path;
  return p;
}

Result<std::string> normalizeEndpoint(std::string_view url) {
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    return invalid("server URL \"" + std::string(url) + "\" must start with http:// or https://");
  }
  std::string_view rest = url.substr(url.find("://") + 3);
  if (rest.empty() || rest.front() == '/') return invalid("server URL \"" + std::string(url) + "\" has no host");
  if (url.find_first_of(" \t\r\n?#") != std::string_view::npos) {
    return invalid("server URL \"" + std::string(url) + "\" must not contain spaces, a query or a fragment");
  }
  std::string out(url);
  if (out.back() != '/') out += '/';
  return out;
}

Result<ClientConfig> parseClientConfig(std::string_view text, std::string_view source) {
  toml::value root;
  try {
    std::istringstream in{std::string(text)};
    root = toml::parse(in, std::string(source));
  } catch (const std::exception& e) {
    return invalid(std::string(e.what()));
  }
  ClientConfig config;
  GARRET_ASSIGN_OR_RETURN(config.default_server, stringField(root, "default-server", std::string(source)));
  if (!root.contains("servers")) return config;
  const toml::value& servers = root.at("servers");
  if (!servers.is_table()) return invalid(std::string(source) + ": servers must be a table");
  for (const auto& [name, v] : servers.as_table()) {
    GARRET_ASSIGN_OR_RETURN(ServerEntry e, parseServer(name, v, source));
    config.servers.emplace(name, std::move(e));
  }
  return config;
}

std::string renderClientConfig(const ClientConfig& config) {
  std::string out = "# garret client config: servers and tokens (keep this file private).\n";
  if (!config.default_server.empty()) out += "default-server = " + tomlString(config.default_server) + "\n";
  for (const auto& [name, e] : config.servers) {
    out += "\n[servers." + (isBareKey(name) ? name : tomlString(name)) + "]\n";
    out += "endpoint = " + tomlString(e.endpoint) + "\n";
    if (!e.token.empty()) out += "token = " + tomlString(e.token) + "\n";
    if (!e.token_file.empty()) out += "token-file = " + tomlString(e.token_file) + "\n";
  }
  return out;
}

Result<ClientConfig> loadClientConfig(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return ClientConfig{};
    return makeError(ErrorCode::kIo, "cannot read " + path.string());
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return parseClientConfig(buf.str(), path.string());
}

Status saveClientConfig(const fs::path& path, const ClientConfig& config) {
  std::error_code ec;
  fs::path dir = path.parent_path();
  if (!dir.empty() && !fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return makeError(ErrorCode::kIo, "cannot create " + dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
  }
  fs::path tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return makeError(ErrorCode::kIo, "cannot write " + tmp.string() + ": " + std::strerror(errno));
  std::string text = renderClientConfig(config);
  bool ok = ::fchmod(fd, 0600) == 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return makeError(ErrorCode::kIo, "cannot write " + path.string() + ": " + std::strerror(errno));
  }
  return {};
}

Result<std::pair<std::string, ServerEntry>> findServer(const ConfigPaths& paths, std::string_view name) {
  GARRET_ASSIGN_OR_RETURN(ClientConfig own, loadClientConfig(paths.garret));
  GARRET_ASSIGN_OR_RETURN(ClientConfig attic, loadClientConfig(paths.attic));
  std::string wanted(name);
  if (wanted.empty()) wanted = !own.default_server.empty() ? own.default_server : attic.default_server;
  if (wanted.empty()) {
    return invalid("no server given and no default server: run `garret login NAME URL TOKEN` first");
  }
  const ServerEntry* found = nullptr;
  if (auto it = own.servers.find(wanted); it != own.servers.end()) found = &it->second;
  else if (auto at = attic.servers.find(wanted); at != attic.servers.end()) found = &at->second;
  if (found == nullptr) {
    return notFound("no server named \"" + wanted + "\" in " + paths.garret.string() + " or " +
                    paths.attic.string() + ": run `garret login " + wanted + " URL TOKEN`");
  }
  ServerEntry e = *found;
  if (e.token.empty() && !e.token_file.empty()) {
    GARRET_ASSIGN_OR_RETURN(e.token, readTokenFile(e.token_file));
  }
  const char* env = std::getenv("GARRET_TOKEN");
  if (env != nullptr && env[0] != '\0') e.token = env;
  return std::pair{wanted, e};
}

Result<std::pair<std::string, std::string>> parseCacheRef(std::string_view ref) {
  std::size_t colon = ref.find(':');
  std::string server = colon == std::string_view::npos ? "" : std::string(ref.substr(0, colon));
  std::string cache(colon == std::string_view::npos ? ref : ref.substr(colon + 1));
  bool valid = !cache.empty() && cache.size() <= 50 && std::isalnum(static_cast<unsigned char>(cache[0]));
  for (char c : cache) {
    valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '+');
  }
  if (!valid) {
    return invalid("\"" + std::string(ref) + "\" is not SERVER:CACHE (cache names: letters, digits, - _ +, up to 50)");
  }
  return std::pair{server, cache};
}

}  // namespace garret::client
