#include "postgres_server.h"  // the support dir is an include root only for its users

#include <fcntl.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

extern char** environ;

namespace garret::testing {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kInstallHint =
    "install the `postgresql` package (scripts/install-deps.sh does) or point GARRET_PG_BIN at "
    "the directory holding initdb and postgres "
    "need a server";

// Only the password user needs a password; the superuser `postgres` and any
// role a test creates log in freely.
constexpr const char* kHba =
    "local all all trust\n"
    "host all garret_password_user 127.0.0.1/32 scram-sha-256\n"
    "host all all 127.0.0.1/32 trust\n"
    "host all all ::1/128 trust\n";

std::atomic<int> database_counter{0};

bool executable(const fs::path& path) { return ::access(path.c_str(), X_OK) == 0; }

bool hasServer(const fs::path& dir) {
  return executable(dir / "initdb") && executable(dir / "postgres");
}

Result<std::string> findBinDir() {
  if (const char* env = std::getenv("GARRET_PG_BIN"); env != nullptr && *env != '\0') {
    if (hasServer(env)) return std::string(env);
    return makeError(ErrorCode::kNotFound, std::string("GARRET_PG_BIN=") + env +
                                               " holds no executable initdb and postgres");
  }
  int best = -1;
  fs::path found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    int version = std::atoi(entry.path().filename().c_str());
    if (version > best && hasServer(entry.path() / "bin")) {
      best = version;
      found = entry.path() / "bin";
    }
  }
  if (best < 0) {
    return makeError(ErrorCode::kNotFound,
                     "PostgreSQL server binaries (initdb, postgres) not found under "
                     "/usr/lib/postgresql/*/bin: " +
                         std::string(kInstallHint));
  }
  return found.string();
}

std::string findInPath(const std::string& name) {
  const char* env = std::getenv("PATH");
  std::stringstream dirs(std::string(env != nullptr ? env : "") + ":/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && executable(fs::path(dir) / name)) return (fs::path(dir) / name).string();
  }
  return {};
}

Result<int> freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return makeError(ErrorCode::kIo, "socket: " + std::string(std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (!ok) return makeError(ErrorCode::kIo, "no free port: " + std::string(std::strerror(errno)));
  return static_cast<int>(ntohs(addr.sin_port));
}

Status runSql(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  std::unique_ptr<PGconn, decltype(&PQfinish)> owner(conn, &PQfinish);
  if (PQstatus(conn) != CONNECTION_OK) {
    return makeError(ErrorCode::kUnavailable, "connecting to " + url + ": " + PQerrorMessage(conn));
  }
  PGresult* result = PQexec(conn, sql.c_str());
  ExecStatusType status = PQresultStatus(result);
  std::string message = PQresultErrorMessage(result);
  PQclear(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return makeError(ErrorCode::kInternal, sql + ": " + message);
  }
  return okStatus();
}

}  // namespace

void postgresUnavailable(const std::string& why) {
  GTEST_FAIL() << why;  // fatal: a SetUp calling this stops the test
}

Result<std::unique_ptr<PostgresServer>> PostgresServer::start() {
  std::unique_ptr<PostgresServer> server(new PostgresServer);
  GARRET_ASSIGN_OR_RETURN(server->bin_dir_, findBinDir());
  // postgres refuses to run as root; `nobody` owns the temp dir instead,
  // which must then be reachable by it (so /tmp, not root's TMPDIR). Unix
  // socket paths are short (about 100 bytes).
  server->as_nobody_ = ::geteuid() == 0;
  fs::path base = "/tmp";
  std::error_code ec;
  if (!server->as_nobody_) {
    fs::path tmp = fs::temp_directory_path(ec);
    if (!ec && tmp.string().size() < 60) base = tmp;
  }
  std::string pattern = (base / "garret-pg-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return makeError(ErrorCode::kIo, "mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  server->dir_ = pattern;
  server->log_ = server->dir_ + "/server.log";
  if (server->as_nobody_) {
    const passwd* nobody = ::getpwnam("nobody");
    if (nobody == nullptr || ::chown(server->dir_.c_str(), nobody->pw_uid, nobody->pw_gid) != 0) {
      return makeError(ErrorCode::kIo, "cannot hand " + server->dir_ + " to user nobody");
    }
  }
  std::string data = server->dir_ + "/data";
  GARRET_TRY(server->runChild({server->bin_dir_ + "/initdb", "-D", data, "-A", "trust", "-U",
                               "postgres", "-E", "UTF8", "--locale=C", "--no-sync"}));
  std::ofstream(data + "/pg_hba.conf", std::ios::trunc) << kHba;
  // The port is free when chosen but may be taken before postgres binds it.
  Status launched = okStatus();
  for (int attempt = 0; attempt < 5; ++attempt) {
    GARRET_ASSIGN_OR_RETURN(server->port_, freePort());
    launched = server->launch();
    if (launched.ok()) return server;
  }
  return launched.error();
}

Result<PostgresServer*> PostgresServer::shared() {
  static std::mutex mu;
  static std::unique_ptr<PostgresServer> server;
  static std::optional<Error> failure;
  std::lock_guard lock(mu);
  if (server != nullptr) return server.get();
  if (failure) return *failure;
  auto started = start();
  if (!started.ok()) {
    failure = started.error();
    return *failure;
  }
  server = std::move(started).value();
  return server.get();
}

PostgresServer::~PostgresServer() {
  shutdown(SIGQUIT);  // immediate: nothing to keep
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string PostgresServer::url(std::string_view database, std::string_view user) const {
  return "postgresql://" + std::string(user) + "@127.0.0.1:" + std::to_string(port_) + "/" +
         std::string(database);
}

Result<std::string> PostgresServer::createDatabase() {
  std::string name = "garret_test_" + std::to_string(++database_counter);
  GARRET_TRY(execute("CREATE DATABASE " + name + " TEMPLATE template0"));
  return name;
}

Status PostgresServer::dropDatabase(const std::string& name) {
  return execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
}

Status PostgresServer::execute(const std::string& sql, const std::string& database) {
  return runSql(url(database), sql);
}

Status PostgresServer::stop() {
  if (pid_ <= 0) return makeError(ErrorCode::kInternal, "the server is not running");
  shutdown(SIGINT);  // fast shutdown, as `pg_ctl stop -m fast`
  return okStatus();
}

Status PostgresServer::restart() {
  if (pid_ > 0) return makeError(ErrorCode::kInternal, "the server is running");
  return launch();
}

Status PostgresServer::launch() {
  std::string port = std::to_string(port_);
  pid_ =
      spawn({bin_dir_ + "/postgres", "-D", dir_ + "/data", "-p", port, "-k", dir_, "-c",
             "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c",
             "full_page_writes=off", "-c", "max_connections=200", "-c", "shared_buffers=32MB"});
  if (pid_ <= 0) {
    return makeError(ErrorCode::kIo, "cannot start postgres: " + std::string(std::strerror(errno)));
  }
  return waitReady();
}

Status PostgresServer::waitReady() {
  std::string conninfo = "host=127.0.0.1 port=" + std::to_string(port_) +
                         " user=postgres dbname=postgres connect_timeout=2";
  auto deadline = Clock::now() + 30s;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return makeError(ErrorCode::kUnavailable, "postgres exited at start-up: " + logTail());
    }
    if (PQping(conninfo.c_str()) == PQPING_OK) return okStatus();
    std::this_thread::sleep_for(10ms);
  }
  shutdown(SIGQUIT);
  return makeError(ErrorCode::kUnavailable, "postgres did not start within 30 s: " + logTail());
}

Status PostgresServer::runChild(std::vector<std::string> argv) {
  pid_t pid = spawn(argv);
  if (pid <= 0) {
    return makeError(ErrorCode::kIo, "cannot run " + argv[0] + ": " + std::strerror(errno));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return makeError(ErrorCode::kInternal, argv[0] + " failed: " + logTail());
  }
  return okStatus();
}

// Runs argv with output appended to the log, through setpriv: as `nobody`
// when we are root, and with a parent-death signal either way.
pid_t PostgresServer::spawn(std::vector<std::string> argv) {
  std::string setpriv = findInPath("setpriv");
  std::vector<std::string> full;
  if (!setpriv.empty()) {
    full = {setpriv, "--pdeathsig", "SIGQUIT"};
    if (as_nobody_) {
      const passwd* nobody = ::getpwnam("nobody");
      if (nobody == nullptr) return -1;
      full.push_back("--reuid=" + std::to_string(nobody->pw_uid));
      full.push_back("--regid=" + std::to_string(nobody->pw_gid));
      full.push_back("--clear-groups");
    }
  } else if (as_nobody_) {
    errno = ENOENT;  // setpriv (util-linux) is needed to drop root
    return -1;
  }
  full.insert(full.end(), argv.begin(), argv.end());
  std::vector<char*> args;
  for (std::string& arg : full) args.push_back(arg.data());
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    errno = rc;
    return -1;
  }
  return pid;
}

void PostgresServer::shutdown(int signal) {
  if (pid_ <= 0) return;
  ::kill(pid_, signal);
  auto deadline = Clock::now() + 30s;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  pid_ = -1;
}

std::string PostgresServer::logTail() const {
  std::ifstream in(log_, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > 2000) text = "…" + text.substr(text.size() - 2000);
  return text.empty() ? "(no output in " + log_ + ")" : text;
}

}  // namespace garret::testing
