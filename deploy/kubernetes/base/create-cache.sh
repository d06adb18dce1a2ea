#!/bin/sh
# Creates the cache $CACHE_NAME through garretd's Attic API, unless it exists.
# Idempotent: a cache that exists already is success, so the Job may run on
# every `kubectl apply`. Run by the garret-create-cache Job; tested by
# tests/deploy/test_kustomize.sh against a real garretd.
#
# Environment:
#   GARRET_URL     base URL of the API, e.g. http://garret-api:8080
#   CACHE_NAME     cache to create
#   CACHE_PUBLIC   true: anyone may pull; false (default): tokens only
#   GARRET_CONFIG  server.toml, for `garretd make-token` (default /etc/garret/server.toml)
#   WAIT_SECONDS   how long to wait for /ready (default 900)
#   GARRET_JWT_SIGNING_TOKEN_HS256_SECRET_BASE64 (or the key in the config):
#                  the server's JWT key, to mint a short-lived token
set -eu

log() { echo "create-cache: $*" >&2; }

: "${GARRET_URL:?GARRET_URL is not set}"
: "${CACHE_NAME:?CACHE_NAME is not set}"
public=${CACHE_PUBLIC:-false}
config=${GARRET_CONFIG:-/etc/garret/server.toml}
wait_seconds=${WAIT_SECONDS:-900}
base=${GARRET_URL%/}

case $public in
  true | false) ;;
  *) log "CACHE_PUBLIC must be true or false, not '$public'"; exit 2 ;;
esac
if ! printf '%s\n' "$CACHE_NAME" | grep -Eq '^[A-Za-z0-9][A-Za-z0-9_+-]{0,49}$'; then
  log "'$CACHE_NAME' is not a valid cache name"
  exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A token for this one cache, valid for minutes, signed with the server's key.
token=$(garretd make-token -f "$config" --sub garret-create-cache --validity 15m \
  --create-cache "$CACHE_NAME" --pull "$CACHE_NAME")
# Handed to curl in a file, not on its command line.
printf 'Authorization: Bearer %s\n' "$token" >"$tmp/auth"

deadline=$(($(date +%s) + wait_seconds))
until curl -fsS -o /dev/null --max-time 5 "$base/ready" 2>/dev/null; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    log "$base/ready did not answer 200 within ${wait_seconds}s (are the garret-api pods ready?)"
    exit 1
  fi
  log "waiting for $base/ready"
  sleep 5
done

# request CURL-ARGS...: prints the HTTP status (000: no answer); body in $tmp/body.
request() {
  curl -sS -o "$tmp/body" -w '%{http_code}' --max-time 60 -H "@$tmp/auth" "$@" || true
}
body() { cat "$tmp/body" 2>/dev/null || true; }

api="$base/_api/v1/cache-config/$CACHE_NAME"
code=$(request "$api")
case $code in
  200)
    log "cache '$CACHE_NAME' exists already; nothing to do"
    exit 0
    ;;
  404) ;;
  401 | 403)
    log "GET $api: $code: the token was refused; is the JWT secret the server's?"
    body >&2
    exit 1
    ;;
  *)
    log "GET $api: unexpected status $code"
    body >&2
    exit 1
    ;;
esac

json=$(printf '{"keypair":"Generate","is_public":%s,"store_dir":"/nix/store","priority":41,"upstream_cache_key_names":["cache.nixos.org-1"]}' "$public")
code=$(request -X POST -H 'Content-Type: application/json' --data "$json" "$api")
case $code in
  200 | 201)
    log "created cache '$CACHE_NAME' (public: $public)"
    ;;
  409)
    log "cache '$CACHE_NAME' exists already (created concurrently); nothing to do"
    ;;
  400)
    if grep -q 'CacheAlreadyExists' "$tmp/body" 2>/dev/null; then
      log "cache '$CACHE_NAME' exists already (created concurrently); nothing to do"
    else
      log "POST $api: 400"
      body >&2
      exit 1
    fi
    ;;
  *)
    log "POST $api: unexpected status $code"
    body >&2
    exit 1
    ;;
esac
