#!/usr/bin/env bash
# Push closures with the real Nix client (zstd and the default xz), substitute
# them into fresh stores with signatures required, and check what the server
# says about them: narinfo fields, NAR headers, Range, HEAD, no Content-Encoding.
# shellcheck source=lib.sh disable=SC2015,SC2119,SC2154
. "$(dirname "$0")/lib.sh"

start_garretd
setup_nix
token TOKEN --sub pusher --pull main --push main
use_netrc "$TOKEN"
public_key KEY main "$TOKEN"
KEY_NAME=${KEY%%:*}
say "cache main has key $KEY_NAME"
AUTH=(-u ":$TOKEN")

# The pusher signs its paths too, so its own narinfo disk cache (which keeps
# the narinfos it uploaded, with its signatures) is usable with require-sigs.
nix-store --generate-binary-cache-key "client-it-$$" "$TMP/client.sk" "$TMP/client.pk" ||
  fatal "cannot generate a client key"
CLIENT_KEY=$(cat "$TMP/client.pk")

say "building two closures"
TOP_Z=$(build_closure zst)
TOP_X=$(build_closure xz)
[ -n "$TOP_Z" ] && [ -n "$TOP_X" ] || fatal "nix-build failed: $(tail -n 5 "$TMP"/build-*.log)"
mapfile -t PATHS_Z < <(closure_of "$TOP_Z")
mapfile -t PATHS_X < <(closure_of "$TOP_X")
expect_eq "zstd closure has 3 paths" 3 "${#PATHS_Z[@]}"
expect_eq "xz closure has 3 paths" 3 "${#PATHS_X[@]}"
nix store sign --key-file "$TMP/client.sk" -r "$TOP_Z" "$TOP_X" >/dev/null 2>&1 || fatal "nix store sign failed"

PUSH_XDG=$XDG_CACHE_HOME
say "pushing with nix copy (zstd, then the default xz)"
check "nix copy --to main?compression=zstd succeeds" \
  run_logged push-zstd nix copy --to "$BASE/main?compression=zstd" "$TOP_Z"
check "nix copy --to main (default xz) succeeds" \
  run_logged push-xz nix copy --to "$BASE/main" "$TOP_X"
expect_match "the server saw a .nar.zst upload" 'method=PUT path=/main/nar/[0-9a-z]{52}\.nar\.zst status=20[014]' "$(cat "$GARRETD_LOG")"
expect_match "the server saw a .nar.xz upload" 'method=PUT path=/main/nar/[0-9a-z]{52}\.nar\.xz status=20[014]' "$(cat "$GARRETD_LOG")"

say "narinfo fields"
for p in "${PATHS_Z[@]}" "${PATHS_X[@]}"; do
  h=$(store_hash "$p")
  n=$(basename "$p" | cut -c34-)
  expect_status 200 "GET narinfo of $n" "${AUTH[@]}" "$BASE/main/$h.narinfo" || continue
  cp "$BODY" "$TMP/$h.narinfo"
  ni="$TMP/$h.narinfo"
  expect_match "$n: Content-Type" '^text/x-nix-narinfo' "$(header Content-Type)"
  expect_eq "$n: StorePath" "$p" "$(narinfo_field "$ni" StorePath)"
  expect_match "$n: URL" '^nar/[0-9a-z]{52}\.nar\.zst$' "$(narinfo_field "$ni" URL)"
  expect_eq "$n: Compression" zstd "$(narinfo_field "$ni" Compression)"
  expect_eq "$n: NarHash" "$(nix-store -q --hash "$p")" "$(narinfo_field "$ni" NarHash)"
  expect_eq "$n: NarSize" "$(nix-store -q --size "$p")" "$(narinfo_field "$ni" NarSize)"
  want_refs=$(nix-store -q --references "$p" | xargs -rn1 basename | sort | tr '\n' ' ' | sed 's/ $//')
  got_refs=$(narinfo_field "$ni" References | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//')
  expect_eq "$n: References" "$want_refs" "$got_refs"
  if grep -q '^References:' "$ni"; then pass "$n: References line present"; else fail "$n: no References line"; fi
  check "$n: Sig by the cache key ($KEY_NAME)" grep -qE "^Sig: $KEY_NAME:[A-Za-z0-9+/]{86}==\$" "$ni"
  expect_eq "$n: every line is 'Key: value'" "" "$(grep -vE '^[A-Za-z]+: ' "$ni" || true)"
  expect_eq "$n: narinfo ends with a newline" "0a" "$(tail -c 1 "$ni" | od -An -tx1 | tr -d ' ')"
done

say "NAR downloads: headers, content, Range, HEAD"
LEAF_Z=$(for p in "${PATHS_Z[@]}"; do [[ $p == *-leaf ]] && echo "$p"; done)
hz=$(store_hash "$LEAF_Z")
URL_Z=$(narinfo_field "$TMP/$hz.narinfo" URL)
FILESIZE_Z=$(narinfo_field "$TMP/$hz.narinfo" FileSize)
if expect_status 200 "GET $URL_Z" "${AUTH[@]}" "$BASE/main/$URL_Z"; then
  cp "$BODY" "$TMP/leaf.nar.zst"
  size=$(stat -c %s "$TMP/leaf.nar.zst")
  expect_eq "NAR Content-Length equals the bytes sent" "$size" "$(header Content-Length)"
  if [ -n "$FILESIZE_Z" ]; then expect_eq "NAR size equals narinfo FileSize" "$FILESIZE_Z" "$size"; fi
  expect_eq "NAR Accept-Ranges" bytes "$(header Accept-Ranges)"
  expect_match "NAR Content-Type" '^application/x-nix-nar' "$(header Content-Type)"
  check_not "no Content-Encoding on NAR GET" has_header Content-Encoding
  expect_eq "NAR is zstd (magic)" "28b52ffd" "$(head -c 4 "$TMP/leaf.nar.zst" | od -An -tx1 | tr -d ' ')"
  zstd -qdc "$TMP/leaf.nar.zst" >"$TMP/leaf.nar" 2>/dev/null || fail "served NAR does not decompress with zstd"
  nix-store --dump "$LEAF_Z" >"$TMP/leaf.nar.local"
  check "served NAR decompresses to the exact NAR of the path" cmp -s "$TMP/leaf.nar" "$TMP/leaf.nar.local"
  want_fh=$(narinfo_field "$TMP/$hz.narinfo" FileHash)
  if [ -n "$want_fh" ]; then
    expect_eq "NAR bytes hash to FileHash" "$want_fh" "sha256:$(nix-hash --type sha256 --flat --base32 "$TMP/leaf.nar.zst")"
  fi

  expect_status 206 "Range bytes=100-1099" "${AUTH[@]}" -H 'Range: bytes=100-1099' "$BASE/main/$URL_Z"
  expect_eq "Range body is 1000 bytes" 1000 "$(stat -c %s "$BODY")"
  check "Range body is bytes 100..1099" cmp -s "$BODY" <(tail -c +101 "$TMP/leaf.nar.zst" | head -c 1000)
  expect_eq "Content-Range" "bytes 100-1099/$size" "$(header Content-Range)"
  expect_eq "Range Content-Length" 1000 "$(header Content-Length)"
  check_not "no Content-Encoding on a 206" has_header Content-Encoding

  expect_status 206 "Range bytes=-64 (suffix)" "${AUTH[@]}" -H 'Range: bytes=-64' "$BASE/main/$URL_Z"
  check "suffix Range body is the last 64 bytes" cmp -s "$BODY" <(tail -c 64 "$TMP/leaf.nar.zst")

  expect_status 206 "Range bytes=$((size - 10))- (open end)" "${AUTH[@]}" -H "Range: bytes=$((size - 10))-" "$BASE/main/$URL_Z"
  check "open-ended Range body is the last 10 bytes" cmp -s "$BODY" <(tail -c 10 "$TMP/leaf.nar.zst")

  expect_status 416 "Range past the end" "${AUTH[@]}" -H "Range: bytes=$((size + 10))-$((size + 20))" "$BASE/main/$URL_Z"

  expect_status 200 "GET NAR with Accept-Encoding: gzip, zstd, br" "${AUTH[@]}" -H 'Accept-Encoding: gzip, deflate, zstd, br' "$BASE/main/$URL_Z"
  check_not "no Content-Encoding even when the client offers encodings" has_header Content-Encoding
  check "body is still the stored file" cmp -s "$BODY" "$TMP/leaf.nar.zst"

  raw_request "$TMP/head.raw" "HEAD /main/$URL_Z HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer $TOKEN\r\nConnection: close\r\n\r\n"
  head_status=$(head -n 1 "$TMP/head.raw" | tr -d '\r')
  expect_match "HEAD NAR status" '^HTTP/1\.1 200' "$head_status"
  head_len=$(python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); i=d.find(b"\r\n\r\n"); print(len(d)-i-4 if i>=0 else -1)' "$TMP/head.raw")
  expect_eq "HEAD answer carries no body" 0 "$head_len"
  head_cl=$(tr -d '\r' <"$TMP/head.raw" | awk -F': ' 'tolower($1)=="content-length"{print $2}')
  expect_eq "HEAD Content-Length equals the GET size" "$size" "$head_cl"
  expect_not_contains "HEAD sends no Content-Encoding" "$(tr '[:upper:]' '[:lower:]' <"$TMP/head.raw")" "content-encoding"

  raw_request "$TMP/head2.raw" "HEAD /main/$hz.narinfo HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer $TOKEN\r\nConnection: close\r\n\r\n"
  expect_match "HEAD narinfo status" '^HTTP/1\.1 200' "$(head -n 1 "$TMP/head2.raw" | tr -d '\r')"
  head_len=$(python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); i=d.find(b"\r\n\r\n"); print(len(d)-i-4 if i>=0 else -1)' "$TMP/head2.raw")
  expect_eq "HEAD narinfo carries no body" 0 "$head_len"
fi
say "PUT with Expect: 100-continue is answered at once"
prepare_nar "$LEAF_Z" expect
EXPECT_NAME="nar/${NAR_FILE_HASH#sha256:}.nar.xz"
: >"$BODY"
out=$(curl -s -o "$BODY" -w '%{http_code} %{time_total}' --max-time 30 --expect100-timeout 5 -X PUT "${AUTH[@]}" \
  -H 'Expect: 100-continue' -H 'Content-Type: application/x-nix-nar' --data-binary "@$TMP/expect.nar.xz" "$BASE/main/$EXPECT_NAME")
expect_match "PUT with Expect: 100-continue succeeds" '^(200|201|204) ' "$out"
if awk -v t="${out#* }" 'BEGIN {exit !(t < 2.5)}'; then pass "no wait for 100 Continue (${out#* } s)"; else fail "PUT with Expect: 100-continue took ${out#* } s (the server does not send 100 Continue)"; fi
expect_status 200 "the NAR uploaded under a new file name is served" -I "${AUTH[@]}" "$BASE/main/$EXPECT_NAME"

expect_status 404 "GET a NAR that does not exist" "${AUTH[@]}" "$BASE/main/nar/0000000000000000000000000000000000000000000000000000.nar.zst"

say "substituting into fresh stores (signatures required)"
new_nix_cache
for kind in Z X; do
  if [ $kind = Z ]; then top=$TOP_Z; paths=("${PATHS_Z[@]}"); else top=$TOP_X; paths=("${PATHS_X[@]}"); fi
  store="$TMP/store-$kind"
  check "nix copy --from main into a fresh store ($kind closure)" \
    run_logged "subst-$kind" substitute_into "$store" "$BASE/main" "$KEY" "$top"
  check "nix store verify -r with only the cache key trusted ($kind)" \
    run_logged "verify-$kind" verify_in "$store" "$KEY" "$top"
  for p in "${paths[@]}"; do
    check "contents equal: $(basename "$p")" same_tree "$p" "$store$p"
  done
done

say "a wrong trusted key refuses the substitution"
new_nix_cache
nix-store --generate-binary-cache-key other-it "$TMP/other.sk" "$TMP/other.pk" || fatal "cannot generate a key"
check_not "nix copy --from with an unrelated trusted key fails" \
  run_quiet subst-wrongkey substitute_into "$TMP/store-wrong" "$BASE/main" "$(cat "$TMP/other.pk")" "$TOP_Z"
check_not "nothing was substituted with the wrong key" test -e "$TMP/store-wrong$TOP_Z"

say "the pusher substitutes back through its own narinfo disk cache"
export XDG_CACHE_HOME=$PUSH_XDG
mapfile -t CLIENT_URLS < <(python3 - "$PUSH_XDG/nix/binary-cache-v6.sqlite" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for (url,) in c.execute("select NARs.url from NARs where present = 1 and url is not null"):
    print(url)
EOF
)
expect_eq "the pusher's disk cache holds the 6 narinfos it uploaded" 6 "${#CLIENT_URLS[@]}"
xz_urls=0
for u in "${CLIENT_URLS[@]}"; do
  [[ $u == *.nar.xz ]] && xz_urls=$((xz_urls + 1))
  if expect_status 200 "GET the client's own file name $u" "${AUTH[@]}" "$BASE/main/$u"; then
    check_not "no Content-Encoding on $u" has_header Content-Encoding
  fi
done
expect_eq "three of them are the client's .nar.xz names" 3 "$xz_urls"
for kind in Z X; do
  if [ $kind = Z ]; then top=$TOP_Z; paths=("${PATHS_Z[@]}"); else top=$TOP_X; paths=("${PATHS_X[@]}"); fi
  store="$TMP/store-pusher-$kind"
  check "pusher: nix copy --from main into a fresh store ($kind)" \
    run_logged "subst-pusher-$kind" nix copy --from "$BASE/main" --store "$store" \
    --option trusted-public-keys "$KEY $CLIENT_KEY" "$top"
  check "pusher: verify -r ($kind)" run_logged "verify-pusher-$kind" \
    verify_in "$store" "$KEY $CLIENT_KEY" "$top"
  for p in "${paths[@]}"; do
    check "pusher: contents equal: $(basename "$p")" same_tree "$p" "$store$p"
  done
done

finish
