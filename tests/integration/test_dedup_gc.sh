#!/usr/bin/env bash
# Chunked storage end to end with the real nix: two versions of a directory
# tree share their chunks (stored once, across caches too); a multi-chunk
# NAR substitutes and serves byte ranges; Attic's upload-path reports the
# deduplicated fraction; retention, pins, cache deletion and `garretd gc`
# bring storage back to where it started; `garretd fsck` finds corruption
# and orphans, `--repair` makes damaged paths uploadable again.
# shellcheck source=lib.sh disable=SC2154
. "$(dirname "$0")/lib.sh"

start_garretd
setup_nix
token FULL --sub it-dedup --pull '*' --push '*' --create-cache '*' --destroy-cache '*' \
  --configure-cache '*' --configure-cache-retention '*'
use_netrc "$FULL"
AUTH=(-u ":$FULL")

# Bytes stored by garretd (packs and legacy blobs), not counting temp files.
storage_bytes() {
  find "$DATA/storage" -type f -not -path "$DATA/storage/tmp/*" -printf '%s\n' 2>/dev/null |
    awk '{ s += $1 } END { print s + 0 }'
}
gc_now() { "$GARRETD" gc --data-dir "$DATA" --grace 0s "$@" 2>"$TMP/gc.err"; }
fsck_rc() {
  local rc=0
  "$GARRETD" fsck --data-dir "$DATA" "$@" >"$TMP/fsck.out" 2>"$TMP/fsck.err" || rc=$?
  echo "$rc"
}

# Two versions of a tree: 4 MiB of incompressible data in which version 2
# inserts 100 bytes in the middle, plus small files of which one changes.
say "making two versions of a tree"
python3 - "$TMP/v1" "$TMP/v2" <<'PYEOF'
import os, random, sys
rng = random.Random(7)
big = bytes(rng.getrandbits(8) for _ in range(4 << 20))
for i, root in enumerate(sys.argv[1:]):
    os.makedirs(root + "/share", exist_ok=True)
    data = big if i == 0 else big[:2 << 20] + b"x" * 100 + big[2 << 20:]
    open(root + "/share/blob.bin", "wb").write(data)
    open(root + "/README", "w").write("version %d\n" % (i + 1))
    for j in range(20):
        open(root + "/share/f%02d.txt" % j, "w").write(("line %d\n" % j) * 500)
PYEOF
V1=$(nix-store --add "$TMP/v1") && V2=$(nix-store --add "$TMP/v2") || fatal "nix-store --add failed"
printf '%s\n' "$V1" "$V2" >>"$TMP/built-paths"
NAR1=$(nix-store -q --size "$V1")

EMPTY=$(storage_bytes)
create_cache a "$FULL"
create_cache b "$FULL"
public_key KEY_A a "$FULL"

say "pushing version 1, then version 2, to cache a"
check "nix copy v1 to a" run_logged push-v1 nix copy --to "$BASE/a?compression=zstd" "$V1"
AFTER_V1=$(storage_bytes)
check "nix copy v2 to a" run_logged push-v2 nix copy --to "$BASE/a?compression=xz" "$V2"
AFTER_V2=$(storage_bytes)
GROWTH=$((AFTER_V2 - AFTER_V1))
say "v1 stored $((AFTER_V1 - EMPTY)) bytes (NAR $NAR1); v2 added $GROWTH"
check "v1 is stored compressed-or-whole (at most its NAR size + 1%)" test $((AFTER_V1 - EMPTY)) -le $((NAR1 + NAR1 / 100))
check "v2 adds under 15% of v1 (shared chunks stored once)" test "$GROWTH" -lt $(((AFTER_V1 - EMPTY) * 15 / 100))
PACKS=$(find "$DATA/storage/pack" -type f | wc -l)
check "a few pack objects, not one per chunk ($PACKS)" test "$PACKS" -le 4

say "the same NAR pushed to cache b is deduplicated"
check "nix copy v1 to b" run_logged push-v1-b nix copy --to "$BASE/b?compression=zstd" "$V1"
expect_eq "no bytes added for a NAR already stored" "$AFTER_V2" "$(storage_bytes)"

say "multi-chunk NAR: narinfo, Range, substitution"
H2=$(store_hash "$V2")
expect_status 200 "narinfo of v2" "${AUTH[@]}" "$BASE/a/$H2.narinfo"
cp "$BODY" "$TMP/v2.narinfo"
expect_eq "Compression" zstd "$(narinfo_field "$TMP/v2.narinfo" Compression)"
URL=$(narinfo_field "$TMP/v2.narinfo" URL)
FILE_SIZE=$(narinfo_field "$TMP/v2.narinfo" FileSize)
expect_status 200 "GET the NAR" "${AUTH[@]}" "$BASE/a/$URL"
cp "$BODY" "$TMP/v2.nar.zst"
expect_eq "Content-Length is FileSize" "$FILE_SIZE" "$(header Content-Length | tr -d '\r')"
expect_eq "Accept-Ranges" bytes "$(header Accept-Ranges | tr -d '\r')"
expect_eq "FileHash matches the bytes" "$(narinfo_field "$TMP/v2.narinfo" FileHash)" \
  "sha256:$(nix-hash --type sha256 --flat --base32 "$TMP/v2.nar.zst")"
check "the body is one valid zstd stream of the NAR" \
  bash -c "zstd -dc '$TMP/v2.nar.zst' | cmp -s - <(nix-store --dump '$V2')"
MID=$((FILE_SIZE / 2))
expect_status 206 "Range across chunk boundaries" "${AUTH[@]}" -r "$((MID - 70000))-$((MID + 70000))" "$BASE/a/$URL"
check "ranged bytes match" cmp -s "$BODY" <(tail -c +$((MID - 70000 + 1)) "$TMP/v2.nar.zst" | head -c 140001)
new_nix_cache
STORE=$TMP/store-1
check "nix substitutes the multi-chunk NAR" run_logged subst substitute_into "$STORE" "$BASE/a" "$KEY_A" "$V2"
check "substituted tree is identical" same_tree "$V2" "$STORE$V2"

say "Attic upload-path reports the deduplicated fraction"
nix-store --dump "$V2" >"$TMP/$H2.nar"
expect_status 200 "upload-path of v2 to cache b" -X PUT -H "Authorization: Bearer $FULL" \
  -H "X-Attic-Nar-Info: $(upload_info "$V2" b)" --data-binary "@$TMP/$H2.nar" "$BASE/_api/v1/upload-path"
expect_eq "kind" Deduplicated "$(json_get "$BODY" kind)"
python3 - "$TMP/v3" "$TMP/v2/share/blob.bin" <<'PYEOF'
import os, sys
root = sys.argv[1]
os.makedirs(root + "/share", exist_ok=True)
src = open(sys.argv[2], "rb").read()
open(root + "/share/blob.bin", "wb").write(src[:3 << 20] + b"y" * 50 + src[3 << 20:])
open(root + "/README", "w").write("version 3\n")
PYEOF
V3=$(nix-store --add "$TMP/v3") || fatal "nix-store --add v3 failed"
echo "$V3" >>"$TMP/built-paths"
nix-store --dump "$V3" >"$TMP/$(store_hash "$V3").nar"
expect_status 200 "upload-path (preamble) of v3 to cache b" -X PUT -H "Authorization: Bearer $FULL" \
  -H "X-Attic-Nar-Info-Preamble-Size: $(upload_info "$V3" b | wc -c)" \
  --data-binary @<(upload_info "$V3" b; cat "$TMP/$(store_hash "$V3").nar") "$BASE/_api/v1/upload-path"
expect_eq "kind" Uploaded "$(json_get "$BODY" kind)"
check "frac_deduplicated above 0.8 ($(json_get "$BODY" frac_deduplicated))" \
  python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 0.8 else 1)" "$(json_get "$BODY" frac_deduplicated)"

say "pins and retention"
H1=$(store_hash "$V1")
expect_status 200 "pin v1 in cache a" "${AUTH[@]}" -X PUT "$BASE/_api/v1/pins/a/$H1"
expect_status 200 "list pins of a" "${AUTH[@]}" "$BASE/_api/v1/pins/a"
expect_contains "v1 is listed" "$(cat "$BODY")" "$V1"
expect_status 404 "pinning a path the cache lacks" "${AUTH[@]}" -X PUT "$BASE/_api/v1/pins/a/$(store_hash "$V3")"
expect_status 200 "retention of a: 1 second" "${AUTH[@]}" -X PATCH -H 'Content-Type: application/json' \
  -d '{"retention_period":{"Period":1}}' "$BASE/_api/v1/cache-config/a"
sleep 2.2
check "gc runs" gc_now
expect_status 404 "v2 (unpinned, expired) is gone from a" "${AUTH[@]}" "$BASE/a/$H2.narinfo"
expect_status 200 "v1 (pinned) survives in a" "${AUTH[@]}" "$BASE/a/$H1.narinfo"
expect_status 200 "v1 in b (default retention: forever) survives" "${AUTH[@]}" "$BASE/b/$H1.narinfo"
new_nix_cache
STORE=$TMP/store-2
check "pinned v1 still substitutes" run_logged subst-v1 substitute_into "$STORE" "$BASE/a" "$KEY_A" "$V1"

say "dry run, then deleting every cache and collecting"
expect_status 200 "delete cache a" "${AUTH[@]}" -X DELETE "$BASE/_api/v1/cache-config/a"
expect_status 200 "delete cache b" "${AUTH[@]}" -X DELETE "$BASE/_api/v1/cache-config/b"
BEFORE_DRY=$(storage_bytes)
check "gc --dry-run" bash -c "'$GARRETD' gc --data-dir '$DATA' --grace 0s --dry-run >'$TMP/dry.out' 2>&1"
expect_match "dry run says what would go" 'would delete [0-9]+ objects, [0-9]+ staged uploads, [1-9][0-9]* NARs' "$(cat "$TMP/dry.out")"
expect_eq "dry run changed nothing" "$BEFORE_DRY" "$(storage_bytes)"
check "gc runs" gc_now
expect_eq "storage is back to its size before the pushes" "$EMPTY" "$(storage_bytes)"
expect_eq "no pack objects left" 0 "$(find "$DATA/storage" -type f -path '*/pack/*' | wc -l)"
expect_eq "fsck: consistent" 0 "$(fsck_rc)"

say "fsck finds corruption and orphans; --repair makes the path uploadable again"
create_cache c "$FULL"
public_key KEY_C c "$FULL"
new_nix_cache
check "nix copy v1 to c" run_logged push-c nix copy --to "$BASE/c?compression=zstd" "$V1"
PACK=$(find "$DATA/storage/pack" -type f | head -n 1)
printf 'garbage!' | dd of="$PACK" bs=1 seek=1000 conv=notrunc status=none
mkdir -p "$DATA/storage/pack/zz" && echo orphan >"$DATA/storage/pack/zz/orphan.pack"
expect_eq "fsck: damaged (exit 4)" 4 "$(fsck_rc)"
expect_contains "fsck names the orphan" "$(cat "$TMP/fsck.out")" "orphan blob pack/zz/orphan.pack"
expect_match "fsck names the bad chunk" 'chunk sha256:[0-9a-z]{52} in pack/' "$(cat "$TMP/fsck.out")"
expect_eq "fsck --repair: repaired (exit 1)" 1 "$(fsck_rc --repair)"
check_not "the orphan is gone" test -e "$DATA/storage/pack/zz/orphan.pack"
expect_eq "fsck after repair: consistent" 0 "$(fsck_rc)"
stop_garretd
start_garretd
expect_status 404 "the damaged path reads as missing" "${AUTH[@]}" "$BASE/c/$H1.narinfo"
new_nix_cache
check "nix copy v1 to c again" run_logged push-c2 nix copy --to "$BASE/c?compression=zstd" "$V1"
new_nix_cache
STORE=$TMP/store-3
check "re-uploaded v1 substitutes" run_logged subst-c substitute_into "$STORE" "$BASE/c" "$KEY_C" "$V1"
check "and is identical" same_tree "$V1" "$STORE$V1"
expect_eq "fsck: consistent" 0 "$(fsck_rc)"

say "the periodic pass inside serve collects on its own"
stop_garretd
GARRET_GARBAGE_COLLECTION_INTERVAL=1s GARRET_GARBAGE_COLLECTION_DEFAULT_RETENTION_PERIOD=1s \
  GARRET_NARINFO_CACHE_TTL=1s GARRET_GC_GRACE_PERIOD=1s start_garretd
check "storage holds v1 before the pass" test "$(storage_bytes)" -gt "$EMPTY"
for _ in $(seq 1 50); do
  [ "$(storage_bytes)" = "$EMPTY" ] && break
  sleep 0.2
done
expect_eq "storage is back to empty without running garretd gc" "$EMPTY" "$(storage_bytes)"
expect_status 404 "the expired path is gone" "${AUTH[@]}" "$BASE/c/$H1.narinfo"
expect_match "the server logged the pass" 'gc: objects=1 ' "$(cat "$GARRETD_LOG")"

finish
