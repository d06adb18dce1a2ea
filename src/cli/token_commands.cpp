// garret token make (locally, with the server's key) and token distribute.

#include "app/commands.h"
#include "cli/client_support.h"
#include "cli/command.h"

namespace garret::cli {

void addTokenCommands(CLI::App& root, Dispatch& d) {
  auto* token = root.add_subcommand("token", "Make tokens and put them into CI settings");
  token->require_subcommand(1);
  auto* make = token->add_subcommand(
      "make",
      "Mint a token locally with the server's signing key (from -f server.toml or "
      "ATTIC_SERVER_TOKEN_*_BASE64), like `garretd make-token`");
  d.on(make, app::addMakeTokenCommand(*make));
}

}  // namespace garret::cli
