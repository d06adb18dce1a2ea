#include "cli/command.h"

namespace garret::cli {

void addDoctorCommand(CLI::App&, Dispatch&) {}

}  // namespace garret::cli
