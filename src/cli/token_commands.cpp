// garret token make (locally, with the server's key) and token distribute
// (into a GitLab CI/CD variable through GitLab's REST API).

#include <unistd.h>

#include <iostream>

#include "app/commands.h"
#include "cli/client_support.h"
#include "cli/command.h"
#include "ops/gitlab/gitlab_client.h"

namespace garret::cli {

namespace {

namespace gl = ops::gitlab;

struct DistributeOptions {
  std::string gitlab, project, variable, server, scope = "*";
  bool unprotected = false, json_out = false, dry_run = false;
};

Result<std::string> valueToDistribute(const DistributeOptions& o) {
  if (o.server.empty() && isatty(STDIN_FILENO) == 0) {
    std::string line = readSecretLine();
    if (!line.empty()) return line;
  }
  GARRET_ASSIGN_OR_RETURN(auto found, client::findServer(client::defaultConfigPaths(), o.server));
  if (found.second.token.empty()) return invalid("server " + found.first + " has no token to distribute");
  return found.second.token;
}

Result<gl::GitlabToken> gitlabToken() {
  const char* token = std::getenv("GITLAB_TOKEN");
  if (token == nullptr || token[0] == '\0') {
    return invalid("set GITLAB_TOKEN to a GitLab access token with the api scope (Maintainer on the project)");
  }
  return gl::GitlabToken{gl::GitlabToken::Kind::kPrivate, token};
}

// "created", "updated" or "unchanged".
Result<std::string> upsertVariable(gl::GitlabClient& gitlab, const DistributeOptions& o, const gl::Variable& v) {
  GARRET_ASSIGN_OR_RETURN(auto existing, gitlab.getVariable(o.project, v.key));
  if (!existing) {
    if (o.dry_run) return std::string("would create");
    GARRET_TRY(gitlab.createVariable(o.project, v));
    return std::string("created");
  }
  bool same = existing->value == v.value && existing->masked && existing->is_protected == v.is_protected &&
              existing->environment_scope == v.environment_scope && existing->variable_type == v.variable_type;
  if (same) return std::string("unchanged");
  if (o.dry_run) return std::string("would update");
  GARRET_TRY(gitlab.updateVariable(o.project, v));
  return std::string("updated");
}

int runDistribute(const DistributeOptions& o) {
  auto value = valueToDistribute(o);
  if (!value.ok()) return reportError(value.error(), kExitUsage);
  if (auto problem = gl::maskingProblem(*value)) {
    return reportError(invalid("GitLab cannot mask this value (" + *problem + "); refusing to store it unmasked"),
                       kExitUsage);
  }
  auto token = gitlabToken();
  if (!token.ok()) return reportError(token.error(), kExitUsage);
  auto http = client::makeCurlHttpClient();
  gl::GitlabClient gitlab(*http, o.gitlab, *token);
  gl::Variable v;
  v.key = o.variable;
  v.value = *value;
  v.masked = true;
  v.is_protected = !o.unprotected;
  v.environment_scope = o.scope;
  auto outcome = upsertVariable(gitlab, o, v);
  if (!outcome.ok()) return reportError(outcome.error());
  if (o.json_out) {
    printJson({{"variable", o.variable}, {"project", o.project}, {"result", *outcome},
               {"masked", true}, {"protected", v.is_protected}, {"environment_scope", o.scope}});
  } else {
    std::cout << *outcome << " CI/CD variable " << o.variable << " in project " << o.project
              << " (masked" << (v.is_protected ? ", protected" : "") << ", environment " << o.scope << ")\n";
  }
  return kExitOk;
}

void addDistribute(CLI::App* token, Dispatch& d) {
  auto o = std::make_shared<DistributeOptions>();
  auto* cmd = token->add_subcommand(
      "distribute",
      "Create or update a masked, protected GitLab CI/CD variable holding a cache token "
      "(GitLab token from $GITLAB_TOKEN). The value comes from standard input, else from the "
      "token saved for --server by `garret login`");
  cmd->add_option("--gitlab", o->gitlab, "GitLab URL, e.g. https://gitlab.example.com")->required();
  cmd->add_option("--project", o->project, "Project id or path (group/project)")->required();
  cmd->add_option("--variable", o->variable, "Variable name, e.g. GARRET_TOKEN")->required();
  cmd->add_option("--server", o->server, "Distribute the token of this logged-in server (default: the default one)");
  cmd->add_option("--environment-scope", o->scope, "Environment scope of the variable")->capture_default_str();
  cmd->add_flag("--unprotected", o->unprotected, "Also expose the variable to unprotected branches");
  cmd->add_flag("--dry-run", o->dry_run, "Check access and say what would change, without changing it");
  cmd->add_flag("--json", o->json_out, "Print the result as JSON");
  d.on(cmd, [o] { return runDistribute(*o); });
}

}  // namespace

void addTokenCommands(CLI::App& root, Dispatch& d) {
  auto* token = root.add_subcommand("token", "Make tokens and put them into CI settings");
  token->require_subcommand(1);
  auto* make = token->add_subcommand(
      "make",
      "Mint a token locally with the server's signing key (from -f server.toml or "
      "ATTIC_SERVER_TOKEN_*_BASE64), like `garretd make-token`");
  d.on(make, app::addMakeTokenCommand(*make));
  addDistribute(token, d);
}

}  // namespace garret::cli
