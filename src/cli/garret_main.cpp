#include <exception>
#include <iostream>

#include "cli/command.h"

namespace garret::cli {

int Dispatch::run(CLI::App& root) const {
  const std::function<int()>* chosen = nullptr;
  for (const auto& [cmd, fn] : entries_) {
    if (!cmd->parsed()) continue;
    bool deeper = false;
    for (const auto& [other, unused] : entries_) {
      deeper = deeper || (other != cmd && other->parsed() && other->get_parent() == cmd);
    }
    if (!deeper) chosen = &fn;
  }
  if (chosen == nullptr) {
    // A group (`garret ci`, `garret cache`) without its subcommand.
    CLI::App* deepest = &root;
    for (bool found = true; found;) {
      found = false;
      for (CLI::App* sub : deepest->get_subcommands()) {
        deepest = sub;
        found = true;
        break;
      }
    }
    std::cerr << deepest->help();
    return kExitUsage;
  }
  return (*chosen)();
}

int garretMain(int argc, char** argv) {
  CLI::App root{
      "garret: client for garret and Attic Nix caches, and the operator's toolbox around them"};
  root.require_subcommand(1);
  root.set_version_flag("--version", "garret 0.1.0");
  Dispatch dispatch;
  addClientCommands(root, dispatch);
  addCiCommands(root, dispatch);
  addPreflightCommand(root, dispatch);
  addDoctorCommand(root, dispatch);
  try {
    root.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = root.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  try {
    return dispatch.run(root);
  } catch (const std::exception& e) {
    std::cerr << "garret: " << e.what() << "\n";
    return kExitUsage;
  }
}

}  // namespace garret::cli
