#!/usr/bin/env bash
# Attic cache-config API: create, read, duplicate, patch, retention permission,
# invalid JSON, delete; a public cache is readable anonymously but not writable.
# shellcheck source=lib.sh disable=SC2015,SC2119,SC2154
. "$(dirname "$0")/lib.sh"

start_garretd
setup_nix
token ADMIN --sub it-admin --create-cache '*' --pull '*' --push '*' --configure-cache '*' --destroy-cache '*'
token RET --sub it-ret --pull '*' --configure-cache '*' --configure-cache-retention '*'
token PULLALL --sub it-pull --pull '*'
token NOTHING --sub it-nothing --pull 'unrelated-*'
API="$BASE/_api/v1/cache-config"
A=(-H "Authorization: Bearer $ADMIN")
J=(-H 'Content-Type: application/json')
create_body() { # IS_PUBLIC [KEYPAIR-JSON]
  printf '{"keypair":%s,"is_public":%s,"store_dir":"/nix/store","priority":41,"upstream_cache_key_names":[]}' \
    "${2:-\"Generate\"}" "$1"
}

say "create"
expect_status 200 "POST create pub1 (public)" -X POST "${A[@]}" "${J[@]}" --data "$(create_body true)" "$API/pub1"
expect_status 200 "POST create priv1 (private)" -X POST "${A[@]}" "${J[@]}" --data "$(create_body false)" "$API/priv1"
expect_status 403 "POST create with a pull-only token" -X POST -H "Authorization: Bearer $PULLALL" "${J[@]}" \
  --data "$(create_body false)" "$API/made-by-puller"
expect_status 401 "POST create with a token that grants nothing on the name" -X POST -H "Authorization: Bearer $NOTHING" \
  "${J[@]}" --data "$(create_body false)" "$API/made-by-nobody"
expect_status 401 "POST create without a token" -X POST "${J[@]}" --data "$(create_body false)" "$API/made-by-anon"
expect_status 404 "the refused creation did not happen" "${A[@]}" "$API/made-by-puller"

say "GET shape"
for c in pub1 priv1; do
  expect_status 200 "GET cache-config/$c" "${A[@]}" "$API/$c" || continue
  cp "$BODY" "$TMP/$c.json"
  expect_match "$c: Content-Type is JSON" '^application/json' "$(header Content-Type)"
  pk=$(json_get "$BODY" public_key)
  expect_match "$c: public_key is name:base64" '^[A-Za-z0-9._+-]+:[A-Za-z0-9+/]{43}=$' "$pk"
  expect_eq "$c: public key is 32 bytes" 32 "$(printf '%s' "${pk#*:}" | base64 -d 2>/dev/null | wc -c)"
  expect_contains "$c: key name mentions the cache" "${pk%%:*}" "$c"
  expect_eq "$c: store_dir" /nix/store "$(json_get "$BODY" store_dir)"
  expect_eq "$c: priority" 41 "$(json_get "$BODY" priority)"
  expect_eq "$c: upstream_cache_key_names" '[]' "$(json_get "$BODY" upstream_cache_key_names)"
  expect_eq "$c: retention_period" Global "$(json_get "$BODY" retention_period)"
  expect_match "$c: substituter_endpoint" "^http://127\.0\.0\.1:$PORT/+$c/?\$" "$(json_get "$BODY" substituter_endpoint)"
  expect_match "$c: api_endpoint" "^http://127\.0\.0\.1:$PORT/" "$(json_get "$BODY" api_endpoint)"
  expect_eq "$c: keypair is never returned" '<missing>' "$(json_get "$BODY" keypair)"
  check_not "$c: no secret key material in the answer" grep -qiE 'secret|private' "$BODY"
done
expect_eq "pub1: is_public" true "$(json_get "$TMP/pub1.json" is_public)"
expect_eq "priv1: is_public" false "$(json_get "$TMP/priv1.json" is_public)"
expect_ne "the two caches have different keys" "$(json_get "$TMP/pub1.json" public_key)" "$(json_get "$TMP/priv1.json" public_key)"
expect_status 200 "GET pub1/attic-cache-info" "${A[@]}" "$BASE/pub1/attic-cache-info"
expect_eq "attic-cache-info has the same public_key" "$(json_get "$TMP/pub1.json" public_key)" "$(json_get "$BODY" public_key)"
expect_status 200 "GET pub1/nix-cache-info" "${A[@]}" "$BASE/pub1/nix-cache-info"
expect_contains "nix-cache-info StoreDir" "$(cat "$BODY")" "StoreDir: /nix/store"
expect_contains "nix-cache-info Priority" "$(cat "$BODY")" "Priority: 41"

say "import a keypair"
nix-store --generate-binary-cache-key "imported-it-key" "$TMP/imp.sk" "$TMP/imp.pk" || fatal "key generation failed"
expect_status 200 "POST create imp with a given keypair" -X POST "${A[@]}" "${J[@]}" \
  --data "$(create_body false "{\"Keypair\":\"$(cat "$TMP/imp.sk")\"}")" "$API/imp"
expect_status 200 "GET cache-config/imp" "${A[@]}" "$API/imp"
expect_eq "imp: public_key is the imported key's" "$(cat "$TMP/imp.pk")" "$(json_get "$BODY" public_key)"

say "duplicates and bad requests"
expect_status 400 "duplicate POST pub1" -X POST "${A[@]}" "${J[@]}" --data "$(create_body true)" "$API/pub1"
check_error_body "duplicate" 400 CacheAlreadyExists
expect_status 400 "POST with invalid JSON" -X POST "${A[@]}" "${J[@]}" --data '{"keypair": "Generate", "is_public": tru' "$API/badjson"
check_error_body "invalid JSON" 400
expect_status 400 "POST with a missing field" -X POST "${A[@]}" "${J[@]}" \
  --data '{"keypair":"Generate","is_public":false,"priority":41,"upstream_cache_key_names":[]}' "$API/missingfield"
check_error_body "missing field" 400
expect_status 400 "POST with a wrongly typed field" -X POST "${A[@]}" "${J[@]}" \
  --data '{"keypair":"Generate","is_public":"yes","store_dir":"/nix/store","priority":41,"upstream_cache_key_names":[]}' "$API/wrongtype"
expect_status 400 "POST with an invalid keypair" -X POST "${A[@]}" "${J[@]}" \
  --data "$(create_body false '{"Keypair":"nope:AAAA"}')" "$API/badkey"
expect_status 400 "POST with an empty body" -X POST "${A[@]}" "${J[@]}" "$API/emptybody"
expect_status '400|404' "POST with an invalid cache name" -X POST "${A[@]}" "${J[@]}" --data "$(create_body false)" "$API/-bad.name"
expect_status 400 "PATCH with invalid JSON" -X PATCH "${A[@]}" "${J[@]}" --data 'not json' "$API/pub1"
check_error_body "PATCH invalid JSON" 400
expect_status 400 "PATCH with nothing settable" -X PATCH "${A[@]}" "${J[@]}" --data '{}' "$API/pub1"
for c in badjson missingfield wrongtype badkey emptybody; do
  expect_status 404 "no cache $c was created" "${A[@]}" "$API/$c"
done

say "PATCH"
expect_status 200 "PATCH pub1 is_public=false, priority=50" -X PATCH "${A[@]}" "${J[@]}" \
  --data '{"is_public":false,"priority":50}' "$API/pub1"
expect_status 200 "GET pub1 after PATCH" "${A[@]}" "$API/pub1"
expect_eq "is_public now false" false "$(json_get "$BODY" is_public)"
expect_eq "priority now 50" 50 "$(json_get "$BODY" priority)"
expect_eq "public_key unchanged" "$(json_get "$TMP/pub1.json" public_key)" "$(json_get "$BODY" public_key)"
expect_eq "store_dir unchanged" /nix/store "$(json_get "$BODY" store_dir)"
expect_status 200 "GET pub1/nix-cache-info" "${A[@]}" "$BASE/pub1/nix-cache-info"
expect_contains "nix-cache-info shows Priority 50" "$(cat "$BODY")" "Priority: 50"
expect_status 401 "pub1 is private now: anonymous nix-cache-info" "$BASE/pub1/nix-cache-info"
expect_status 200 "PATCH pub1 back to public" -X PATCH "${A[@]}" "${J[@]}" --data '{"is_public":true}' "$API/pub1"
expect_status 200 "pub1 public again: anonymous nix-cache-info" "$BASE/pub1/nix-cache-info"
expect_status 403 "PATCH with a pull-only token" -X PATCH -H "Authorization: Bearer $PULLALL" "${J[@]}" \
  --data '{"priority":60}' "$API/pub1"

say "retention needs configure-cache-retention"
expect_status 403 "PATCH retention_period without the retention permission" -X PATCH "${A[@]}" "${J[@]}" \
  --data '{"retention_period":{"Period":3600}}' "$API/priv1"
check_error_body "retention without permission" 403 AccessError
expect_status 403 "PATCH priority + retention_period without the retention permission" -X PATCH "${A[@]}" "${J[@]}" \
  --data '{"priority":77,"retention_period":{"Period":3600}}' "$API/priv1"
expect_status 200 "GET priv1" "${A[@]}" "$API/priv1"
expect_eq "retention unchanged" Global "$(json_get "$BODY" retention_period)"
expect_eq "priority unchanged by the refused PATCH" 41 "$(json_get "$BODY" priority)"
expect_status 200 "PATCH retention_period with the retention permission" -X PATCH -H "Authorization: Bearer $RET" "${J[@]}" \
  --data '{"retention_period":{"Period":3600}}' "$API/priv1"
expect_status 200 "GET priv1" "${A[@]}" "$API/priv1"
expect_eq "retention_period is 3600 s" '{"Period":3600}' "$(json_get "$BODY" retention_period)"
expect_status 200 "PATCH retention_period back to Global" -X PATCH -H "Authorization: Bearer $RET" "${J[@]}" \
  --data '{"retention_period":"Global"}' "$API/priv1"
expect_status 200 "GET priv1" "${A[@]}" "$API/priv1"
expect_eq "retention_period is Global" Global "$(json_get "$BODY" retention_period)"

say "a public cache: readable without a token, not writable"
expect_status 200 "POST create pub2 (public)" -X POST "${A[@]}" "${J[@]}" --data "$(create_body true)" "$API/pub2"
public_key KEY2 pub2 "$ADMIN"
TOP=$(build_closure public)
[ -n "$TOP" ] || fatal "nix-build failed"
use_netrc "$ADMIN"
check "push to pub2 with a token" run_logged push-pub2 nix copy --to "$BASE/pub2" "$TOP"
H=$(store_hash "$TOP")
expect_status 200 "anonymous GET pub2/nix-cache-info" "$BASE/pub2/nix-cache-info"
expect_status 200 "anonymous GET narinfo" "$BASE/pub2/$H.narinfo"
URL=$(narinfo_field "$BODY" URL)
expect_status 200 "anonymous GET NAR" "$BASE/pub2/$URL"
expect_status 200 "anonymous GET cache-config/pub2" "$API/pub2"
expect_eq "anonymous cache-config shows the key" "$KEY2" "$(json_get "$BODY" public_key)"
new_nix_cache
no_netrc
check "anonymous nix copy --from pub2" run_logged subst-anon substitute_into "$TMP/store-anon" "$BASE/pub2" "$KEY2" "$TOP"
check "contents equal" same_tree "$TOP" "$TMP/store-anon$TOP"
OTHER=$(build_closure public-unpushed)
B0=$(blob_count)
check_not "anonymous nix copy --to pub2 fails" run_quiet push-anon nix copy --to "$BASE/pub2" "$OTHER"
expect_eq "nothing written by the anonymous push" "$B0" "$(blob_count)"
expect_status 404 "the anonymous push left no narinfo" "${A[@]}" "$BASE/pub2/$(store_hash "$OTHER").narinfo"
prepare_nar "$OTHER" other
expect_status '401|403' "anonymous PUT NAR to pub2" -X PUT --data-binary "@$TMP/other.nar.xz" \
  "$BASE/pub2/nar/${NAR_FILE_HASH#sha256:}.nar.xz"
narinfo_text "$OTHER" "nar/${NAR_FILE_HASH#sha256:}.nar.xz" "$NAR_FILE_HASH" "$NAR_FILE_SIZE" "$NAR_HASH" "$NAR_SIZE" >"$TMP/other.narinfo"
expect_status '401|403' "anonymous PUT narinfo to pub2" -X PUT --data-binary "@$TMP/other.narinfo" \
  "$BASE/pub2/$(store_hash "$OTHER").narinfo"
expect_status 403 "PUT NAR to pub2 with a token granting nothing there" -X PUT -H "Authorization: Bearer $NOTHING" \
  --data-binary "@$TMP/other.nar.xz" "$BASE/pub2/nar/${NAR_FILE_HASH#sha256:}.nar.xz"
expect_status '401|403' "anonymous PATCH pub2" -X PATCH "${J[@]}" --data '{"priority":1}' "$API/pub2"
expect_status '401|403' "anonymous DELETE pub2" -X DELETE "$API/pub2"
expect_eq "nothing written by the refused PUTs" "$B0" "$(blob_count)"
expect_status 200 "pub2 still there" "${A[@]}" "$API/pub2"
expect_eq "pub2 priority unchanged" 41 "$(json_get "$BODY" priority)"

say "DELETE"
expect_status 403 "DELETE priv1 without destroy permission" -X DELETE -H "Authorization: Bearer $RET" "$API/priv1"
expect_status 200 "priv1 still exists" "${A[@]}" "$API/priv1"
expect_status 200 "DELETE priv1" -X DELETE "${A[@]}" "$API/priv1"
expect_status '404|401' "GET cache-config/priv1 after DELETE" "${A[@]}" "$API/priv1"
expect_status '404|401' "GET priv1/nix-cache-info after DELETE" "${A[@]}" "$BASE/priv1/nix-cache-info"
expect_status 200 "DELETE pub2 (holding a closure)" -X DELETE "${A[@]}" "$API/pub2"
expect_status '404|401' "anonymous GET pub2/nix-cache-info after DELETE" "$BASE/pub2/nix-cache-info"
expect_status '404|401' "anonymous GET pub2 narinfo after DELETE" "$BASE/pub2/$H.narinfo"
expect_status '404|401' "GET pub2 NAR after DELETE" "${A[@]}" "$BASE/pub2/$URL"
expect_status '404|401' "DELETE priv1 again" -X DELETE "${A[@]}" "$API/priv1"
expect_status 200 "pub1 is unaffected" "${A[@]}" "$API/pub1"

finish
