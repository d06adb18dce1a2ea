#pragma once

// garret's command line: every subcommand registers itself on the CLI11 tree
// together with the function that runs it; garretMain parses argv and runs the
// deepest subcommand that was given.
//
// Exit codes shared by all commands: 0 success, 1 the command ran and found a
// failure (findings at or above --fail-on, failed pushes, a failed pipeline),
// 2 usage error or the command could not run (bad flags, unreachable API).

#include <CLI/CLI.hpp>

#include <functional>
#include <utility>
#include <vector>

namespace garret::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

class Dispatch {
 public:
  // Runs `run` when `cmd` is the deepest subcommand on the command line.
  void on(CLI::App* cmd, std::function<int()> run) { entries_.emplace_back(cmd, std::move(run)); }

  // After root.parse(): runs the matching command, or prints help and returns 2.
  int run(CLI::App& root) const;

 private:
  std::vector<std::pair<CLI::App*, std::function<int()>>> entries_;
};

// Each group of commands lives in its own file.
void addClientCommands(CLI::App& root, Dispatch& dispatch);     // client_commands.cpp
void addCiCommands(CLI::App& root, Dispatch& dispatch);         // ci_commands.cpp
void addPreflightCommand(CLI::App& root, Dispatch& dispatch);   // preflight_command.cpp
void addDoctorCommand(CLI::App& root, Dispatch& dispatch);      // doctor_command.cpp

// Parses argv and runs the command; returns the process exit code.
int garretMain(int argc, char** argv);

}  // namespace garret::cli
