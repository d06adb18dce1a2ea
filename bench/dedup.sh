#!/usr/bin/env bash
# garret deduplication / ingest benchmark: consecutive releases of a large npm
# package, each added to /nix/store as one store path, pushed to a fresh
# garretd with `nix copy`. Compares what garretd stores with the same NARs
# compressed one by one at the same zstd level, and garretd's ingest speed with
# single-threaded zstd on the same bytes. See bench/README.md.
# The table goes to stdout and bench/out/dedup.txt.
#
# Environment:
#   GARRETD                 garretd binary (default: build/apps/garretd/garretd)
#   BENCH_DEDUP_PACKAGE     npm package (default: typescript, with the fixed list
#                           5.6.2 5.6.3 5.7.2 5.7.3 5.8.2 5.8.3 5.9.2 5.9.3 so that
#                           figures stay comparable between runs)
#   BENCH_DEDUP_VERSIONS    number of versions (default: 8)
#   BENCH_DEDUP_LIST        explicit versions, space-separated (default: the newest
#                           N stable x.y.z versions of the newest minor line that has
#                           N of them (consecutive patch releases), else of the
#                           newest such major line, else the newest N)
#   BENCH_DEDUP_LEVEL       zstd level, for garretd's [compression] and the zstd
#                           reference (default: 8, garretd's default)
#   BENCH_DEDUP_ZSTD_ROUNDS zstd speed runs; the least wall and CPU time count (default: 2)
#   BENCH_DEDUP_REFRESH=1   ask the npm registry for the version list again
#   BENCH_DEDUP_KEEP_PATHS=1  keep the corpus store paths this run added
#   BENCH_DEDUP_SKIP_VERIFY=1 skip `nix store verify` of the pushed paths
#   BENCH_NO_DOC=1          do not write the table into docs/performance.md
#
# The npm tarballs (and the registry's version list) are cached in
# bench/out/dedup-corpus/<package>/, so reruns need no network.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GARRETD=${GARRETD:-$ROOT/build/apps/garretd/garretd}
case $GARRETD in /*) ;; *) GARRETD=$PWD/$GARRETD ;; esac
PKG=${BENCH_DEDUP_PACKAGE:-typescript}
if [ -z "${BENCH_DEDUP_PACKAGE:-}" ] && [ -z "${BENCH_DEDUP_LIST:-}" ]; then
  BENCH_DEDUP_LIST="5.6.2 5.6.3 5.7.2 5.7.3 5.8.2 5.8.3 5.9.2 5.9.3"
fi
NVERS=${BENCH_DEDUP_VERSIONS:-8}
LEVEL=${BENCH_DEDUP_LEVEL:-8}
ZROUNDS=${BENCH_DEDUP_ZSTD_ROUNDS:-2}
OUT=$ROOT/bench/out
SAFE=$(printf '%s' "$PKG" | sed 's|^@||; s|/|-|g')
CORPUS=$OUT/dedup-corpus/$SAFE
CACHE_NAME=dedup

for tool in nix nix-store npm tar gzip curl perl zstd du find; do
  command -v "$tool" >/dev/null || {
    echo "bench: '$tool' not found (run: GARRET_BENCH=1 bash scripts/install-deps.sh)" >&2
    exit 1
  }
done
[ -x "$GARRETD" ] || { echo "bench: garretd not found at $GARRETD (set GARRETD)" >&2; exit 1; }
[[ $NVERS =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_DEDUP_VERSIONS must be a positive integer" >&2; exit 1; }
{ [[ $LEVEL =~ ^[1-9][0-9]*$ ]] && [ "$LEVEL" -le 22 ]; } || { echo "bench: BENCH_DEDUP_LEVEL must be 1-22" >&2; exit 1; }

mkdir -p "$OUT" "$CORPUS"
rm -f "$OUT"/dedup.txt "$OUT"/dedup-*.log
WORK=$(mktemp -d "${TMPDIR:-/tmp}/garret-dedup.XXXXXX")
GARRETD_PID=""
: >"$WORK/added-paths"

# shellcheck source=lib.sh
. "$ROOT/bench/lib.sh"

cleanup() {
  local rc=$?
  stop_pid "$GARRETD_PID"
  # Store paths this run added (not those that were already there).
  if [ "${BENCH_DEDUP_KEEP_PATHS:-0}" != 1 ] && [ -s "$WORK/added-paths" ]; then
    # shellcheck disable=SC2046
    nix-store --delete $(cat "$WORK/added-paths") >/dev/null 2>&1 || true
  fi
  chmod -R u+w "$WORK" 2>/dev/null || true
  rm -rf "$WORK" "$CORPUS/.part"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

T0=$(date +%s)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
log() { printf '[dedup %4ss] %s\n' $(($(date +%s) - T0)) "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Nix: the default store (/nix/store), no daemon; a fresh narinfo disk cache.
export XDG_CACHE_HOME=$WORK/xdg-cache
NETRC=$WORK/netrc
export NIX_CONFIG="experimental-features = nix-command
sandbox = false
build-users-group =
substituters =
narinfo-cache-negative-ttl = 0
netrc-file = $NETRC"
: >"$NETRC"

TICKS=$(getconf CLK_TCK)
cpu_seconds() {
  awk -v t="$TICKS" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / t }' "/proc/$1/stat"
}
vm_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", b / 1e6 / s; else print "n/a" }'; }
div() { awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN { if (b > 0) printf f, a / b; else print "n/a" }'; }
meets() { awk -v r="$1" -v t="$2" -v op="$3" 'BEGIN { if (r == "n/a") print "n/a"; else if ((op == ">=" && r + 0 >= t) || (op == "<=" && r + 0 <= t)) print "yes"; else print "NO" }'; }

# ---------------------------------------------------------------- 1. corpus

if [ "${BENCH_DEDUP_REFRESH:-0}" = 1 ] || [ ! -s "$CORPUS/versions.json" ]; then
  log "asking the npm registry for the versions of $PKG"
  npm view "$PKG" versions --json >"$CORPUS/versions.json.new" 2>"$OUT/dedup-npm.log" ||
    { cat "$OUT/dedup-npm.log" >&2; die "npm view $PKG versions failed"; }
  mv "$CORPUS/versions.json.new" "$CORPUS/versions.json"
fi
if [ -n "${BENCH_DEDUP_LIST:-}" ]; then
  read -r -a VERSIONS <<<"$BENCH_DEDUP_LIST"
else
  # Stable x.y.z versions in version order; the newest N of the newest minor
  # line that has N of them (consecutive patch releases of one code base, as
  # a CI pushes them), else of the newest such major line, else the newest N.
  mapfile -t VERSIONS < <(perl -ne 'print "$1\n" while /"(\d+\.\d+\.\d+)"/g' "$CORPUS/versions.json" | sort -uV |
    awk -v n="$NVERS" '{ split($0, p, "."); v[NR] = $0; mi[NR] = p[1] "." p[2]; ma[NR] = p[1] }
      END {
        for (i = NR; i >= 1; i--) { c[mi[i]]++; if (c[mi[i]] == n) { line = mi[i]; break } }
        if (line != "") { for (i = 1; i <= NR; i++) key[i] = mi[i] }
        else {
          for (i = NR; i >= 1; i--) { d[ma[i]]++; if (d[ma[i]] == n) { line = ma[i]; break } }
          for (i = 1; i <= NR; i++) key[i] = ma[i]
        }
        k = 0
        for (i = NR; i >= 1 && k < n; i--) if (line == "" || key[i] == line) { out[++k] = v[i] }
        for (i = k; i >= 1; i--) print out[i]
      }')
fi
[ "${#VERSIONS[@]}" -ge 1 ] || die "no versions of $PKG to use"
[ "${#VERSIONS[@]}" -eq "$NVERS" ] || [ -n "${BENCH_DEDUP_LIST:-}" ] ||
  log "only ${#VERSIONS[@]} stable versions of $PKG; using them all"
log "corpus: $PKG ${VERSIONS[*]}"

for v in "${VERSIONS[@]}"; do
  tgz=$CORPUS/$v.tgz
  if [ -s "$tgz" ] && gzip -t "$tgz" 2>/dev/null; then continue; fi
  log "npm pack $PKG@$v"
  rm -rf "$CORPUS/.part" && mkdir -p "$CORPUS/.part"
  (cd "$CORPUS/.part" && npm pack --silent "$PKG@$v" >>"$OUT/dedup-npm.log" 2>&1) ||
    { tail -20 "$OUT/dedup-npm.log" >&2; die "npm pack $PKG@$v failed"; }
  f=$(find "$CORPUS/.part" -maxdepth 1 -name '*.tgz' | head -1)
  { [ -n "$f" ] && gzip -t "$f"; } || die "npm pack $PKG@$v left no valid tarball"
  mv "$f" "$tgz"
done
rm -rf "$CORPUS/.part"

log "unpacking and adding to /nix/store"
: >"$WORK/paths"
for v in "${VERSIONS[@]}"; do
  dir=$WORK/unpack/$SAFE-$v
  mkdir -p "$dir"
  tar -xzf "$CORPUS/$v.tgz" -C "$dir" --no-same-owner
  # npm tarballs hold one top directory (usually "package"); its content is
  # the store path.
  [ "$(find "$dir" -mindepth 1 -maxdepth 1 | wc -l)" -eq 1 ] || die "$v.tgz: expected one top directory"
  top=$(find "$dir" -mindepth 1 -maxdepth 1)
  mv "$top" "$dir.tree" && rmdir "$dir" && mv "$dir.tree" "$dir"
  chmod -R u+rwX,go+rX "$dir"
  p=$(nix store add-path --dry-run "$dir" 2>>"$OUT/dedup-nix-add.log") || die "nix store add-path --dry-run $dir failed"
  nix-store --check-validity "$p" 2>/dev/null || echo "$p" >>"$WORK/added-paths"
  p=$(nix-store --add "$dir" 2>>"$OUT/dedup-nix-add.log") || { cat "$OUT/dedup-nix-add.log" >&2; die "nix-store --add $dir failed"; }
  echo "$p" >>"$WORK/paths"
  chmod -R u+w "$dir" && rm -rf "$dir"
done
mapfile -t PATHS <"$WORK/paths"
cp "$WORK/paths" "$CORPUS/store-paths"

# NAR sizes, and the NARs themselves for the zstd reference.
mkdir -p "$WORK/nars"
NAR_TOTAL=0
i=0
for p in "${PATHS[@]}"; do
  i=$((i + 1))
  nix-store --dump "$p" >"$WORK/nars/$(printf '%03d' $i).nar"
done
NAR_TOTAL=$(nix path-info --json "${PATHS[@]}" | perl -ne '$t += $1 while /"narSize":(\d+)/g; END { print $t + 0 }')
DUMPED=$(cat "$WORK"/nars/*.nar | wc -c)
[ "$DUMPED" -eq "$NAR_TOTAL" ] || die "nix-store --dump gave $DUMPED bytes, path-info says NarSize total $NAR_TOTAL"
log "${#PATHS[@]} store paths, NAR total $(mb "$NAR_TOTAL") MB"

# ---------------------------------------------------------------- 2. zstd reference

log "zstd -$LEVEL -T1, each NAR on its own"
ZSTD_EACH=0
for f in "$WORK"/nars/*.nar; do
  ZSTD_EACH=$((ZSTD_EACH + $(zstd -q -"$LEVEL" -T1 -c "$f" | wc -c)))
done

# One file of all NARs: zstd reads it itself, so its time is its own.
cat "$WORK"/nars/*.nar >"$WORK/all.nar"
rm -rf "$WORK/nars"
log "zstd -$LEVEL -T1 speed on the concatenated NARs ($ZROUNDS rounds)"
ZSTD_S="" ZSTD_CPU=""
TIMEFORMAT='%R %U %S'
for _ in $(seq "$ZROUNDS"); do
  t=$({ time zstd -q -"$LEVEL" -T1 -c "$WORK/all.nar" >"$WORK/concat.zst"; } 2>&1) || die "zstd failed: $t"
  read -r wall usr sys <<<"$t"
  cpu=$(awk -v u="$usr" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  if [ -z "$ZSTD_S" ] || awk -v a="$wall" -v b="$ZSTD_S" 'BEGIN { exit !(a < b) }'; then ZSTD_S=$wall; fi
  if [ -z "$ZSTD_CPU" ] || awk -v a="$cpu" -v b="$ZSTD_CPU" 'BEGIN { exit !(a < b) }'; then ZSTD_CPU=$cpu; fi
done
ZSTD_CONCAT=$(stat -c %s "$WORK/concat.zst")
ZSTD_MBPS=$(mbps "$NAR_TOTAL" "$ZSTD_S")
ZSTD_CPU_MBPS=$(mbps "$NAR_TOTAL" "$ZSTD_CPU")
log "zstd: $ZSTD_S s wall ($ZSTD_MBPS MB/s), $ZSTD_CPU s CPU ($ZSTD_CPU_MBPS MB per CPU-second)"
# What long-range matching finds across versions (a reference, not a target).
ZSTD_LONG=$(zstd -q -"$LEVEL" -T1 --long=27 -c "$WORK/all.nar" | wc -c)
rm -f "$WORK/concat.zst" "$WORK/all.nar"

# ---------------------------------------------------------------- 3. garretd

DATA=$WORK/garret-data
STORAGE=$DATA/storage
CONF=$WORK/garretd.toml
mkdir -p "$DATA"
cat >"$CONF" <<EOF
[storage]
type = "local"
path = "$STORAGE"

[compression]
type = "zstd"
level = $LEVEL
EOF
GLOG=$OUT/dedup-garretd.log
"$GARRETD" check-config -f "$CONF" --data-dir "$DATA" >"$WORK/effective.toml" 2>>"$GLOG" ||
  { cat "$GLOG" >&2; die "garretd check-config failed"; }

start_server() {
  start_bench_garretd "$GLOG" -f "$CONF" --data-dir "$DATA" || die "garretd did not start"
  G=http://127.0.0.1:$PORT
  log "garretd $G (pid $GARRETD_PID), data in $DATA"
}
start_server

TOKEN=$("$GARRETD" make-token -f "$CONF" --data-dir "$DATA" --sub bench-dedup --validity 1d \
  --pull '*' --push '*' --create-cache '*' 2>>"$GLOG") || die "make-token failed"
TOKEN=$(printf '%s' "$TOKEN" | tr -d ' \n')
printf 'machine 127.0.0.1 password %s\n' "$TOKEN" >"$NETRC"
code=$(curl -s -o "$WORK/create.out" -w '%{http_code}' -X POST \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"keypair":"Generate","is_public":false,"store_dir":"/nix/store","priority":41,"upstream_cache_key_names":[]}' \
  "$G/_api/v1/cache-config/$CACHE_NAME")
case $code in 2??) ;; *) cat "$WORK/create.out" >&2; die "creating cache '$CACHE_NAME' failed: HTTP $code" ;; esac
curl -sf -o "$WORK/cache.json" -H "Authorization: Bearer $TOKEN" "$G/_api/v1/cache-config/$CACHE_NAME" ||
  die "GET cache-config/$CACHE_NAME failed"
PUBKEY=$(perl -ne 'print $1 if /"public_key"\s*:\s*"([^"]+)"/' "$WORK/cache.json")
[ -n "$PUBKEY" ] || die "cache '$CACHE_NAME' has no public_key"

stored_bytes() { du -sb "$STORAGE" 2>/dev/null | cut -f1; }
stored_objects() { find "$STORAGE" -type f -not -path "$STORAGE/tmp/*" 2>/dev/null | wc -l; }
staged_files() { find "$STORAGE/tmp" -type f 2>/dev/null | wc -l; }

log "pushing ${#PATHS[@]} paths: nix copy --to '$G/$CACHE_NAME?compression=zstd'"
CPU0=$(cpu_seconds "$GARRETD_PID")
t=$({ time nix copy --to "$G/$CACHE_NAME?compression=zstd" "${PATHS[@]}" >"$OUT/dedup-push.log" 2>&1; } 2>&1) ||
  { tail -20 "$OUT/dedup-push.log" >&2; die "nix copy to garretd failed"; }
CPU1=$(cpu_seconds "$GARRETD_PID")
read -r PUSH_S cusr csys <<<"$t"
CLIENT_CPU=$(awk -v u="$cusr" -v s="$csys" 'BEGIN { printf "%.2f", u + s }')
SERVER_CPU=$(awk -v a="$CPU0" -v b="$CPU1" 'BEGIN { printf "%.2f", b - a }')
G_HWM_KB=$(vm_kb "$GARRETD_PID" VmHWM)
PUSH_MBPS=$(mbps "$NAR_TOTAL" "$PUSH_S")
log "pushed in $PUSH_S s ($PUSH_MBPS MB/s); garretd CPU $SERVER_CPU s, nix CPU $CLIENT_CPU s"

# Every path must be there, else the storage figures mean nothing.
for p in "${PATHS[@]}"; do
  h=$(basename "$p"); h=${h%%-*}
  curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" "$G/$CACHE_NAME/$h.narinfo" ||
    die "garretd has no narinfo for $p after the push"
done

verify() {
  [ "${BENCH_DEDUP_SKIP_VERIFY:-0}" = 1 ] && { echo skipped; return 0; }
  export XDG_CACHE_HOME
  XDG_CACHE_HOME=$(mktemp -d "$WORK/xdg.XXXX") # no cached narinfos
  if nix store verify --store "$G/$CACHE_NAME" --trusted-public-keys "$PUBKEY" "${PATHS[@]}" \
    >>"$OUT/dedup-verify.log" 2>&1; then
    echo ok
  else
    echo FAILED
  fi
}
log "nix store verify (reads every NAR back, checks hashes and signatures)"
t=$(now)
VERIFY=$(verify)
log "verify: $VERIFY ($(since "$t") s)"
[ "$VERIFY" != FAILED ] || { tail -20 "$OUT/dedup-verify.log" >&2; die "the pushed paths do not verify"; }

STORED=$(stored_bytes)
OBJECTS=$(stored_objects)
STAGED=$(staged_files)
DB_BYTES=$(cat "$DATA"/garret.db* 2>/dev/null | wc -c)

# ---------------------------------------------------------------- 4. gc

GC="n/a (no gc command)"
GC_OBJECTS=n/a GC_STORED=n/a VERIFY_GC=n/a
HELP=$("$GARRETD" --help 2>&1 || true)
if grep -Eq '^[[:space:]]+gc([[:space:]]|$)' <<<"$HELP"; then
  # With the server stopped nothing is in flight: no grace period needed,
  # so packs merged by the pass are deleted at once.
  log "garretd gc (server stopped)"
  stop_pid "$GARRETD_PID"
  GARRETD_PID=""
  t=$(now)
  if "$GARRETD" gc -f "$CONF" --data-dir "$DATA" --grace 0s >"$OUT/dedup-gc.log" 2>&1; then
    GC="ran in $(since "$t") s"
    start_server
    GC_OBJECTS=$(stored_objects)
    GC_STORED=$(stored_bytes)
    VERIFY_GC=$(verify)
    log "after gc: $GC_OBJECTS objects, verify: $VERIFY_GC"
  else
    GC="FAILED (see bench/out/dedup-gc.log)"
    tail -5 "$OUT/dedup-gc.log" >&2
  fi
else
  log "garretd has no gc subcommand; skipping gc"
fi
stop_pid "$GARRETD_PID"
GARRETD_PID=""

# ---------------------------------------------------------------- 5. report

RATIO=$(div "$STORED" "$ZSTD_EACH")
MIB_PER_OBJ=$(div "$STORED" "$((OBJECTS * 1048576))")
CORES=$(div "$SERVER_CPU" "$PUSH_S")
WALL_RATIO=$(div "$PUSH_MBPS" "$ZSTD_MBPS")
# Throughput per core garretd used against zstd's per core: both are NAR bytes
# per CPU-second, so the NAR bytes cancel out.
SERVER_CPU_MBPS=$(mbps "$NAR_TOTAL" "$SERVER_CPU")
PERCORE_RATIO=$(div "$ZSTD_CPU" "$SERVER_CPU")
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$ROOT" diff --quiet HEAD -- src apps 2>/dev/null || COMMIT="$COMMIT, sources modified since"
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

{
  echo "garret dedup/ingest benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(nproc) cores, ${CPU_MODEL:-unknown CPU}; $("$GARRETD" --version 2>/dev/null | head -1) (commit $COMMIT)"
  echo "load average: $LOAD0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  echo "corpus: ${#PATHS[@]} store paths, npm $PKG ${VERSIONS[*]}"
  echo "garretd: [compression] zstd level $LEVEL, chunking $(awk '/^\[chunking\]/ { on = 1; next } /^\[/ { on = 0 } on && NF { printf "%s%s", sep, $1 "=" $3; sep = " " }' "$WORK/effective.toml")"
  echo
  printf '%-46s %18s  %s\n' "measure" "value" "target"
  printf '%-46s %18s  %s\n' "----------------------------------------------" "------------------" "------"
  row() { printf '%-46s %18s  %s\n' "$1" "$2" "${3:-}"; }
  row "NAR bytes (sum of NarSize)" "$NAR_TOTAL"
  row "zstd -$LEVEL, each NAR on its own, bytes" "$ZSTD_EACH"
  row "zstd -$LEVEL, all NARs as one stream, bytes" "$ZSTD_CONCAT"
  row "zstd -$LEVEL --long=27, one stream, bytes" "$ZSTD_LONG"
  row "stored by garretd (du -sb storage/), bytes" "$STORED"
  row "garretd database (garret.db*), bytes" "$DB_BYTES"
  row "stored / zstd each" "$RATIO" "<= 0.50: $(meets "$RATIO" 0.5 '<=')"
  row "stored / NAR bytes" "$(div "$STORED" "$NAR_TOTAL")"
  row "stored objects (files in storage/)" "$OBJECTS"
  row "MiB stored per object" "$MIB_PER_OBJ" ">= 8: $(meets "$MIB_PER_OBJ" 8 '>=')"
  row "staged files left in storage/tmp" "$STAGED"
  row "push wall time (nix copy), s" "$PUSH_S"
  row "ingest throughput, NAR MB/s (wall)" "$PUSH_MBPS"
  row "garretd CPU during push, s" "$SERVER_CPU"
  row "garretd cores used (CPU / wall)" "$CORES"
  row "nix client CPU during push, s" "$CLIENT_CPU"
  row "garretd peak RSS (VmHWM), kB" "$G_HWM_KB"
  row "garretd NAR MB per CPU-second" "$SERVER_CPU_MBPS"
  row "zstd -$LEVEL -T1, NAR MB/s (wall)" "$ZSTD_MBPS"
  row "zstd -$LEVEL -T1, NAR MB per CPU-second" "$ZSTD_CPU_MBPS"
  row "ingest / zstd -T1 (wall)" "$WALL_RATIO"
  row "ingest per core used / zstd -T1 per core" "$PERCORE_RATIO" ">= 0.70: $(meets "$PERCORE_RATIO" 0.7 '>=')"
  row "nix store verify after push" "$VERIFY"
  row "garretd gc" "$GC"
  row "stored objects after gc" "$GC_OBJECTS"
  row "stored bytes after gc" "$GC_STORED"
  if [[ $GC_OBJECTS =~ ^[0-9]+$ ]] && [ "$GC_OBJECTS" -gt 0 ]; then
    GC_MIB_PER_OBJ=$(div "$GC_STORED" "$((GC_OBJECTS * 1048576))")
    row "MiB stored per object after gc" "$GC_MIB_PER_OBJ" ">= 8: $(meets "$GC_MIB_PER_OBJ" 8 '>=')"
  fi
  row "nix store verify after gc" "$VERIFY_GC"
} | tee "$OUT/dedup.txt"

# The table goes into docs/performance.md between its dedup markers.
write_generated dedup "$OUT/dedup.txt" 1
log "done in $(($(date +%s) - T0)) s; table in bench/out/dedup.txt"
