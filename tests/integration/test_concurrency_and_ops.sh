#!/usr/bin/env bash
# Concurrent pushes of one closure, ops endpoints and metrics, request size
# limits, and a clean exit on SIGTERM.
# shellcheck source=lib.sh disable=SC2015,SC2119,SC2154
. "$(dirname "$0")/lib.sh"

start_garretd
setup_nix
token T --sub it-ops --pull main --push main
public_key KEY main "$T"
use_netrc "$T"
AUTH=(-H "Authorization: Bearer $T")

C1=$(build_closure conc1)
C2=$(build_closure conc2)
[ -n "$C1" ] && [ -n "$C2" ] || fatal "nix-build failed"

# push_bg VAR NAME URL PATH: nix copy in the background with its own narinfo
# cache; its pid goes into VAR.
push_bg() {
  local xdg
  xdg=$(mktemp -d "$TMP/xdg-$2.XXXX")
  XDG_CACHE_HOME=$xdg nix copy --to "$3" "$4" >"$TMP/$2.log" 2>&1 &
  printf -v "$1" '%s' "$!"
}
# wait_ok DESC PID LOGNAME URL PATH: the background nix copy succeeded. Nix 2.8
# fails with "coroutine has finished" when a path it is about to upload became
# valid in the cache meanwhile (its BinaryCacheStore::addToStore drains a
# coroutine source): that client-side race is retried once.
wait_ok() {
  local rc=0
  wait "$2" || rc=$?
  if [ "$rc" -eq 0 ]; then
    pass "$1"
  elif grep -q 'coroutine has finished' "$TMP/$3.log"; then
    say "($3 hit the Nix 2.8 client race 'coroutine has finished'; retrying once)"
    check "$1 (after a retry)" run_logged "$3-retry" nix copy --to "$4" "$5"
  else
    fail "$1 (exit status $rc): $(tail -n 4 "$TMP/$3.log")"
  fi
}
check_closure() { # LABEL TOP
  local store="$TMP/store-$1" p
  new_nix_cache
  check "$1: substitute into a fresh store" run_logged "subst-$1" substitute_into "$store" "$BASE/main" "$KEY" "$2"
  check "$1: verify -r" run_logged "verify-$1" verify_in "$store" "$KEY" "$2"
  for p in $(closure_of "$2"); do
    check "$1: contents equal: $(basename "$p")" same_tree "$p" "$store$p"
    if expect_status 200 "$1: narinfo of $(basename "$p")" "${AUTH[@]}" "$BASE/main/$(store_hash "$p").narinfo"; then
      expect_eq "$1: NarHash of $(basename "$p")" "$(nix-store -q --hash "$p")" "$(narinfo_field "$BODY" NarHash)"
      expect_eq "$1: one StorePath line" 1 "$(grep -c '^StorePath: ' "$BODY")"
    fi
  done
}

say "two nix copy of the same closure at the same time (both xz)"
push_bg p1 push1 "$BASE/main" "$C1"
push_bg p2 push2 "$BASE/main" "$C1"
wait_ok "first concurrent nix copy succeeds" "$p1" push1 "$BASE/main" "$C1"
wait_ok "second concurrent nix copy succeeds" "$p2" push2 "$BASE/main" "$C1"
check_closure conc1 "$C1"

say "two nix copy of another closure at the same time (xz and zstd)"
push_bg p1 push3 "$BASE/main" "$C2"
push_bg p2 push4 "$BASE/main?compression=zstd" "$C2"
wait_ok "concurrent nix copy (xz) succeeds" "$p1" push3 "$BASE/main" "$C2"
wait_ok "concurrent nix copy (zstd) succeeds" "$p2" push4 "$BASE/main?compression=zstd" "$C2"
check_closure conc2 "$C2"

say "eight parallel curl PUTs of the same NAR, then of the same narinfo"
C3=$(build_closure conc3)
[ -n "$C3" ] || fatal "nix-build failed"
for p in $(closure_of "$C3"); do [[ $p == *-leaf ]] && LEAF3=$p; done
prepare_nar "$LEAF3" leaf3
NAME3="nar/${NAR_FILE_HASH#sha256:}.nar.xz"
narinfo_text "$LEAF3" "$NAME3" "$NAR_FILE_HASH" "$NAR_FILE_SIZE" "$NAR_HASH" "$NAR_SIZE" >"$TMP/leaf3.narinfo"
parallel_put() { # KIND FILE URL CONTENT-TYPE
  local i pids=()
  for i in $(seq 1 8); do
    curl -s -o "$TMP/par-$1-$i.body" -w '%{http_code}' --max-time 60 -X PUT "${AUTH[@]}" \
      -H "Content-Type: $4" --data-binary "@$2" "$3" >"$TMP/par-$1-$i.code" &
    pids+=($!)
  done
  wait "${pids[@]}"
  local codes="" f
  for f in "$TMP"/par-"$1"-*.code; do codes+="$(cat "$f") "; done
  expect_match "8 parallel PUTs of the $1 all succeed" '^((200|201|204) ){8}$' "$codes"
}
parallel_put nar "$TMP/leaf3.nar.xz" "$BASE/main/$NAME3" application/x-nix-nar
parallel_put narinfo "$TMP/leaf3.narinfo" "$BASE/main/$(store_hash "$LEAF3").narinfo" text/x-nix-narinfo
if expect_status 200 "the narinfo is served" "${AUTH[@]}" "$BASE/main/$(store_hash "$LEAF3").narinfo"; then
  expect_eq "one StorePath line" 1 "$(grep -c '^StorePath: ' "$BODY")"
  expect_eq "its NarHash" "$NAR_HASH" "$(narinfo_field "$BODY" NarHash)"
fi
new_nix_cache
check "substitute the leaf" run_logged subst-leaf3 substitute_into "$TMP/store-leaf3" "$BASE/main" "$KEY" "$LEAF3"
check "contents equal" same_tree "$LEAF3" "$TMP/store-leaf3$LEAF3"
expect_eq "no 5xx answer so far" "" "$(grep -E 'status=5[0-9][0-9] ' "$GARRETD_LOG" | head -n 3)"

say "ops endpoints"
expect_status 200 "GET /health" "$BASE/health"
expect_status 200 "GET /ready" "$BASE/ready"
expect_status 401 "an anonymous request (to count an auth failure)" "$BASE/main/nix-cache-info"
expect_status 401 "a request with a garbage token" -H 'Authorization: Bearer garbage' "$BASE/main/nix-cache-info"
expect_status 200 "GET /metrics" "$BASE/metrics"
cp "$BODY" "$TMP/metrics.txt"
M=$(cat "$TMP/metrics.txt")
expect_match "metrics Content-Type is Prometheus text" '^text/plain' "$(header Content-Type)"
expect_match "garret_http_requests_total has a route label" 'garret_http_requests_total\{[^}]*route="[^"]+"' "$M"
routes=$(grep -o 'garret_http_requests_total{[^}]*}' "$TMP/metrics.txt" | grep -o 'route="[^"]*"' | sort -u | wc -l)
if [ "$routes" -ge 3 ]; then pass "requests are counted under $routes routes"; else fail "only $routes distinct route labels on garret_http_requests_total"; fi
expect_match "a TYPE line for garret_http_requests_total" '# TYPE garret_http_requests_total counter' "$M"
expect_match "garret_auth_failures_total is exported" '(^|'$'\n'')garret_auth_failures_total(\{[^}]*\})? [0-9]' "$M"
auth_failures=$(awk '/^garret_auth_failures_total/ {s += $2} END {print s + 0}' "$TMP/metrics.txt")
if awk -v v="$auth_failures" 'BEGIN {exit !(v >= 2)}'; then pass "garret_auth_failures_total counts the refusals ($auth_failures)"; else fail "garret_auth_failures_total is $auth_failures after 2 refusals"; fi
bad_lines=$(grep -vE '^#|^$' "$TMP/metrics.txt" | grep -vcE '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+]?([0-9.]+([eE][-+]?[0-9]+)?|NaN|\+Inf|-Inf)( [0-9]+)?$')
expect_eq "every metrics sample line is well formed" 0 "$bad_lines"
total_requests=$(awk '/^garret_http_requests_total\{/ {s += $2} END {print s + 0}' "$TMP/metrics.txt")
if [ "$total_requests" -ge 40 ]; then pass "garret_http_requests_total adds up to $total_requests"; else fail "garret_http_requests_total adds up to only $total_requests"; fi
refused=$(grep -E '^garret_http_requests_total\{[^}]*status="401"' "$TMP/metrics.txt" | awk '{s += $2} END {print s + 0}')
if [ "$refused" -ge 2 ]; then pass "401 answers are counted by status ($refused)"; else fail "only $refused requests counted with status=\"401\""; fi
if grep -q '^garret_uploads_total{result="ok"}' "$TMP/metrics.txt"; then
  ups=$(awk '/^garret_uploads_total\{result="ok"\}/ {print $2}' "$TMP/metrics.txt")
  if [ "${ups%.*}" -ge 6 ]; then pass "garret_uploads_total{result=\"ok\"} counts the uploads ($ups)"; else fail "garret_uploads_total{result=\"ok\"} is $ups after at least 6 uploads"; fi
fi

say "size limits"
H1=$(store_hash "$C1")
{ printf 'StorePath: %s\nURL: nar/x.nar.xz\nCompression: xz\n' "$C1"; head -c $((1024 * 1024 + 4096)) /dev/zero | tr '\0' 'a'; printf '\n'; } >"$TMP/big.narinfo"
expect_status 413 "PUT narinfo larger than 1 MiB" -X PUT "${AUTH[@]}" -H 'Content-Type: text/x-nix-narinfo' \
  --data-binary "@$TMP/big.narinfo" "$BASE/main/$(store_hash "$C1" | tr 'a-d' 'f-i').narinfo"
expect_status 413 "PUT narinfo larger than 1 MiB without Content-Length (chunked)" -X PUT "${AUTH[@]}" \
  -H 'Transfer-Encoding: chunked' -H 'Content-Type: text/x-nix-narinfo' \
  --data-binary "@$TMP/big.narinfo" "$BASE/main/$(store_hash "$C1" | tr 'a-d' 'f-i').narinfo"
BIG=$(head -c 20000 /dev/zero | tr '\0' 'b')
expect_status '431|413' "request header larger than 16 KiB" "${AUTH[@]}" -H "X-Big: $BIG" "$BASE/main/nix-cache-info"
PAD=$(head -c 500 /dev/zero | tr '\0' 'c')
PADS=()
for i in $(seq 1 40); do PADS+=(-H "X-Pad-$i: $PAD"); done
expect_status '431|413' "many headers adding up to more than 16 KiB" "${AUTH[@]}" "${PADS[@]}" "$BASE/main/nix-cache-info"
expect_status 200 "server still healthy" "$BASE/health"
expect_status 200 "C1 still served" "${AUTH[@]}" "$BASE/main/$H1.narinfo"

say "restart keeps the data"
stop_garretd
start_garretd
expect_status 200 "C1 narinfo served after a restart" "${AUTH[@]}" "$BASE/main/$H1.narinfo"
public_key KEY_AFTER main "$T"
expect_eq "the cache key survives a restart" "$KEY" "$KEY_AFTER"
expect_status 200 "a token minted before the restart still works" "${AUTH[@]}" "$BASE/main/nix-cache-info"

say "SIGTERM while idle (with an idle keep-alive connection open)"
python3 - "$PORT" "$T" >"$TMP/keepalive.log" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(("GET /health HTTP/1.1\r\nHost: x\r\n\r\n").encode())
s.settimeout(20)
print(s.recv(4096)[:20])
try:
    while s.recv(4096):
        pass
except Exception as e:
    print("recv:", e)
EOF
KEEPALIVE_PID=$!
sleep 0.5
pid=$GARRETD_PID
start=$(date +%s%N)
kill -TERM "$pid"
for i in $(seq 1 100); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
  fail "garretd still running 10 s after SIGTERM"
  kill -KILL "$pid" 2>/dev/null
fi
rc=0
wait "$pid" || rc=$?
GARRETD_PID=""
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
if [ "$elapsed_ms" -le 5000 ]; then pass "exited ${elapsed_ms} ms after SIGTERM"; else fail "took ${elapsed_ms} ms to exit after SIGTERM"; fi
expect_eq "exit status after SIGTERM" 0 "$rc"
kill "$KEEPALIVE_PID" 2>/dev/null
wait "$KEEPALIVE_PID" 2>/dev/null

say "SIGTERM with no connection at all"
start_garretd
pid=$GARRETD_PID
start=$(date +%s%N)
kill -TERM "$pid"
for i in $(seq 1 100); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then fail "garretd still running 10 s after SIGTERM"; kill -KILL "$pid"; fi
rc=0
wait "$pid" || rc=$?
GARRETD_PID=""
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
if [ "$elapsed_ms" -le 3000 ]; then pass "exited ${elapsed_ms} ms after SIGTERM"; else fail "took ${elapsed_ms} ms to exit after SIGTERM"; fi
expect_eq "exit status after SIGTERM" 0 "$rc"
check_not "the port is closed" curl -s -o /dev/null --max-time 2 "$BASE/health"

finish
