#pragma once

// garretd's command line: serve, make-token, migrate, check-config.

#include <functional>

namespace CLI {
class App;
}

namespace garret::app {

// Adds make-token's options (server config, subject, validity, permission
// patterns) to `cmd` and returns what mints and prints the token. Shared by
// `garretd make-token` and `garret token make`: both sign locally with the
// server's key, read from its config file or environment.
std::function<int()> addMakeTokenCommand(CLI::App& cmd);

// Parses argv and runs the command; returns the process exit code
// (0 ok, 1 failure, 2 usage or configuration error).
int garretdMain(int argc, char** argv);

}  // namespace garret::app
