#!/usr/bin/env bash
# garret token distribute against a local server that answers like GitLab's
# project variables API (tests/support/fake_gitlab.py): creates a masked,
# protected variable, is idempotent, updates a changed value in place,
# refuses values GitLab cannot mask, and explains 401/403/404.
# shellcheck source=lib.sh disable=SC2015,SC2119,SC2154
. "$(dirname "$0")/lib.sh"
[ -x "${GARRET:-}" ] || fatal "GARRET must point to the garret binary"
export XDG_CONFIG_HOME="$TMP/config"

# The fake keeps running while its stdin (a FIFO we hold open) is open.
mkfifo "$TMP/gitlab.in"
python3 "$GARRET_SOURCE_DIR/tests/support/fake_gitlab.py" --token glpat-good --readonly-token glpat-ro \
  <"$TMP/gitlab.in" >"$TMP/gitlab.out" 2>"$TMP/gitlab.err" &
EXTRA_PIDS+=($!)
exec 9>"$TMP/gitlab.in"
for _ in $(seq 1 100); do
  grep -q '^listening ' "$TMP/gitlab.out" 2>/dev/null && break
  sleep 0.1
done
GITLAB="http://127.0.0.1:$(sed -n 's/^listening //p' "$TMP/gitlab.out")"
[ "$GITLAB" != "http://127.0.0.1:" ] || fatal "fake GitLab did not start: $(cat "$TMP/gitlab.err")"
state() { curl -s "$GITLAB/__state"; }
var() { # FIELD: a field of variable CACHE_TOKEN in the fake's state
  state | python3 -c "import json,sys; print(json.load(sys.stdin)['variables']['CACHE_TOKEN']['$1'])"
}

TOKEN1="eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJlLW9uZQ"
TOKEN2="eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaTIifQ.c2lnbmF0dXJlLXR3bw"
"$GARRET" login prod http://cache.invalid/ "$TOKEN1" >/dev/null || fatal "login failed"
dist() { GITLAB_TOKEN=${GL:-glpat-good} "$GARRET" token distribute --gitlab "$GITLAB" --variable CACHE_TOKEN "$@"; }

say "create, then nothing to do, then update"
out=$(dist --project 42 --server prod </dev/null 2>&1)
expect_contains "created" "$out" "created CI/CD variable CACHE_TOKEN in project 42 (masked, protected"
expect_eq "value stored" "$TOKEN1" "$(var value)"
expect_eq "masked" True "$(var masked)"
expect_eq "protected" True "$(var protected)"
expect_not_contains "the token is never printed" "$out" "$TOKEN1"
out=$(dist --project group/proj --server prod </dev/null 2>&1)
expect_contains "same value and settings: unchanged" "$out" "unchanged"
out=$(printf '%s\n' "$TOKEN2" | dist --project 42 --json)
expect_contains "a new value from stdin updates" "$out" '"result": "updated"'
expect_eq "new value stored" "$TOKEN2" "$(var value)"
out=$(printf '%s\n' "$TOKEN2" | dist --project 42 --unprotected --dry-run 2>&1)
expect_contains "dry run says what it would do" "$out" "would update"
expect_eq "dry run changes nothing" True "$(var protected)"

say "values GitLab cannot mask are refused"
for bad in "short" "has spaces in it" 'percent%sign%value'; do
  out=$(printf '%s\n' "$bad" | dist --project 42 2>&1)
  rc=$?
  expect_eq "refused: '$bad' (exit 2)" 2 "$rc"
  expect_contains "with the reason" "$out" "cannot mask"
done
expect_eq "variable unchanged by refusals" "$TOKEN2" "$(var value)"

say "GitLab's 401, 403 and 404"
out=$(printf '%s\n' "$TOKEN1" | GL=glpat-wrong dist --project 42 2>&1)
expect_eq "401 exits 1" 1 $?
expect_contains "401 explained" "$out" "401"
out=$(printf '%s\n' "$TOKEN1" | GL=glpat-ro dist --project 42 2>&1)
expect_contains "403 explained" "$out" "403"
out=$(printf '%s\n' "$TOKEN1" | dist --project 999 2>&1)
expect_contains "404 explained" "$out" "404"
out=$(printf '%s\n' "$TOKEN1" | env -u GITLAB_TOKEN "$GARRET" token distribute --gitlab "$GITLAB" --project 42 --variable X 2>&1)
expect_contains "no GITLAB_TOKEN: says what to set" "$out" "GITLAB_TOKEN"

exec 9>&-
finish
