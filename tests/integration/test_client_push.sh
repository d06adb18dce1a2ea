#!/usr/bin/env bash
# garret, the client, against a real garretd and the real nix: login (token
# from stdin, 0600 file), cache create/info/list/configure/destroy, push of a
# closure then substitution into a fresh store, `garret use` writing a Nix
# config with which nix substitutes, idempotence of use and push.
# shellcheck source=lib.sh disable=SC2015,SC2119,SC2154
. "$(dirname "$0")/lib.sh"
[ -x "${GARRET:-}" ] || fatal "GARRET must point to the garret binary"

start_garretd
setup_nix
export XDG_CONFIG_HOME="$TMP/config"
token ADMIN --sub it-admin --create-cache '*' --configure-cache '*' --configure-cache-retention '*' \
  --destroy-cache '*' --pull '*' --push '*'

say "login: token from standard input, config file private"
out=$(printf '%s\n' "$ADMIN" | "$GARRET" login it "$BASE" 2>&1)
check "login succeeds" [ $? -eq 0 ]
expect_contains "login names the default server" "$out" "the default server"
CONF="$XDG_CONFIG_HOME/garret/config.toml"
expect_eq "config file is mode 600" "600" "$(stat -c %a "$CONF")"
expect_contains "config file holds the token" "$(cat "$CONF")" "$ADMIN"
check_not "login refuses a URL that is not http(s)" run_quiet bad-login "$GARRET" login x ftp://host tok
expect_eq "usage errors exit 2" 2 "$(
  "$GARRET" login x ftp://host tok >/dev/null 2>&1
  echo $?
)"

say "cache create, info, list, configure, destroy"
check "cache create" run_logged create "$GARRET" cache create it:demo --retention-period "30 days"
info=$("$GARRET" cache info it:demo --json)
expect_eq "retention set at create" 2592000 "$(printf '%s' "$info" | python3 -c 'import json,sys; print(json.load(sys.stdin)["retention_period"]["Period"])')"
KEY=$(printf '%s' "$info" | python3 -c 'import json,sys; print(json.load(sys.stdin)["public_key"])')
check "cache configure --priority" run_logged configure "$GARRET" cache configure demo --priority 30
info=$("$GARRET" cache info it:demo --json)
expect_eq "priority changed" 30 "$(printf '%s' "$info" | python3 -c 'import json,sys; print(json.load(sys.stdin)["priority"])')"
expect_eq "configure left retention alone" 2592000 "$(printf '%s' "$info" | python3 -c 'import json,sys; print(json.load(sys.stdin)["retention_period"]["Period"])')"
check_not "configure with nothing to change fails" run_quiet configure-empty "$GARRET" cache configure demo
check "cache create of a second cache" run_logged create2 "$GARRET" cache create it:gone
expect_contains "cache list shows both" "$("$GARRET" cache list --json)" '"gone"'
check_not "destroy without --yes refuses" run_quiet destroy-no "$GARRET" cache destroy it:gone
check "destroy --yes" run_logged destroy "$GARRET" cache destroy it:gone --yes
expect_not_contains "destroyed cache is not listed" "$("$GARRET" cache list --json)" '"gone"'
check_not "info of a missing cache fails" run_quiet info-missing "$GARRET" cache info it:nope
expect_contains "and says so" "$(cat "$TMP/info-missing.log")" "404"

say "push a closure, then substitute it into a fresh store"
TOP=$(build_closure client)
[ -n "$TOP" ] || fatal "nix-build failed"
mapfile -t PATHS < <(closure_of "$TOP")
out=$("$GARRET" push it:demo "$TOP" --json)
check "push succeeds" [ $? -eq 0 ]
expect_eq "every path of the closure uploaded" "${#PATHS[@]}" "$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["uploaded"]+d["deduplicated"])')"
for p in "${PATHS[@]}"; do
  expect_status 200 "narinfo of $(basename "$p")" -H "Authorization: Bearer $ADMIN" "$BASE/demo/$(store_hash "$p").narinfo"
done
use_netrc "$ADMIN"
check "nix copy --from the cache into a fresh store" run_logged subst substitute_into "$TMP/store1" "$BASE/demo" "$KEY" "$TOP"
check "nix store verify in the fresh store" run_logged verify verify_in "$TMP/store1" "$KEY" "$TOP"
leaf=$(printf '%s\n' "${PATHS[@]}" | grep -- '-leaf$')
check "leaf tree identical after substitution" same_tree "$leaf" "$TMP/store1$leaf"

say "push again: nothing to send"
out=$("$GARRET" push it:demo "$TOP" --json)
expect_eq "second push uploads nothing" 0 "$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["uploaded"])')"
expect_eq "second push finds all present" "${#PATHS[@]}" "$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["already_present"])')"
plain=$("$GARRET" push it:demo "$TOP" 2>&1 </dev/null)
expect_contains "plain summary line" "$plain" "already in the cache"

say "garret use: nix substitutes with the config it writes"
mkdir -p "$XDG_CONFIG_HOME/nix"
printf '%s\n' '# my settings' 'substituters =' 'max-jobs = 3' >"$XDG_CONFIG_HOME/nix/nix.conf"
dry=$("$GARRET" use it:demo --dry-run)
expect_contains "dry run shows the substituter" "$dry" "extra-substituters = $BASE/demo"
expect_eq "dry run writes nothing" 3 "$(wc -l <"$XDG_CONFIG_HOME/nix/nix.conf")"
check "use" run_logged use "$GARRET" use it:demo
conf=$(cat "$XDG_CONFIG_HOME/nix/nix.conf")
expect_contains "other lines kept" "$conf" "max-jobs = 3"
expect_contains "key added" "$conf" "extra-trusted-public-keys = $KEY"
expect_eq "netrc is private" 600 "$(stat -c %a "$XDG_CONFIG_HOME/nix/netrc")"
before=$(md5sum <"$XDG_CONFIG_HOME/nix/nix.conf")
"$GARRET" use it:demo >/dev/null
expect_eq "use twice changes nothing" "$before" "$(md5sum <"$XDG_CONFIG_HOME/nix/nix.conf")"
expect_eq "one substituter line" 1 "$(grep -c "$BASE/demo" "$XDG_CONFIG_HOME/nix/nix.conf")"
expect_eq "one netrc entry" 1 "$(grep -c '^machine 127.0.0.1' "$XDG_CONFIG_HOME/nix/netrc")"
# Only the user config written by `use`: no NIX_CONFIG, no system config.
empty_conf_dir="$TMP/etc-nix"
mkdir -p "$empty_conf_dir"
printf '%s\n' 'experimental-features = nix-command' 'sandbox = false' 'build-users-group =' >"$empty_conf_dir/nix.conf"
new_nix_cache
check "nix-store --realise substitutes through the configured cache" run_logged realise \
  env -u NIX_CONFIG NIX_CONF_DIR="$empty_conf_dir" nix-store --store "$TMP/store2" --realise "$TOP"
check "substituted tree identical" same_tree "$leaf" "$TMP/store2$leaf"
expect_contains "it came from the cache" "$(cat "$TMP/realise.log")" "from '$BASE/demo'"

finish
