#!/usr/bin/env bash
# The default cache is private: nothing can be read or written without a
# token, and a pull-only token cannot write. Refusals are logged with a reason.
# shellcheck source=lib.sh disable=SC2015,SC2119,SC2154
. "$(dirname "$0")/lib.sh"

start_garretd
setup_nix
token FULL --sub it-writer --pull main --push main
token PULL --sub it-reader --pull main
public_key KEY main "$FULL"

TOP=$(build_closure priv)
OTHER=$(build_closure unpushed)
[ -n "$TOP" ] && [ -n "$OTHER" ] || fatal "nix-build failed"
TOP_HASH=$(store_hash "$TOP")
BLOBS0=$(blob_count)

say "anonymous reads are refused"
expect_status 401 "GET nix-cache-info without a token" "$BASE/main/nix-cache-info"
check_error_body "anonymous nix-cache-info" 401 Unauthorized
expect_status 401 "GET narinfo without a token" "$BASE/main/$TOP_HASH.narinfo"
expect_status 401 "HEAD narinfo without a token" -I "$BASE/main/$TOP_HASH.narinfo"
expect_status 401 "GET a NAR without a token" "$BASE/main/nar/0000000000000000000000000000000000000000000000000000.nar.xz"
expect_status 401 "GET cache-config without a token" "$BASE/_api/v1/cache-config/main"
expect_status 401 "GET nix-cache-info with a garbage Bearer token" -H 'Authorization: Bearer not.a.jwt' "$BASE/main/nix-cache-info"
expect_status 401 "GET nix-cache-info with a garbage Basic password" -u ':garbage' "$BASE/main/nix-cache-info"
expect_status 401 "GET nix-cache-info with an empty Bearer token" -H 'Authorization: Bearer ' "$BASE/main/nix-cache-info"

say "nix copy --to without a token fails and writes nothing"
no_netrc
check_not "nix copy --to main without a token fails" run_quiet push-anon nix copy --to "$BASE/main" "$TOP"
expect_eq "no blob was stored" "$BLOBS0" "$(blob_count)"
expect_status 404 "narinfo still missing (asked with a good token)" -H "Authorization: Bearer $FULL" "$BASE/main/$TOP_HASH.narinfo"

say "nix copy --to with a pull-only token fails and writes nothing"
new_nix_cache
use_netrc "$PULL"
check_not "nix copy --to main with a pull-only token fails" run_quiet push-pull nix copy --to "$BASE/main" "$TOP"
expect_eq "no blob was stored" "$BLOBS0" "$(blob_count)"
expect_status 404 "narinfo still missing" -H "Authorization: Bearer $FULL" "$BASE/main/$TOP_HASH.narinfo"

say "a push token works (control)"
new_nix_cache
use_netrc "$FULL"
check "nix copy --to main with a push token succeeds" run_logged push-full nix copy --to "$BASE/main" "$TOP"
expect_status 200 "narinfo present after the push" -H "Authorization: Bearer $FULL" "$BASE/main/$TOP_HASH.narinfo"
BLOBS1=$(blob_count)
if [ "$BLOBS1" -gt "$BLOBS0" ]; then pass "the push stored blobs ($BLOBS0 -> $BLOBS1)"; else fail "the push stored no blob ($BLOBS0 -> $BLOBS1)"; fi
NAR_URL=$(curl -s --max-time 10 -H "Authorization: Bearer $FULL" "$BASE/main/$TOP_HASH.narinfo" | sed -n 's/^URL: //p')

say "nix copy --from without a token cannot substitute"
new_nix_cache
no_netrc
check_not "nix copy --from main without a token fails" \
  run_quiet subst-anon substitute_into "$TMP/store-anon" "$BASE/main" "$KEY" "$TOP"
check_not "the path is not in the fresh store" test -e "$TMP/store-anon$TOP"
expect_status 401 "GET the pushed narinfo without a token" "$BASE/main/$TOP_HASH.narinfo"
expect_status 401 "GET the pushed NAR without a token" "$BASE/main/$NAR_URL"
expect_status 401 "GET the pushed NAR with a garbage token" -u ':x.y.z' "$BASE/main/$NAR_URL"

new_nix_cache
use_netrc "garbage-token"
check_not "nix copy --from main with a garbage netrc token fails" \
  run_quiet subst-garbage substitute_into "$TMP/store-garbage" "$BASE/main" "$KEY" "$TOP"
check_not "the path is not in that store" test -e "$TMP/store-garbage$TOP"

say "a pull-only token can substitute (control)"
new_nix_cache
use_netrc "$PULL"
check "nix copy --from main with a pull token succeeds" \
  run_logged subst-pull substitute_into "$TMP/store-pull" "$BASE/main" "$KEY" "$TOP"
check "verify -r" run_logged verify-pull verify_in "$TMP/store-pull" "$KEY" "$TOP"
check "contents equal" same_tree "$TOP" "$TMP/store-pull$TOP"

say "curl PUTs without a token or with a pull-only token are refused"
OTHER_HASH=$(store_hash "$OTHER")
prepare_nar "$OTHER" other
NAR_NAME="nar/${NAR_FILE_HASH#sha256:}.nar.xz"
narinfo_text "$OTHER" "$NAR_NAME" "$NAR_FILE_HASH" "$NAR_FILE_SIZE" "$NAR_HASH" "$NAR_SIZE" >"$TMP/other.narinfo"
BLOBS1=$(blob_count)
expect_status 401 "PUT NAR without a token" -X PUT -H 'Content-Type: application/x-nix-nar' \
  --data-binary "@$TMP/other.nar.xz" "$BASE/main/$NAR_NAME"
check_error_body "anonymous PUT" 401
expect_status 401 "PUT narinfo without a token" -X PUT -H 'Content-Type: text/x-nix-narinfo' \
  --data-binary "@$TMP/other.narinfo" "$BASE/main/$OTHER_HASH.narinfo"
expect_status 401 "PUT nix-cache-info without a token" -X PUT -H 'Content-Type: text/x-nix-cache-info' \
  --data-binary 'StoreDir: /nix/store' "$BASE/main/nix-cache-info"
expect_status 401 "PUT NAR with a garbage Basic token" -X PUT -u ':garbage' \
  --data-binary "@$TMP/other.nar.xz" "$BASE/main/$NAR_NAME"
expect_status 403 "PUT NAR with a pull-only token" -X PUT -H "Authorization: Bearer $PULL" \
  -H 'Content-Type: application/x-nix-nar' --data-binary "@$TMP/other.nar.xz" "$BASE/main/$NAR_NAME"
check_error_body "pull-only PUT" 403 AccessError
expect_status 403 "PUT narinfo with a pull-only token" -X PUT -u ":$PULL" \
  -H 'Content-Type: text/x-nix-narinfo' --data-binary "@$TMP/other.narinfo" "$BASE/main/$OTHER_HASH.narinfo"
expect_eq "nothing was written by the refused PUTs" "$BLOBS1" "$(blob_count)"
expect_status 404 "the refused narinfo is missing (good token)" -H "Authorization: Bearer $FULL" "$BASE/main/$OTHER_HASH.narinfo"
expect_status 404 "the refused NAR is missing (good token)" -I -H "Authorization: Bearer $FULL" "$BASE/main/$NAR_NAME"

say "the server log says why it refused"
LOG=$(cat "$GARRETD_LOG")
expect_match "a refusal line with a reason for an anonymous request" \
  '(refus|denied|reject)[^'$'\n'']*nix-cache-info[^'$'\n'']*: [^ '$'\n'']+' "$LOG"
expect_match "a refusal line mentions the pull-only subject" \
  '(refus|denied|reject)[^'$'\n'']*it-reader[^'$'\n'']*: [^ '$'\n'']+' "$LOG"
refusals=$(grep -ciE 'refus|denied|reject' "$GARRETD_LOG")
if [ "$refusals" -ge 5 ]; then pass "refusals are logged ($refusals lines)"; else fail "only $refusals refusal lines in the log"; fi
expect_not_contains "the log does not leak the token" "$LOG" "$PULL"

finish
