#include "app/commands.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <malloc.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>

#include "app/config.h"
#include "app/runtime.h"
#include "auth/jwt.h"
#include "core/duration.h"

namespace garret::app {

namespace {

// Options every command shares: where the config and data live.
struct CommonOptions {
  std::string config_file;
  std::string data_dir;
  std::string log_level = "info";
  // Command-line values that override the config, as GARRET_* variables would.
  std::map<std::string, std::string> overrides;
};

void addCommonOptions(CLI::App& cmd, CommonOptions& o) {
  cmd.add_option("-f,--config", o.config_file,
                 "Server config file (TOML; Attic's server.toml keys work). "
                 "Default: $ATTIC_SERVER_CONFIG_BASE64, else embedded defaults");
  cmd.add_option("--data-dir", o.data_dir,
                 "Data directory for the embedded defaults (database, storage, token secret)");
  cmd.add_option("--log-level", o.log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
}

Result<ServerConfig> loadConfig(const CommonOptions& o) {
  std::map<std::string, std::string> overrides = o.overrides;
  if (!o.data_dir.empty()) overrides["GARRET_DATA_DIR"] = o.data_dir;
  EnvLookup process = processEnvironment();
  EnvLookup env = [&](const char* name) -> std::optional<std::string> {
    auto it = overrides.find(name);
    if (it != overrides.end()) return it->second;
    return process(name);
  };
  std::optional<std::filesystem::path> file;
  if (!o.config_file.empty()) file = o.config_file;
  return loadServerConfig(file, env);
}

// "%*" in a log pattern: the message as the inside of a JSON string.
class JsonEscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string_view text(msg.payload.data(), msg.payload.size());
    std::string escaped = nlohmann::json(std::string(text)).dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(escaped.data() + 1, escaped.data() + escaped.size() - 1);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonEscapedMessage>();
  }
};

void setUpLogging(const std::string& level, const std::string& format) {
  spdlog::set_level(spdlog::level::from_str(level));
  if (format == "json") {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<JsonEscapedMessage>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","msg":"%*"})");
    spdlog::set_formatter(std::move(formatter));
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  }
}

int fail(const Error& e, int code = 1) {
  std::cerr << "garretd: " << e.message << "\n";
  return code;
}

// ---- serve

struct ServeOptions {
  std::string listen;
  int threads = 0;
  std::string port_file;
  bool quiet = false;
};

std::string mintQuickStartToken(const Runtime& rt, const std::string& cache) {
  auth::MakeTokenRequest req;
  req.sub = "quickstart";
  req.validity_seconds = 365 * 86400;
  req.pull = {cache};
  req.push = {cache};
  req.issuer = rt.config.jwt.bound_issuer;
  req.audiences = rt.config.jwt.bound_audiences;
  auto claims = auth::claimsForRequest(req, rt.clock.now());
  if (!claims.ok() || !rt.authenticator->key().canSign()) return "(this server only verifies tokens)";
  auto token = auth::mintToken(*claims, rt.authenticator->key());
  return token.ok() ? *token : "(" + token.error().message + ")";
}

int runServe(const CommonOptions& common, const ServeOptions& o) {
  CommonOptions c = common;
  if (!o.listen.empty()) c.overrides["GARRET_LISTEN"] = o.listen;
  if (o.threads > 0) c.overrides["GARRET_THREADS"] = std::to_string(o.threads);
  auto config = loadConfig(c);
  if (!config.ok()) return fail(config.error(), 2);
  setUpLogging(common.log_level, config->log_format);
  if (config->compression.type != "zstd") {
    spdlog::warn("[compression] type = \"{}\": garretd stores and serves NARs as zstd frames; "
                 "only the level is used", config->compression.type);
  }
  auto rt = openRuntime(*config);
  if (!rt.ok()) return fail(rt.error());
  auto created = ensureDefaultCache(**rt);
  if (!created.ok()) return fail(created.error());
  http::Server server(serverOptions(*config), *(*rt)->service, *(*rt)->authenticator,
                      (*rt)->metrics);
  auto port = server.bind();
  if (!port.ok()) return fail(port.error());
  std::string host = config->listen.substr(0, config->listen.rfind(':'));
  if (host.empty() || host == "0.0.0.0" || host == "[::]" || host == "*") host = "127.0.0.1";
  std::string base = "http://" + host + ":" + std::to_string(*port);
  if (!o.port_file.empty()) std::ofstream(o.port_file) << *port << "\n";
  spdlog::info("listening on {} (data: {}, database: {})", base, config->data_dir,
               config->database_url);
  if (!o.quiet) {
    auto main_cache = (*rt)->service->findCache(config->default_cache);
    if (main_cache.ok() && *main_cache) {
      std::cout << quickStart(**rt, **main_cache, base,
                              mintQuickStartToken(**rt, config->default_cache))
                << std::endl;
    }
  }
  server.run(true);
  return 0;
}

// ---- make-token

struct MakeTokenOptions {
  auth::MakeTokenRequest req;
  std::string validity = "1y";
  bool dump_claims = false;
};

int runMakeToken(const CommonOptions& common, MakeTokenOptions& o) {
  auto config = loadConfig(common);
  if (!config.ok()) return fail(config.error(), 2);
  auto validity = parseDuration(o.validity);
  if (!validity.ok()) return fail(validity.error().context("--validity"), 2);
  o.req.validity_seconds = *validity;
  o.req.issuer = config->jwt.bound_issuer;
  o.req.audiences = config->jwt.bound_audiences;
  SystemClock clock;
  auto claims = auth::claimsForRequest(o.req, clock.now());
  if (!claims.ok()) return fail(claims.error(), 2);
  if (o.dump_claims) {
    std::cout << auth::claimsToJson(*claims).dump(2) << "\n";
    return 0;
  }
  auto key = loadTokenKey(*config);
  if (!key.ok()) return fail(key.error());
  auto token = auth::mintToken(*claims, *key);
  if (!token.ok()) return fail(token.error());
  std::cout << *token << "\n";
  return 0;
}

void addMakeTokenOptions(CLI::App& cmd, MakeTokenOptions& o) {
  auto& r = o.req;
  cmd.add_option("--sub", r.sub, "Subject of the token (recorded as the uploader)")->required();
  cmd.add_option("--validity", o.validity, "How long the token is valid, e.g. 1y, 3 months, 12h")
      ->capture_default_str();
  const std::pair<const char*, std::vector<std::string>*> kFlags[] = {
      {"--pull", &r.pull},
      {"--push", &r.push},
      {"--delete", &r.del},
      {"--create-cache", &r.create_cache},
      {"--configure-cache", &r.configure_cache},
      {"--configure-cache-retention", &r.configure_retention},
      {"--destroy-cache", &r.destroy_cache},
  };
  for (const auto& [flag, target] : kFlags) {
    cmd.add_option(flag, *target,
                   std::string("Cache name or pattern (`*` wildcard) to allow ") + (flag + 2) +
                       "; repeatable")
        ->allow_extra_args(false)
        ->take_all();
  }
  cmd.add_flag("--dump-claims", o.dump_claims, "Print the claims as JSON instead of the token");
}

// ---- migrate / check-config

int runMigrate(const CommonOptions& common) {
  auto config = loadConfig(common);
  if (!config.ok()) return fail(config.error(), 2);
  auto rt = openRuntime(*config);  // runs the migrations
  if (!rt.ok()) return fail(rt.error());
  std::cout << "database is up to date: " << config->database_url << "\n";
  return 0;
}

int runCheckConfig(const CommonOptions& common) {
  auto config = loadConfig(common);
  if (!config.ok()) return fail(config.error(), 2);
  std::cout << renderEffectiveConfig(*config);
  return 0;
}

}  // namespace

int garretdMain(int argc, char** argv) {
  // A client closing its connection during sendfile() must not kill the server.
  std::signal(SIGPIPE, SIG_IGN);
  // Few malloc arenas: worker threads otherwise each keep freed codec buffers.
  mallopt(M_ARENA_MAX, 2);
  CLI::App app{"garretd: a Nix binary cache server (speaks Nix's HTTP binary cache and Attic's API)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "garretd 0.1.0");
  CommonOptions common;

  auto* serve = app.add_subcommand("serve", "Run the HTTP server");
  addCommonOptions(*serve, common);
  ServeOptions serve_opts;
  serve->add_option("--listen", serve_opts.listen, "Address to listen on, host:port (port 0 picks a free one)");
  serve->add_option("--threads", serve_opts.threads, "Network threads (default: number of cores)");
  serve->add_option("--port-file", serve_opts.port_file, "Write the bound port to this file");
  serve->add_flag("--quiet", serve_opts.quiet, "Do not print the quick start");

  auto* make_token = app.add_subcommand("make-token", "Mint a token (prints it alone on stdout)");
  addCommonOptions(*make_token, common);
  MakeTokenOptions token_opts;
  addMakeTokenOptions(*make_token, token_opts);

  auto* migrate = app.add_subcommand("migrate", "Run database migrations and exit");
  addCommonOptions(*migrate, common);
  auto* check = app.add_subcommand("check-config", "Validate the config and print the effective values");
  addCommonOptions(*check, common);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  setUpLogging(common.log_level, "text");
  if (*serve) return runServe(common, serve_opts);
  if (*make_token) return runMakeToken(common, token_opts);
  if (*migrate) return runMigrate(common);
  if (*check) return runCheckConfig(common);
  return 2;
}

}  // namespace garret::app
