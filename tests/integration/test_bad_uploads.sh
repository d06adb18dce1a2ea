#!/usr/bin/env bash
# Uploads that must be refused even with a good token: NARs that do not hash
# to their name or are truncated, lying or malformed narinfos, narinfos for
# NARs never uploaded, and path traversal attempts.
# shellcheck source=lib.sh disable=SC2015,SC2119,SC2154
. "$(dirname "$0")/lib.sh"

start_garretd
setup_nix
token T --sub it-uploader --pull main --push main
public_key KEY main "$T"
AUTH=(-H "Authorization: Bearer $T")

TOP=$(build_closure bad)
[ -n "$TOP" ] || fatal "nix-build failed"
for p in $(closure_of "$TOP"); do
  case $p in
    *-leaf) LEAF=$p ;;
    *-mid) MID=$p ;;
  esac
done
LEAF_HASH=$(store_hash "$LEAF")
MID_HASH=$(store_hash "$MID")
TOP_HASH=$(store_hash "$TOP")

prepare_nar "$MID" mid
MID_FH=$NAR_FILE_HASH MID_NARHASH=$NAR_HASH
prepare_nar "$TOP" top
TOP_FH=$NAR_FILE_HASH TOP_FS=$NAR_FILE_SIZE TOP_NARHASH=$NAR_HASH TOP_NARSIZE=$NAR_SIZE
prepare_nar "$LEAF" leaf
LEAF_NAME="nar/${NAR_FILE_HASH#sha256:}.nar.xz"

put_nar() { # DESC EXPECTED FILE NAME
  expect_status "$2" "$1" -X PUT "${AUTH[@]}" -H 'Content-Type: application/x-nix-nar' \
    --data-binary "@$3" "$BASE/main/$4"
}
put_narinfo() { # DESC EXPECTED FILE HASH
  expect_status "$2" "$1" -X PUT "${AUTH[@]}" -H 'Content-Type: text/x-nix-narinfo' \
    --data-binary "@$3" "$BASE/main/$4.narinfo"
}
still_missing() { # NAME: the NAR file is not served
  expect_status 404 "nar $1 is not served" -I "${AUTH[@]}" "$BASE/main/$1"
}

say "NARs whose bytes do not match their name"
B0=$(blob_count)
TAMPERED_NAME="nar/${MID_FH#sha256:}.nar.xz"
put_nar "valid xz NAR under another file's hash" 400 "$TMP/leaf.nar.xz" "$TAMPERED_NAME"
check_error_body "tampered NAR" 400
still_missing "$TAMPERED_NAME"

head -c $((NAR_SIZE / 2)) "$TMP/leaf.nar" | xz -c -T1 >"$TMP/trunc.nar.xz"
TRUNC_NAME="nar/$(nix-hash --type sha256 --flat --base32 "$TMP/trunc.nar.xz").nar.xz"
put_nar "truncated NAR named by its own file hash" 400 "$TMP/trunc.nar.xz" "$TRUNC_NAME"
check_error_body "truncated NAR" 400
still_missing "$TRUNC_NAME"

head -c 5000 /dev/urandom | xz -c -T1 >"$TMP/notnar.xz"
NOTNAR_NAME="nar/$(nix-hash --type sha256 --flat --base32 "$TMP/notnar.xz").nar.xz"
put_nar "xz of random bytes (not a NAR)" 400 "$TMP/notnar.xz" "$NOTNAR_NAME"
still_missing "$NOTNAR_NAME"

head -c 5000 /dev/urandom >"$TMP/garbage.xz"
GARBAGE_NAME="nar/$(nix-hash --type sha256 --flat --base32 "$TMP/garbage.xz").nar.xz"
put_nar "random bytes that are not xz" 400 "$TMP/garbage.xz" "$GARBAGE_NAME"
still_missing "$GARBAGE_NAME"

{ head -c $(($(stat -c %s "$TMP/leaf.nar.xz") - 100)) "$TMP/leaf.nar.xz"; } >"$TMP/cut.nar.xz"
CUT_NAME="nar/$(nix-hash --type sha256 --flat --base32 "$TMP/cut.nar.xz").nar.xz"
put_nar "xz stream cut short" 400 "$TMP/cut.nar.xz" "$CUT_NAME"
still_missing "$CUT_NAME"

{ cat "$TMP/leaf.nar"; printf 'trailing-junk-after-the-nar'; } | xz -c -T1 >"$TMP/trailing.nar.xz"
TRAILING_NAME="nar/$(nix-hash --type sha256 --flat --base32 "$TMP/trailing.nar.xz").nar.xz"
put_nar "NAR followed by trailing bytes" 400 "$TMP/trailing.nar.xz" "$TRAILING_NAME"
still_missing "$TRAILING_NAME"

put_nar "NAR name that is not a hash" 400 "$TMP/leaf.nar.xz" "nar/not-a-hash.nar.xz"
expect_eq "no blob written by any refused NAR" "$B0" "$(blob_count)"

say "a correct NAR, then narinfos that lie about it"
put_nar "correct leaf NAR" '200|201|204' "$TMP/leaf.nar.xz" "$LEAF_NAME"
B1=$(blob_count)
narinfo_text "$LEAF" "$LEAF_NAME" "$NAR_FILE_HASH" "$NAR_FILE_SIZE" "$NAR_HASH" "$NAR_SIZE" >"$TMP/good.narinfo"

narinfo_text "$LEAF" "$LEAF_NAME" "$NAR_FILE_HASH" "$NAR_FILE_SIZE" "$MID_NARHASH" "$NAR_SIZE" >"$TMP/lie-hash.narinfo"
put_narinfo "narinfo whose NarHash lies" 400 "$TMP/lie-hash.narinfo" "$LEAF_HASH"
check_error_body "lying NarHash" 400

narinfo_text "$LEAF" "$LEAF_NAME" "$NAR_FILE_HASH" "$NAR_FILE_SIZE" "$NAR_HASH" "$((NAR_SIZE + 8))" >"$TMP/lie-size.narinfo"
put_narinfo "narinfo whose NarSize lies" 400 "$TMP/lie-size.narinfo" "$LEAF_HASH"
check_error_body "lying NarSize" 400

narinfo_text "$LEAF" "$LEAF_NAME" "$MID_FH" "$NAR_FILE_SIZE" "$NAR_HASH" "$NAR_SIZE" >"$TMP/lie-fh.narinfo"
put_narinfo "narinfo whose FileHash contradicts its URL" 400 "$TMP/lie-fh.narinfo" "$LEAF_HASH"

grep -v '^NarHash:' "$TMP/good.narinfo" >"$TMP/no-narhash.narinfo"
put_narinfo "narinfo without NarHash" 400 "$TMP/no-narhash.narinfo" "$LEAF_HASH"
check_error_body "missing NarHash" 400

grep -v '^StorePath:' "$TMP/good.narinfo" >"$TMP/no-storepath.narinfo"
put_narinfo "narinfo without StorePath" 400 "$TMP/no-storepath.narinfo" "$LEAF_HASH"

sed 's/^NarSize: .*/NarSize: 0/' "$TMP/good.narinfo" >"$TMP/zero-size.narinfo"
put_narinfo "narinfo with NarSize 0" 400 "$TMP/zero-size.narinfo" "$LEAF_HASH"

sed 's/^NarHash: .*/NarHash: sha256:not-a-hash/' "$TMP/good.narinfo" >"$TMP/bad-hash-syntax.narinfo"
put_narinfo "narinfo with an unparsable NarHash" 400 "$TMP/bad-hash-syntax.narinfo" "$LEAF_HASH"

head -c 3000 /dev/urandom >"$TMP/garbage.narinfo"
put_narinfo "garbage narinfo (random bytes)" 400 "$TMP/garbage.narinfo" "$LEAF_HASH"
check_error_body "garbage narinfo" 400
printf 'hello world\nthis is not a narinfo\n' >"$TMP/text.narinfo"
put_narinfo "garbage narinfo (text)" 400 "$TMP/text.narinfo" "$LEAF_HASH"

put_narinfo "StorePath hash not matching the URL" 400 "$TMP/good.narinfo" "$MID_HASH"
check_error_body "mismatched StorePath" 400

sed "s|^StorePath: /nix/store/|StorePath: /gnu/store/|" "$TMP/good.narinfo" >"$TMP/other-store.narinfo"
put_narinfo "StorePath in another store dir" 400 "$TMP/other-store.narinfo" "$LEAF_HASH"

sed 's/^References:.*/References: ..\/..\/etc-passwd/' "$TMP/good.narinfo" >"$TMP/bad-ref.narinfo"
put_narinfo "References with an invalid name" 400 "$TMP/bad-ref.narinfo" "$LEAF_HASH"

put_narinfo "narinfo at a name that is not a store hash" 400 "$TMP/good.narinfo" "not-a-valid-hash"

say "a narinfo pointing at a NAR that was never uploaded"
TOP_NAME="nar/${TOP_FH#sha256:}.nar.xz"
narinfo_text "$TOP" "$TOP_NAME" "$TOP_FH" "$TOP_FS" "$TOP_NARHASH" "$TOP_NARSIZE" >"$TMP/top.narinfo"
put_narinfo "narinfo whose NAR was never uploaded" 400 "$TMP/top.narinfo" "$TOP_HASH"
check_error_body "missing NAR" 400
expect_status 404 "the top path is still missing" "${AUTH[@]}" "$BASE/main/$TOP_HASH.narinfo"

say "path traversal attempts"
traversal() { # DESC CURL-ARGS...
  local desc=$1
  shift
  STATUS=$(http "$@")
  if [[ $STATUS =~ ^(400|404)$ ]]; then pass "$desc -> $STATUS"; else fail "$desc: expected 400 or 404, got $STATUS"; fi
  if grep -q 'root:' "$BODY"; then fail "$desc: the answer contains /etc/passwd"; fi
}
traversal "GET /main/../etc/passwd (raw)" --path-as-is "${AUTH[@]}" "$BASE/main/../etc/passwd"
traversal "GET /main/../../../../etc/passwd (raw)" --path-as-is "${AUTH[@]}" "$BASE/main/../../../../etc/passwd"
traversal "GET /main/nar/..%2f..%2fx" --path-as-is "${AUTH[@]}" "$BASE/main/nar/..%2f..%2fx"
traversal "GET /main/nar/..%2f..%2f..%2fjwt-secret" --path-as-is "${AUTH[@]}" "$BASE/main/nar/..%2f..%2f..%2fjwt-secret"
traversal "GET /main/nar/%2e%2e/%2e%2e/garret.db" --path-as-is "${AUTH[@]}" "$BASE/main/nar/%2e%2e/%2e%2e/garret.db"
traversal "GET /%2e%2e/main/nix-cache-info" --path-as-is "${AUTH[@]}" "$BASE/%2e%2e/main/nix-cache-info"
traversal "GET /main/nar/../../jwt-secret (raw)" --path-as-is "${AUTH[@]}" "$BASE/main/nar/../../jwt-secret"
traversal "GET /main/nar/%00.nar.xz" --path-as-is "${AUTH[@]}" "$BASE/main/nar/%00.nar.xz"
traversal "PUT /main/nar/..%2f..%2f..%2fevil.nar.xz" --path-as-is -X PUT "${AUTH[@]}" \
  --data-binary "@$TMP/leaf.nar.xz" "$BASE/main/nar/..%2f..%2f..%2fevil.nar.xz"
traversal "PUT /main/../evil.narinfo (raw)" --path-as-is -X PUT "${AUTH[@]}" \
  --data-binary "@$TMP/good.narinfo" "$BASE/main/../evil.narinfo"
raw_request "$TMP/raw-traversal" "GET /main/nar/../../../../../../etc/passwd HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $T\r\nConnection: close\r\n\r\n"
expect_match "raw GET with ../ segments" '^HTTP/1\.1 (400|404)' "$(head -n 1 "$TMP/raw-traversal")"
raw_request "$TMP/raw-absolute" "GET http://127.0.0.1/../../etc/passwd HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $T\r\nConnection: close\r\n\r\n"
expect_match "raw GET with an absolute URI and ../" '^HTTP/1\.1 (400|404)' "$(head -n 1 "$TMP/raw-absolute")"
check_not "no answer contained /etc/passwd" grep -q 'root:' "$TMP/raw-traversal" "$TMP/raw-absolute"
found=$(find "$TMP" / -xdev -maxdepth 3 \( -name 'evil.nar*' -o -name 'evil.narinfo' \) 2>/dev/null | head -n 3)
expect_eq "no file named evil.nar* was created" "" "$found"
expect_eq "no blob written since the correct NAR" "$B1" "$(blob_count)"

say "after all of it, the leaf is still missing"
expect_status 404 "leaf narinfo GET" "${AUTH[@]}" "$BASE/main/$LEAF_HASH.narinfo"
check_error_body "missing narinfo" 404
expect_status 404 "mid narinfo GET" "${AUTH[@]}" "$BASE/main/$MID_HASH.narinfo"
new_nix_cache
use_netrc "$T"
check_not "nix cannot substitute the leaf" run_quiet subst-none substitute_into "$TMP/store-none" "$BASE/main" "$KEY" "$LEAF"

say "control: the correct narinfo is accepted"
put_narinfo "correct narinfo for the leaf" '200|201|204' "$TMP/good.narinfo" "$LEAF_HASH"
expect_status 200 "leaf narinfo GET" "${AUTH[@]}" "$BASE/main/$LEAF_HASH.narinfo"
expect_eq "served NarHash" "$NAR_HASH" "$(narinfo_field "$BODY" NarHash)"
new_nix_cache
check "nix substitutes the leaf" run_logged subst-leaf substitute_into "$TMP/store-leaf" "$BASE/main" "$KEY" "$LEAF"
check "contents equal" same_tree "$LEAF" "$TMP/store-leaf$LEAF"

finish
