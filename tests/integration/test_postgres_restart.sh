#!/usr/bin/env bash
# garretd on PostgreSQL rides out a database restart: while the server is
# down, requests that need the database fail fast with 503 (and /ready says
# not ready) instead of hanging; once it is back, garretd recovers by itself,
# without a restart, and nix pushes and substitutes again.
# shellcheck source=lib.sh disable=SC2154
. "$(dirname "$0")/lib.sh"
# shellcheck source=../../scripts/testing/servers.sh
. "$GARRET_SOURCE_DIR/scripts/testing/servers.sh"

test_cleanup() { stop_postgres; }
mkdir -p "$TMP/pg"
chmod 755 "$TMP"
start_postgres "$TMP/pg" || fatal "cannot start PostgreSQL"
export GARRET_DATABASE_URL=$PG_URL
start_garretd
setup_nix
token FULL --sub it-pg --pull main --push main
use_netrc "$FULL"
AUTH=(-u ":$FULL")
public_key KEY main "$FULL"

say "push and substitute on PostgreSQL"
TOP=$(build_closure pgrestart)
[ -n "$TOP" ] || fatal "nix-build failed"
check "nix copy to garretd" run_logged push nix copy --to "$BASE/main?compression=zstd" "$TOP"
H=$(store_hash "$TOP")
expect_status 200 "narinfo" "${AUTH[@]}" "$BASE/main/$H.narinfo"

say "PostgreSQL stops"
pause_postgres || fatal "pg_ctl stop failed"
expect_status 503 "/ready says not ready" "$BASE/ready"
# A path of the cache this server has not looked up yet needs the database.
OTHER=$(closure_of "$TOP" | grep -v "^$TOP\$" | head -n 1)
t0=$(date +%s%N)
expect_status 503 "a narinfo the server must look up answers 503" "${AUTH[@]}" \
  "$BASE/main/$(store_hash "$OTHER").narinfo"
ms=$((($(date +%s%N) - t0) / 1000000))
check_error_body "the 503" 503
check "and fails fast (${ms} ms)" test "$ms" -lt 3000

say "PostgreSQL is back"
resume_postgres || fatal "pg_ctl start failed"
recovered() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/ready")" = 200 ]; }
for _ in $(seq 1 50); do recovered && break; sleep 0.2; done
expect_status 200 "/ready is ready again, without restarting garretd" "$BASE/ready"
expect_status 200 "the narinfo is served" "${AUTH[@]}" "$BASE/main/$H.narinfo"
mkdir -p "$TMP/after"
head -c 200000 /dev/urandom >"$TMP/after/data"
AFTER=$(nix-store --add "$TMP/after") || fatal "nix-store --add failed"
echo "$AFTER" >>"$TMP/built-paths"
check "nix copy after the restart" run_logged push-after nix copy --to "$BASE/main?compression=zstd" "$AFTER"
new_nix_cache
check "nix substitutes both" run_logged subst substitute_into "$TMP/store" "$BASE/main" "$KEY" "$TOP"
check "and the new path" run_logged subst2 substitute_into "$TMP/store" "$BASE/main" "$KEY" "$AFTER"

finish
