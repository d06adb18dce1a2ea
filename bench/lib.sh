# Shared by bench/run.sh and bench/dedup.sh.
# shellcheck shell=bash

# stop_pid PID: SIGTERM, up to 5 s for it to exit, then SIGKILL; reaps it.
stop_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# PostgreSQL and S3 servers for benchmarks, shared with the integration tests.
# shellcheck source=../scripts/testing/servers.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/testing/servers.sh"

# write_generated NAME FILE [FENCE]: replaces what docs/performance.md holds
# between "<!-- BEGIN GENERATED NAME -->" and "<!-- END GENERATED NAME -->"
# with FILE (in a ``` block when FENCE=1). No-op with BENCH_NO_DOC=1.
write_generated() {
  local name=$1 file=$2 fence=${3:-0}
  local doc begin end
  doc="$(dirname "${BASH_SOURCE[0]}")/../docs/performance.md"
  begin="<!-- BEGIN GENERATED $name -->"
  end="<!-- END GENERATED $name -->"
  [ "${BENCH_NO_DOC:-0}" != 1 ] || return 0
  grep -qxF "$begin" "$doc" && grep -qxF "$end" "$doc" || return 0
  {
    sed "/^$begin\$/,\$d" "$doc"
    echo "$begin"
    [ "$fence" = 1 ] && echo '```'
    cat "$file"
    [ "$fence" = 1 ] && echo '```'
    echo "$end"
    sed "1,/^$end\$/d" "$doc"
  } >"$doc.new" && mv "$doc.new" "$doc"
  echo "figures written to docs/performance.md ($name)" >&2
}

# start_bench_garretd LOG ARGS...: starts `garretd serve ARGS` on a free port;
# sets GARRETD_PID and PORT, or fails after 30 s.
start_bench_garretd() {
  local log=$1 pf
  shift
  pf=$(mktemp)
  rm -f "$pf"
  "$GARRETD" serve "$@" --listen 127.0.0.1:0 --port-file "$pf" --quiet --log-level warn >>"$log" 2>&1 &
  GARRETD_PID=$!
  PORT=""
  for _ in $(seq 300); do
    if [ -s "$pf" ] && grep -q '^[0-9][0-9]*$' "$pf"; then
      PORT=$(cat "$pf")
      curl -s -o /dev/null "http://127.0.0.1:$PORT/health" && break
    fi
    kill -0 "$GARRETD_PID" 2>/dev/null || { cat "$log" >&2; echo "garretd exited at startup" >&2; return 1; }
    PORT=""
    sleep 0.1
  done
  rm -f "$pf"
  [ -n "$PORT" ] || { echo "garretd did not start within 30 s" >&2; return 1; }
}
