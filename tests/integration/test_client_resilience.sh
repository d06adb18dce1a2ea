#!/usr/bin/env bash
# garret push and watch-store when things go wrong: a push killed halfway is
# finished by running it again; a push rides out a garretd restart with its
# retries; a push to an unreachable server fails clearly after its attempts;
# watch-store pushes paths built after it started, including while the
# server was down.
# shellcheck source=lib.sh disable=SC2015,SC2119,SC2154
. "$(dirname "$0")/lib.sh"
[ -x "${GARRET:-}" ] || fatal "GARRET must point to the garret binary"

start_garretd
setup_nix
export XDG_CONFIG_HOME="$TMP/config"
token ADMIN --sub it-admin --create-cache '*' --pull '*' --push '*'
"$GARRET" login it "$BASE" "$ADMIN" >/dev/null || fatal "login failed"
"$GARRET" cache create it:res >/dev/null || fatal "cache create failed"
KEY=$("$GARRET" cache info it:res --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["public_key"])')
use_netrc "$ADMIN"

# restart_garretd: stops garretd and starts it again on the same port and data.
restart_garretd() {
  "$GARRETD" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" --quiet >>"$GARRETD_LOG" 2>&1 &
  GARRETD_PID=$!
  local i
  for i in $(seq 1 100); do
    curl -s -o /dev/null --max-time 1 "$BASE/health" && return 0
    sleep 0.1
  done
  fatal "garretd did not come back on port $PORT"
}

# big_paths N MIB: adds N store paths of MIB MiB of random data to /nix/store.
big_paths() {
  local i f
  for i in $(seq 1 "$1"); do
    f="$TMP/big-$RANDOM-$i.bin"
    head -c "$(($2 << 20))" /dev/urandom >"$f"
    nix-store --add "$f" | tee -a "$TMP/built-paths"
    rm -f "$f"
  done
}

all_present() { # PATHS...
  local p
  for p in "$@"; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN" "$BASE/res/$(store_hash "$p").narinfo")" = 200 ] || return 1
  done
}

say "a push killed halfway is completed by running it again"
mapfile -t BIG < <(big_paths 4 24)
"$GARRET" push it:res -j 1 "${BIG[@]}" >"$TMP/push-killed.log" 2>&1 &
pid=$!
sleep 0.4
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
check_not "the killed push did not finish everything" all_present "${BIG[@]}"
check "pushing again succeeds" run_logged push-again "$GARRET" push it:res -j 2 "${BIG[@]}"
check "every path is in the cache" all_present "${BIG[@]}"
check "fsck finds no damage" run_logged fsck "$GARRETD" fsck --data-dir "$DATA" --quick
new_nix_cache
check "the paths substitute" run_logged subst-big substitute_into "$TMP/store-big" "$BASE/res" "$KEY" "${BIG[0]}"
expect_eq "content identical" "$(sha256sum <"${BIG[0]}")" "$(sha256sum <"$TMP/store-big${BIG[0]}")"

say "a push rides out a garretd restart"
mapfile -t BIG2 < <(big_paths 4 24)
"$GARRET" push it:res -j 1 --attempts 8 "${BIG2[@]}" >"$TMP/push-restart.log" 2>&1 &
pid=$!
sleep 0.4
kill -KILL "$GARRETD_PID"
wait "$GARRETD_PID" 2>/dev/null
sleep 1
restart_garretd
wait "$pid"
rc=$?
expect_eq "the push succeeded" 0 "$rc"
expect_contains "it retried" "$(cat "$TMP/push-restart.log")" "retry"
check "every path is in the cache" all_present "${BIG2[@]}"

say "a push to an unreachable server fails clearly after its attempts"
dead_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$GARRET" login dead "http://127.0.0.1:$dead_port" "$ADMIN" >/dev/null 2>&1
start=$(date +%s)
"$GARRET" push dead:res --attempts 3 "${BIG[0]}" >"$TMP/push-dead.log" 2>&1
rc=$?
expect_eq "exit status 1" 1 "$rc"
log=$(cat "$TMP/push-dead.log")
expect_contains "it tried again" "$log" "attempt 3"
expect_contains "the error names the server" "$log" "127.0.0.1:$dead_port"
check "and gave up within a minute" [ $(($(date +%s) - start)) -lt 60 ]

say "watch-store pushes new paths, also those added while the server is down"
WS="$TMP/ws"
echo "before" >"$TMP/before.txt"
old=$(nix-store --store "$WS" --add "$TMP/before.txt")
"$GARRET" watch-store it:res --store "$WS" --batch-window 0.3 >"$TMP/watch.log" 2>&1 &
WATCH_PID=$!
EXTRA_PIDS+=("$WATCH_PID")
sleep 1
echo "new one $RANDOM" >"$TMP/new1.txt"
new1=$(nix-store --store "$WS" --add "$TMP/new1.txt")
wait_for() { # DESC CMD...
  local i
  for i in $(seq 1 100); do
    "${@:2}" && { pass "$1"; return 0; }
    sleep 0.2
  done
  fail "$1 (timed out)"
}
wait_for "a path added after start is pushed" all_present "$new1"
check_not "the path that existed before is not pushed" all_present "$old"
stop_garretd
echo "while down $RANDOM" >"$TMP/new2.txt"
new2=$(nix-store --store "$WS" --add "$TMP/new2.txt")
sleep 2.5
restart_garretd
wait_for "a path added while the server was down is pushed after it returns" all_present "$new2"
check "watch-store is still running" kill -0 "$WATCH_PID"
expect_match "it said it would try again" "attempt [0-9]|retrying" "$(cat "$TMP/watch.log")"
echo "last one $RANDOM" >"$TMP/new3.txt"
new3=$(nix-store --store "$WS" --add "$TMP/new3.txt")
kill -TERM "$WATCH_PID"
wait "$WATCH_PID"
expect_eq "watch-store stops cleanly on SIGTERM" 0 $?
check "a path added just before SIGTERM is pushed by the final flush" all_present "$new3"
new_nix_cache
check "a watched path substitutes" run_logged subst-ws substitute_into "$TMP/store-ws" "$BASE/res" "$KEY" "$new2"

finish
