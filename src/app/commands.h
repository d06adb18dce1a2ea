#pragma once

// garretd's command line: serve, make-token, migrate, check-config.

namespace garret::app {

// Parses argv and runs the command; returns the process exit code
// (0 ok, 1 failure, 2 usage or configuration error).
int garretdMain(int argc, char** argv);

}  // namespace garret::app
