#include "app/commands.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <malloc.h>

#include <condition_variable>
#include <csignal>
#include <mutex>
#include <thread>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>

#include "app/config.h"
#include "app/runtime.h"
#include "auth/jwt.h"
#include "cache/fsck.h"
#include "cache/garbage_collector.h"
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

// The periodic garbage collection pass inside `garretd serve`.
class PeriodicGc {
 public:
  PeriodicGc(Runtime& rt, std::int64_t interval) : rt_(rt), interval_(interval) {
    if (interval_ > 0) thread_ = std::thread([this] { loop(); });
  }
  ~PeriodicGc() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    while (!wake_.wait_for(lock, std::chrono::seconds(interval_), [&] { return stopping_; })) {
      lock.unlock();
      pass();
      lock.lock();
    }
  }
  void pass() {
    // Accesses not yet written would otherwise look like no access at all.
    Status flushed = rt_.service->flushAccesses();
    if (!flushed.ok()) spdlog::warn("gc: recording accesses failed: {}", flushed.error().message);
    cache::GarbageCollector gc(*rt_.db, *rt_.blobs, rt_.clock, gcOptions(rt_.config));
    auto result = gc.run([](std::string_view what) { spdlog::debug("gc: {}", what); });
    rt_.service->forgetAll();
    if (!result.ok()) {
      spdlog::error("gc failed (the next pass resumes): {}", result.error().message);
      return;
    }
    if (result->skipped) {
      spdlog::info("gc: another replica is collecting; skipped this pass");
      return;
    }
    spdlog::info("gc: {}", cache::summarize(*result));
  }

  Runtime& rt_;
  std::int64_t interval_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

struct ServeOptions {
  std::string mode = "all";  // api | gc | all
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
  http::ServerOptions http_options = serverOptions(*config);
  http_options.ops_only = o.mode == "gc";
  http::Server server(http_options, *(*rt)->service, *(*rt)->authenticator, (*rt)->metrics);
  auto port = server.bind();
  if (!port.ok()) return fail(port.error());
  std::string host = config->listen.substr(0, config->listen.rfind(':'));
  if (host.empty() || host == "0.0.0.0" || host == "[::]" || host == "*") host = "127.0.0.1";
  std::string base = "http://" + host + ":" + std::to_string(*port);
  if (!o.port_file.empty()) std::ofstream(o.port_file) << *port << "\n";
  spdlog::info("listening on {} (data: {}, database: {})", base, config->data_dir,
               redactUrlPassword(config->database_url));
  if (!o.quiet) {
    auto main_cache = (*rt)->service->findCache(config->default_cache);
    if (main_cache.ok() && *main_cache) {
      std::cout << quickStart(**rt, **main_cache, base,
                              mintQuickStartToken(**rt, config->default_cache))
                << std::endl;
    }
  }
  // API replicas leave collection to the gc replica; the lease keeps
  // several collectors (mode all on every replica) from running at once.
  std::int64_t gc_interval = o.mode == "api" ? 0 : config->garbage_collection.interval_seconds;
  if (o.mode == "gc" && gc_interval == 0) {
    spdlog::warn("--mode gc with [garbage-collection] interval = 0: nothing will be collected");
  }
  spdlog::info("mode {}: {}", o.mode,
               o.mode == "api"   ? "HTTP API and cache, no garbage collection"
               : o.mode == "gc"  ? "garbage collection only (HTTP: /health, /ready, /metrics)"
                                 : "HTTP API and cache, and garbage collection");
  PeriodicGc gc(**rt, gc_interval);
  server.run(true);
  return 0;
}

// ---- gc / fsck

struct GcCommandOptions {
  bool dry_run = false;
  std::string grace;
  bool json = false;
};

int runGc(const CommonOptions& common, const GcCommandOptions& o) {
  auto config = loadConfig(common);
  if (!config.ok()) return fail(config.error(), 2);
  cache::GcOptions options = gcOptions(*config);
  options.dry_run = o.dry_run;
  if (!o.grace.empty()) {
    auto grace = parseDuration(o.grace);
    if (!grace.ok()) return fail(grace.error().context("--grace"), 2);
    options.grace_period = *grace;
  }
  auto rt = openRuntime(*config);
  if (!rt.ok()) return fail(rt.error());
  cache::GarbageCollector gc(*(*rt)->db, *(*rt)->blobs, (*rt)->clock, options);
  auto result = gc.run([&](std::string_view what) {
    if (!o.json) std::cerr << "gc: " << what << "\n";
  });
  if (!result.ok()) return fail(result.error().context("gc (run it again to resume)"));
  const auto& r = *result;
  if (r.skipped) {
    return fail(makeError(ErrorCode::kConflict,
                          "another garbage collector is running (a server's periodic pass or "
                          "another garretd gc); try again when it is done"));
  }
  if (o.json) {
    nlohmann::json j = {{"dry_run", o.dry_run},
                        {"objects", r.db.objects},
                        {"staged_uploads", r.db.staged},
                        {"nars", r.db.nars},
                        {"nar_bytes", r.db.nar_bytes},
                        {"chunks", r.db.chunks},
                        {"chunk_bytes", r.db.chunk_bytes},
                        {"packs_deleted", r.packs_deleted},
                        {"pack_bytes_deleted", r.pack_bytes_deleted},
                        {"packs_rewritten", r.packs_rewritten},
                        {"packs_written", r.packs_written},
                        {"bytes_copied", r.bytes_copied},
                        {"bytes_reclaimable", r.bytes_reclaimable}};
    std::cout << j.dump() << "\n";
    return 0;
  }
  const char* verb = o.dry_run ? "would delete" : "deleted";
  std::cout << fmt::format(
      "{} {} objects, {} staged uploads, {} NARs ({} bytes of NAR), {} chunks ({} bytes "
      "stored), {} packs ({} bytes)\n",
      verb, r.db.objects, r.db.staged, r.db.nars, r.db.nar_bytes, r.db.chunks, r.db.chunk_bytes,
      r.packs_deleted, r.pack_bytes_deleted);
  if (r.packs_rewritten > 0) {
    std::cout << fmt::format("{} {} packs into {} ({} bytes copied, {} bytes reclaimable)\n",
                             o.dry_run ? "would rewrite" : "rewrote", r.packs_rewritten,
                             r.packs_written, r.bytes_copied, r.bytes_reclaimable);
  }
  std::cout << cache::summarize(r) << "\n";
  return 0;
}

struct FsckCommandOptions {
  bool repair = false;
  bool quick = false;
  bool json = false;
};

// Exit codes as e2fsck's: 0 consistent, 1 problems found and repaired,
// 4 problems left (run with --repair), 8 the check itself failed.
int runFsck(const CommonOptions& common, const FsckCommandOptions& o) {
  auto config = loadConfig(common);
  if (!config.ok()) return fail(config.error(), 8);
  auto rt = openRuntime(*config);
  if (!rt.ok()) return fail(rt.error(), 8);
  cache::FsckOptions options;
  options.repair = o.repair;
  options.verify_chunks = !o.quick;
  auto report = cache::runFsck(*(*rt)->db, *(*rt)->blobs, options, [&](std::string_view what) {
    if (!o.json) std::cerr << "fsck: " << what << "\n";
  });
  if (!report.ok()) return fail(report.error(), 8);
  const auto& r = *report;
  int code = r.clean() ? 0 : (r.repaired ? 1 : 4);
  if (o.json) {
    nlohmann::json j = {{"status", r.clean() ? "clean" : (r.repaired ? "repaired" : "damaged")},
                        {"packs_checked", r.packs_checked},
                        {"chunks_checked", r.chunks_checked},
                        {"bytes_checked", r.bytes_checked},
                        {"missing_packs", r.missing_packs},
                        {"orphan_blobs", r.orphan_blobs},
                        {"damaged_chunks", r.damaged_chunks.size()},
                        {"damaged_nars", r.damaged_nars},
                        {"problems", r.problems}};
    std::cout << j.dump() << "\n";
    return code;
  }
  for (const auto& p : r.problems) std::cout << "problem: " << p << "\n";
  if (r.clean()) {
    std::cout << "consistent: " << r.packs_checked << " packs, " << r.chunks_checked
              << " chunks checked\n";
  } else if (r.repaired) {
    std::cout << "repaired: orphan blobs deleted; " << r.damaged_nars
              << " damaged NARs marked invalid (their paths can be pushed again)\n";
  } else {
    std::cout << "damaged: run `garretd fsck --repair` to delete orphans and mark the "
              << r.damaged_nars << " damaged NARs invalid so they can be pushed again\n";
  }
  std::cout << cache::summarize(r) << "\n";
  return code;
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

}  // namespace

std::function<int()> addMakeTokenCommand(CLI::App& cmd) {
  struct State {
    CommonOptions common;
    MakeTokenOptions token;
  };
  auto state = std::make_shared<State>();
  addCommonOptions(cmd, state->common);
  addMakeTokenOptions(cmd, state->token);
  return [state] { return runMakeToken(state->common, state->token); };
}

namespace {

// ---- migrate / check-config

int runMigrate(const CommonOptions& common) {
  auto config = loadConfig(common);
  if (!config.ok()) return fail(config.error(), 2);
  auto rt = openRuntime(*config);  // runs the migrations
  if (!rt.ok()) return fail(rt.error());
  std::cout << "database is up to date: " << redactUrlPassword(config->database_url) << "\n";
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
  serve->add_option("--mode", serve_opts.mode,
                    "api: HTTP API and cache only; gc: garbage collector only (HTTP serves "
                    "/health, /ready, /metrics); all: both")
      ->check(CLI::IsMember({"api", "gc", "all"}))
      ->capture_default_str();
  serve->add_option("--listen", serve_opts.listen, "Address to listen on, host:port (port 0 picks a free one)");
  serve->add_option("--threads", serve_opts.threads, "Network threads (default: number of cores)");
  serve->add_option("--port-file", serve_opts.port_file, "Write the bound port to this file");
  serve->add_flag("--quiet", serve_opts.quiet, "Do not print the quick start");

  auto* make_token = app.add_subcommand("make-token", "Mint a token (prints it alone on stdout)");
  auto run_make_token = addMakeTokenCommand(*make_token);

  auto* migrate = app.add_subcommand("migrate", "Run database migrations and exit");
  addCommonOptions(*migrate, common);
  auto* check = app.add_subcommand("check-config", "Validate the config and print the effective values");
  addCommonOptions(*check, common);

  auto* gc = app.add_subcommand(
      "gc", "Run one garbage collection pass (expired objects, unused NARs, chunks, packs)");
  addCommonOptions(*gc, common);
  GcCommandOptions gc_opts;
  gc->add_flag("--dry-run", gc_opts.dry_run, "Report what would be deleted and freed; change nothing");
  gc->add_option("--grace", gc_opts.grace,
                 "Override [garret] gc-grace-period (e.g. 0s when no server is running)");
  gc->add_flag("--json", gc_opts.json, "Print the result as one JSON object");

  auto* fsck = app.add_subcommand(
      "fsck", "Check the database against storage (exit 0 clean, 1 repaired, 4 damaged, 8 error)");
  addCommonOptions(*fsck, common);
  FsckCommandOptions fsck_opts;
  fsck->add_flag("--repair", fsck_opts.repair,
                 "Delete orphan blobs; mark NARs with damaged chunks invalid (re-uploadable)");
  fsck->add_flag("--quick", fsck_opts.quick,
                 "Only check that packs exist (skip reading and hashing every chunk)");
  fsck->add_flag("--json", fsck_opts.json, "Print the result as one JSON object");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  setUpLogging(common.log_level, "text");
  if (*serve) return runServe(common, serve_opts);
  if (*make_token) return run_make_token();
  if (*migrate) return runMigrate(common);
  if (*check) return runCheckConfig(common);
  if (*gc) return runGc(common, gc_opts);
  if (*fsck) return runFsck(common, fsck_opts);
  return 2;
}

}  // namespace garret::app
