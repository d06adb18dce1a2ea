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
#   BENCH_PUSH_LEVEL       zstd level of the equal-level comparison (default 8,
#                          garretd's default; nix copy gets it as compression-level)
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

# nix_copy LEVEL: nix copy of the corpus to a fresh file:// cache (LEVEL
# "default" = Nix's own zstd level); sets WALL, RSS and BYTES.
nix_copy() {
  local url="file://$WORK/nix-cache-$1?compression=zstd"
  [ "$1" = default ] || url="$url&compression-level=$1"
  log "nix copy --to $url"
  timed "nix-$1" nix copy --to "$url" "${PATHS[@]}"
  BYTES=$(du -sb "$WORK/nix-cache-$1" | cut -f1)
  rm -rf "$WORK/nix-cache-$1"
}

# garret_push LEVEL: garret push of the corpus to a fresh garretd (SQLite,
# local storage) whose zstd level is LEVEL ("default" = garretd's own);
# sets WALL, RSS (the client's) and BYTES.
garret_push() {
  local data=$WORK/data-$1
  mkdir -p "$data"
  : >"$WORK/garretd-$1.toml"
  [ "$1" = default ] || printf '[compression]\ntype = "zstd"\nlevel = %s\n' "$1" >"$WORK/garretd-$1.toml"
  log "garret push to garretd (zstd level $1)"
  start_bench_garretd "$OUT/push-garretd.log" -f "$WORK/garretd-$1.toml" --data-dir "$data" ||
    die "garretd did not start"
  local token
  token=$("$GARRETD" make-token --data-dir "$data" --sub bench --validity 1d --push '*' --pull '*' --create-cache '*')
  export XDG_CONFIG_HOME=$WORK/config-$1
  "$GARRET" login bench "http://127.0.0.1:$PORT" "$token" >/dev/null
  "$GARRET" cache create bench:push >/dev/null
  local jobs=()
  [ -n "${BENCH_PUSH_JOBS:-}" ] && jobs=(-j "$BENCH_PUSH_JOBS")
  timed "garret-$1" "$GARRET" push bench:push "${jobs[@]}" "${PATHS[@]}"
  BYTES=$(du -sb "$data/storage" | cut -f1)
  grep -q "pushed ${#PATHS[@]} path" "$WORK/garret-$1.log" ||
    die "garret push did not push every path: $(tail -n 3 "$WORK/garret-$1.log")"
  stop_pid "$GARRETD_PID"
  GARRETD_PID=""
  rm -rf "$data"
}

ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
mb_s() { python3 -c "print(f'{$TOTAL / $1 / 1e6:.0f}')"; }
ROWS=()
# row LABEL: a table row from WALL, RSS and BYTES.
row() {
  ROWS+=("$(printf '| %s | %s | %s | %s MiB | %s |' "$1" "$WALL" "$(mb_s "$WALL")" "$((RSS / 1024))" \
    "$(numfmt --to=iec "$BYTES")")")
}
nix_copy default; N_DEF=$WALL; row "nix copy --to file://…?compression=zstd (Nix's default level, 3)"
nix_copy "$LEVEL"; N_LVL=$WALL; row "nix copy --to file://…?compression=zstd&compression-level=$LEVEL"
garret_push default; G_DEF=$WALL; G_RSS=$RSS; row "garret push to garretd (garretd's default level, 8)"
garret_push 3; G_3=$WALL; row "garret push to garretd, [compression] level = 3"
{
  echo "garret push benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores; garretd on the same machine"
  echo "corpus: ${#PATHS[@]} store paths, $(numfmt --to=iec "$TOTAL") of NAR (half random bytes, half text)"
  echo
  echo "| run | wall (s) | MB/s of NAR | peak RSS of the pushing client | stored |"
  echo "|---|---:|---:|---:|---:|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "| ratio (garret push wall / nix copy wall) | value | target |"
  echo "|---|---:|---|"
  echo "| both at zstd level $LEVEL | $(ratio "$G_DEF" "$N_LVL")× | ≤ 1.0× |"
  echo "| both at zstd level 3 | $(ratio "$G_3" "$N_DEF")× | ≤ 1.0× |"
  echo "| each with its default level (garretd 8, Nix 3) | $(ratio "$G_DEF" "$N_DEF")× | ≤ 1.0× |"
  echo "| peak client RSS, garret push | $((G_RSS / 1024)) MiB | < 100 MiB |"
} | tee "$OUT/push.txt"
write_generated push "$OUT/push.txt" 1
log "done in $(($(date +%s) - T0)) s; table in bench/out/push.txt"
