#!/usr/bin/env bash
# Slow or silent clients cannot pin connections: an idle keep-alive
# connection, a request whose header never ends and a body that stalls are all
# closed after the configured timeouts, and the server keeps answering.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

GARRET_IDLE_TIMEOUT="2s" GARRET_READ_TIMEOUT="2s" start_garretd
token PUSH --sub it-pusher --pull main --push main

# probe KIND: opens a connection, sends a partial request of KIND and reports
# how many seconds passed until the server closed it ("open" after 10 s).
probe() {
  python3 - "$PORT" "$1" "$PUSH" <<'PYEOF'
import socket, sys, time
port, kind, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
if kind == "idle":
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.2)
    s.recv(4096)  # the answer; then the connection idles
elif kind == "header":
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # never ends the header
elif kind == "body":
    s.sendall(("PUT /main/nar/" + "0" * 52 + ".nar HTTP/1.1\r\nHost: x\r\n"
               "Authorization: Bearer " + token + "\r\nContent-Length: 100000\r\n\r\n").encode())
    s.sendall(b"x" * 10)  # then stalls
start = time.time()
s.settimeout(10)
try:
    while s.recv(4096):
        pass
    print(round(time.time() - start))
except socket.timeout:
    print("open")
PYEOF
}

for kind in idle header body; do
  t=$(probe "$kind")
  if [[ $t =~ ^[0-9]+$ ]] && [ "$t" -le 6 ]; then
    pass "a stalled connection ($kind) is closed after ${t}s"
  else
    fail "a stalled connection ($kind) was not closed in time: $t"
  fi
done
expect_status 200 "the server still answers" "$BASE/health"
expect_status 404 "nothing was stored by the stalled upload" -H "Authorization: Bearer $PUSH" \
  -I "$BASE/main/nar/$(printf '0%.0s' $(seq 52)).nar"

finish
