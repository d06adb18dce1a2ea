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
