#!/usr/bin/env bash
# The script of the garret-create-cache Job
# (deploy/kubernetes/base/create-cache.sh), run as the Job runs it, against a
# real garretd: it creates the cache, a second run finds it and succeeds
# (idempotent), CACHE_PUBLIC is honoured, and a token signed with another key,
# an invalid name or a server that never gets ready make it fail.
#
# Environment: GARRETD (the binary; default build/apps/garretd/garretd).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${GARRET_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
garretd=${GARRETD:-$src/build/apps/garretd/garretd}
script=$src/deploy/kubernetes/base/create-cache.sh
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

if [ ! -x "$garretd" ]; then
  echo "FAIL: garretd not found at '$garretd' (build it: make garretd; or set GARRETD)" >&2
  exit 1
fi
for tool in curl sh; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing" >&2; exit 1; }
done

tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# The Job calls `garretd`; give it this build under that name.
mkdir -p "$tmp/bin"
ln -s "$(cd "$(dirname "$garretd")" && pwd)/$(basename "$garretd")" "$tmp/bin/garretd"
export PATH="$tmp/bin:$PATH"

cat >"$tmp/server.toml" <<EOF
listen = "127.0.0.1:0"
[garret]
data-dir = "$tmp/data"
create-default-cache = false
EOF
secret=$(head -c 64 /dev/urandom | base64 -w0)
export GARRET_JWT_SIGNING_TOKEN_HS256_SECRET_BASE64=$secret

"$garretd" serve -f "$tmp/server.toml" --quiet --port-file "$tmp/port" >"$tmp/garretd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  [ -s "$tmp/port" ] && break
  sleep 0.1
done
if [ ! -s "$tmp/port" ]; then
  cat "$tmp/garretd.log" >&2
  echo "FAIL: garretd did not start" >&2
  exit 1
fi
url=http://127.0.0.1:$(cat "$tmp/port")

# job NAME PUBLIC [VAR=VALUE...]: runs the Job's script; output in $tmp/job.out.
job() {
  local name=$1 public=$2
  shift 2
  env GARRET_URL="$url" CACHE_NAME="$name" CACHE_PUBLIC="$public" \
    GARRET_CONFIG="$tmp/server.toml" WAIT_SECONDS=10 "$@" \
    sh "$script" >"$tmp/job.out" 2>&1
}
admin=$("$garretd" make-token -f "$tmp/server.toml" --sub test --validity 10m --pull '*')
is_public() { # NAME: prints the cache's is_public
  curl -fsS -H "Authorization: Bearer $admin" "$url/_api/v1/cache-config/$1" |
    python3 -c 'import json,sys; print(str(json.load(sys.stdin)["is_public"]).lower())'
}

if job main false && grep -q "created cache 'main'" "$tmp/job.out"; then
  pass "first run creates the cache"
else
  cat "$tmp/job.out" >&2
  fail "first run did not create the cache"
fi
if [ "$(is_public main 2>/dev/null)" = false ]; then pass "the cache is private"; else fail "main is not private"; fi

if job main false && grep -q "exists already" "$tmp/job.out"; then
  pass "second run finds the cache and succeeds (idempotent)"
else
  cat "$tmp/job.out" >&2
  fail "second run did not succeed on the existing cache"
fi

if job pub true && [ "$(is_public pub 2>/dev/null)" = true ]; then
  pass "CACHE_PUBLIC=true creates a public cache"
else
  cat "$tmp/job.out" >&2
  fail "CACHE_PUBLIC=true did not create a public cache"
fi

other=$(head -c 64 /dev/urandom | base64 -w0)
if job wrongkey false GARRET_JWT_SIGNING_TOKEN_HS256_SECRET_BASE64="$other"; then
  fail "a token signed with another key succeeded"
elif grep -q "token was refused" "$tmp/job.out"; then
  pass "a token signed with another key fails with a clear message"
else
  cat "$tmp/job.out" >&2
  fail "a token signed with another key failed without saying why"
fi

if job 'bad name!' false; then
  fail "an invalid cache name succeeded"
else
  pass "an invalid cache name fails"
fi
if job x maybe; then fail "CACHE_PUBLIC=maybe succeeded"; else pass "CACHE_PUBLIC must be true or false"; fi

if env GARRET_URL=http://127.0.0.1:9 CACHE_NAME=x GARRET_CONFIG="$tmp/server.toml" WAIT_SECONDS=1 \
  sh "$script" >"$tmp/job.out" 2>&1; then
  fail "a server that never gets ready succeeded"
elif grep -q "did not answer 200" "$tmp/job.out"; then
  pass "a server that never gets ready fails after WAIT_SECONDS"
else
  cat "$tmp/job.out" >&2
  fail "a server that never gets ready failed without saying why"
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "create-cache.sh: all checks passed"
