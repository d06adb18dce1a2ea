#!/usr/bin/env bash
# garret benchmark: garretd (SQLite + local disk, and PostgreSQL + S3) against
# nginx serving the same binary cache as static files, plus garretd's memory use
# while ingesting a >1 GiB NAR.
# See bench/README.md. Results go to bench/out/ and docs/performance.md.
#
# Environment:
#   GARRETD            garretd binary (default: build/apps/garretd/garretd)
#   BENCH_SEED         seed of the generated store content (default: 1)
#   BENCH_PATHS        number of generated store paths (default: 300)
#   BENCH_DURATION     seconds per wrk measurement (default: 10)
#   BENCH_WARMUP       seconds of wrk warm-up before each measurement (default: 2)
#   BENCH_CONNECTIONS  wrk connections (default: 32)
#   BENCH_ROUNDS       rounds of the wrk runs (nine; six without PostgreSQL + S3);
#                      the best of each counts (default: 3)
#   BENCH_BIG_MIB      size of the big-NAR file in MiB (default: 1126, i.e. 1.1 GiB)
#   BENCH_NICE         nice level of the servers (PostgreSQL and s3rver too) and wrk
#                      when run as root (default: -10; 0: off)
#   BENCH_SKIP_BIG=1   skip the big-NAR ingest measurement
#   BENCH_SKIP_PG_S3=1 skip the third server, garretd on PostgreSQL + S3 (s3rver);
#                      it is also skipped, with a message, when PostgreSQL or
#                      node_modules/s3rver is missing or will not start
#   BENCH_REQUIRE_PG_S3=1  fail instead of skipping it
#   BENCH_NO_DOC=1     do not rewrite docs/performance.md
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GARRETD=${GARRETD:-$ROOT/build/apps/garretd/garretd}
case $GARRETD in /*) ;; *) GARRETD=$PWD/$GARRETD ;; esac
SEED=${BENCH_SEED:-1}
NPATHS=${BENCH_PATHS:-300}
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNECTIONS:-32}
ROUNDS=${BENCH_ROUNDS:-3}
BIG_MIB=${BENCH_BIG_MIB:-1126}
OUT=$ROOT/bench/out
DOC=$ROOT/docs/performance.md

for tool in nix nix-store nginx wrk curl openssl perl zstd; do
  command -v "$tool" >/dev/null || {
    echo "bench: '$tool' not found (run: GARRET_BENCH=1 bash scripts/install-deps.sh)" >&2
    exit 1
  }
done
[ -x "$GARRETD" ] || { echo "bench: garretd not found at $GARRETD (set GARRETD)" >&2; exit 1; }
NGINX=$(command -v nginx)
# Servers and wrk run at a higher priority than anything else on the machine:
# each in a session of its own whose autogroup gets the nice level too (with
# autogroups, a process's nice level only counts inside its session).
NICE=()
if [ "${BENCH_NICE:--10}" != 0 ] && [ "$(id -u)" -eq 0 ]; then
  NICE=(setsid bash -c 'echo "$0" >/proc/self/autogroup 2>/dev/null; exec nice -n "$0" "$@"' "${BENCH_NICE:--10}")
fi

mkdir -p "$OUT"
rm -f "$OUT"/*.log "$OUT"/*.txt
WORK=$(mktemp -d "${TMPDIR:-/tmp}/garret-bench.XXXXXX")
GARRETD_PID=""
NGINX_PID=""
PGS3_PID=""    # garretd on PostgreSQL + S3
PG_MASTER=""   # the PostgreSQL postmaster (started by start_postgres)

# shellcheck source=lib.sh
. "$ROOT/bench/lib.sh"

cleanup() {
  local rc=$?
  stop_pid "$GARRETD_PID"
  stop_pid "$NGINX_PID"
  stop_pid "$PGS3_PID"
  stop_s3
  [ -z "${PG_BIN:-}" ] || stop_postgres
  cp "$WORK/pg/server.log" "$OUT/postgres.log" 2>/dev/null || true
  cp "$WORK/s3/harness.err" "$OUT/s3rver.log" 2>/dev/null || true
  # The private Nix store holds read-only directories.
  chmod -R u+w "$WORK" 2>/dev/null || true
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

T0=$(date +%s)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
log() { printf '[bench %4ss] %s\n' $(($(date +%s) - T0)) "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Nix: a private store under $WORK (logical store dir /nix/store), no daemon.
export XDG_CACHE_HOME=$WORK/xdg-cache
NIXROOT=$WORK/nixroot
NETRC=$WORK/netrc
export NIX_CONFIG="experimental-features = nix-command
sandbox = false
build-users-group =
substituters =
store = $NIXROOT
netrc-file = $NETRC"
: >"$NETRC"

# A deterministic byte stream (AES-128-CTR keystream keyed by a label).
keystream() {
  local key
  key=$(printf '%s' "garret-bench/$1" | openssl dgst -sha256 -r | cut -c1-32)
  openssl enc -aes-128-ctr -K "$key" -iv 00000000000000000000000000000000 -in /dev/zero 2>/dev/null
}

free_port() {
  perl -MIO::Socket::INET -e \
    'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0", ReuseAddr => 1)->sockport, "\n"'
}

# CPU seconds (user+system) used so far by a process.
TICKS=$(getconf CLK_TCK)
cpu_seconds() {
  awk -v t="$TICKS" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / t }' "/proc/$1/stat"
}

vm_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# ---------------------------------------------------------------- content

generate_tree() {
  # generate_tree SEED DIR NPATHS: NPATHS directories bench-NNN of small files
  # (1-50 KB: text-like or random bytes, some executable, a symlink) and, in
  # every 15th, one large random file of 5-20 MB.
  perl - "$@" <<'PERL'
use strict; use warnings;
my ($seed, $out, $npaths) = @ARGV;
srand($seed);
open(my $rnd, "-|", "bash", "-c", "key=\$(printf %s 'garret-bench/tree-$seed' | openssl dgst -sha256 -r | cut -c1-32); exec openssl enc -aes-128-ctr -K \$key -iv 00000000000000000000000000000000 -in /dev/zero 2>/dev/null") or die "openssl: $!";
binmode $rnd;
sub random_bytes {
  my ($n) = @_; my $buf = ""; my $got = 0;
  while ($got < $n) {
    my $r = read($rnd, $buf, $n - $got, $got) // die "read: $!";
    die "keystream ended" if $r == 0;
    $got += $r;
  }
  return $buf;
}
my @words = map { join "", map { chr(97 + int(rand(26))) } 1 .. (2 + int(rand(9))) } 1 .. 600;
sub text_bytes {
  my ($n) = @_; my $s = ""; my $col = 0;
  while (length($s) < $n) {
    my $w = $words[int(rand(@words))];
    if ($col + length($w) > 72) { $s .= "\n"; $col = 0 } elsif ($col) { $s .= " "; $col++ }
    $s .= $w; $col += length($w);
  }
  return substr($s, 0, $n);
}
sub write_file {
  my ($path, $data, $mode) = @_;
  open(my $fh, ">:raw", $path) or die "$path: $!";
  print $fh $data; close($fh) or die "$path: $!";
  chmod($mode, $path);
}
my $total = 0;
for my $i (0 .. $npaths - 1) {
  my $dir = sprintf("%s/bench-%03d", $out, $i);
  mkdir $dir or die "$dir: $!";
  mkdir "$dir/$_" for qw(bin lib share share/doc);
  my $nfiles = 3 + int(rand(13));
  for my $j (1 .. $nfiles) {
    my $size = 1024 + int(rand(49 * 1024));
    my $kind = int(rand(3));
    if ($kind == 0) { write_file("$dir/share/doc/notes-$j.txt", text_bytes($size), 0644) }
    elsif ($kind == 1) { write_file("$dir/lib/libpart$j.so", random_bytes($size), 0644) }
    else { write_file("$dir/bin/tool$j", "#!/bin/sh\n" . text_bytes($size), 0755) }
    $total += $size;
  }
  symlink("share/doc", "$dir/doc") or die "symlink: $!";
  if ($i % 15 == 7) {
    my $size = 5_000_000 + int(rand(15_000_001));
    open(my $fh, ">:raw", "$dir/share/data.bin") or die $!;
    for (my $left = $size; $left > 0; $left -= 1 << 20) {
      print $fh random_bytes($left < (1 << 20) ? $left : 1 << 20);
    }
    close($fh) or die $!;
    $total += $size;
  }
}
close($rnd);
printf STDERR "generated %d paths, %.1f MB of file data\n", $npaths, $total / 1e6;
PERL
}

# ---------------------------------------------------------------- servers

start_garretd() {
  # start_garretd DATA_DIR LOG [VAR=VALUE...]: starts garretd with those
  # variables in its environment, sets GARRETD_PID and PORT.
  # With PID_VAR=NAME, sets NAME instead of GARRETD_PID.
  local data=$1 logf=$2 pf=$WORK/garretd.port pid
  shift 2
  rm -f "$pf"
  "${NICE[@]}" env "$@" "$GARRETD" serve --data-dir "$data" --listen 127.0.0.1:0 --port-file "$pf" \
    --quiet --threads 1 --log-level warn >>"$logf" 2>&1 &
  pid=$!
  printf -v "${PID_VAR:-GARRETD_PID}" '%s' "$pid"
  for _ in $(seq 300); do
    if [ -s "$pf" ] && grep -q '^[0-9][0-9]*$' "$pf"; then
      PORT=$(cat "$pf")
      curl -s -o /dev/null "http://127.0.0.1:$PORT/" && return 0
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$logf" >&2; die "garretd exited at startup"; }
    sleep 0.1
  done
  die "garretd did not start within 30 s"
}

start_nginx() {
  # start_nginx DOCROOT: starts nginx with one worker, sets NGINX_PID and NGINX_PORT.
  local root=$1 dir=$WORK/nginx
  mkdir -p "$dir/tmp" "$dir/logs"
  NGINX_PORT=$(free_port)
  cat >"$dir/nginx.conf" <<EOF
user root;
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  types { text/x-nix-narinfo narinfo; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $root;
  }
}
EOF
  "${NICE[@]}" "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" >>"$OUT/nginx.log" 2>&1 &
  NGINX_PID=$!
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT/" && return 0
    kill -0 "$NGINX_PID" 2>/dev/null || { cat "$OUT/nginx.log" "$dir/logs/error.log" >&2; die "nginx exited at startup"; }
    sleep 0.1
  done
  die "nginx did not start within 10 s"
}

# The pid of nginx's single worker process (child of the master).
nginx_worker_pid() { pgrep -P "$NGINX_PID" | head -1; }

# ---------------------------------------------------------------- wrk

# Dies with the exit status if a server has stopped.
check_alive() {
  local v p st
  for v in GARRETD_PID NGINX_PID PGS3_PID S3_PID; do
    p=${!v:-}
    [ -n "$p" ] || continue
    kill -0 "$p" 2>/dev/null && continue
    st=0; wait "$p" 2>/dev/null || st=$?
    printf -v "$v" '%s' ""
    if [ "$st" -gt 128 ]; then st="signal $((st - 128)) ($(kill -l $((st - 128))))"; else st="exit status $st"; fi
    die "server pid $p ($v) died during $1: $st"
  done
  # Not a child of this shell (pg_ctl starts it).
  if [ -n "$PG_MASTER" ] && ! kill -0 "$PG_MASTER" 2>/dev/null; then
    die "the PostgreSQL server (pid $PG_MASTER) died during $1; see $WORK/pg/server.log"
  fi
}

# The servers behind garretd on PostgreSQL + S3: the postmaster, its children
# (garretd's connections) and s3rver.
pgs3_aux_pids() {
  [ -z "$PG_MASTER" ] || { echo "$PG_MASTER"; pgrep -P "$PG_MASTER" || true; }
  [ -z "${S3_PID:-}" ] || echo "$S3_PID"
}

# CPU seconds used so far by pgs3_aux_pids, with their exited children's.
aux_cpu_seconds() {
  local p
  for p in $(pgs3_aux_pids); do cat "/proc/$p/stat" 2>/dev/null || true; done |
    awk -v t="$TICKS" '{ sub(/^.*\) /, ""); s += $12 + $13 + $14 + $15 } END { printf "%.2f\n", s / t }'
}

# The servers' nice level for PostgreSQL's processes (each in a session, so
# an autogroup, of its own) and s3rver (in this script's session, so only
# reniced). Repeated before each run: PostgreSQL forks a process per connection.
nice_aux() {
  [ ${#NICE[@]} -gt 0 ] || return 0
  local p
  for p in $(pgs3_aux_pids); do
    [ "$p" = "${S3_PID:-}" ] || echo "${BENCH_NICE:--10}" >"/proc/$p/autogroup" 2>/dev/null || true
    renice --priority "${BENCH_NICE:--10}" -p "$p" >/dev/null 2>&1 || true
  done
}

# wrk's default 2 s timeout would count the slowest NAR downloads from s3rver
# (20 MB NARs shared by 32 connections) as errors; it only counts, so a longer
# one changes nothing else, and it is the same for every server.
WRK_TIMEOUT=30s

# run_wrk NAME BASE_URL SERVER_PID SCRIPT ARGS...: warm-up, then one measured
# run. Sets W_REQS W_RPS W_MBPS W_STATUS W_ERRS W_P50 W_P99 W_CPU, and W_AUX_CPU
# (PostgreSQL's and s3rver's CPU, in %) when AUX=1.
run_wrk() {
  local name=$1 url=$2 pid=$3 script=$ROOT/bench/$4 outf=$OUT/wrk-$1.txt line cpu0 cpu1 aux0=0 aux1=0
  shift 4
  "${NICE[@]}" wrk -t1 -c"$CONNS" -d"${WARMUP}s" --timeout "$WRK_TIMEOUT" -s "$script" "$url" -- "$@" warm-up >"$outf" 2>&1 || true
  check_alive "$name, warm-up"
  cpu0=$(cpu_seconds "$pid")
  [ "${AUX:-0}" != 1 ] || aux0=$(aux_cpu_seconds)
  "${NICE[@]}" wrk -t1 -c"$CONNS" -d"${DURATION}s" --timeout "$WRK_TIMEOUT" --latency -s "$script" "$url" -- "$@" >"$outf" 2>&1 ||
    { cat "$outf" >&2; check_alive "$name"; die "wrk failed ($name)"; }
  check_alive "$name"
  cpu1=$(cpu_seconds "$pid")
  [ "${AUX:-0}" != 1 ] || aux1=$(aux_cpu_seconds)
  line=$(grep '^WRK_RESULT ' "$outf") || { cat "$outf" >&2; die "wrk printed no result ($name)"; }
  eval "$(echo "${line#WRK_RESULT }" | tr ' ' '\n' | sed 's/^/local r_/')"
  W_REQS=$r_requests
  W_RPS=$(awk -v n="$r_requests" -v d="$r_duration_us" 'BEGIN { printf "%.0f", n / (d / 1e6) }')
  W_MBPS=$(awk -v b="$r_bytes" -v d="$r_duration_us" 'BEGIN { printf "%.1f", b / 1e6 / (d / 1e6) }')
  W_STATUS=$r_status
  W_ERRS=$((r_connect + r_read + r_write + r_timeout))
  W_P50=$r_p50_us
  W_P99=$r_p99_us
  W_CPU=$(awk -v a="$cpu0" -v b="$cpu1" -v d="$r_duration_us" 'BEGIN { printf "%.0f", 100 * (b - a) / (d / 1e6) }')
  W_AUX_CPU=$(awk -v a="$aux0" -v b="$aux1" -v d="$r_duration_us" 'BEGIN { printf "%.0f", 100 * (b - a) / (d / 1e6) }')
  log "$(printf '%-16s %9s req/s %9s MB/s  non-2xx %-7s sock-err %-4s p50 %6s us  p99 %7s us  server CPU %s%%' \
    "$name" "$W_RPS" "$W_MBPS" "$W_STATUS" "$W_ERRS" "$W_P50" "$W_P99" "$W_CPU")$(
    [ "${AUX:-0}" != 1 ] || echo " + PostgreSQL/s3rver $W_AUX_CPU%")"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
meets() { awk -v r="$1" -v t="$2" -v op="$3" 'BEGIN { if (r == "n/a") print "n/a"; else if ((op == ">=" && r + 0 >= t) || (op == "<" && r + 0 < t)) print "yes"; else print "NO" }'; }

# ---------------------------------------------------------------- 1. content into the store

log "garretd: $GARRETD"
log "work dir: $WORK"
log "generating $NPATHS store paths (seed $SEED)"
mkdir -p "$WORK/src"
generate_tree "$SEED" "$WORK/src" "$NPATHS" 2>&1 | while read -r l; do log "$l"; done
log "adding them to a private Nix store"
nix-store --add "$WORK"/src/bench-* >"$WORK/paths" 2>"$OUT/nix-add.log" || { cat "$OUT/nix-add.log" >&2; die "nix-store --add failed"; }
chmod -R u+w "$WORK/src" && rm -rf "$WORK/src"
[ "$(wc -l <"$WORK/paths")" -eq "$NPATHS" ] || die "expected $NPATHS store paths"
NAR_TOTAL=$(nix path-info --json $(cat "$WORK/paths") | perl -ne '$t += $1 while /"narSize":(\d+)/g; END { print $t }')
log "NAR total: $(awk -v b="$NAR_TOTAL" 'BEGIN { printf "%.1f MB", b / 1e6 }')"

# ---------------------------------------------------------------- 2. garretd

DATA=$WORK/garret-data
mkdir -p "$DATA"
start_garretd "$DATA" "$OUT/garretd.log"
log "garretd listening on 127.0.0.1:$PORT (pid $GARRETD_PID)"
TOKEN=$("$GARRETD" make-token --data-dir "$DATA" --sub bench --validity 1d \
  --pull '*' --push '*' --create-cache '*' 2>>"$OUT/garretd.log") || die "make-token failed"
printf 'machine 127.0.0.1 password %s\n' "$TOKEN" >"$NETRC"

# create_cache PORT: the public cache "bench" on the garretd at that port.
create_cache() {
  local code
  code=$(curl -s -o "$WORK/create.out" -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"keypair":"Generate","is_public":true,"store_dir":"/nix/store","priority":41,"upstream_cache_key_names":[]}' \
    "http://127.0.0.1:$1/_api/v1/cache-config/bench")
  case $code in 2??) ;; *) cat "$WORK/create.out" >&2; die "creating cache 'bench' on port $1 failed: HTTP $code" ;; esac
}

# push_paths PORT LOG: nix copy of all store paths to that garretd; sets PUSH_S.
push_paths() {
  local t
  t=$(date +%s.%N)
  nix copy --to "http://127.0.0.1:$1/bench?compression=zstd" $(cat "$WORK/paths") \
    >"$2" 2>&1 || { tail -20 "$2" >&2; die "nix copy to the garretd on port $1 failed"; }
  PUSH_S=$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
}

create_cache "$PORT"
log "pushing to garretd (nix copy, zstd)"
push_paths "$PORT" "$OUT/push-garretd.log"
PUSH_GARRETD_S=$PUSH_S
G_RSS_PUSH_KB=$(vm_kb "$GARRETD_PID" VmHWM)
log "pushed in $PUSH_GARRETD_S s; garretd VmHWM $G_RSS_PUSH_KB kB"

# ---------------------------------------------------------------- 2b. garretd on PostgreSQL + S3

# The same paths on a second garretd whose metadata is in a throwaway
# PostgreSQL server and whose storage is s3rver, both started by
# scripts/testing/servers.sh. Skipped (with a message) when they are missing or
# do not start, unless BENCH_REQUIRE_PG_S3=1.
PGS3=0 PGS3_WHY=""
pgs3_skip() {
  PGS3_WHY=$1
  [ "${BENCH_REQUIRE_PG_S3:-0}" != 1 ] || die "garretd on PostgreSQL + S3: $1 (BENCH_REQUIRE_PG_S3=1)"
  log "skipping garretd on PostgreSQL + S3: $1"
  stop_s3
  [ -z "${PG_BIN:-}" ] || stop_postgres
}
if [ "${BENCH_SKIP_PG_S3:-0}" = 1 ]; then
  PGS3_WHY="BENCH_SKIP_PG_S3=1"
  log "skipping garretd on PostgreSQL + S3 (BENCH_SKIP_PG_S3=1)"
elif ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v psql >/dev/null; then
  pgs3_skip "PostgreSQL is not installed (apt-get install postgresql, or scripts/install-deps.sh)"
elif ! command -v node >/dev/null || [ ! -d "$ROOT/node_modules/s3rver" ]; then
  pgs3_skip "node or node_modules/s3rver is missing (run scripts/install-deps.sh)"
elif [ "$(id -u)" -ne 0 ] || ! command -v runuser >/dev/null; then
  pgs3_skip "starting PostgreSQL as 'nobody' needs root and runuser"
else
  chmod 711 "$WORK" # PostgreSQL runs as nobody in $WORK/pg
  log "starting PostgreSQL and s3rver"
  if ! start_postgres "$WORK/pg"; then
    pgs3_skip "PostgreSQL did not start"
  elif ! start_s3 "$WORK/s3" garret-bench; then
    pgs3_skip "s3rver did not start"
  else
    PGS3=1
  fi
fi
if [ "$PGS3" = 1 ]; then
  PG_MASTER=$(head -1 "$PG_DIR/data/postmaster.pid")
  log "PostgreSQL at $PG_URL (postmaster pid $PG_MASTER), s3rver at $S3_ENDPOINT (pid $S3_PID, bucket $S3_BUCKET)"
  PGS3_DATA=$WORK/garret-pgs3
  mkdir -p "$PGS3_DATA"
  # The same token secret, so that the token in $NETRC works on both garretds.
  cp "$DATA/jwt-secret" "$PGS3_DATA/jwt-secret"
  G_PORT=$PORT
  PID_VAR=PGS3_PID start_garretd "$PGS3_DATA" "$OUT/garretd-pg-s3.log" \
    GARRET_DATABASE_URL="$PG_URL" GARRET_STORAGE_TYPE=s3 GARRET_STORAGE_BUCKET="$S3_BUCKET" \
    GARRET_STORAGE_REGION=us-east-1 GARRET_STORAGE_ENDPOINT="$S3_ENDPOINT" \
    AWS_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY"
  PGS3_PORT=$PORT PORT=$G_PORT
  log "garretd on PostgreSQL + S3 listening on 127.0.0.1:$PGS3_PORT (pid $PGS3_PID)"
  create_cache "$PGS3_PORT"
  log "pushing to garretd on PostgreSQL + S3 (nix copy, zstd)"
  push_paths "$PGS3_PORT" "$OUT/push-garretd-pg-s3.log"
  PUSH_PGS3_S=$PUSH_S
  P_RSS_PUSH_KB=$(vm_kb "$PGS3_PID" VmHWM)
  log "pushed in $PUSH_PGS3_S s; garretd (PostgreSQL + S3) VmHWM $P_RSS_PUSH_KB kB"
fi

# ---------------------------------------------------------------- 3. nginx docroot

DOCROOT=$WORK/www
mkdir -p "$DOCROOT"
nix-store --generate-binary-cache-key bench-nginx-1 "$WORK/nginx-sk" "$WORK/nginx-pk"
log "writing the same paths as a file:// cache for nginx"
t=$(date +%s.%N)
nix copy --to "file://$DOCROOT/bench?compression=zstd&secret-key=$WORK/nginx-sk" $(cat "$WORK/paths") \
  >"$OUT/push-file.log" 2>&1 || { tail -20 "$OUT/push-file.log" >&2; die "nix copy to file:// failed"; }
PUSH_FILE_S=$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
log "written in $PUSH_FILE_S s"
start_nginx "$DOCROOT"
log "nginx listening on 127.0.0.1:$NGINX_PORT (master pid $NGINX_PID)"

# ---------------------------------------------------------------- 4. URL lists

G=http://127.0.0.1:$PORT
N=http://127.0.0.1:$NGINX_PORT
P=""
[ "$PGS3" != 1 ] || P=http://127.0.0.1:$PGS3_PORT
sed 's|^/nix/store/||; s|-.*||' "$WORK/paths" | shuf --random-source=<(keystream "shuffle-$SEED") >"$WORK/hashes"
sed 's|.*|/bench/&.narinfo|' "$WORK/hashes" >"$WORK/hits.list"

# check_garretd NAME BASE_URL HASH LIST: the narinfo is right and signed, and
# its NAR has the size it says; appends the NAR's path to LIST.
check_garretd() {
  local name=$1 base=$2 h=$3 url size got
  curl -sf -o "$WORK/ni" "$base/bench/$h.narinfo" || die "$name: GET /bench/$h.narinfo failed"
  grep -q "^StorePath: /nix/store/$h-" "$WORK/ni" || die "$name: bad narinfo for $h"
  grep -q '^Sig: ' "$WORK/ni" || die "$name: narinfo for $h is not signed"
  url=$(sed -n 's/^URL: //p' "$WORK/ni")
  size=$(sed -n 's/^FileSize: //p' "$WORK/ni")
  echo "/bench/$url" >>"$4"
  if [ -n "$size" ]; then
    got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "$base/bench/$url")
    [ "$got" = "200 $size" ] || die "$name: GET /bench/$url gave '$got', narinfo says FileSize $size"
  fi
}

log "checking the servers' answers"
: >"$WORK/nars-garretd.list"
: >"$WORK/nars-nginx.list"
: >"$WORK/nars-pgs3.list"
while read -r h; do
  check_garretd garretd "$G" "$h" "$WORK/nars-garretd.list"
  [ -z "$P" ] || check_garretd "garretd (PostgreSQL + S3)" "$P" "$h" "$WORK/nars-pgs3.list"
  curl -sf -o "$WORK/ni" "$N/bench/$h.narinfo" || die "nginx: GET /bench/$h.narinfo failed"
  echo "/bench/$(sed -n 's/^URL: //p' "$WORK/ni")" >>"$WORK/nars-nginx.list"
done <"$WORK/hashes"
miss=/bench/$({ keystream "miss-$SEED" || true; } | tr -dc '0123456789abcdfghijklmnpqrsvwxyz' | head -c 32 || true).narinfo
for base in "$G" "$N" $P; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$base$miss")
  [ "$code" = 404 ] || die "$base$miss: expected 404, got $code"
done

# ---------------------------------------------------------------- 5. wrk

NGINX_WORKER=$(nginx_worker_pid)
log "wrk -t1 -c$CONNS -d${DURATION}s (after ${WARMUP}s warm-up), $ROUNDS rounds; server CPU = its CPU time / wall time"
declare -A BEST=() ERRS=() CPU=() P99=() ALL=()
# measure KIND SERVER BASE_URL PID SCRIPT ARGS...: one wrk run; keeps the best
# figure per KIND-SERVER (req/s, or MB/s for NARs). For misses, every answer
# should be a 404, so "errors" counts the answers that were not.
measure() {
  local kind=$1 server=$2 k=$1-$2 v e AUX=0
  shift 2
  # For garretd on PostgreSQL + S3, also the CPU of PostgreSQL and s3rver.
  if [ "$server" = pgs3 ]; then AUX=1; nice_aux; fi
  run_wrk "$server-$kind-r$round" "$@"
  if [ "$kind" = nars ]; then v=$W_MBPS; else v=$W_RPS; fi
  if [ "$kind" = misses ]; then e=$((W_REQS - W_STATUS + W_ERRS)); else e=$((W_STATUS + W_ERRS)); fi
  ALL[$k]+="${ALL[$k]:+, }$v"
  ERRS[$k]=$((${ERRS[$k]:-0} + e))
  if awk -v a="$v" -v b="${BEST[$k]:-0}" 'BEGIN { exit !(a > b) }'; then
    BEST[$k]=$v CPU[$k]=$W_CPU P99[$k]=$W_P99 AUXCPU[$k]=$W_AUX_CPU
  fi
}
declare -A AUXCPU=()
for round in $(seq "$ROUNDS"); do
  measure hits garretd "$G" "$GARRETD_PID" urls.lua "$WORK/hits.list"
  measure hits nginx "$N" "$NGINX_WORKER" urls.lua "$WORK/hits.list"
  [ -z "$P" ] || measure hits pgs3 "$P" "$PGS3_PID" urls.lua "$WORK/hits.list"
  measure misses garretd "$G" "$GARRETD_PID" misses.lua /bench "$SEED$round"
  measure misses nginx "$N" "$NGINX_WORKER" misses.lua /bench "$SEED$round"
  [ -z "$P" ] || measure misses pgs3 "$P" "$PGS3_PID" misses.lua /bench "$SEED$round"
  measure nars garretd "$G" "$GARRETD_PID" urls.lua "$WORK/nars-garretd.list"
  measure nars nginx "$N" "$NGINX_WORKER" urls.lua "$WORK/nars-nginx.list"
  [ -z "$P" ] || measure nars pgs3 "$P" "$PGS3_PID" urls.lua "$WORK/nars-pgs3.list"
done
G_HIT=${BEST[hits-garretd]} N_HIT=${BEST[hits-nginx]}
G_MISS=${BEST[misses-garretd]} N_MISS=${BEST[misses-nginx]}
G_NAR=${BEST[nars-garretd]} N_NAR=${BEST[nars-nginx]}

G_RSS_SERVE_KB=$(vm_kb "$GARRETD_PID" VmHWM)
stop_pid "$NGINX_PID"; NGINX_PID=""
stop_pid "$GARRETD_PID"; GARRETD_PID=""
chmod -R u+w "$DOCROOT" && rm -rf "$DOCROOT"
if [ "$PGS3" = 1 ]; then
  P_HIT=${BEST[hits-pgs3]} P_MISS=${BEST[misses-pgs3]} P_NAR=${BEST[nars-pgs3]}
  P_RSS_SERVE_KB=$(vm_kb "$PGS3_PID" VmHWM)
  PG_VERSION=$("$PG_BIN/postgres" --version | sed 's/^postgres (PostgreSQL) /PostgreSQL /')
  S3RVER_VERSION="s3rver $(node -p "require('$ROOT/node_modules/s3rver/package.json').version") on Node.js $(node --version)"
  stop_pid "$PGS3_PID"; PGS3_PID=""
  stop_s3
  stop_postgres; PG_MASTER=""
  cp "$WORK/pg/server.log" "$OUT/postgres.log" 2>/dev/null || true
  cp "$WORK/s3/harness.err" "$OUT/s3rver.log" 2>/dev/null || true
  rm -rf "$WORK/pg" "$WORK/s3" "$PGS3_DATA"
fi

# ---------------------------------------------------------------- 6. big NAR ingest

BIG_DONE=0
if [ "${BENCH_SKIP_BIG:-0}" != 1 ]; then
  big_bytes=$((BIG_MIB * 1024 * 1024))
  log "making a store path with one $BIG_MIB MiB random file"
  mkdir -p "$WORK/big/bench-big"
  { keystream "big-$SEED" || true; } | head -c "$big_bytes" >"$WORK/big/bench-big/blob"
  [ "$(stat -c %s "$WORK/big/bench-big/blob")" -eq "$big_bytes" ] || die "could not write the big file"
  BIG_PATH=$(nix-store --add "$WORK/big/bench-big" 2>>"$OUT/nix-add.log") || die "nix-store --add (big) failed"
  rm -rf "$WORK/big"
  BIG_NAR=$(nix path-info --json "$BIG_PATH" | perl -ne 'print $1 if /"narSize":(\d+)/')

  start_garretd "$DATA" "$OUT/garretd.log"
  G=http://127.0.0.1:$PORT
  log "fresh garretd on 127.0.0.1:$PORT (pid $GARRETD_PID)"
  RSS0_KB=$(vm_kb "$GARRETD_PID" VmHWM)
  CPU0=$(cpu_seconds "$GARRETD_PID")
  log "pushing $BIG_PATH ($(awk -v b="$BIG_NAR" 'BEGIN { printf "%.0f MB", b / 1e6 }') NAR)"
  t=$(date +%s.%N)
  nix copy --to "$G/bench?compression=zstd" "$BIG_PATH" >"$OUT/push-big.log" 2>&1 ||
    { tail -20 "$OUT/push-big.log" >&2; die "nix copy of the big path failed"; }
  INGEST_S=$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  CPU1=$(cpu_seconds "$GARRETD_PID")
  RSS1_KB=$(vm_kb "$GARRETD_PID" VmHWM)
  INGEST_CPU=$(awk -v a="$CPU0" -v b="$CPU1" 'BEGIN { printf "%.1f", b - a }')
  INGEST_MBPS=$(awk -v b="$BIG_NAR" -v s="$INGEST_S" 'BEGIN { printf "%.0f", b / 1e6 / s }')
  log "ingested in $INGEST_S s ($INGEST_MBPS MB/s), garretd CPU $INGEST_CPU s, VmHWM $RSS0_KB -> $RSS1_KB kB"

  # Read it back and check it against the narinfo.
  h=$(basename "$BIG_PATH"); h=${h%%-*}
  curl -sf -o "$WORK/ni" "$G/bench/$h.narinfo" || die "garretd: no narinfo for the big path"
  url=$(sed -n 's/^URL: //p' "$WORK/ni")
  comp=$(sed -n 's/^Compression: //p' "$WORK/ni")
  want=$(sed -n 's/^NarHash: //p' "$WORK/ni")
  case $comp in zstd) dec="zstd -dcq" ;; xz) dec="xz -dc" ;; bzip2) dec="bzip2 -dc" ;; none | "") dec=cat ;; *) dec="" ;; esac
  if [ -n "$dec" ]; then
    t=$(date +%s.%N)
    hex=$(curl -sf "$G/bench/$url" | $dec | sha256sum | cut -d' ' -f1) || die "garretd: downloading the big NAR failed"
    READBACK_S=$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    got="sha256:$(nix hash to-base32 --type sha256 "$hex")"
    [ "$got" = "$want" ] || die "garretd: big NAR reads back as $got, narinfo says $want"
    RSS2_KB=$(vm_kb "$GARRETD_PID" VmHWM)
    log "read back and verified in $READBACK_S s; VmHWM now $RSS2_KB kB"
  else
    RSS2_KB=$RSS1_KB READBACK_S=n/a
  fi
  stop_pid "$GARRETD_PID"; GARRETD_PID=""
  rm -rf "$DATA"
  # The client's share of the ingest time: the same copy to a file:// cache.
  t=$(date +%s.%N)
  nix copy --to "file://$WORK/bigcache?compression=zstd" "$BIG_PATH" >>"$OUT/push-big.log" 2>&1 ||
    die "nix copy of the big path to file:// failed"
  CLIENT_S=$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  rm -rf "$WORK/bigcache"
  log "the same nix copy to a file:// cache takes $CLIENT_S s"
  nix store delete "$BIG_PATH" >>"$OUT/nix-add.log" 2>&1 || log "warning: could not delete $BIG_PATH"
  BIG_DONE=1
fi

# ---------------------------------------------------------------- 7. report

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }'; }
R_HIT=$(ratio "$G_HIT" "$N_HIT")
R_MISS=$(ratio "$G_MISS" "$N_MISS")
R_NAR=$(ratio "$G_NAR" "$N_NAR")

TABLE="| Measurement | garretd | nginx | garretd / nginx | Target | Met |
|---|---:|---:|---:|---|---|
| narinfo hits (req/s) | $G_HIT | $N_HIT | ${R_HIT}× | ≥ 1.0× | $(meets "$R_HIT" 1.0 ">=") |
| narinfo misses (req/s) | $G_MISS | $N_MISS | ${R_MISS}× | ≥ 1.0× | $(meets "$R_MISS" 1.0 ">=") |
| NAR download (MB/s) | $G_NAR | $N_NAR | ${R_NAR}× | ≥ 0.8× | $(meets "$R_NAR" 0.8 ">=") |"
# garretd on PostgreSQL + S3: its figure, its ratio to garretd on SQLite + local
# disk (in brackets), and its ratio to nginx; no targets.
if [ "$PGS3" = 1 ]; then
  TABLE+="
| narinfo hits, garretd on PostgreSQL + S3 (req/s) | $P_HIT ($(ratio "$P_HIT" "$G_HIT")× SQLite) | $N_HIT | $(ratio "$P_HIT" "$N_HIT")× | | |
| narinfo misses, garretd on PostgreSQL + S3 (req/s) | $P_MISS ($(ratio "$P_MISS" "$G_MISS")× SQLite) | $N_MISS | $(ratio "$P_MISS" "$N_MISS")× | | |
| NAR download, garretd on PostgreSQL + S3 (MB/s) | $P_NAR ($(ratio "$P_NAR" "$G_NAR")× SQLite) | $N_NAR | $(ratio "$P_NAR" "$N_NAR")× | | |"
fi
if [ "$BIG_DONE" = 1 ]; then
  PEAK_MB=$(mb "$RSS1_KB")
  TABLE+="
| Peak RSS ingesting a $(awk -v b="$BIG_NAR" 'BEGIN { printf "%.2f GB", b / 1e9 }') NAR (MB) | $PEAK_MB | | | < 100 MB | $(meets "$PEAK_MB" 100 "<") |
| Ingest time, \`nix copy\` wall clock (s) | $INGEST_S ($INGEST_MBPS MB/s) | | | | |"
fi

DETAILS="| Run | every round | best run: server CPU | best run: p99 latency | errors, all rounds |
|---|---|---:|---:|---:|"
SERVERS="garretd nginx"
[ "$PGS3" != 1 ] || SERVERS+=" pgs3"
for kind in hits misses nars; do
  for server in $SERVERS; do
    k=$kind-$server
    case $kind in hits) what="narinfo hits (req/s)" ;; misses) what="narinfo misses (req/s)" ;; nars) what="NAR download (MB/s)" ;; esac
    if [ "$server" = pgs3 ]; then
      DETAILS+="
| garretd on PostgreSQL + S3 $what | ${ALL[$k]} | ${CPU[$k]} % (+ ${AUXCPU[$k]} % PostgreSQL and s3rver) | ${P99[$k]} µs | ${ERRS[$k]} |"
    else
      DETAILS+="
| $server $what | ${ALL[$k]} | ${CPU[$k]} % | ${P99[$k]} µs | ${ERRS[$k]} |"
    fi
  done
done

CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
GARRET_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$ROOT" diff --quiet HEAD -- src apps 2>/dev/null || GARRET_REV+=" + local changes"
VERSIONS="$("$GARRETD" --version 2>/dev/null | head -1) ($GARRET_REV), $("$NGINX" -v 2>&1 | sed 's|.*: ||'), $(wrk -v 2>&1 | head -1 | awk '{ print $1, $2 }'), $(nix --version), Linux $(uname -r)"
[ "$PGS3" != 1 ] || VERSIONS+=", $PG_VERSION, $S3RVER_VERSION"
MACHINE="$(nproc) CPUs, $CPU_MODEL, $(awk '/MemTotal/ { printf "%.0f GB RAM", $2 / 1e6 }' /proc/meminfo); load average $LOAD0 when the run started"
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
if [ "$PGS3" = 1 ]; then
  CONTENT="$NPATHS store paths, $(awk -v b="$NAR_TOTAL" 'BEGIN { printf "%.0f MB", b / 1e6 }') of NARs (seed $SEED); \`nix copy\` of all of them took $PUSH_GARRETD_S s to garretd, $PUSH_PGS3_S s to garretd on PostgreSQL + S3 and $PUSH_FILE_S s to a \`file://\` cache"
else
  CONTENT="$NPATHS store paths, $(awk -v b="$NAR_TOTAL" 'BEGIN { printf "%.0f MB", b / 1e6 }') of NARs (seed $SEED); \`nix copy\` of all of them took $PUSH_GARRETD_S s to garretd and $PUSH_FILE_S s to a \`file://\` cache"
fi
[ "$BIG_DONE" = 1 ] && BIGNOTE="Big NAR: garretd VmHWM $(mb "$RSS0_KB") MB after start, $(mb "$RSS1_KB") MB after ingest, $(mb "$RSS2_KB") MB after serving it back ($READBACK_S s, hash verified); garretd used $INGEST_CPU s of CPU during the ${INGEST_S} s ingest; the same \`nix copy\` to a \`file://\` cache takes $CLIENT_S s (Nix dumping and compressing the path in memory)." || BIGNOTE=""
MEMNOTE="Memory while serving: the first garretd's VmHWM was $(mb "$G_RSS_PUSH_KB") MB after the push of the $NPATHS paths and $(mb "$G_RSS_SERVE_KB") MB after the wrk runs."
if [ "$PGS3" = 1 ]; then
  MEMNOTE+=" garretd on PostgreSQL + S3: $(mb "$P_RSS_PUSH_KB") MB and $(mb "$P_RSS_SERVE_KB") MB."
else
  MEMNOTE+="

garretd on PostgreSQL + S3 was not measured: $PGS3_WHY."
fi

{
  echo
  echo "Date: $DATE"
  echo "Machine: $MACHINE"
  echo "Versions: $VERSIONS"
  echo "Content: $CONTENT"
  echo "wrk: -t1 -c$CONNS -d${DURATION}s --timeout $WRK_TIMEOUT after a ${WARMUP}s warm-up, best of $ROUNDS rounds; garretd --threads 1, nginx worker_processes 1"
  echo
  echo "$TABLE"
  echo
  echo "$DETAILS"
  if [ -n "$BIGNOTE" ]; then echo; echo "$BIGNOTE"; fi
  echo; echo "$MEMNOTE"
} | tee "$OUT/summary.txt"

if [ "${BENCH_NO_DOC:-0}" != 1 ]; then
  MARK="## Latest figures"
  if [ -f "$DOC" ] && grep -qxF "$MARK" "$DOC"; then
    intro=$(sed "/^$MARK\$/,\$d" "$DOC")
  else
    intro=$(cat <<'EOF'
# Performance

`make bench` (`bench/run.sh`) compares `garretd` with nginx serving the same
binary cache as static files, on one machine, and rewrites the figures below.

**Method.** A seeded generator makes a few hundred store paths (small files of
1–50 KB, text-like or random, and in every fifteenth path one random 5–20 MB
file; about 300 MB in all) and adds them to a private Nix store. `nix copy
?compression=zstd` pushes them to a public `garretd` cache and, signed with a
local key, to a `file://` cache that nginx serves (`worker_processes 1`,
`sendfile on`, `access_log off`, no `open_file_cache`). `garretd` runs with
`--threads 1`. `wrk` (one thread, 32 connections, 10 s after a 2 s warm-up)
then asks each server in turn for:

1. narinfo hits: every store path's `<hash>.narinfo`, cycling in a shuffled order;
2. narinfo misses: a new random, well-formed nix-base32 hash for every request
   (answered 404), so that no server can answer from a cache of earlier misses;
3. NAR downloads: the `URL:` of every narinfo, cycling.

A third server, `garretd` on PostgreSQL + S3, gets the same push and the same
three workloads in the same rounds (`BENCH_SKIP_PG_S3=1` leaves it out): its
metadata is in a throwaway PostgreSQL server and its NARs in s3rver, both on
this machine and started by `scripts/testing/servers.sh`. Its rows give its
figure, its ratio to `garretd` on SQLite + local disk and its ratio to nginx,
without targets; PostgreSQL's and s3rver's CPU is given next to its own. S3 here
is a local s3rver (Node.js, behind the test suite's signature-checking proxy),
not AWS, so its NAR download throughput measures `garretd`'s S3 read path
against a slow local emulator, not what AWS S3 would give. wrk's timeout is 30 s
for every run, so that the slowest downloads from s3rver count as slow rather
than as errors. The big-NAR ingest below runs on SQLite + local disk only.

The nine runs are repeated three times, alternating the servers, and the best run
of each counts, so that a burst of other work on the machine does not decide the
result; the servers and wrk run at nice level -10. Server CPU is the server's CPU
time divided by the run's wall time (for nginx, its worker's). On two cores wrk
needs one of them, so the figures are ratios more than absolute limits.

Last, a freshly started `garretd` ingests one store path holding a single
1.1 GiB random file through `nix copy`; its peak resident memory is the `VmHWM`
of `/proc/<pid>/status`. The NAR is then downloaded again and its hash checked
against the narinfo.

**Targets.** narinfo hits and misses at least as fast as nginx (≥ 1.0×), NAR
downloads at ≥ 0.8× nginx's throughput, and peak RSS below 100 MB while ingesting
a NAR larger than 1 GiB. MB are 10^6 bytes.
EOF
)
  fi
  {
    echo "$intro"
    echo
    echo "$MARK"
    echo
    echo "Measured $DATE on $MACHINE."
    echo
    echo "Versions: $VERSIONS."
    echo
    echo "Content: $CONTENT."
    echo
    echo "$TABLE"
    echo
    echo "$DETAILS"
    if [ -n "$BIGNOTE" ]; then echo; echo "$BIGNOTE"; fi
    echo; echo "$MEMNOTE"
  } >"$DOC.tmp"
  mv "$DOC.tmp" "$DOC"
  log "wrote $DOC"
fi
log "done"
