#!/usr/bin/env bash
# garret ci lint, end to end through the real binary: exit codes, output
# formats, policy file and flags, --print-merged, --help. Needs only python3
# (to read the JSON outputs). Environment: GARRET (the garret binary),
# GARRET_SOURCE_DIR (repository root).
set -u -o pipefail

SRC=${GARRET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
GARRET=${GARRET:-$SRC/build/apps/garret/garret}
FIX=$SRC/tests/data/ci
TMP=$(mktemp -d "${TMPDIR:-/tmp}/garret-ci-lint.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "  ok: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL: $*"; }

[ -x "$GARRET" ] || { echo "garret binary not found at '$GARRET' (set GARRET)" >&2; exit 2; }

# expect_rc CODE DESC ARGS...: runs garret ARGS, stdout to $TMP/out, stderr to $TMP/err.
expect_rc() {
  local want=$1 desc=$2
  shift 2
  "$GARRET" "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  if [ "$rc" = "$want" ]; then pass "$desc (exit $rc)"; else fail "$desc: exit $rc, wanted $want; stderr: $(head -c 300 "$TMP/err")"; fi
}
contains() { if grep -qF -- "$2" "$TMP/$1"; then pass "$3"; else fail "$3: '$2' not in $1"; fi; }

echo "--- exit codes"
expect_rc 0 "clean fixture" ci lint --root "$FIX/clean"
contains out "no findings" "clean fixture says so"
expect_rc 1 "errors fail by default" ci lint --root "$FIX/tags"
expect_rc 0 "warnings pass by default" ci lint --root "$FIX/scripts"
expect_rc 1 "warnings fail with --fail-on warning" ci lint --root "$FIX/scripts" --fail-on warning
expect_rc 0 "errors pass with --fail-on blocker" ci lint --root "$FIX/tags" --fail-on blocker
expect_rc 1 "yaml-error is a blocker" ci lint --root "$FIX/yaml-error" --fail-on blocker
expect_rc 2 "missing file" ci lint --root "$TMP" "$TMP/nope.yml"
contains err "cannot read" "missing file is explained"
expect_rc 2 "bad --format" ci lint --root "$FIX/clean" --format xml
expect_rc 2 "unknown --print-merged job" ci lint --root "$FIX/clean" --print-merged nope
contains err "jobs: build test" "unknown job lists the jobs"

echo "--- default file is the repository root's .gitlab-ci.yml"
mkdir -p "$TMP/repo/.git" "$TMP/repo/sub/dir" "$TMP/repo/ci"
cp "$FIX/clean/.gitlab-ci.yml" "$FIX/clean/.garret-ci.toml" "$TMP/repo/"
cp "$FIX/clean/ci/templates.yml" "$TMP/repo/ci/"
(cd "$TMP/repo/sub/dir" && "$GARRET" ci lint >"$TMP/out" 2>"$TMP/err")
if [ $? = 0 ]; then pass "found from a subdirectory, includes resolved"; else fail "lint from subdirectory: $(cat "$TMP/out" "$TMP/err")"; fi

echo "--- policy file and flags"
printf 'dind_tags = ["dind"]\nrequired_tag = ["x"]\n' >"$TMP/repo/.garret-ci.toml"
expect_rc 2 "unknown policy key" ci lint --root "$TMP/repo"
contains err "unknown key 'required_tag'" "unknown key named"
contains err ".garret-ci.toml:2" "with file and line"
printf 'forbidden_tags = ["x86*"]\n' >"$TMP/repo/.garret-ci.toml"
expect_rc 1 "forbidden_tags from the policy file" ci lint --root "$TMP/repo" --format json
contains out '"forbidden-tag"' "forbidden-tag reported"
expect_rc 0 "--forbid-tags overrides the file" ci lint --root "$TMP/repo" --forbid-tags 'saas-*,shared'
expect_rc 1 "--require-tags" ci lint --root "$TMP/repo" --forbid-tags none --require-tags gpu --format json
contains out '"required-tags-missing"' "required-tags-missing reported"
expect_rc 1 "--dind-tags" ci lint --root "$TMP/repo" --forbid-tags none --dind-tags dind,arm64 --format json
contains out '"dind-missing-tags"' "dind-missing-tags with custom tags"
expect_rc 2 "--policy naming a missing file" ci lint --root "$FIX/clean" --policy "$TMP/none.toml"

echo "--- formats"
expect_rc 1 "json" ci lint --root "$FIX/cache" --format json
if python3 - "$TMP/out" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))["findings"]
assert len(f) == 4, f
for x in f:
    assert list(x) == ["id", "severity", "job", "file", "line", "message", "fix"], list(x)
assert {x["id"] for x in f} == {"cache-too-many", "cache-key-files-too-many", "cache-key-never-hits"}
PY
then pass "json shape"; else fail "json shape"; fi
expect_rc 1 "codequality" ci lint --root "$FIX/cache" --format codequality
if python3 - "$TMP/out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert isinstance(r, list) and len(r) == 4
for x in r:
    assert set(x) == {"description", "check_name", "fingerprint", "severity", "location"}, x
    assert x["severity"] in ("info", "minor", "major", "critical", "blocker")
    assert x["location"]["path"] == ".gitlab-ci.yml" and x["location"]["lines"]["begin"] >= 1
assert len({x["fingerprint"] for x in r}) == 4
PY
then pass "codequality shape"; else fail "codequality shape"; fi
cp "$TMP/out" "$TMP/cq1"
"$GARRET" ci lint --root "$FIX/cache" --format codequality >"$TMP/cq2"
if cmp -s "$TMP/cq1" "$TMP/cq2"; then pass "codequality is stable"; else fail "codequality differs between runs"; fi
expect_rc 1 "junit" ci lint --root "$FIX/cache" --format junit
contains out '<testsuite name="garret-ci-lint"' "junit testsuite"
contains out 'failures="4"' "junit failures"

echo "--- --print-merged"
for job in anchors extends-chain multi-extends reference overridden quoting; do
  "$GARRET" ci lint --root "$FIX/resolution" --print-merged "$job" >"$TMP/merged" 2>"$TMP/err"
  if cmp -s "$TMP/merged" "$FIX/resolution/merged/$job.yml"; then pass "merged $job"; else fail "merged $job differs: $(diff "$FIX/resolution/merged/$job.yml" "$TMP/merged" | head -5)"; fi
done

echo "--- help"
expect_rc 0 "ci lint --help" ci lint --help
for word in --format codequality --fail-on --print-merged --dind-tags --require-tags --forbid-tags .garret-ci.toml "Exit code"; do
  contains out "$word" "lint help mentions $word"
done
expect_rc 2 "bare 'garret ci' prints help" ci
contains err "lint" "ci help lists lint"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
