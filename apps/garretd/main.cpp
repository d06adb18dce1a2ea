// garretd: the garret Nix binary cache server. All behaviour lives in the
// libraries; see src/app/commands.cpp.

#include "app/commands.h"

int main(int argc, char** argv) { return garret::app::garretdMain(argc, argv); }
