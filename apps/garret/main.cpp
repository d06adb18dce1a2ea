// garret: the client and operator's toolbox. All behaviour lives in the
// libraries; see src/cli/.

#include "cli/command.h"

int main(int argc, char** argv) { return garret::cli::garretMain(argc, argv); }
