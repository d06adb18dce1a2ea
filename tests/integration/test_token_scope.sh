#!/usr/bin/env bash
# Token scope: a token for cache a cannot touch cache b; tokens signed with
# another secret, expired, unsigned or garbage are refused; patterns match.
# shellcheck source=lib.sh disable=SC2015,SC2119,SC2154
. "$(dirname "$0")/lib.sh"

start_garretd
setup_nix
token ADMIN --sub it-admin --create-cache '*' --pull '*'
for c in a b team-x team-y other; do create_cache "$c" "$ADMIN"; done
public_key KEY_A a "$ADMIN"
token TA --sub it-team-a --push a --pull a

C1=$(build_closure scope1)
C2=$(build_closure scope2)
[ -n "$C1" ] && [ -n "$C2" ] || fatal "nix-build failed"
mapfile -t P1 < <(closure_of "$C1")
mapfile -t P2 < <(closure_of "$C2")

say "token for a: pushing to b fails and leaves b untouched"
use_netrc "$TA"
B0=$(blob_count)
check_not "nix copy --to b with a token for a fails" run_quiet push-b1 nix copy --to "$BASE/b" "$C1"
expect_eq "no blob written by the refused push" "$B0" "$(blob_count)"
for p in "${P1[@]}"; do
  expect_status 404 "b has no narinfo for $(basename "$p")" -H "Authorization: Bearer $ADMIN" "$BASE/b/$(store_hash "$p").narinfo"
done

say "token for a: pushing to a works"
new_nix_cache
check "nix copy --to a succeeds" run_logged push-a nix copy --to "$BASE/a" "$C1"
for p in "${P1[@]}"; do
  expect_status 200 "a has the narinfo for $(basename "$p")" -H "Authorization: Bearer $TA" "$BASE/a/$(store_hash "$p").narinfo"
done
new_nix_cache
check "substitute from a" run_logged subst-a substitute_into "$TMP/store-a" "$BASE/a" "$KEY_A" "$C1"
check "contents equal" same_tree "$C1" "$TMP/store-a$C1"

say "token for a: a second closure to b still fails, b stays empty"
new_nix_cache
B1=$(blob_count)
check_not "nix copy --to b (closure 2) fails" run_quiet push-b2 nix copy --to "$BASE/b" "$C2"
expect_eq "no blob written" "$B1" "$(blob_count)"
for p in "${P1[@]}" "${P2[@]}"; do
  expect_status 404 "b has no narinfo for $(basename "$p")" -H "Authorization: Bearer $ADMIN" "$BASE/b/$(store_hash "$p").narinfo"
done
h1=$(store_hash "${P1[0]}")
expect_status 401 "token for a: GET b/nix-cache-info (grants nothing on b)" -H "Authorization: Bearer $TA" "$BASE/b/nix-cache-info"
expect_status 401 "token for a: GET b narinfo" -H "Authorization: Bearer $TA" "$BASE/b/$h1.narinfo"
expect_status 401 "token for a: PUT b narinfo" -X PUT -H "Authorization: Bearer $TA" --data-binary 'x' "$BASE/b/$h1.narinfo"
expect_status 401 "token for a: GET cache-config/b" -H "Authorization: Bearer $TA" "$BASE/_api/v1/cache-config/b"
expect_status 401 "token for a: GET cache-config of a missing cache" -H "Authorization: Bearer $TA" "$BASE/_api/v1/cache-config/nosuchcache"
expect_status 401 "token for a: GET a missing cache's nix-cache-info" -H "Authorization: Bearer $TA" "$BASE/nosuchcache/nix-cache-info"
expect_status 200 "token for a: GET cache-config/a" -H "Authorization: Bearer $TA" "$BASE/_api/v1/cache-config/a"
expect_status 404 "pull-everything token: GET a missing cache's config" -H "Authorization: Bearer $ADMIN" "$BASE/_api/v1/cache-config/nosuchcache"
expect_status 404 "pull-everything token: GET a missing cache's nix-cache-info" -H "Authorization: Bearer $ADMIN" "$BASE/nosuchcache/nix-cache-info"
token PB --sub it-pull-b --pull b
expect_status 403 "pull-only token for b: PUT b narinfo" -X PUT -H "Authorization: Bearer $PB" \
  -H 'Content-Type: text/x-nix-narinfo' --data-binary 'x' "$BASE/b/$h1.narinfo"
check_error_body "pull-only PUT" 403 AccessError

say "tokens that must be refused"
mkdir -p "$TMP/other-data"
OTHER=$("$GARRETD" make-token --data-dir "$TMP/other-data" --sub it-team-a --validity 1d --push a --pull a 2>/dev/null | tr -d '\n')
if [ -n "$OTHER" ]; then
  if [ -s "$TMP/other-data/jwt-secret" ] && cmp -s "$TMP/other-data/jwt-secret" "$DATA/jwt-secret"; then
    fail "two data dirs got the same token secret"
  fi
  expect_status 401 "token signed with another secret: GET a/nix-cache-info" -H "Authorization: Bearer $OTHER" "$BASE/a/nix-cache-info"
  check_error_body "foreign token" 401 Unauthorized
  expect_status 401 "token signed with another secret (Basic): GET a narinfo" -u ":$OTHER" "$BASE/a/$h1.narinfo"
  new_nix_cache
  use_netrc "$OTHER"
  B2=$(blob_count)
  check_not "nix copy --to a with a foreign token fails" run_quiet push-foreign nix copy --to "$BASE/a" "$C2"
  expect_eq "no blob written by the foreign token" "$B2" "$(blob_count)"
  expect_status 404 "a has no narinfo for closure 2" -H "Authorization: Bearer $TA" "$BASE/a/$(store_hash "$C2").narinfo"
else
  fail "make-token with a second data dir failed"
fi

# Tamper with the payload of a good token: widen its caches to "*".
TAMPERED=$(python3 - "$TA" <<'EOF'
import base64, json, sys
h, p, s = sys.argv[1].split(".")
claims = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
claims["https://jwt.attic.rs/v1"] = {"caches": {"*": {"r": 1, "w": 1}}}
p2 = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=").decode()
print(h + "." + p2 + "." + s)
EOF
)
expect_status 401 "token with a tampered payload: GET b/nix-cache-info" -H "Authorization: Bearer $TAMPERED" "$BASE/b/nix-cache-info"
expect_status 401 "token with a tampered payload: GET a/nix-cache-info" -H "Authorization: Bearer $TAMPERED" "$BASE/a/nix-cache-info"
NOW=$(date +%s)
CLAIMS_OK="{\"sub\":\"it-forged\",\"exp\":$((NOW + 3600)),\"nbf\":$((NOW - 60)),\"https://jwt.attic.rs/v1\":{\"caches\":{\"a\":{\"r\":1}}}}"
UNSIGNED=$(sign_jwt /dev/null "$CLAIMS_OK" none)
expect_status 401 "alg=none token" -H "Authorization: Bearer $UNSIGNED" "$BASE/a/nix-cache-info"
expect_status 401 "garbage token (Bearer)" -H 'Authorization: Bearer garbage' "$BASE/a/nix-cache-info"
expect_status 401 "garbage token (three base64 parts)" -H 'Authorization: Bearer aGVsbG8.d29ybGQ.Zm9v' "$BASE/a/nix-cache-info"
expect_status 401 "garbage token (Basic)" -u 'user:garbage' "$BASE/a/nix-cache-info"
expect_status 401 "unknown auth scheme" -H "Authorization: Token $TA" "$BASE/a/nix-cache-info"
new_nix_cache
use_netrc "garbage"
check_not "nix copy --to a with a garbage token fails" run_quiet push-garbage nix copy --to "$BASE/a" "$C2"

# Expiry: sign tokens with the server's own secret (checked first with a valid one).
if [ -r "$DATA/jwt-secret" ]; then
  FORGED_OK=$(sign_jwt "$DATA/jwt-secret" "$CLAIMS_OK" 2>/dev/null)
  st=$(http -H "Authorization: Bearer $FORGED_OK" "$BASE/a/nix-cache-info")
  if [ "$st" = 200 ]; then
    pass "a valid token signed by the test with the server secret is accepted"
    EXPIRED=$(sign_jwt "$DATA/jwt-secret" "{\"sub\":\"it-forged\",\"exp\":$((NOW - 3600)),\"nbf\":$((NOW - 7200)),\"https://jwt.attic.rs/v1\":{\"caches\":{\"a\":{\"r\":1}}}}")
    expect_status 401 "token expired an hour ago" -H "Authorization: Bearer $EXPIRED" "$BASE/a/nix-cache-info"
    NOTYET=$(sign_jwt "$DATA/jwt-secret" "{\"sub\":\"it-forged\",\"exp\":$((NOW + 7200)),\"nbf\":$((NOW + 3600)),\"https://jwt.attic.rs/v1\":{\"caches\":{\"a\":{\"r\":1}}}}")
    expect_status 401 "token not valid before an hour from now" -H "Authorization: Bearer $NOTYET" "$BASE/a/nix-cache-info"
    NOEXP=$(sign_jwt "$DATA/jwt-secret" "{\"sub\":\"it-forged\",\"https://jwt.attic.rs/v1\":{\"caches\":{\"a\":{\"r\":1}}}}")
    st=$(http -H "Authorization: Bearer $NOEXP" "$BASE/a/nix-cache-info")
    say "(a token without exp/nbf got $st)"
    HS512=$(python3 - "$DATA/jwt-secret" "$CLAIMS_OK" <<'EOF'
import base64, hashlib, hmac, json, sys
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
key = base64.b64decode(open(sys.argv[1]).read().strip())
h = b64(b'{"alg":"HS512","typ":"JWT"}'); p = b64(sys.argv[2].encode())
print(h + "." + p + "." + b64(hmac.new(key, (h + "." + p).encode(), hashlib.sha512).digest()))
EOF
)
    expect_status 401 "token with alg HS512" -H "Authorization: Bearer $HS512" "$BASE/a/nix-cache-info"
    expect_match "the log says the expired token expired" \
      "refused [^"$'\n'"]*: [^"$'\n'"]*expir" "$(cat "$GARRETD_LOG")"
  else
    say "(skipping expiry checks: a token signed with $DATA/jwt-secret got $st; secret format unknown)"
  fi
fi
expect_match "the log gives a reason for the foreign token" \
  "refused [^"$'\n'"]*a/nix-cache-info[^"$'\n'"]*: [^"$'\n'"]*(signature|verif|invalid)" "$(cat "$GARRETD_LOG")"

say "pattern token --pull 'team-*'"
token TEAM --sub it-team --pull 'team-*'
expect_status 200 "team-x readable" -H "Authorization: Bearer $TEAM" "$BASE/team-x/nix-cache-info"
expect_status 200 "team-y readable (Basic)" -u ":$TEAM" "$BASE/team-y/nix-cache-info"
expect_status 404 "team-nothere: missing cache, pattern matches -> 404" -H "Authorization: Bearer $TEAM" "$BASE/team-nothere/nix-cache-info"
expect_status 401 "other not readable" -H "Authorization: Bearer $TEAM" "$BASE/other/nix-cache-info"
expect_status 401 "a not readable" -H "Authorization: Bearer $TEAM" "$BASE/a/nix-cache-info"
expect_status 401 "'team' (no dash) not matched" -H "Authorization: Bearer $TEAM" "$BASE/team/nix-cache-info"
expect_status 401 "'xteam-x' not matched" -H "Authorization: Bearer $TEAM" "$BASE/xteam-x/nix-cache-info"
expect_status 403 "team-x not writable with a pull pattern" -X PUT -H "Authorization: Bearer $TEAM" \
  -H 'Content-Type: text/x-nix-narinfo' --data-binary 'x' "$BASE/team-x/$h1.narinfo"
new_nix_cache
use_netrc "$TEAM"
check_not "nix copy --to team-x with a pull pattern fails" run_quiet push-team nix copy --to "$BASE/team-x" "$C2"
token TEAMW --sub it-team-w --pull 'team-*' --push 'team-*'
new_nix_cache
use_netrc "$TEAMW"
check "nix copy --to team-y with a push pattern succeeds" run_logged push-teamw nix copy --to "$BASE/team-y" "$C2"
expect_status 200 "team-y has closure 2" -H "Authorization: Bearer $TEAM" "$BASE/team-y/$(store_hash "$C2").narinfo"
expect_status 404 "team-x does not" -H "Authorization: Bearer $TEAM" "$BASE/team-x/$(store_hash "$C2").narinfo"

finish
