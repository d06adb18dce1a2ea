#!/usr/bin/env bash
# garret ci watch, end to end: the real binary against tests/support/fake_gitlab.py
# (pending -> running -> runner_system_failure -> retried -> success, paginated
# jobs), with exit codes for success, failure and "could not run".
# Environment: GARRET (the garret binary), GARRET_SOURCE_DIR (repository root).
set -u -o pipefail

SRC=${GARRET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
GARRET=${GARRET:-$SRC/build/apps/garret/garret}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/garret-ci-watch.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "  ok: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL: $*"; }

[ -x "$GARRET" ] || { echo "garret binary not found at '$GARRET' (set GARRET)" >&2; exit 2; }

# start_fake NAME ARGS...: starts a fake GitLab, sets URL. Its stdin is a
# fifo this shell holds open; the server exits when the test does.
start_fake() {
  local name=$1 fd
  shift
  mkfifo "$TMP/$name.stdin"
  python3 "$SRC/tests/support/fake_gitlab.py" "$@" <"$TMP/$name.stdin" >"$TMP/$name.port" 2>/dev/null &
  PIDS+=($!)
  exec {fd}>"$TMP/$name.stdin"
  for _ in $(seq 100); do
    grep -q '^listening ' "$TMP/$name.port" 2>/dev/null && break
    sleep 0.05
  done
  URL="http://127.0.0.1:$(awk '/^listening/ {print $2}' "$TMP/$name.port")"
}

watch() {
  timeout 60 "$GARRET" ci watch --gitlab "$URL" --interval 0.01 "$@" >"$TMP/out" 2>"$TMP/err"
}

echo "--- transient failure retried, then success"
start_fake retry
GITLAB_TOKEN=glpat-test-token watch --project group/proj --ref main --retry-transient 2
rc=$?
[ $rc = 0 ] && pass "exit 0" || fail "exit $rc: $(cat "$TMP/err")"
grep -q 'failed (runner_system_failure)' "$TMP/out" && pass "failure shown" || fail "no failure line"
grep -q 'retrying flaky (test, job 2004) after runner_system_failure (retry 1 of 2)' "$TMP/out" &&
  pass "says it retries" || fail "no retry line: $(cat "$TMP/out")"
grep -q 'pipeline 1001: running -> success' "$TMP/out" && pass "pipeline succeeded" || fail "no success"
grep -q '^time per stage:' "$TMP/out" && grep -q '^slowest jobs:' "$TMP/out" &&
  pass "summary printed" || fail "no summary"
[ "$(grep -c '^job package' "$TMP/out")" -ge 1 ] && pass "paginated jobs all seen" || fail "job on page 3 missing"
if ! grep -q $'\033\[' "$TMP/out"; then pass "no escape codes when not a terminal"; else fail "escape codes in plain output"; fi

echo "--- without --retry-transient the pipeline fails"
start_fake noretry
GITLAB_TOKEN=glpat-test-token watch --project 42 --pipeline 1001
rc=$?
[ $rc = 1 ] && pass "exit 1" || fail "exit $rc"
grep -q 'pipeline 1001 failed' "$TMP/out" && pass "failure summary" || fail "no failure summary"

echo "--- CI_JOB_TOKEN works too"
start_fake jobtoken
CI_JOB_TOKEN=glpat-test-token GITLAB_TOKEN= watch --project 42 --pipeline 1001 --retry-transient 1
rc=$?
[ $rc = 0 ] && pass "exit 0 with JOB-TOKEN" || fail "exit $rc: $(cat "$TMP/err")"

echo "--- could not run"
GITLAB_TOKEN=wrong watch --project 42 --pipeline 1001
rc=$?
[ $rc = 2 ] && pass "bad token: exit 2" || fail "bad token: exit $rc"
grep -q 'invalid or expired' "$TMP/err" && pass "bad token explained" || fail "bad token: $(cat "$TMP/err")"
GITLAB_TOKEN=glpat-test-token watch --project nobody/nothing --ref main
rc=$?
[ $rc = 2 ] && pass "unknown project: exit 2" || fail "unknown project: exit $rc"
GITLAB_TOKEN=glpat-test-token watch --project 42
rc=$?
[ $rc = 2 ] && pass "neither --pipeline nor --ref: exit 2" || fail "no pipeline/ref: exit $rc"
GITLAB_TOKEN=glpat-test-token timeout 60 "$GARRET" ci watch --gitlab http://127.0.0.1:1 --project 42 \
  --pipeline 1 --interval 0.01 >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc = 2 ] && pass "unreachable GitLab: exit 2" || fail "unreachable: exit $rc"

echo "--- help"
"$GARRET" ci watch --help >"$TMP/out" 2>&1
for word in --gitlab --project --pipeline --ref --retry-transient --interval GITLAB_TOKEN CI_JOB_TOKEN "Exit code"; do
  grep -qF -- "$word" "$TMP/out" && pass "watch help mentions $word" || fail "watch help lacks $word"
done

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
