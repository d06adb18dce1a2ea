#include "cli/command.h"

namespace garret::cli {

void addPreflightCommand(CLI::App&, Dispatch&) {}

}  // namespace garret::cli
