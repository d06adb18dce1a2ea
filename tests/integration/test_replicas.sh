#!/usr/bin/env bash
# Two garretd replicas sharing one database and one storage behave as one
# cache: a cache created on one is visible on the other; nix pushes to one and
# substitutes from the other; the same path pushed to both at once is stored
# once; a deleted cache or a changed signing key shows on the other replica
# within narinfo-cache-ttl; a `--mode gc` replica serves only the operations
# endpoints.
#
# Backends (GARRET_IT_BACKEND): `sqlite` (default), SQLite and local storage
# in a shared data directory; `postgres-s3`, a PostgreSQL server and an
# S3-compatible server (s3rver) that the test starts.
# shellcheck source=lib.sh disable=SC2154
. "$(dirname "$0")/lib.sh"
# shellcheck source=../../scripts/testing/servers.sh
. "$GARRET_SOURCE_DIR/scripts/testing/servers.sh"

TTL=2
export GARRET_NARINFO_CACHE_TTL=${TTL}s GARRET_GC_GRACE_PERIOD=${TTL}s
DATA=$TMP/data
BACKEND=${GARRET_IT_BACKEND:-sqlite}
test_cleanup() {
  stop_s3
  stop_postgres
}
# count_nars NAR_HASH: NAR rows with that hash (nix-base32 sha256).
nar_hex() {
  python3 - "$1" <<'PYEOF'
import sys
alphabet = "0123456789abcdfghijklmnpqrsvwxyz"
n = 0
for c in sys.argv[1].split(":", 1)[1]:
    n = n * 32 + alphabet.index(c)
print(n.to_bytes(32, "little").hex())  # nix-base32 is little-endian
PYEOF
}
case $BACKEND in
  sqlite)
    count_nars() {
      python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM nar WHERE nar_hash = ?", (sys.argv[2],)).fetchone()[0])' \
        "$DATA/garret.db" "$(nar_hex "$1")"
    }
    ;;
  postgres-s3)
    mkdir -p "$TMP/pg" "$TMP/s3"
    chmod 755 "$TMP"
    start_postgres "$TMP/pg" || fatal "cannot start PostgreSQL"
    start_s3 "$TMP/s3" garret-replicas || fatal "cannot start the S3 server"
    export GARRET_DATABASE_URL=$PG_URL GARRET_STORAGE_TYPE=s3 GARRET_STORAGE_BUCKET=$S3_BUCKET \
      GARRET_STORAGE_REGION=us-east-1 GARRET_STORAGE_ENDPOINT=$S3_ENDPOINT
    say "PostgreSQL at $PG_URL, S3 at $S3_ENDPOINT (bucket $S3_BUCKET)"
    count_nars() {
      psql -qtA "$PG_URL" -c "SELECT COUNT(*) FROM nar WHERE nar_hash = '$(nar_hex "$1")'"
    }
    ;;
  *) fatal "unknown GARRET_IT_BACKEND $BACKEND (sqlite or postgres-s3)" ;;
esac

start_garretd --mode all
A=$BASE
EXTRA_PIDS+=("$GARRETD_PID")
GARRETD_PID=""
start_garretd --mode api
B=$BASE
say "replica A at $A, replica B at $B, sharing $DATA"

setup_nix
token FULL --sub it-replicas --pull '*' --push '*' --create-cache '*' --configure-cache '*' \
  --destroy-cache '*'
use_netrc "$FULL"
AUTH=(-u ":$FULL")

# on REPLICA: runs the next command with BASE pointing at that replica.
on() {
  local saved=$BASE
  BASE=$1
  shift
  "$@"
  local rc=$?
  BASE=$saved
  return "$rc"
}

# wait_for DESC SECONDS CMD...: polls CMD until it succeeds; fails after SECONDS.
wait_for() {
  local desc=$1 limit=$2 start now
  shift 2
  start=$(date +%s%N)
  while ! "$@"; do
    now=$(date +%s%N)
    if [ $(((now - start) / 1000000)) -gt $((limit * 1000)) ]; then
      fail "$desc: not within $limit s"
      return 1
    fi
    sleep 0.2
  done
  pass "$desc (after $((($(date +%s%N) - start) / 1000000)) ms)"
}

status_is() { # EXPECTED URL
  [ "$(curl -s -o "$TMP/poll" -w '%{http_code}' "${AUTH[@]}" "$2")" = "$1" ]
}

say "a cache created on A is visible on B"
on "$A" create_cache shared "$FULL"
public_key KEY_A shared "$FULL"
KEY_B=$(curl -s "${AUTH[@]}" "$B/_api/v1/cache-config/shared" | python3 -c 'import json,sys; print(json.load(sys.stdin)["public_key"])')
expect_eq "B knows the same cache and key" "$KEY_A" "$KEY_B"

say "push to A, substitute from B"
TOP=$(build_closure replicas)
[ -n "$TOP" ] || fatal "nix-build failed"
check "nix copy to A" run_logged push-a nix copy --to "$A/shared?compression=zstd" "$TOP"
new_nix_cache
STORE=$TMP/store-b
check "nix substitutes the closure from B" run_logged subst-b substitute_into "$STORE" "$B/shared" "$KEY_A" "$TOP"
check "and verifies it" run_logged verify-b verify_in "$STORE" "$KEY_A" "$TOP"

say "the same path pushed to both replicas at once is stored once"
mkdir -p "$TMP/both"
head -c 3000000 /dev/urandom >"$TMP/both/data"
BOTH=$(nix-store --add "$TMP/both") || fatal "nix-store --add failed"
echo "$BOTH" >>"$TMP/built-paths"
XDG_CACHE_HOME=$TMP/xdg-both-a nix copy --to "$A/shared?compression=zstd" "$BOTH" >"$TMP/both-a.log" 2>&1 &
PUSH_A=$!
XDG_CACHE_HOME=$TMP/xdg-both-b nix copy --to "$B/shared?compression=zstd" "$BOTH" >"$TMP/both-b.log" 2>&1 &
PUSH_B=$!
check "push to A succeeds" wait "$PUSH_A"
check "push to B succeeds" wait "$PUSH_B"
NAR_HASH=$(nix-store -q --hash "$BOTH")
NARS=$(count_nars "$NAR_HASH")
expect_eq "one NAR for the path pushed twice" 1 "$NARS"
H=$(store_hash "$BOTH")
expect_status 200 "A serves it" "${AUTH[@]}" "$A/shared/$H.narinfo"
expect_status 200 "B serves it" "${AUTH[@]}" "$B/shared/$H.narinfo"
check "fsck finds the shared storage consistent" "$GARRETD" fsck --data-dir "$DATA" --quick

say "a signing key changed on A shows on B within the TTL"
expect_status 200 "B's narinfo (signed with the first key)" "${AUTH[@]}" "$B/shared/$H.narinfo"
OLD_KEY_NAME=${KEY_A%%:*}
expect_status 200 "regenerate the key on A" "${AUTH[@]}" -X PATCH -H 'Content-Type: application/json' \
  -d '{"keypair":"Generate"}' "$A/_api/v1/cache-config/shared"
on "$A" public_key NEW_KEY shared "$FULL"
NEW_KEY_NAME=${NEW_KEY%%:*}
expect_ne "the key changed" "$OLD_KEY_NAME" "$NEW_KEY_NAME"
signed_by_new() {
  curl -s "${AUTH[@]}" "$B/shared/$H.narinfo" | grep -q "^Sig: $NEW_KEY_NAME:"
}
wait_for "B signs with the new key" $((TTL + 2)) signed_by_new

say "a cache deleted on A disappears from B within the TTL"
expect_status 200 "B serves nix-cache-info" "${AUTH[@]}" "$B/shared/nix-cache-info"
expect_status 200 "delete the cache on A" "${AUTH[@]}" -X DELETE "$A/_api/v1/cache-config/shared"
wait_for "B answers 404 for the deleted cache" $((TTL + 2)) status_is 404 "$B/shared/$H.narinfo"

say "a --mode gc replica serves only the operations endpoints"
EXTRA_PIDS+=("$GARRETD_PID")
GARRETD_PID=""
start_garretd --mode gc
expect_status 200 "gc replica /ready" "$BASE/ready"
expect_status 404 "gc replica refuses cache requests" "${AUTH[@]}" "$BASE/shared/nix-cache-info"
expect_contains "and says where to go" "$(cat "$BODY")" "--mode gc"

finish
