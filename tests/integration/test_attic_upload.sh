#!/usr/bin/env bash
# Attic's upload API, spoken as the attic client speaks it: get-missing-paths,
# then upload-path with the NAR info in the X-Attic-Nar-Info header or as a
# body preamble (X-Attic-Nar-Info-Preamble-Size), the NAR uncompressed. The
# result substitutes with the real nix; a NAR already stored is deduplicated
# across caches only after its bytes were sent; lies are refused.
# shellcheck source=lib.sh disable=SC2154
. "$(dirname "$0")/lib.sh"

start_garretd
setup_nix
token FULL --sub it-attic --pull '*' --push '*' --create-cache '*'
token PULL --sub it-reader --pull main
public_key KEY main "$FULL"

TOP=$(build_closure attic)
[ -n "$TOP" ] || fatal "nix-build failed"
mapfile -t PATHS < <(closure_of "$TOP")


json_eval() { # FILE EXPR: evaluates EXPR over the JSON document d
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null || echo "<invalid>"
}

missing_json() { # CACHE HASH...: the get-missing-paths request body
  local cache=$1
  shift
  python3 -c 'import json,sys; print(json.dumps({"cache": sys.argv[1], "store_path_hashes": sys.argv[2:]}))' "$cache" "$@"
}

HASHES=()
for p in "${PATHS[@]}"; do
  nix-store --dump "$p" >"$TMP/$(store_hash "$p").nar"
  HASHES+=("$(store_hash "$p")")
done

say "get-missing-paths before any upload"
expect_status 200 "POST get-missing-paths" -X POST -H "Authorization: Bearer $FULL" \
  -H 'Content-Type: application/json' -d "$(missing_json main "${HASHES[@]}")" "$BASE/_api/v1/get-missing-paths"
expect_eq "every path is missing" "${#HASHES[@]}" "$(json_eval "$BODY" 'len(d["missing_paths"])')"

say "upload-path, header and preamble forms"
i=0
for p in "${PATHS[@]}"; do
  nar="$TMP/$(store_hash "$p").nar"
  info=$(upload_info "$p" main)
  if [ $((i % 2)) -eq 0 ]; then
    expect_status 200 "upload-path (X-Attic-Nar-Info) $(basename "$p")" -X PUT \
      -H "Authorization: Bearer $FULL" -H "X-Attic-Nar-Info: $info" \
      -H 'Content-Type: application/octet-stream' --data-binary "@$nar" "$BASE/_api/v1/upload-path"
  else
    printf '%s' "$info" >"$TMP/body.bin"
    cat "$nar" >>"$TMP/body.bin"
    expect_status 200 "upload-path (preamble) $(basename "$p")" -X PUT \
      -H "Authorization: Bearer $FULL" -H "X-Attic-Nar-Info-Preamble-Size: ${#info}" \
      -H 'Content-Type: application/octet-stream' --data-binary "@$TMP/body.bin" "$BASE/_api/v1/upload-path"
  fi
  expect_eq "kind of a new upload" "Uploaded" "$(json_eval "$BODY" 'd["kind"]')"
  i=$((i + 1))
done
expect_status 200 "POST get-missing-paths again" -X POST -H "Authorization: Bearer $FULL" \
  -d "$(missing_json main "${HASHES[@]}")" "$BASE/_api/v1/get-missing-paths"
expect_eq "nothing is missing" "0" "$(json_eval "$BODY" 'len(d["missing_paths"])')"

say "nix substitutes what the Attic API uploaded"
use_netrc "$PULL"
check "substitute with signatures required" run_logged subst substitute_into "$TMP/store" "$BASE/main" "$KEY" "$TOP"
check "nix store verify -r" run_logged verify verify_in "$TMP/store" "$KEY" "$TOP"
check "contents equal" same_tree "$TOP" "$TMP/store$TOP"

say "the same NAR in another cache is deduplicated once its bytes are sent"
create_cache other "$FULL" false
LEAF=${PATHS[0]}
BLOBS=$(blob_count)
expect_status 200 "upload-path to the other cache" -X PUT -H "Authorization: Bearer $FULL" \
  -H "X-Attic-Nar-Info: $(upload_info "$LEAF" other)" --data-binary "@$TMP/$(store_hash "$LEAF").nar" \
  "$BASE/_api/v1/upload-path"
expect_eq "kind" "Deduplicated" "$(json_eval "$BODY" 'd["kind"]')"
expect_eq "no new blob" "$BLOBS" "$(blob_count)"

say "lies and bad requests are refused and leave nothing visible"
create_cache lies "$FULL" false
LH=$(store_hash "$LEAF")
LNAR="$TMP/$LH.nar"
expect_status 400 "nar_hash lies" -X PUT -H "Authorization: Bearer $FULL" \
  -H "X-Attic-Nar-Info: $(upload_info "$LEAF" lies "sha256:$(printf '0%.0s' $(seq 64))")" \
  --data-binary "@$LNAR" "$BASE/_api/v1/upload-path"
check_error_body "lying nar_hash" 400 RequestError
expect_status 400 "nar_size lies" -X PUT -H "Authorization: Bearer $FULL" \
  -H "X-Attic-Nar-Info: $(upload_info "$LEAF" lies "" 12)" --data-binary "@$LNAR" "$BASE/_api/v1/upload-path"
head -c 1000 "$LNAR" >"$TMP/short.nar"
expect_status 400 "truncated NAR" -X PUT -H "Authorization: Bearer $FULL" \
  -H "X-Attic-Nar-Info: $(upload_info "$LEAF" lies)" --data-binary "@$TMP/short.nar" "$BASE/_api/v1/upload-path"
expect_status 400 "no NAR info at all" -X PUT -H "Authorization: Bearer $FULL" \
  --data-binary "@$LNAR" "$BASE/_api/v1/upload-path"
expect_status 400 "NAR info that is not JSON" -X PUT -H "Authorization: Bearer $FULL" \
  -H "X-Attic-Nar-Info: {nope" --data-binary "@$LNAR" "$BASE/_api/v1/upload-path"
expect_status 413 "preamble larger than max-nar-info-size" -X PUT -H "Authorization: Bearer $FULL" \
  -H "X-Attic-Nar-Info-Preamble-Size: 2000000" --data-binary "@$LNAR" "$BASE/_api/v1/upload-path"
expect_status '401|403' "a pull-only token cannot upload" -X PUT -H "Authorization: Bearer $PULL" \
  -H "X-Attic-Nar-Info: $(upload_info "$LEAF" main)" --data-binary "@$LNAR" "$BASE/_api/v1/upload-path"
expect_status 401 "no token, no upload" -X PUT \
  -H "X-Attic-Nar-Info: $(upload_info "$LEAF" lies)" --data-binary "@$LNAR" "$BASE/_api/v1/upload-path"
expect_status 200 "get-missing-paths in the lied-to cache" -X POST -H "Authorization: Bearer $FULL" \
  -d "$(missing_json lies "$LH")" "$BASE/_api/v1/get-missing-paths"
expect_eq "still missing there" "1" "$(json_eval "$BODY" 'len(d["missing_paths"])')"
expect_status 400 "get-missing-paths with a bad hash" -X POST -H "Authorization: Bearer $FULL" \
  -d "$(missing_json lies not-a-hash)" "$BASE/_api/v1/get-missing-paths"

finish
