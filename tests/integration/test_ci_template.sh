#!/usr/bin/env bash
# ci/gitlab/garret.yml: its setup and push scripts, taken out of the YAML and
# run as a GitLab runner would (bash, CI variables in the environment), against
# a real garretd: setup logs in and configures Nix, the job's ./result link is
# pushed and substitutes; an unreachable cache is a warning unless
# GARRET_REQUIRED=true; a missing binary without a pinned download is refused.
# shellcheck source=lib.sh disable=SC2015,SC2119,SC2154
. "$(dirname "$0")/lib.sh"
[ -x "${GARRET:-}" ] || fatal "GARRET must point to the garret binary"
TEMPLATE="$GARRET_SOURCE_DIR/ci/gitlab/garret.yml"

start_garretd
setup_nix
token ADMIN --sub it-admin --create-cache '*' --pull '*' --push '*'
create_cache ci "$ADMIN"
public_key KEY ci "$ADMIN"

# The scripts as GitLab runs them: each list item, in order, in one shell.
python3 - "$TEMPLATE" "$TMP" <<'PY' || fatal "cannot read the template"
import sys, yaml
class Loader(yaml.SafeLoader):
    pass
Loader.add_constructor("!reference", lambda loader, node: loader.construct_sequence(node))
doc = yaml.load(open(sys.argv[1]), Loader=Loader)
assert doc[".garret"]["before_script"] == [[".garret-scripts", "setup"]]
assert doc[".garret"]["after_script"] == [[".garret-scripts", "push"]]
for name in ("setup", "push"):
    with open(f"{sys.argv[2]}/{name}.sh", "w") as out:
        out.write("set -eo pipefail\n" + "\n".join(doc[".garret-scripts"][name]) + "\n")
PY
pass "template parses; .garret uses the setup and push scripts"

BIN="$TMP/bin"
mkdir -p "$BIN"
ln -s "$GARRET" "$BIN/garret"
job() { # NAME [VAR=VALUE...] -- SCRIPT...: runs scripts in a fresh job environment
  local name=$1
  shift
  local vars=()
  while [ "$1" != "--" ]; do vars+=("$1"); shift; done
  shift
  local home="$TMP/home-$name" s rc=0
  mkdir -p "$home" "$TMP/project-$name"
  for s in "$@"; do
    env -i PATH="$BIN:/usr/bin:/bin" HOME="$home" CI_PROJECT_DIR="$TMP/project-$name" \
      "${vars[@]}" bash "$TMP/$s.sh" >>"$TMP/job-$name.log" 2>&1 || { rc=$?; break; }
  done
  return $rc
}

say "setup and push with a reachable cache"
TOP=$(build_closure ci)
[ -n "$TOP" ] || fatal "nix-build failed"
mkdir -p "$TMP/project-ok"
ln -s "$TOP" "$TMP/project-ok/result"
check "setup and push succeed" job ok GARRET_SERVER_URL="$BASE" GARRET_CACHE=ci GARRET_TOKEN="$ADMIN" -- setup push
expect_contains "nix.conf names the cache" "$(cat "$TMP/home-ok/.config/nix/nix.conf")" "$BASE/ci"
expect_contains "the push reported" "$(cat "$TMP/job-ok.log")" "pushed"
for p in $(closure_of "$TOP"); do
  expect_status 200 "$(basename "$p") is in the cache" -H "Authorization: Bearer $ADMIN" "$BASE/ci/$(store_hash "$p").narinfo"
done
use_netrc "$ADMIN"
check "the result substitutes" run_logged subst substitute_into "$TMP/store" "$BASE/ci" "$KEY" "$TOP"

say "GARRET_PUSH=false substitutes only"
mkdir -p "$TMP/project-nopush"
ln -s "$TOP" "$TMP/project-nopush/result"
check "job succeeds" job nopush GARRET_SERVER_URL="$BASE" GARRET_CACHE=ci GARRET_TOKEN="$ADMIN" GARRET_PUSH=false -- setup push
expect_not_contains "nothing pushed" "$(cat "$TMP/job-nopush.log")" "pushed"

say "an unreachable cache"
dead="http://127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
check "is a warning by default" job dead GARRET_SERVER_URL="$dead" GARRET_CACHE=ci GARRET_TOKEN="$ADMIN" -- setup
expect_contains "which says so" "$(cat "$TMP/job-dead.log")" "building without the cache"
check_not "fails the job with GARRET_REQUIRED=true" job deadreq GARRET_SERVER_URL="$dead" GARRET_CACHE=ci \
  GARRET_TOKEN="$ADMIN" GARRET_REQUIRED=true -- setup
expect_contains "with a reason" "$(cat "$TMP/job-deadreq.log")" "GARRET_REQUIRED is true"

say "a pipeline using the template passes garret ci lint"
repo="$TMP/repo"
mkdir -p "$repo/ci/gitlab"
cp "$TEMPLATE" "$repo/ci/gitlab/garret.yml"
cat >"$repo/.gitlab-ci.yml" <<'YAML'
include:
  - local: ci/gitlab/garret.yml
build:
  extends: .garret
  image: nixos/nix:2.24.9
  tags: [nix, x86_64]
  retry:
    max: 2
    when: [runner_system_failure, stuck_or_timeout_failure, job_execution_timeout, api_failure, scheduler_failure]
  variables:
    GARRET_SERVER_URL: https://cache.example.org/
    GARRET_CACHE: main
  script:
    - nix build .#default
YAML
out=$("$GARRET" ci lint --root "$repo" 2>&1)
expect_eq "lint exit 0" 0 $?
expect_contains "no findings" "$out" "no findings"
merged=$("$GARRET" ci lint --root "$repo" --print-merged build)
expect_contains "the merged job runs the setup" "$merged" "garret_setup"
expect_contains "and pushes after the script" "$merged" "garret push"

say "no garret binary and no pinned download"
rm "$BIN/garret"
check_not "is refused when required" job nobin GARRET_SERVER_URL="$BASE" GARRET_CACHE=ci GARRET_REQUIRED=true -- setup
expect_contains "naming the settings" "$(cat "$TMP/job-nobin.log")" "GARRET_DOWNLOAD_SHA256"

finish
