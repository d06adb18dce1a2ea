#!/usr/bin/env bash
# SIGTERM lets an upload in flight finish and refuses new connections; a
# crash (SIGKILL) in the middle of an upload leaves nothing visible, and the
# same upload succeeds after a restart.
# shellcheck source=lib.sh disable=SC2154
. "$(dirname "$0")/lib.sh"

start_garretd
setup_nix
token PUSH --sub it-pusher --pull main --push main

# A store path of ~3 MB of incompressible data, so a rate-limited upload
# takes a few seconds.
SRC="$TMP/payload-src"
mkdir -p "$SRC"
head -c 3000000 /dev/urandom >"$SRC/blob"
echo "$RANDOM$RANDOM" >"$SRC/seed"
P=$(nix store add-path "$SRC" 2>/dev/null) || fatal "nix store add-path failed"
echo "$P" >>"$TMP/built-paths"
H=$(store_hash "$P")
prepare_nar "$P" payload
NAME="$(echo "$NAR_FILE_HASH" | cut -d: -f2).nar.xz"
narinfo_text "$P" "nar/$NAME" "$NAR_FILE_HASH" "$NAR_FILE_SIZE" "$NAR_HASH" "$NAR_SIZE" >"$TMP/payload.narinfo"

slow_upload() { # OUTFILE: PUT the NAR at ~1 MB/s in the background
  curl -s -o /dev/null -w '%{http_code}' --limit-rate 1000k --max-time 60 \
    -H "Authorization: Bearer $PUSH" -T "$TMP/payload.nar.xz" "$BASE/main/nar/$NAME" >"$1" &
  UPLOAD_PID=$!
}

say "crash in the middle of an upload"
BLOBS0=$(blob_count)
slow_upload "$TMP/crash-status"
sleep 1.2
kill -KILL "$GARRETD_PID"
wait "$GARRETD_PID" 2>/dev/null
GARRETD_PID=""
wait "$UPLOAD_PID"
expect_ne "the interrupted upload did not report success" 200 "$(cat "$TMP/crash-status")"
start_garretd
expect_eq "no blob became visible" "$BLOBS0" "$(blob_count)"
expect_status 404 "HEAD of the half-uploaded NAR" -I -H "Authorization: Bearer $PUSH" "$BASE/main/nar/$NAME"
expect_status 400 "narinfo cannot bind the half-uploaded NAR" -H "Authorization: Bearer $PUSH" \
  -T "$TMP/payload.narinfo" "$BASE/main/$H.narinfo"
expect_status 404 "the store path is not visible" -H "Authorization: Bearer $PUSH" "$BASE/main/$H.narinfo"

say "SIGTERM during an upload: the upload finishes, new connections are refused"
slow_upload "$TMP/term-status"
sleep 1.2
START=$(date +%s)
kill -TERM "$GARRETD_PID"
sleep 0.3
expect_status 000 "a new connection after SIGTERM is refused" --max-time 2 "$BASE/health"
wait "$UPLOAD_PID"
expect_eq "the upload in flight completed" 200 "$(cat "$TMP/term-status")"
wait "$GARRETD_PID"
RC=$?
GARRETD_PID=""
expect_eq "garretd exited cleanly after draining" 0 "$RC"
ELAPSED=$(($(date +%s) - START))
if [ "$ELAPSED" -le 20 ]; then pass "drained in ${ELAPSED}s"; else fail "draining took ${ELAPSED}s"; fi
expect_contains "the log says it is stopping" "$(cat "$GARRETD_LOG")" "stopping: finishing requests in flight"

say "after a restart the staged upload is bound by its narinfo"
start_garretd
expect_status 200 "HEAD of the uploaded NAR" -I -H "Authorization: Bearer $PUSH" "$BASE/main/nar/$NAME"
expect_status 200 "PUT narinfo" -H "Authorization: Bearer $PUSH" -T "$TMP/payload.narinfo" "$BASE/main/$H.narinfo"
expect_status 200 "the store path is visible" -H "Authorization: Bearer $PUSH" "$BASE/main/$H.narinfo"
expect_eq "NarHash served" "$NAR_HASH" "$(narinfo_field "$BODY" NarHash)"

finish
