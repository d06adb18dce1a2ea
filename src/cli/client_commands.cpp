// garret login, use, cache create|configure|info|list|destroy.

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/client_support.h"
#include "cli/command.h"
#include "client/nix_config.h"
#include "core/duration.h"

namespace garret::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// ---- login

struct LoginOptions {
  std::string name, url, token;
  bool set_default = false;
  std::string token_file;
};

Result<std::string> loginToken(const LoginOptions& o) {
  if (o.token == "-" || (o.token.empty() && o.token_file.empty() && !std::getenv("GARRET_TOKEN") &&
                         isatty(STDIN_FILENO) == 0)) {
    std::string line = readSecretLine();
    if (line.empty()) std::cerr << "no token on standard input: logging in without one (public caches only)\n";
    return line;
  }
  if (!o.token.empty()) return o.token;
  const char* env = std::getenv("GARRET_TOKEN");
  return std::string(env != nullptr ? env : "");
}

int runLogin(const LoginOptions& o) {
  auto endpoint = client::normalizeEndpoint(o.url);
  if (!endpoint.ok()) return reportError(endpoint.error(), kExitUsage);
  auto token = loginToken(o);
  if (!token.ok()) return reportError(token.error(), kExitUsage);
  client::ConfigPaths paths = client::defaultConfigPaths();
  auto config = client::loadClientConfig(paths.garret);
  if (!config.ok()) return reportError(config.error());
  client::ServerEntry& e = config->servers[o.name];
  e = client::ServerEntry{*endpoint, *token, o.token_file};
  if (o.set_default || config->default_server.empty()) config->default_server = o.name;
  Status saved = client::saveClientConfig(paths.garret, *config);
  if (!saved.ok()) return reportError(saved.error());
  std::cout << "logged in to " << o.name << " (" << *endpoint << ")"
            << (config->default_server == o.name ? ", the default server" : "") << "; saved in "
            << paths.garret.string() << "\n";
  // Check the server answers and takes the token; a failure is only a warning
  // (the server may be down now and fine later).
  auto http = client::makeCurlHttpClient();
  std::string effective = !token->empty() ? *token : "";
  if (effective.empty() && !o.token_file.empty()) {
    auto found = client::findServer(paths, o.name);
    if (found.ok()) effective = found->second.token;
  }
  client::ApiClient api(*http, *endpoint, effective);
  auto caches = api.listCaches();
  if (!caches.ok() && caches.error().code != ErrorCode::kNotFound &&
      caches.error().code != ErrorCode::kInvalidArgument) {
    std::cerr << "warning: " << caches.error().message << "\n";
  }
  return kExitOk;
}

void addLogin(CLI::App& root, Dispatch& d) {
  auto o = std::make_shared<LoginOptions>();
  auto* cmd = root.add_subcommand(
      "login", "Save a server and its token (in ~/.config/garret/config.toml, mode 0600)");
  cmd->add_option("name", o->name, "Name for the server, used as NAME in NAME:CACHE")->required();
  cmd->add_option("url", o->url, "Server URL, e.g. https://cache.example.org/")->required();
  cmd->add_option("token", o->token,
                  "Token; `-` or omitted with a pipe reads standard input; else $GARRET_TOKEN");
  cmd->add_option("--token-file", o->token_file, "Read the token from this file at each use instead");
  cmd->add_flag("--set-default", o->set_default, "Make this the default server");
  d.on(cmd, [o] { return runLogin(*o); });
}

// ---- use

struct UseOptions {
  std::string ref;
  bool system = false;
  bool dry_run = false;
  std::string nix_conf;
  std::string netrc;
};

fs::path nixConfDir(bool system) {
  if (system) {
    const char* dir = std::getenv("NIX_CONF_DIR");
    return dir != nullptr && dir[0] != '\0' ? fs::path(dir) : fs::path("/etc/nix");
  }
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  const char* home = std::getenv("HOME");
  fs::path base = xdg != nullptr && xdg[0] == '/' ? fs::path(xdg) : fs::path(home ? home : "/") / ".config";
  return base / "nix";
}

std::string readFileOrEmpty(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

Status writeFileAtomic(const fs::path& p, const std::string& text, fs::perms mode) {
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  fs::path tmp = p;
  tmp += ".garret-tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return makeError(ErrorCode::kIo, "cannot write " + tmp.string());
  }
  fs::permissions(tmp, mode, ec);
  fs::rename(tmp, p, ec);
  if (ec) return makeError(ErrorCode::kIo, "cannot replace " + p.string() + ": " + ec.message());
  return {};
}

void showChange(const fs::path& file, const std::string& before, const std::string& after) {
  std::cout << "--- " << file.string() << "\n";
  std::istringstream old_lines(before), new_lines(after);
  std::set<std::string> old_set;
  for (std::string l; std::getline(old_lines, l);) old_set.insert(l);
  for (std::string l; std::getline(new_lines, l);) {
    if (!old_set.count(l)) std::cout << "+ " << l << "\n";
  }
}

int runUse(const UseOptions& o) {
  auto conn = connectCache(o.ref);
  if (!conn.ok()) return reportError(conn.error());
  auto config = conn->api->cacheConfig(conn->cache);
  if (!config.ok()) return reportError(config.error());
  std::string substituter = client::jsonString(*config, "substituter_endpoint", conn->server.endpoint + conn->cache);
  std::string key = client::jsonString(*config, "public_key");
  fs::path dir = nixConfDir(o.system);
  fs::path conf = o.nix_conf.empty() ? dir / "nix.conf" : fs::path(o.nix_conf);
  std::string netrc_default = o.netrc.empty() ? (dir / "netrc").string() : o.netrc;
  std::string before = readFileOrEmpty(conf);
  auto edit = client::editNixConf(before, substituter,key,
                                  conn->server.token.empty() ? "" : netrc_default);
  client::NetrcEdit netrc;
  fs::path netrc_path = edit.netrc_file;
  std::string netrc_before = netrc_path.empty() ? "" : readFileOrEmpty(netrc_path);
  if (!conn->server.token.empty()) {
    netrc = client::editNetrc(netrc_before, client::urlHost(substituter), conn->server.token);
  }
  if (o.dry_run) {
    if (edit.changed) showChange(conf, before, edit.text);
    if (netrc.changed) std::cout << "--- " << netrc_path.string() << "\n+ machine "
                                 << client::urlHost(substituter) << " password <token>\n";
    if (!edit.changed && !netrc.changed) std::cout << "nothing to change\n";
    return kExitOk;
  }
  if (edit.changed) {
    Status s = writeFileAtomic(conf, edit.text, fs::perms::owner_read | fs::perms::owner_write |
                                                    fs::perms::group_read | fs::perms::others_read);
    if (!s.ok()) return reportError(s.error());
  }
  if (netrc.changed) {
    Status s = writeFileAtomic(netrc_path, netrc.text, fs::perms::owner_read | fs::perms::owner_write);
    if (!s.ok()) return reportError(s.error());
  }
  std::cout << (edit.changed || netrc.changed ? "configured " : "already configured: ") << substituter
            << " with key " << key << " in " << conf.string() << "\n";
  return kExitOk;
}

void addUse(CLI::App& root, Dispatch& d) {
  auto o = std::make_shared<UseOptions>();
  auto* cmd = root.add_subcommand(
      "use", "Configure Nix to substitute from a cache (substituter, public key, netrc)");
  cmd->add_option("cache", o->ref, "SERVER:CACHE, or CACHE on the default server")->required();
  cmd->add_flag("--system", o->system, "Edit /etc/nix/nix.conf ($NIX_CONF_DIR) instead of the user's");
  cmd->add_flag("--dry-run", o->dry_run, "Print the change without writing anything");
  cmd->add_option("--nix-conf", o->nix_conf, "Edit this nix.conf instead");
  cmd->add_option("--netrc", o->netrc, "netrc file to add when nix.conf names none");
  d.on(cmd, [o] { return runUse(*o); });
}

// ---- cache create|configure|info|list|destroy

struct CacheOptions {
  std::string ref;
  bool is_public = false, is_private = false, json_out = false, yes = false, regenerate = false;
  std::optional<int> priority;
  std::optional<std::string> store_dir, retention;
  std::vector<std::string> upstream;
  bool upstream_given = false;
};

Result<json> retentionJson(const std::string& text) {
  if (text == "global" || text == "Global") return json("Global");
  GARRET_ASSIGN_OR_RETURN(std::int64_t seconds, parseDuration(text));
  return json{{"Period", seconds}};
}

Result<json> configurePatch(const CacheOptions& o) {
  json patch = json::object();
  if (o.is_public && o.is_private) return invalid("--public and --private contradict each other");
  if (o.is_public || o.is_private) patch["is_public"] = o.is_public;
  if (o.priority) patch["priority"] = *o.priority;
  if (o.store_dir) patch["store_dir"] = *o.store_dir;
  if (o.upstream_given) patch["upstream_cache_key_names"] = o.upstream;
  if (o.regenerate) patch["keypair"] = "Generate";
  if (o.retention) {
    GARRET_ASSIGN_OR_RETURN(patch["retention_period"], retentionJson(*o.retention));
  }
  if (patch.empty()) return invalid("nothing to change: give at least one setting (see --help)");
  return patch;
}

void printCacheInfo(const std::string& name, const json& c) {
  std::cout << name << "\n";
  auto field = [&](const char* label, const char* key) {
    if (c.contains(key)) std::cout << "  " << label << (c[key].is_string() ? c[key].get<std::string>() : c[key].dump()) << "\n";
  };
  field("public:        ", "is_public");
  field("substituter:   ", "substituter_endpoint");
  field("public key:    ", "public_key");
  field("store dir:     ", "store_dir");
  field("priority:      ", "priority");
  field("upstream keys: ", "upstream_cache_key_names");
  if (c.contains("retention_period")) {
    const json& r = c["retention_period"];
    std::string text = r.is_object() && r.contains("Period") && r["Period"].is_number_unsigned()
                           ? (r["Period"].get<std::int64_t>() == 0 ? "never expires" : formatDuration(r["Period"].get<std::int64_t>()))
                           : "server default";
    std::cout << "  retention:     " << text << "\n";
  }
}

int runCache(const std::string& action, const CacheOptions& o) {
  auto conn = action == "list" ? connectServer(o.ref) : connectCache(o.ref);
  if (!conn.ok()) return reportError(conn.error());
  auto& api = *conn->api;
  const std::string& cache = conn->cache;
  if (action == "list") {
    auto list = api.listCaches();
    if (!list.ok()) return reportError(list.error());
    if (o.json_out) return printJson(*list), kExitOk;
    for (const json& c : (*list)["caches"]) {
      std::cout << client::jsonString(c, "name") << (client::jsonBool(c, "is_public", false) ? "  public " : "  private")
                << "  " << client::jsonString(c, "substituter_endpoint") << "\n";
    }
    if ((*list)["caches"].empty()) std::cout << "no caches visible with this token\n";
    return kExitOk;
  }
  if (action == "info") {
    auto c = api.cacheConfig(cache);
    if (!c.ok()) return reportError(c.error());
    if (o.json_out) return printJson(*c), kExitOk;
    printCacheInfo(cache, *c);
    return kExitOk;
  }
  if (action == "destroy") {
    if (!o.yes) {
      return reportError(invalid("destroying " + cache + " deletes every path in it: add --yes to confirm"));
    }
    Status s = api.destroyCache(cache);
    if (!s.ok()) return reportError(s.error());
    std::cout << "destroyed cache " << cache << "\n";
    return kExitOk;
  }
  if (action == "create") {
    json req = {{"keypair", "Generate"},
                {"is_public", o.is_public},
                {"store_dir", o.store_dir.value_or("/nix/store")},
                {"priority", o.priority.value_or(41)},
                {"upstream_cache_key_names",
                 o.upstream_given ? o.upstream : std::vector<std::string>{"cache.nixos.org-1"}}};
    Status s = api.createCache(cache, req);
    if (!s.ok()) return reportError(s.error());
    if (o.retention) {
      auto r = retentionJson(*o.retention);
      if (!r.ok()) return reportError(r.error(), kExitUsage);
      Status p = api.configureCache(cache, json{{"retention_period", *r}});
      if (!p.ok()) return reportError(p.error());
    }
    auto c = api.cacheConfig(cache);
    if (!c.ok()) return reportError(c.error());
    if (o.json_out) return printJson(*c), kExitOk;
    std::cout << "created cache " << cache << "; use it with: garret use " << conn->server_name << ":"
              << cache << "\n";
    printCacheInfo(cache, *c);
    return kExitOk;
  }
  auto patch = configurePatch(o);
  if (!patch.ok()) return reportError(patch.error(), kExitUsage);
  Status s = api.configureCache(cache, *patch);
  if (!s.ok()) return reportError(s.error());
  std::cout << "configured " << cache << ": " << patch->dump() << "\n";
  return kExitOk;
}

void addCacheSettings(CLI::App* cmd, CacheOptions& o, bool create) {
  cmd->add_flag("--public", o.is_public, "Anyone may pull without a token");
  if (!create) cmd->add_flag("--private", o.is_private, "Pulling needs a token");
  cmd->add_option("--priority", o.priority, "Substituter priority (lower is preferred; default 41)");
  cmd->add_option("--store-dir", o.store_dir, "Nix store directory (default /nix/store)");
  cmd->add_option("--upstream-cache-key-name", o.upstream,
                  "Key name of an upstream cache; paths it signed are not pushed (repeatable; "
                  "default on create: cache.nixos.org-1)")
      ->each([&o](const std::string&) { o.upstream_given = true; });
  cmd->add_option("--retention-period", o.retention,
                  "How long unused paths are kept, e.g. \"30 days\"; 0 keeps forever; `global` = server default");
  if (!create) cmd->add_flag("--regenerate-keypair", o.regenerate, "Replace the signing key (clients must re-run garret use)");
}

void addCache(CLI::App& root, Dispatch& d) {
  auto* cache = root.add_subcommand("cache", "Create, configure, inspect, list and destroy caches");
  cache->require_subcommand(1);
  struct Spec {
    const char* name;
    const char* help;
  };
  static const Spec kSpecs[] = {
      {"create", "Create a cache (signing key generated by the server)"},
      {"configure", "Change a cache's settings; only the settings given are sent"},
      {"info", "Show a cache's settings and public key"},
      {"list", "List the caches this token can see"},
      {"destroy", "Delete a cache and everything in it"},
  };
  for (const Spec& s : kSpecs) {
    auto o = std::make_shared<CacheOptions>();
    std::string action = s.name;
    auto* cmd = cache->add_subcommand(s.name, s.help);
    if (action == "list") {
      cmd->add_option("server", o->ref, "Server name (default: the default server)");
    } else {
      cmd->add_option("cache", o->ref, "SERVER:CACHE, or CACHE on the default server")->required();
    }
    if (action == "create" || action == "configure") addCacheSettings(cmd, *o, action == "create");
    if (action == "destroy") cmd->add_flag("--yes", o->yes, "Confirm the deletion");
    if (action != "configure" && action != "destroy") cmd->add_flag("--json", o->json_out, "Print JSON");
    d.on(cmd, [o, action] { return runCache(action, *o); });
  }
}

}  // namespace

void addClientCommands(CLI::App& root, Dispatch& d) {
  addLogin(root, d);
  addUse(root, d);
  addPushCommands(root, d);
  addCache(root, d);
  addTokenCommands(root, d);
}

}  // namespace garret::cli
