#include "cli/command.h"

namespace garret::cli {

void addClientCommands(CLI::App&, Dispatch&) {}

}  // namespace garret::cli
