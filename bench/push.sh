#!/usr/bin/env bash
# garret push benchmark: pushing a closure of >= 1 GiB with `garret push` to a
# local garretd, against `nix copy --to 'file://...?compression=zstd'` of the
# same paths on the same machine, in one run. Reports wall time of each, the
# ratio, and the peak RSS of the pushing client (target: garret push <= 1.0x
# Nix's local copy, client RSS < 100 MB). See bench/README.md.
#
# Environment:
#   GARRETD, GARRET        binaries (default: build/apps/...)
#   BENCH_PUSH_PATHS       number of store paths (default 16)
#   BENCH_PUSH_MIB         MiB per path (default 64; 16 x 64 = 1 GiB)
#   BENCH_PUSH_JOBS        garret push -j (default: its own default)
#   BENCH_PUSH_LEVEL       zstd level of both sides (default 8, garretd's default;
#                          nix copy gets it as compression-level)
#   BENCH_PUSH_KEEP_PATHS=1  keep the corpus store paths
#   BENCH_NO_DOC=1         do not write the table into docs/performance.md
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GARRETD=${GARRETD:-$ROOT/build/apps/garretd/garretd}
GARRET=${GARRET:-$ROOT/build/apps/garret/garret}
NPATHS=${BENCH_PUSH_PATHS:-16}
MIB=${BENCH_PUSH_MIB:-64}
LEVEL=${BENCH_PUSH_LEVEL:-8}
OUT=$ROOT/bench/out
mkdir -p "$OUT"
WORK=$(mktemp -d /var/tmp/garret-bench-push.XXXXXX)
T0=$(date +%s)
# shellcheck source=lib.sh
. "$ROOT/bench/lib.sh"

log() { echo "[push] $*" >&2; }
die() { log "error: $*"; exit 1; }
for tool in nix nix-store /usr/bin/time curl python3; do
  command -v "$tool" >/dev/null || die "$tool is missing: run GARRET_BENCH=1 scripts/install-deps.sh"
done
[ -x "$GARRETD" ] && [ -x "$GARRET" ] || die "build first: cmake --build --preset default"

GARRETD_PID=""
PATHS=()
cleanup() {
  stop_pid "$GARRETD_PID"
  if [ "${BENCH_PUSH_KEEP_PATHS:-0}" != 1 ] && [ ${#PATHS[@]} -gt 0 ]; then
    nix-store --delete "${PATHS[@]}" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
export NIX_CONFIG="experimental-features = nix-command
sandbox = false
build-users-group =
substituters ="

# The corpus: half random bytes (incompressible), half text (compressible),
# like a mix of binaries and sources; a fixed seed keeps runs comparable.
log "adding $NPATHS store paths of $MIB MiB"
for i in $(seq 1 "$NPATHS"); do
  f=$WORK/part-$i.bin
  python3 - "$f" "$MIB" "$i" <<'PY'
import random, sys
path, mib, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
half = mib << 19
words = [("%08x" % rng.getrandbits(32)) for _ in range(4096)]
with open(path, "wb") as out:
    out.write(rng.randbytes(half))
    text = []
    size = 0
    while size < half:
        line = " ".join(rng.choice(words) for _ in range(12)) + "\n"
        text.append(line)
        size += len(line)
    out.write("".join(text).encode()[:half])
PY
  PATHS+=("$(nix-store --add "$f")")
  rm -f "$f"
done
TOTAL=$(nix path-info -S "${PATHS[@]}" | awk '{s += $2} END {print s}')
log "corpus: $(numfmt --to=iec "$TOTAL") of NAR in ${#PATHS[@]} paths"

# timed NAME CMD...: runs CMD under /usr/bin/time; sets WALL (s) and RSS (KiB).
timed() {
  local name=$1
  shift
  sync
  /usr/bin/time -f '%e %M' -o "$WORK/$name.time" "$@" >"$WORK/$name.log" 2>&1 || {
    tail -n 20 "$WORK/$name.log" >&2
    die "$name failed"
  }
  read -r WALL RSS <"$WORK/$name.time"
}

log "nix copy --to file://...?compression=zstd&compression-level=$LEVEL"
timed nix nix copy --to "file://$WORK/nix-cache?compression=zstd&compression-level=$LEVEL" "${PATHS[@]}"
NIX_WALL=$WALL
NIX_RSS=$RSS
NIX_BYTES=$(du -sb "$WORK/nix-cache" | cut -f1)

log "garret push to garretd (fresh SQLite + local storage)"
mkdir -p "$WORK/data"
printf '[compression]\ntype = "zstd"\nlevel = %s\n' "$LEVEL" >"$WORK/garretd.toml"
start_bench_garretd "$OUT/push-garretd.log" -f "$WORK/garretd.toml" --data-dir "$WORK/data" ||
  die "garretd did not start"
TOKEN=$("$GARRETD" make-token --data-dir "$WORK/data" --sub bench --validity 1d --push '*' --pull '*' --create-cache '*')
export XDG_CONFIG_HOME=$WORK/config
"$GARRET" login bench "http://127.0.0.1:$PORT" "$TOKEN" >/dev/null
"$GARRET" cache create bench:push >/dev/null
JOBS=()
[ -n "${BENCH_PUSH_JOBS:-}" ] && JOBS=(-j "$BENCH_PUSH_JOBS")
timed garret "$GARRET" push bench:push "${JOBS[@]}" "${PATHS[@]}"
G_WALL=$WALL
G_RSS=$RSS
G_BYTES=$(du -sb "$WORK/data/storage" | cut -f1)
grep -q "pushed ${#PATHS[@]} path" "$WORK/garret.log" || die "garret push did not push every path: $(tail -n 3 "$WORK/garret.log")"
stop_pid "$GARRETD_PID"
GARRETD_PID=""

ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
mb_s() { python3 -c "print(f'{$TOTAL / $1 / 1e6:.0f}')"; }
{
  echo "garret push benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, zstd level $LEVEL on both sides"
  echo "corpus: ${#PATHS[@]} store paths, $(numfmt --to=iec "$TOTAL") of NAR (half random, half text)"
  printf '%-44s %10s %10s %12s %12s\n' "" "wall s" "MB/s" "client RSS" "stored"
  printf '%-44s %10s %10s %12s %12s\n' "nix copy --to file://… (zstd)" "$NIX_WALL" "$(mb_s "$NIX_WALL")" \
    "$((NIX_RSS / 1024)) MiB" "$(numfmt --to=iec "$NIX_BYTES")"
  printf '%-44s %10s %10s %12s %12s\n' "garret push (garretd on the same machine)" "$G_WALL" "$(mb_s "$G_WALL")" \
    "$((G_RSS / 1024)) MiB" "$(numfmt --to=iec "$G_BYTES")"
  echo "garret push wall / nix copy wall: $(ratio "$G_WALL" "$NIX_WALL")x (target <= 1.0x)"
  echo "garret push peak client RSS: $((G_RSS / 1024)) MiB (target < 100 MiB)"
} | tee "$OUT/push.txt"
write_generated push "$OUT/push.txt" 1
log "done in $(($(date +%s) - T0)) s; table in bench/out/push.txt"
