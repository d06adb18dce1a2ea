#!/usr/bin/env bash
# garret scale benchmark: garretd with 1,000,000 store paths in its metadata
# database, on SQLite and on PostgreSQL: narinfo hit and miss throughput and
# latency (p50/p99), the time the first lookup takes to load the cache's path
# list, and the time of a garbage collection pass that expires 10 % of the
# paths. See bench/README.md. Results go to bench/out/scale.txt and
# docs/performance.md (between the scale markers).
#
# Environment:
#   GARRETD              garretd binary (default: build/apps/garretd/garretd)
#   BENCH_SCALE_OBJECTS  store paths to load (default: 1000000)
#   BENCH_SCALE_DBS      databases to measure (default: "sqlite postgres")
#   BENCH_DURATION       seconds per wrk measurement (default: 10)
#   BENCH_CONNECTIONS    wrk connections (default: 8)
#   BENCH_NO_DOC=1       do not write the table into docs/performance.md
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GARRETD=${GARRETD:-$ROOT/build/apps/garretd/garretd}
case $GARRETD in /*) ;; *) GARRETD=$PWD/$GARRETD ;; esac
N=${BENCH_SCALE_OBJECTS:-1000000}
DBS=${BENCH_SCALE_DBS:-sqlite postgres}
DURATION=${BENCH_DURATION:-10}
CONNS=${BENCH_CONNECTIONS:-8}
OUT=$ROOT/bench/out
EXPIRED=0.1

for tool in wrk curl python3 psql; do
  command -v "$tool" >/dev/null || {
    echo "scale: '$tool' not found (run: GARRET_BENCH=1 bash scripts/install-deps.sh)" >&2
    exit 1
  }
done
[ -x "$GARRETD" ] || { echo "scale: garretd not found at $GARRETD (set GARRETD)" >&2; exit 1; }

# shellcheck source=lib.sh
. "$ROOT/bench/lib.sh"
mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/garret-scale.XXXXXX")
chmod 755 "$WORK"
GARRETD_PID=""
cleanup() {
  local rc=$?
  stop_pid "$GARRETD_PID"
  stop_postgres
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

T0=$(date +%s)
log() { printf '[scale %4ss] %s\n' $(($(date +%s) - T0)) "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now_ms() { date +%s%3N; }

# start_server DATA [ENV...]: garretd on a free port, one network thread (as
# in bench/run.sh); sets G and GARRETD_PID.
start_server() {
  local data=$1 pf=$WORK/port
  shift
  rm -f "$pf"
  env "$@" "$GARRETD" serve --data-dir "$data" --listen 127.0.0.1:0 --port-file "$pf" --quiet \
    --threads 1 --log-level warn >>"$OUT/scale-garretd.log" 2>&1 &
  GARRETD_PID=$!
  for _ in $(seq 600); do
    if [ -s "$pf" ] && curl -s -o /dev/null "http://127.0.0.1:$(cat "$pf")/ready"; then
      G=http://127.0.0.1:$(cat "$pf")
      return 0
    fi
    kill -0 "$GARRETD_PID" 2>/dev/null || die "garretd exited at startup (see bench/out/scale-garretd.log)"
    sleep 0.1
  done
  die "garretd did not start"
}

# wrk_run NAME SCRIPT ARGS...: prints "req/s p50_us p99_us errors".
wrk_run() {
  local name=$1 script=$2
  shift 2
  wrk -t1 -c"$CONNS" -d2s -s "$script" "$G" -- "$@" warm-up >/dev/null 2>&1 || true
  wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$script" "$G" -- "$@" >"$OUT/scale-$name.log" 2>&1 ||
    die "wrk $name failed"
  perl -ne 'if (/WRK_RESULT requests=(\d+) duration_us=(\d+).* status=(\d+) timeout=(\d+) p50_us=(\d+) p99_us=(\d+)/) {
      printf "%.0f %d %d %d\n", $1 / ($2 / 1e6), $5, $6, $3 + $4 }' "$OUT/scale-$name.log"
}

RESULTS=()
for db in $DBS; do
  log "$db: preparing"
  DATA=$WORK/$db
  mkdir -p "$DATA"
  ENV=(GARRET_GARBAGE_COLLECTION_INTERVAL=0)
  if [ "$db" = postgres ]; then
    stop_postgres
    start_postgres "$WORK/pg" || die "could not start PostgreSQL"
    ENV+=("GARRET_DATABASE_URL=$PG_URL")
  fi
  # First start: schema and the "main" cache; made public for wrk.
  start_server "$DATA" "${ENV[@]}"
  TOKEN=$("$GARRETD" make-token --data-dir "$DATA" --sub scale --configure-cache main --validity 1h)
  curl -sf -o /dev/null -X PATCH -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"is_public": true}' "$G/_api/v1/cache-config/main" || die "cannot make the cache public"
  stop_pid "$GARRETD_PID"
  GARRETD_PID=""

  log "$db: loading $N store paths"
  t=$(now_ms)
  if [ "$db" = postgres ]; then
    python3 "$ROOT/bench/scale_load.py" postgres "$PG_URL" "$N" 1 "$EXPIRED" "$WORK/hashes"
  else
    python3 "$ROOT/bench/scale_load.py" sqlite "$DATA/garret.db" "$N" 1 "$EXPIRED" "$WORK/hashes"
  fi
  LOAD_S=$(awk -v ms=$(($(now_ms) - t)) 'BEGIN { printf "%.1f", ms / 1000 }')
  log "$db: loaded in $LOAD_S s"
  shuf -n 200000 --random-source=<(yes) "$WORK/hashes" | sed 's|^|/main/|; s|$|.narinfo|' >"$WORK/urls"

  start_server "$DATA" "${ENV[@]}"
  # The first lookup of a cache reads its path list (for misses answered
  # from memory).
  t=$(now_ms)
  code=$(curl -s -o /dev/null -w '%{http_code}' "$G/main/00000000000000000000000000000000.narinfo")
  [ "$code" = 404 ] || die "first miss answered $code"
  INDEX_MS=$(($(now_ms) - t))
  log "$db: first lookup (path list of $N paths) took $INDEX_MS ms"
  read -r HIT_RPS HIT_P50 HIT_P99 HIT_ERR < <(wrk_run "$db-hits" "$ROOT/bench/urls.lua" "$WORK/urls")
  read -r MISS_RPS MISS_P50 MISS_P99 MISS_ERR < <(wrk_run "$db-misses" "$ROOT/bench/misses.lua" /main 7)
  log "$db: hits $HIT_RPS req/s (p50 $HIT_P50 us, p99 $HIT_P99 us), misses $MISS_RPS req/s (p50 $MISS_P50 us, p99 $MISS_P99 us)"
  [ "$HIT_ERR" = 0 ] || die "$db: $HIT_ERR hit requests failed (see bench/out/scale-$db-hits.log)"
  stop_pid "$GARRETD_PID"
  GARRETD_PID=""

  log "$db: garbage collection (paths not accessed for 30 days expire: about ${EXPIRED/0./}0 %)"
  t=$(now_ms)
  env "${ENV[@]}" GARRET_GARBAGE_COLLECTION_DEFAULT_RETENTION_PERIOD=30d \
    "$GARRETD" gc --data-dir "$DATA" --json >"$OUT/scale-$db-gc.json" 2>"$OUT/scale-$db-gc.log" ||
    die "gc failed (see bench/out/scale-$db-gc.log)"
  GC_S=$(awk -v ms=$(($(now_ms) - t)) 'BEGIN { printf "%.1f", ms / 1000 }')
  GC_OBJECTS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["objects"])' "$OUT/scale-$db-gc.json")
  log "$db: gc took $GC_S s, deleted $GC_OBJECTS objects"
  RESULTS+=("| $db | $N | $HIT_RPS | $HIT_P50 / $HIT_P99 | $MISS_RPS | $MISS_P50 / $MISS_P99 | $INDEX_MS | $GC_S ($GC_OBJECTS objects) | $LOAD_S |")
  [ "$db" = postgres ] && stop_postgres
done

{
  echo "garret scale benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores; $("$GARRETD" --version | head -1) (commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown))"
  echo "wrk -t1 -c$CONNS -d${DURATION}s; garretd --threads 1; hits over 200,000 random paths of the cache, misses are fresh random hashes"
  echo
  echo "| database | store paths | narinfo hits (req/s) | hit p50 / p99 (µs) | narinfo misses (req/s) | miss p50 / p99 (µs) | first lookup (ms) | gc pass (s) | load (s) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${RESULTS[@]}"
} | tee "$OUT/scale.txt"

write_generated scale "$OUT/scale.txt"
log "done in $(($(date +%s) - T0)) s"
