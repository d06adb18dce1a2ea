#pragma once

// PostgresServer: a real PostgreSQL server private to the test process.
//
// start() runs initdb into a fresh temp dir and starts `postgres` on a free
// TCP port of 127.0.0.1 (Unix sockets in the temp dir), with trust
// authentication (except kPasswordUser, who needs a password) and fsync
// off. The binaries come from $GARRET_PG_BIN, else the newest
// /usr/lib/postgresql/<version>/bin (Debian keeps them off PATH). As root,
// initdb and postgres run as `nobody` (postgres refuses to run as root).
// The server is a child of the test process and gets SIGQUIT if that dies
// (setpriv --pdeathsig), so a crashed test leaves no server behind; the
// destructor shuts it down at once and removes the temp dir.
//
// Missing binaries are an error, not a reason to pass: tests call
// postgresUnavailable(), which fails the test saying what to install.

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace garret::testing {

class PostgresServer {
 public:
  // The one role that must log in with a password (scram-sha-256).
  static constexpr const char* kPasswordUser = "garret_password_user";

  static Result<std::unique_ptr<PostgresServer>> start();
  // One server per test process, started on first use and stopped at exit.
  static Result<PostgresServer*> shared();

  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  // postgresql://<user>@127.0.0.1:<port>/<database>
  std::string url(std::string_view database, std::string_view user = "postgres") const;

  // A new empty database (from template0); returns its name.
  Result<std::string> createDatabase();
  // Drops it, closing any connection still open to it.
  Status dropDatabase(const std::string& name);
  // Runs SQL as the superuser.
  Status execute(const std::string& sql, const std::string& database = "postgres");

  // Fast shutdown (as `pg_ctl stop -m fast`), waiting for the server to exit.
  Status stop();
  // Starts the stopped server again: same data, same port.
  Status restart();
  bool running() const { return pid_ > 0; }

 private:
  PostgresServer() = default;
  Status launch();
  Status waitReady();
  Status runChild(std::vector<std::string> argv);
  pid_t spawn(std::vector<std::string> argv);
  std::string logTail() const;
  // Sends `signal` and waits for the server to exit.
  void shutdown(int signal);

  std::string bin_dir_;
  std::string dir_;  // temp dir: data/, sockets, server.log
  std::string log_;
  bool as_nobody_ = false;
  int port_ = 0;
  pid_t pid_ = -1;
  int databases_ = 0;
};

// Records that the current test cannot get a server: a fatal failure with
// `why`. The caller then returns; in SetUp that keeps the body from running.
void postgresUnavailable(const std::string& why);

}  // namespace garret::testing
