# Throwaway PostgreSQL and S3-compatible servers for integration tests and
# benchmarks. Source it; every function cleans up after itself through the
# matching stop_* function.
# shellcheck shell=bash

# free_port: an unused TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_postgres DIR: a throwaway PostgreSQL server in DIR (run as `nobody`,
# since PostgreSQL refuses root), trust auth on 127.0.0.1; sets PG_URL
# (database "garret") and PG_DIR. Stop it with stop_postgres.
start_postgres() {
  PG_DIR=$1
  local bin port
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -x "$bin/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; return 1; }
  port=$(free_port)
  mkdir -p "$PG_DIR"
  chown nobody:nogroup "$PG_DIR"
  runuser -u nobody -- "$bin/initdb" -D "$PG_DIR/data" -A trust -U postgres --no-sync >"$PG_DIR/initdb.log" 2>&1 ||
    { cat "$PG_DIR/initdb.log" >&2; return 1; }
  PG_BIN=$bin
  PG_OPTS="-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  resume_postgres || return 1
  PG_URL="postgresql://postgres@127.0.0.1:$port/garret"
  psql -q "postgresql://postgres@127.0.0.1:$port/postgres" -c "CREATE DATABASE garret" >/dev/null
}

# pause_postgres / resume_postgres: stop the server (as `pg_ctl -m fast`
# does: connections are cut) and start it again on the same port and data.
pause_postgres() {
  runuser -u nobody -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
}
resume_postgres() {
  runuser -u nobody -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "$PG_OPTS" start >/dev/null || { cat "$PG_DIR/server.log" >&2; return 1; }
}

stop_postgres() {
  [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ] || return 0
  runuser -u nobody -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
}

# start_s3 DIR BUCKET: s3rver (the repo's node_modules, installed by
# scripts/install-deps.sh) behind tests/support/s3rver_harness.js; sets
# S3_ENDPOINT, S3_BUCKET and the AWS_* credentials it accepts.
start_s3() {
  local dir=$1 root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  [ -d "$root/node_modules/s3rver" ] ||
    { echo "s3rver is not installed (run scripts/install-deps.sh)" >&2; return 1; }
  mkdir -p "$dir/data"
  S3_BUCKET=$2
  # The harness exits when its standard input closes: this shell holds the
  # writing end of a fifo until stop_s3 (or its own exit) closes it.
  rm -f "$dir/stdin" && mkfifo "$dir/stdin"
  node "$root/tests/support/s3rver_harness.js" "$dir/data" "$S3_BUCKET" \
    <"$dir/stdin" >"$dir/harness.out" 2>"$dir/harness.err" &
  S3_PID=$!
  exec {S3_FD}>"$dir/stdin"
  local _
  for _ in $(seq 100); do
    if grep -q endpoint "$dir/harness.out" 2>/dev/null; then break; fi
    sleep 0.1
  done
  S3_ENDPOINT=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["endpoint"])' "$dir/harness.out") ||
    { cat "$dir/harness.err" >&2; return 1; }
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
}

stop_s3() {
  [ -n "${S3_PID:-}" ] || return 0
  exec {S3_FD}>&-
  kill "$S3_PID" 2>/dev/null || true
  wait "$S3_PID" 2>/dev/null || true
  S3_PID=""
}
