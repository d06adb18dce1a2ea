#!/usr/bin/env bash
# Crash safety of uploads and garbage collection: garretd is killed (-9) at
# random points of concurrent Attic upload-path uploads, and `garretd gc` is
# killed at random points of its pass (expired and deleted caches' objects,
# unused NARs and chunks, dead packs, merges of small packs). After every
# kill `garretd fsck` reports no inconsistency, every upload that was
# answered 200 is served and substitutes with the real nix, an interrupted
# one is missing or complete (never broken), and one complete gc afterwards
# reclaims everything dead (no dead, abandoned or empty pack, unused chunk or
# NAR, pack file without a live row), also when its pack rewrite runs past a
# second boundary; with every cache deleted, storage holds no pack file and
# the database no pack, chunk, NAR or object row.
#
# The random choices (sizes, which paths go where, rates, kill delays) come
# from a seed printed at the start; GARRET_TEST_SEED=N replays them (the
# timing of a kill relative to the work still varies from run to run).
# shellcheck source=lib.sh disable=SC2154
. "$(dirname "$0")/lib.sh"

SEED=${GARRET_TEST_SEED:-$(($(date +%s%N) / 1000 % 1000000000))}
say "random seed $SEED (replay the choices with GARRET_TEST_SEED=$SEED)"
RANDOM=$((SEED % 2147483647))
UPLOAD_ROUNDS=${GARRET_TEST_UPLOAD_ROUNDS:-8}
GC_ROUNDS=${GARRET_TEST_GC_ROUNDS:-6}

# rnd N: a random integer in [0, N) in REPLY (no subshell: $RANDOM must be
# drawn in the main shell for the sequence to follow the seed).
rnd() { REPLY=$((RANDOM % $1)); }
ms_sleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

start_garretd
setup_nix
token FULL --sub it-gc-crash --pull '*' --push '*' --create-cache '*' --destroy-cache '*' \
  --configure-cache '*' --configure-cache-retention '*'
use_netrc "$FULL"
AUTH=(-u ":$FULL")

# ---------------------------------------------------------------- store paths

# 30 paths for the upload rounds (64 KiB to 4 MiB of their own bytes, half
# of them also carrying part of one of three shared blobs, so chunks are
# deduplicated), 24 small ones (4-512 KiB) that give each gc round work and
# 10 of 4 MiB whose packs make one long rewrite.
N_MAIN=30
N_EXTRA=24
N_BULK=10
say "generating $N_MAIN + $N_EXTRA + $N_BULK store paths"
python3 - "$TMP/src" "$SEED" "$(date +%s%N)-$$" "$N_MAIN" "$N_EXTRA" "$N_BULK" <<'PYEOF' ||
import math, os, random, sys
root, seed, nonce = sys.argv[1], int(sys.argv[2]), sys.argv[3]
n_main, n_extra, n_bulk = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
rng = random.Random(seed)
shared = [rng.randbytes(s) for s in (1 << 20, 512 << 10, 2 << 20)]
def loguniform(lo, hi):
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))
for i in range(n_main + n_extra + n_bulk):
    extra, bulk = n_main <= i < n_main + n_extra, i >= n_main + n_extra
    d = os.path.join(root, "garret-it-gccrash-%s%02d" % ("b" if bulk else "x" if extra else "p", i))
    os.makedirs(d + "/share")
    # The nonce makes the store path unique to this run (cleanup deletes it).
    open(d + "/id", "w").write("%s %d\n" % (nonce, i))
    size = 4 << 20 if bulk else loguniform(4 << 10, 512 << 10) if extra else loguniform(64 << 10, 4 << 20)
    open(d + "/share/own.bin", "wb").write(rng.randbytes(size))
    if not extra and not bulk and rng.random() < 0.5:
        blob = rng.choice(shared)
        cut = rng.randrange(len(blob) // 2)
        open(d + "/share/common.bin", "wb").write(blob[cut:])
    open(d + "/README", "w").write(("path %d of seed %d\n" % (i, seed)) * rng.randrange(1, 200))
PYEOF
  fatal "generating the source trees failed"
mapfile -t SP < <(nix-store --add "$TMP"/src/garret-it-gccrash-p* "$TMP"/src/garret-it-gccrash-x* \
  "$TMP"/src/garret-it-gccrash-b* 2>"$TMP/add.err")
[ "${#SP[@]}" -eq $((N_MAIN + N_EXTRA + N_BULK)) ] || fatal "nix-store --add gave ${#SP[@]} paths: $(tail -n 3 "$TMP/add.err")"
printf '%s\n' "${SP[@]}" >>"$TMP/built-paths"
mkdir -p "$TMP/nar" "$TMP/up"
H=()
for i in "${!SP[@]}"; do
  H[i]=$(store_hash "${SP[i]}")
  nix-store --dump "${SP[i]}" >"$TMP/nar/${H[i]}.nar" || fatal "nix-store --dump ${SP[i]} failed"
done
# NAR hashes (hex, as Attic clients send them) and sizes, in one python run.
mapfile -t NARMETA < <(python3 - "$TMP/nar" "${H[@]}" <<'PYEOF'
import hashlib, os, sys
for h in sys.argv[2:]:
    data = open(os.path.join(sys.argv[1], h + ".nar"), "rb").read()
    print("sha256:%s %d" % (hashlib.sha256(data).hexdigest(), len(data)))
PYEOF
)
NARHASH=()
NARSIZE=()
TOTAL=0
for i in "${!SP[@]}"; do
  read -r "NARHASH[i]" "NARSIZE[i]" <<<"${NARMETA[i]}"
  TOTAL=$((TOTAL + NARSIZE[i]))
done
say "${#SP[@]} paths, $((TOTAL / 1024)) KiB of NAR"

# ---------------------------------------------------------------- helpers

# info_json IDX CACHE: Attic's UploadPathNarInfo (the paths have no references).
info_json() {
  printf '{"cache":"%s","store_path_hash":"%s","store_path":"%s","references":[],"system":"x86_64-linux","deriver":null,"sigs":[],"ca":null,"nar_hash":"%s","nar_size":%s}' \
    "$2" "${H[$1]}" "${SP[$1]}" "${NARHASH[$1]}" "${NARSIZE[$1]}"
}

# start_upload TAG IDX CACHE RATE_KB: upload-path in the background (RATE_KB 0:
# unthrottled); the status code lands in $TMP/up/TAG.code.
UP_PIDS=()
start_upload() {
  local limit=()
  [ "$4" -gt 0 ] && limit=(--limit-rate "${4}k")
  curl -s -o "$TMP/up/$1.body" -w '%{http_code}' "${limit[@]}" --max-time 60 -X PUT \
    -H "Authorization: Bearer $FULL" -H "X-Attic-Nar-Info: $(info_json "$2" "$3")" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$TMP/nar/${H[$2]}.nar" \
    "$BASE/_api/v1/upload-path" >"$TMP/up/$1.code" 2>/dev/null &
  UP_PIDS+=($!)
}
wait_uploads() {
  local p
  for p in "${UP_PIDS[@]}"; do wait "$p"; done
  UP_PIDS=()
}

# upload_now IDX CACHE: a complete upload; fatal unless 200.
upload_now() {
  start_upload "now-$1-$2" "$1" "$2" 0
  wait_uploads
  local code
  code=$(cat "$TMP/up/now-$1-$2.code")
  [ "$code" = 200 ] || fatal "upload of ${SP[$1]} to $2 answered $code: $(head -c 300 "$TMP/up/now-$1-$2.body")"
  LAST_WRITE=$(date +%s)
}

kill9_garretd() {
  kill -KILL "$GARRETD_PID" 2>/dev/null
  wait "$GARRETD_PID" 2>/dev/null
  GARRETD_PID=""
}

# db_state: counts that describe the metadata (for failure reports and checks).
db_state() {
  python3 - "$DATA/garret.db" "$DATA/storage" <<'PYEOF'
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
q = lambda s: db.execute(s).fetchone()[0]
on_disk = set()
for dirpath, _, files in os.walk(os.path.join(sys.argv[2], "pack")):
    for f in files:
        on_disk.add(os.path.relpath(os.path.join(dirpath, f), sys.argv[2]))
live = {r[0] for r in db.execute("SELECT blob_key FROM pack WHERE state = 'live'")}
known = {r[0] for r in db.execute("SELECT blob_key FROM pack")}
state = {
    "packs_live": q("SELECT COUNT(*) FROM pack WHERE state = 'live'"),
    "packs_writing": q("SELECT COUNT(*) FROM pack WHERE state = 'writing'"),
    "packs_dead": q("SELECT COUNT(*) FROM pack WHERE state = 'dead'"),
    "packs_live_empty": q("SELECT COUNT(*) FROM pack p WHERE state = 'live' AND NOT EXISTS "
                          "(SELECT 1 FROM chunk c WHERE c.pack_id = p.id)"),
    "chunks": q("SELECT COUNT(*) FROM chunk"),
    "chunks_unused": q("SELECT COUNT(*) FROM chunk c WHERE NOT EXISTS "
                       "(SELECT 1 FROM chunkref r WHERE r.chunk_id = c.id)"),
    "chunks_in_nonlive_packs": q("SELECT COUNT(*) FROM chunk c JOIN pack p ON p.id = c.pack_id "
                                 "WHERE p.state != 'live'"),
    "chunkrefs": q("SELECT COUNT(*) FROM chunkref"),
    "nars": q("SELECT COUNT(*) FROM nar"),
    "nars_invalid": q("SELECT COUNT(*) FROM nar WHERE state != 'valid'"),
    "nars_unused": q("SELECT COUNT(*) FROM nar n WHERE NOT EXISTS (SELECT 1 FROM object o WHERE "
                     "o.nar_id = n.id) AND NOT EXISTS (SELECT 1 FROM staged_upload s WHERE "
                     "s.nar_id = n.id)"),
    "objects": q("SELECT COUNT(*) FROM object"),
    "staged": q("SELECT COUNT(*) FROM staged_upload"),
    "caches_deleted": q("SELECT COUNT(*) FROM cache WHERE deleted_at IS NOT NULL"),
    "pack_files": len(on_disk),
    "pack_files_not_live": len(on_disk - live),
    "pack_files_unknown": len(on_disk - known),
    "live_packs_without_file": len(live - on_disk),
}
print(" ".join("%s=%d" % kv for kv in state.items()))
PYEOF
}
dead_packs() {
  python3 - "$DATA/garret.db" <<'PYEOF'
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("SELECT id, dead_at FROM pack WHERE state = 'dead' ORDER BY id")
print(" ".join("%d:%d" % r for r in rows))
PYEOF
}
# state_of NAME: one value out of db_state's line in $TMP/db.state.
state_of() { tr ' ' '\n' <"$TMP/db.state" | awk -F= -v k="$1" '$1 == k { print $2 }'; }

FSCK_N=0
# fsck_clean DESC: garretd fsck (no server running) must exit 0; on failure
# prints what it found and the database state (KEEP_TMP=1 keeps a copy).
fsck_clean() {
  FSCK_N=$((FSCK_N + 1))
  local rc=0 out="$TMP/fsck-$FSCK_N"
  "$GARRETD" fsck --data-dir "$DATA" --json >"$out.json" 2>"$out.err" || rc=$?
  if [ "$rc" = 0 ]; then
    pass "fsck consistent $1"
    return 0
  fi
  fail "fsck $1: exit $rc (0 = consistent)"
  echo "    fsck: $(head -c 2000 "$out.json") $(tail -n 3 "$out.err")" >&2
  echo "    db: $(db_state 2>&1)" >&2
  if [ -n "${KEEP_TMP:-}" ]; then
    cp -a "$DATA" "$TMP/data-at-fsck-$FSCK_N"
    echo "    (data dir copied to $TMP/data-at-fsck-$FSCK_N)" >&2
  fi
  return 1
}

# served IDX CACHE: "missing", "complete" or "broken: why" for the path in
# the cache, reading the narinfo and the whole NAR.
served() {
  local h=${H[$1]} st url comp
  st=$(curl -s -o "$TMP/s.narinfo" -w '%{http_code}' --max-time 30 "${AUTH[@]}" "$BASE/$2/$h.narinfo")
  if [ "$st" = 404 ]; then
    echo missing
    return
  fi
  [ "$st" = 200 ] || { echo "broken: narinfo answered $st"; return; }
  [ "$(narinfo_field "$TMP/s.narinfo" StorePath)" = "${SP[$1]}" ] || { echo "broken: narinfo names another path"; return; }
  url=$(narinfo_field "$TMP/s.narinfo" URL)
  comp=$(narinfo_field "$TMP/s.narinfo" Compression)
  st=$(curl -s -o "$TMP/s.nar" -w '%{http_code}' --max-time 30 "${AUTH[@]}" "$BASE/$2/$url")
  [ "$st" = 200 ] || { echo "broken: NAR $url answered $st"; return; }
  case $comp in
    zstd) zstd -dcq "$TMP/s.nar" ;;
    xz) xz -dc "$TMP/s.nar" ;;
    none | "") cat "$TMP/s.nar" ;;
    *) echo "?" ;;
  esac 2>/dev/null | cmp -s - "$TMP/nar/$h.nar" || { echo "broken: NAR bytes ($comp) differ"; return; }
  echo complete
}

# not_served_whole CACHE LABEL IDX...: the paths of CACHE not served whole,
# as " LABEL<idx>:<state>" words (empty when all are).
not_served_whole() {
  local cache=$1 label=$2 idx got out=""
  shift 2
  for idx in "$@"; do
    got=$(served "$idx" "$cache")
    [ "$got" = complete ] || out="$out $label$idx:$got"
  done
  printf '%s' "$out"
}

KEYS_CACHED=""
cache_key() { # CACHE -> KEY in REPLY
  local var="KEY_$1"
  if [[ " $KEYS_CACHED " != *" $1 "* ]]; then
    public_key "$var" "$1" "$FULL"
    KEYS_CACHED="$KEYS_CACHED $1"
  fi
  REPLY=${!var}
}

SUBST_N=0
# substitutes DESC CACHE IDX...: nix copies the paths from the cache into a
# fresh store, signatures required.
substitutes() {
  local desc=$1 cache=$2 i paths=()
  shift 2
  [ $# -gt 0 ] || return 0
  for i in "$@"; do paths+=("${SP[i]}"); done
  cache_key "$cache"
  SUBST_N=$((SUBST_N + 1))
  new_nix_cache
  local store="$TMP/store-$SUBST_N"
  check "$desc: nix substitutes $# paths from $cache" run_logged "subst-$SUBST_N" \
    nix copy --from "$BASE/$cache" --store "$store" --option trusted-public-keys "$REPLY" \
    --option require-sigs true "${paths[@]}"
  chmod -R u+w "$store" 2>/dev/null
  rm -rf "$store"
}

# ---------------------------------------------------------------- upload crashes

CACHES=(keep doomed expiring)
for c in "${CACHES[@]}"; do create_cache "$c" "$FULL"; done
for c in "${CACHES[@]}"; do cache_key "$c"; done

# STATE[idx,cache]: "complete" once the path is known to be stored whole.
declare -A STATE
say "$UPLOAD_ROUNDS rounds of concurrent uploads killed at a random moment"
for round in $(seq 1 "$UPLOAD_ROUNDS"); do
  rnd 3
  n=$((4 + REPLY))
  UPJOBS=()
  for j in $(seq 1 "$n"); do
    # Prefer a (path, cache) pair not stored yet.
    for _ in 1 2 3 4 5 6; do
      rnd "$N_MAIN"
      idx=$REPLY
      rnd 3
      cache=${CACHES[REPLY]}
      [ "${STATE[$idx,$cache]:-}" = complete ] || break
    done
    rnd 7
    rate=$((REPLY == 0 ? 0 : 200 + REPLY * 500)) # KB/s; 0 = as fast as it goes
    UPJOBS+=("r$round-$j:$idx:$cache:$rate")
  done
  rnd 1001
  delay=$REPLY
  for job in "${UPJOBS[@]}"; do
    IFS=: read -r tag idx cache rate <<<"$job"
    start_upload "$tag" "$idx" "$cache" "$rate"
  done
  ms_sleep "$delay"
  kill9_garretd
  wait_uploads
  summary=""
  for job in "${UPJOBS[@]}"; do
    IFS=: read -r tag idx cache rate <<<"$job"
    summary="$summary p$idx>$cache@${rate}k:$(cat "$TMP/up/$tag.code")"
  done
  say "round $round: killed garretd after ${delay} ms;$summary"
  fsck_clean "after garretd was killed in upload round $round"
  start_garretd
  ok_by_cache_keep=()
  for job in "${UPJOBS[@]}"; do
    IFS=: read -r tag idx cache rate <<<"$job"
    code=$(cat "$TMP/up/$tag.code")
    got=$(served "$idx" "$cache")
    if [ "$code" = 200 ]; then
      expect_eq "round $round: upload answered 200 is served whole (p$idx in $cache)" complete "$got"
    elif [ "${STATE[$idx,$cache]:-}" = complete ]; then
      expect_eq "round $round: interrupted re-upload left the stored path whole (p$idx in $cache)" complete "$got"
    else
      expect_match "round $round: interrupted upload ($code) is missing or whole (p$idx in $cache)" \
        '^(missing|complete)$' "$got"
    fi
    if [ "$got" = complete ]; then
      STATE[$idx,$cache]=complete
      [ "$cache" = keep ] && ok_by_cache_keep+=("$idx")
    fi
  done
  if [ "${#ok_by_cache_keep[@]}" -gt 0 ]; then
    mapfile -t ok_keep < <(printf '%s\n' "${ok_by_cache_keep[@]}" | sort -un)
    substitutes "round $round" keep "${ok_keep[@]}"
  fi
done

say "after the upload rounds: every path is served whole or missing in every cache"
bad=0
for c in "${CACHES[@]}"; do
  present=()
  for idx in $(seq 0 $((N_MAIN - 1))); do
    got=$(served "$idx" "$c")
    case $got in
      complete) present+=("$idx") ;;
      missing)
        if [ "${STATE[$idx,$c]:-}" = complete ]; then
          fail "p$idx in $c was complete and is now missing"
          bad=1
        fi
        ;;
      *)
        fail "p$idx in $c: $got"
        bad=1
        ;;
    esac
  done
  substitutes "after the upload rounds" "$c" "${present[@]}"
done
[ "$bad" = 0 ] && pass "no path is broken or lost in any cache"

# ---------------------------------------------------------------- gc crashes

say "giving gc work: every path in keep (one small pack per upload), doomed deleted, expiring expired"
for idx in $(seq 0 $((N_MAIN - 1))); do
  [ "${STATE[$idx,keep]:-}" = complete ] || upload_now "$idx" keep
done
mapfile -t KEEP < <(seq 0 $((N_MAIN - 1)))
expect_status 200 "delete cache doomed" "${AUTH[@]}" -X DELETE "$BASE/_api/v1/cache-config/doomed"
expect_status 200 "retention of expiring: 1 second" "${AUTH[@]}" -X PATCH -H 'Content-Type: application/json' \
  -d '{"retention_period":{"Period":1}}' "$BASE/_api/v1/cache-config/expiring"
sleep 2.2
stop_garretd
fsck_clean "before the gc rounds"
db_state >"$TMP/db.state"
say "before gc: $(cat "$TMP/db.state")"
check "there are small packs to merge ($(state_of packs_live) live packs)" test "$(state_of packs_live)" -ge 10

GC_N=0
# How long a gc pass with fresh work takes, in ms: kills are drawn uniformly
# in [0, GC_WINDOW] so that most land inside the pass. Starts at 200 ms and
# follows the first passes over new work that finished before their kill.
GC_WINDOW=200
now_us() { REPLY=${EPOCHREALTIME/[.,]/}; }
# gc_killed DESC [fresh]: runs gc --grace 0s and kill -9s it after a random
# delay (unless it finished before); "fresh" when it is the first pass over
# new work (its duration, when it finishes, then resizes the window).
gc_killed() {
  GC_N=$((GC_N + 1))
  local err="$TMP/gc-$GC_N.err" rc=0 ms stage t0 elapsed comm st ppid killed=0
  rnd $((GC_WINDOW + 1))
  ms=$REPLY
  "$GARRETD" gc --data-dir "$DATA" --grace 0s >"$TMP/gc-$GC_N.out" 2>"$err" &
  local pid=$!
  now_us
  t0=$REPLY
  while :; do
    # Done when gone, a zombie, or (bash reaped it and) the pid is no longer
    # our child garretd (still "bash" until the fork has exec'd it).
    comm="" st=Z ppid=""
    read -r _ comm st ppid _ 2>/dev/null <"/proc/$pid/stat"
    now_us
    elapsed=$(((REPLY - t0) / 1000))
    if [ "$st" = Z ] || [ "$ppid" != "$BASHPID" ] || [[ $comm != "(garretd)" && $comm != "(bash)" ]]; then
      break
    fi
    if [ "$elapsed" -ge "$ms" ]; then
      kill -KILL "$pid" 2>/dev/null
      killed=1
      break
    fi
    sleep 0.002
  done
  wait "$pid" 2>/dev/null || rc=$?
  stage=$(grep '^gc: ' "$err" | tail -n 1 | cut -c5-)
  if [ "$killed" = 1 ] && [ "$rc" = 137 ]; then
    GC_KILLED_MID=$((GC_KILLED_MID + 1))
    say "$1: gc killed after $elapsed ms (window $GC_WINDOW ms; last step begun: ${stage:-none})"
  elif [ "$rc" = 0 ]; then
    say "$1: gc finished in about $elapsed ms (kill planned at $ms ms): $(tail -n 1 "$TMP/gc-$GC_N.out")"
    if [ "${2:-}" = fresh ]; then
      GC_WINDOW=$((elapsed + elapsed / 4 + 10))
    fi
  else
    fail "$1: gc exited $rc: $(tail -n 3 "$err")"
  fi
}
GC_KILLED_MID=0

# gc_complete DESC: one gc pass to its end; prints its JSON summary.
gc_complete() {
  GC_N=$((GC_N + 1))
  local rc=0
  "$GARRETD" gc --data-dir "$DATA" --grace 0s --json >"$TMP/gc-$GC_N.out" 2>"$TMP/gc-$GC_N.err" || rc=$?
  if [ "$rc" = 0 ]; then
    pass "$1: gc completes ($(cat "$TMP/gc-$GC_N.out"))"
  else
    fail "$1: gc exited $rc: $(tail -n 3 "$TMP/gc-$GC_N.err")"
    echo "    db: $(db_state 2>&1)" >&2
  fi
}

# nothing_dead DESC: after a complete gc (grace 0, no server) nothing dead
# is left in the database or in storage.
nothing_dead() {
  db_state >"$TMP/db.state" 2>&1
  local k bad=""
  for k in packs_writing packs_dead packs_live_empty chunks_unused chunks_in_nonlive_packs nars_unused \
    caches_deleted pack_files_not_live pack_files_unknown live_packs_without_file; do
    [ "$(state_of "$k")" = 0 ] || bad="$bad $k=$(state_of "$k")"
  done
  if [ -z "$bad" ]; then
    pass "$1: nothing dead is left ($(state_of packs_live) live packs, $(state_of chunks) chunks)"
  else
    fail "$1: dead things left:$bad (state: $(cat "$TMP/db.state"))"
  fi
}

wait_next_second() { # chunks used in the current second are not yet collectable
  while [ "$(date +%s)" -le "${LAST_WRITE:-0}" ]; do sleep 0.1; done
}

say "$GC_ROUNDS rounds of gc killed at a random moment (no server running)"
for round in $(seq 1 "$GC_ROUNDS"); do
  rnd 3
  kills=$((2 + REPLY))
  for k in $(seq 1 "$kills"); do
    gc_killed "gc round $round, kill $k/$kills" "$([ "$k" = 1 ] && echo fresh)"
    fsck_clean "after gc was killed (round $round, kill $k)"
  done
  wait_next_second
  gc_complete "gc round $round"
  nothing_dead "gc round $round"
  fsck_clean "after a complete gc (round $round)"
  start_garretd
  mapfile -t keep_sorted < <(printf '%s\n' "${KEEP[@]}" | sort -n)
  expect_eq "gc round $round: all ${#KEEP[@]} paths of keep are served whole" "" \
    "$(not_served_whole keep p "${keep_sorted[@]}")"
  substitutes "gc round $round" keep "${keep_sorted[@]}"
  if [ "$round" = 1 ]; then
    rnd "$N_MAIN"
    expect_status 404 "a path of the deleted cache doomed is gone" "${AUTH[@]}" "$BASE/doomed/${H[REPLY]}.narinfo"
    gone=0
    for idx in $(seq 0 $((N_MAIN - 1))); do
      [ "$(served "$idx" expiring)" = missing ] && gone=$((gone + 1))
    done
    expect_eq "every path of expiring has expired" "$N_MAIN" "$gone"
  fi
  if [ "$round" -lt "$GC_ROUNDS" ]; then
    # New work: small paths more in keep (new small packs to merge), and in
    # a cache that is then deleted (dead chunks and packs).
    scratch="scratch$round"
    create_cache "$scratch" "$FULL"
    for j in 1 2 3; do
      rnd "$N_EXTRA"
      upload_now $((N_MAIN + REPLY)) "$scratch"
    done
    for j in 1 2 3; do
      rnd "$N_EXTRA"
      idx=$((N_MAIN + REPLY))
      upload_now "$idx" keep
      [[ " ${KEEP[*]} " == *" $idx "* ]] || KEEP+=("$idx")
    done
    expect_status 200 "delete cache $scratch" "${AUTH[@]}" -X DELETE "$BASE/_api/v1/cache-config/$scratch"
  fi
  stop_garretd
done

# ---------------------------------------------------------------- long rewrite

# The pass that finishes what a killed one began must delete the packs it
# rewrote even when the copy runs into the next second: start it just
# before a second boundary, with 40 MiB of small packs to merge.
say "a complete gc whose rewrite runs past a second boundary leaves nothing dead"
start_garretd
create_cache bulk "$FULL"
BULK=()
for idx in $(seq $((N_MAIN + N_EXTRA)) $((N_MAIN + N_EXTRA + N_BULK - 1))); do
  upload_now "$idx" bulk
  BULK+=("$idx")
done
stop_garretd
wait_next_second
GC_WINDOW_SAVED=$GC_WINDOW
GC_WINDOW=8 # killed early: the merge is left to the next pass
gc_killed "bulk"
GC_WINDOW=$GC_WINDOW_SAVED
fsck_clean "after the gc before the long rewrite was killed"
now_us # sleep until 60 ms before the next second
sleep "$(printf '0.%06d' $(((1940000 - REPLY % 1000000) % 1000000)))"
now_us
GC_START=$REPLY
gc_complete "the long rewrite"
now_us
say "that gc ran from second $((GC_START / 1000000)) +$((GC_START % 1000000 / 1000)) ms to +$(((REPLY - GC_START / 1000000 * 1000000) / 1000)) ms"
nothing_dead "after the long rewrite"
if [ "$(state_of packs_dead)" != 0 ]; then
  echo "    dead packs left (id:dead_at): $(dead_packs); the pass began in second $((GC_START / 1000000))" >&2
  echo "    (packs retired by the rewrite after the pass's first second were not swept by it)" >&2
fi
fsck_clean "after the long rewrite"
start_garretd
expect_eq "the rewritten paths of bulk are served whole" "" "$(not_served_whole bulk b "${BULK[@]}")"
stop_garretd

# ---------------------------------------------------------------- reclaim all

say "deleting every cache: one complete gc after killed ones leaves no pack at all"
start_garretd
for c in keep expiring bulk main; do
  expect_status '200|404' "delete cache $c" "${AUTH[@]}" -X DELETE "$BASE/_api/v1/cache-config/$c"
done
stop_garretd
gc_killed "final" fresh
fsck_clean "after the final gc was killed"
gc_killed "final, again"
fsck_clean "after the final gc was killed again"
say "$GC_KILLED_MID of $((GC_N)) gc passes were killed before they finished"
gc_complete "final"
db_state >"$TMP/db.state" 2>&1
say "after the final gc: $(cat "$TMP/db.state")"
for k in pack_files packs_live packs_writing packs_dead chunks chunkrefs nars objects staged; do
  expect_eq "no $k left" 0 "$(state_of "$k")"
done
expect_eq "no pack file in storage (tmp/ aside)" 0 \
  "$(find "$DATA/storage" -type f -not -path "$DATA/storage/tmp/*" | wc -l)"
fsck_clean "at the end"
gc_complete "a further"
expect_contains "a further gc has nothing to do" "$(cat "$TMP/gc-$GC_N.out")" '"packs_deleted":0'

say "random seed was $SEED"
finish
