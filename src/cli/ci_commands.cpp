#include "cli/command.h"

namespace garret::cli {

void addCiCommands(CLI::App&, Dispatch&) {}

}  // namespace garret::cli
