# Shared helpers for the integration tests. Source it from a test script:
#
#   . "$(dirname "$0")/lib.sh"
#
# Environment: GARRETD (path of the garretd binary; falls back to the default
# build dir), GARRET_SOURCE_DIR (repo root, optional).

# shellcheck shell=bash disable=SC2018,SC2019,SC2034
set -u -o pipefail

TEST_NAME=$(basename "$0" .sh)
MAIN_PID=$BASHPID
PASSED=0
FAILED=0
GARRETD_PID=""
# More servers a test started (replicas); stopped at exit like GARRETD_PID.
EXTRA_PIDS=()
SHOW_LOG=0

if [ -z "${GARRET_SOURCE_DIR:-}" ]; then
  GARRET_SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fi
if [ -z "${GARRETD:-}" ]; then
  GARRETD="$GARRET_SOURCE_DIR/build/apps/garretd/garretd"
fi
if [ ! -x "$GARRETD" ]; then
  echo "$TEST_NAME: garretd binary not found at '$GARRETD' (set GARRETD)" >&2
  exit 2
fi
for tool in curl python3 nix nix-build nix-store nix-hash xz zstd timeout; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$TEST_NAME: required tool '$tool' is missing" >&2
    exit 2
  fi
done

# The system interpreter starts faster than version-manager shims.
if [ -x /usr/bin/python3 ]; then PYTHON3=/usr/bin/python3; else PYTHON3=$(command -v python3); fi
python3() { "$PYTHON3" "$@"; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/garret-it-$TEST_NAME.XXXXXX")
GARRETD_LOG="$TMP/garretd.log"
BODY="$TMP/body"
HEADERS="$TMP/headers"
CURL_TIMEOUT=${CURL_TIMEOUT:-60}

# ---------------------------------------------------------------- reporting

say() { echo "--- $*"; }

pass() {
  PASSED=$((PASSED + 1))
  echo "  ok: $*"
}

# fail MESSAGE: records a failure and carries on (the test ends non-zero).
fail() {
  FAILED=$((FAILED + 1))
  SHOW_LOG=1
  echo "  FAIL: $*"
}

# fatal MESSAGE: a failure that makes the rest of the test meaningless.
fatal() {
  if [ "$BASHPID" != "$MAIN_PID" ]; then
    echo "  FAIL: $*" >&2
    exit 1
  fi
  fail "$*"
  echo "$TEST_NAME: aborting after a fatal failure" >&2
  finish
}

# check DESC CMD...: passes when CMD exits 0.
check() {
  local desc=$1
  shift
  if "$@"; then pass "$desc"; else fail "$desc (command failed: $*)"; fi
}

# check_not DESC CMD...: passes when CMD exits non-zero.
check_not() {
  local desc=$1
  shift
  if "$@"; then fail "$desc (command unexpectedly succeeded: $*)"; else pass "$desc"; fi
}

expect_eq() { # DESC EXPECTED ACTUAL
  if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi
}

expect_ne() { # DESC UNEXPECTED ACTUAL
  if [ "$2" != "$3" ]; then pass "$1"; else fail "$1: got '$3', which it must not be"; fi
}

expect_match() { # DESC ERE VALUE
  if [[ $3 =~ $2 ]]; then pass "$1"; else fail "$1: '$3' does not match /$2/"; fi
}

expect_contains() { # DESC HAYSTACK NEEDLE
  if [[ $2 == *"$3"* ]]; then pass "$1"; else fail "$1: '$3' not found in: $(printf '%s' "$2" | head -c 600)"; fi
}

expect_not_contains() { # DESC HAYSTACK NEEDLE
  if [[ $2 != *"$3"* ]]; then pass "$1"; else fail "$1: '$3' unexpectedly found in: $(printf '%s' "$2" | head -c 600)"; fi
}

finish() {
  [ "$BASHPID" = "$MAIN_PID" ] || exit 1
  trap - EXIT
  cleanup
  echo "$TEST_NAME: $PASSED passed, $FAILED failed"
  if [ "$FAILED" -ne 0 ]; then exit 1; fi
  exit 0
}

# ---------------------------------------------------------------- cleanup

stop_garretd() {
  [ -n "$GARRETD_PID" ] || return 0
  if kill -0 "$GARRETD_PID" 2>/dev/null; then
    kill -TERM "$GARRETD_PID" 2>/dev/null
    local i
    for i in $(seq 1 100); do
      kill -0 "$GARRETD_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$GARRETD_PID" 2>/dev/null; then
      echo "  (garretd $GARRETD_PID did not stop after SIGTERM; killing it)" >&2
      kill -KILL "$GARRETD_PID" 2>/dev/null
    fi
  fi
  wait "$GARRETD_PID" 2>/dev/null
  GARRETD_PID=""
}

cleanup() {
  local pid
  for pid in "${EXTRA_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  stop_garretd
  # A test's own servers (PostgreSQL, S3), if it defines test_cleanup.
  if declare -F test_cleanup >/dev/null; then test_cleanup; fi
  if [ "$SHOW_LOG" -ne 0 ] && [ -s "$GARRETD_LOG" ]; then
    echo "----- garretd log (last 80 lines of $GARRETD_LOG) -----" >&2
    tail -n 80 "$GARRETD_LOG" >&2
    echo "----- end of garretd log -----" >&2
  fi
  if [ -s "$TMP/built-paths" ] && [ -z "${KEEP_TMP:-}" ]; then
    # shellcheck disable=SC2046
    timeout 60 nix-store --delete $(sort -u "$TMP/built-paths" | grep '^/nix/store/') >/dev/null 2>&1
  fi
  if [ -n "${KEEP_TMP:-}" ]; then
    echo "(keeping $TMP)" >&2
  else
    chmod -R u+w "$TMP" 2>/dev/null
    rm -rf "$TMP"
  fi
}

on_exit() {
  local rc=$?
  [ "$BASHPID" = "$MAIN_PID" ] || exit "$rc"
  if [ "$rc" -ne 0 ]; then SHOW_LOG=1; fi
  cleanup
  echo "$TEST_NAME: $PASSED passed, $FAILED failed (exited early, status $rc)"
  exit 1
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- server

# start_garretd [EXTRA SERVE ARGS...]: starts a server on a free port with data
# in $TMP/data (or $DATA if already set); exports PORT, BASE, DATA, GARRETD_PID.
start_garretd() {
  DATA=${DATA:-$TMP/data}
  mkdir -p "$DATA"
  local port_file="$TMP/port"
  rm -f "$port_file"
  "$GARRETD" serve --data-dir "$DATA" --listen 127.0.0.1:0 --port-file "$port_file" \
    --quiet "$@" >>"$GARRETD_LOG" 2>&1 &
  GARRETD_PID=$!
  local i
  PORT=""
  for i in $(seq 1 200); do
    if ! kill -0 "$GARRETD_PID" 2>/dev/null; then
      fatal "garretd exited during startup"
    fi
    if [ -s "$port_file" ]; then
      PORT=$(tr -d ' \n' <"$port_file")
      if [ -n "$PORT" ] && curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/health"; then
        break
      fi
    fi
    sleep 0.05
  done
  [ -n "$PORT" ] || fatal "garretd did not write its port file"
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/health")
  [ "$code" = 200 ] || fatal "garretd /health answered $code"
  BASE="http://127.0.0.1:$PORT"
  export PORT BASE DATA GARRETD_PID
  say "garretd started (pid $GARRETD_PID) at $BASE, data in $DATA"
}

# token VAR [--sub NAME] [make-token ARGS...]: mints a token valid for a day
# (signed with the server's secret in $DATA) into the variable VAR.
token() {
  local var=$1 sub="it-user" out
  shift
  if [ "${1:-}" = "--sub" ]; then
    sub=$2
    shift 2
  fi
  out=$("$GARRETD" make-token --data-dir "$DATA" --sub "$sub" --validity 1d "$@" 2>"$TMP/make-token.err") ||
    fatal "make-token $* failed: $(tail -n 3 "$TMP/make-token.err")"
  out=$(printf '%s' "$out" | tr -d ' \n')
  [[ $out =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]] || fatal "make-token printed something that is not a JWT: $out"
  printf -v "$var" '%s' "$out"
}

# Count of stored blobs (files under $DATA/storage, except the temp area).
blob_count() {
  find "$DATA/storage" -type f -not -path "$DATA/storage/tmp/*" 2>/dev/null | wc -l
}

# ---------------------------------------------------------------- HTTP

# http CURL-ARGS...: runs curl, body in $BODY, headers in $HEADERS, prints the
# status code (000 when the connection failed).
http() {
  : >"$BODY"
  : >"$HEADERS"
  curl -s -o "$BODY" -D "$HEADERS" -w '%{http_code}' --max-time "$CURL_TIMEOUT" "$@"
  true
}

# expect_status EXPECTED DESC CURL-ARGS...: EXPECTED is a code or an ERE such
# as '400|404'. Sets STATUS; body in $BODY, headers in $HEADERS.
expect_status() {
  local expected=$1 desc=$2
  shift 2
  STATUS=$(http "$@")
  if [[ $STATUS =~ ^($expected)$ ]]; then
    pass "$desc -> $STATUS"
    return 0
  fi
  fail "$desc: expected HTTP $expected, got $STATUS; body: $(head -c 300 "$BODY" | tr -d '\0')"
  return 1
}

# header NAME: value of a response header from the last http/expect_status call.
header() {
  local name
  name=$(printf '%s' "$1" | tr 'A-Z' 'a-z')
  tr -d '\r' <"$HEADERS" | awk -v n="$name" 'BEGIN{FS=": "} tolower($1)==n {sub(/^[^:]*: /, ""); v=$0} END{print v}'
}

has_header() {
  local name
  name=$(printf '%s' "$1" | tr 'A-Z' 'a-z')
  tr -d '\r' <"$HEADERS" | awk -F': ' -v n="$name" 'tolower($1)==n {f=1} END{exit !f}'
}

# json_get FILE KEY: prints a top-level JSON field (compact JSON for objects,
# "true"/"false" for booleans, "<missing>" when absent, "<invalid-json>").
json_get() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
try:
    with open(sys.argv[1], "rb") as f:
        doc = json.load(f)
except Exception:
    print("<invalid-json>"); sys.exit(0)
if not isinstance(doc, dict) or sys.argv[2] not in doc:
    print("<missing>"); sys.exit(0)
v = doc[sys.argv[2]]
if isinstance(v, bool):
    print("true" if v else "false")
elif isinstance(v, (dict, list)):
    print(json.dumps(v, sort_keys=True, separators=(",", ":")))
else:
    print(v)
EOF
}

# check_error_body DESC EXPECTED_CODE [EXPECTED_KIND]: the last body is an
# Attic-style JSON error {"code","error","message"}.
check_error_body() {
  local desc=$1 code=$2 kind=${3:-}
  local c e m
  c=$(json_get "$BODY" code)
  e=$(json_get "$BODY" error)
  m=$(json_get "$BODY" message)
  if [ "$c" = "<invalid-json>" ]; then
    fail "$desc: error body is not JSON: $(head -c 300 "$BODY")"
    return
  fi
  expect_eq "$desc: error body code" "$code" "$c"
  if [ -n "$kind" ]; then
    expect_eq "$desc: error body kind" "$kind" "$e"
  else
    expect_match "$desc: error body has an error kind" '^[A-Za-z]+$' "$e"
  fi
  expect_match "$desc: error body has a message" '.' "$([ "$m" = "<missing>" ] || printf '%s' "$m")"
}

# public_key VAR CACHE TOKEN: the cache's public key (name:base64) into VAR.
public_key() {
  local st key
  st=$(http -H "Authorization: Bearer $3" "$BASE/_api/v1/cache-config/$2")
  [ "$st" = 200 ] || fatal "GET cache-config/$2 answered $st: $(head -c 300 "$BODY")"
  key=$(json_get "$BODY" public_key)
  [[ $key =~ ^[A-Za-z0-9._+-]+:[A-Za-z0-9+/]{43}=$ ]] || fatal "cache $2 has no usable public_key: $key"
  printf -v "$1" '%s' "$key"
}

# create_cache NAME TOKEN [IS_PUBLIC]: creates a cache through the Attic API.
create_cache() {
  local pub=${3:-false}
  expect_status 200 "create cache $1 (public=$pub)" -X POST -H "Authorization: Bearer $2" \
    -H 'Content-Type: application/json' \
    --data "{\"keypair\":\"Generate\",\"is_public\":$pub,\"store_dir\":\"/nix/store\",\"priority\":41,\"upstream_cache_key_names\":[]}" \
    "$BASE/_api/v1/cache-config/$1"
}

# ---------------------------------------------------------------- nix

# setup_nix: hermetic Nix client environment under $TMP (no netrc).
setup_nix() {
  export HOME="$TMP/home"
  mkdir -p "$HOME"
  new_nix_cache
  no_netrc
}

# new_nix_cache: a fresh narinfo disk cache (Nix caches lookups, even misses).
new_nix_cache() {
  export XDG_CACHE_HOME
  XDG_CACHE_HOME=$(mktemp -d "$TMP/xdg.XXXX")
}

nix_base_config() {
  printf '%s\n' 'experimental-features = nix-command' 'sandbox = false' \
    'build-users-group =' 'substituters =' 'connect-timeout = 10' \
    'narinfo-cache-negative-ttl = 0'
}

# use_netrc TOKEN: Nix sends TOKEN as the Basic password to 127.0.0.1.
use_netrc() {
  printf 'machine 127.0.0.1 password %s\n' "$1" >"$TMP/netrc"
  NIX_CONFIG="$(nix_base_config)
netrc-file = $TMP/netrc"
  export NIX_CONFIG
}

no_netrc() {
  NIX_CONFIG="$(nix_base_config)
netrc-file = $TMP/no-netrc"
  export NIX_CONFIG
}

# build_closure LABEL: builds leaf <- mid <- top in /nix/store from a fresh
# random seed; prints the top path and sets nothing else (use closure_of).
build_closure() {
  local label=$1
  local seed
  seed="$(date +%s%N)-$RANDOM-$RANDOM-$$"
  local f="$TMP/closure-$label.nix"
  cat >"$f" <<EOF
let
  mk = name: script: derivation {
    inherit name;
    system = builtins.currentSystem;
    builder = "/bin/sh";
    args = [ "-c" script ];
    PATH = "/usr/bin:/bin";
    seed = "$seed";
  };
  leaf = mk "garret-it-$label-leaf" ''
    mkdir -p \$out/sub/deeper
    echo "leaf $label $seed" > \$out/hello.txt
    head -c 300000 /dev/urandom > \$out/random.bin
    seq 1 20000 > \$out/sub/numbers.txt
    printf '#!/bin/sh\necho hi\n' > \$out/sub/run.sh
    chmod +x \$out/sub/run.sh
    ln -s ../hello.txt \$out/sub/link
    : > \$out/sub/deeper/empty
  '';
  mid = mk "garret-it-$label-mid" ''
    mkdir \$out
    echo "\${leaf}" > \$out/leaf-path
    ln -s \${leaf}/hello.txt \$out/hello
  '';
in mk "garret-it-$label-top" ''
  echo "top $label \${mid} \${leaf}" > \$out
''
EOF
  local top
  top=$(nix-build --no-out-link "$f" 2>"$TMP/build-$label.log" | tail -n 1)
  if [ -n "$top" ]; then
    # Remember what to delete from /nix/store at the end (paths are unique per run).
    { nix-store -qR "$top"; nix-store -qR "$(nix-store -q --deriver "$top")"; } >>"$TMP/built-paths" 2>/dev/null
  fi
  echo "$top"
}

# closure_of PATH: prints the store paths of PATH's closure, one a line.
closure_of() {
  nix-store -qR "$1"
}

# store_hash PATH: the 32-character hash part of a store path.
store_hash() {
  basename "$1" | cut -c1-32
}

# run_quiet NAME CMD...: runs CMD with output in $TMP/NAME.log (for commands
# that are expected to fail). Returns CMD's status.
run_quiet() {
  local name=$1
  shift
  "$@" >"$TMP/$name.log" 2>&1
}

# run_logged NAME CMD...: runs CMD with output in $TMP/NAME.log; prints the log
# tail on failure. Returns CMD's status.
run_logged() {
  local name=$1
  shift
  local rc=0
  "$@" >"$TMP/$name.log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "  ($name exited $rc; last lines:)" >&2
    tail -n 8 "$TMP/$name.log" | sed 's/^/    /' >&2
  fi
  return "$rc"
}

# substitute_into STORE_DIR CACHE_URL KEY PATH: nix copy --from the cache into a
# fresh store (signatures required).
substitute_into() {
  nix copy --from "$2" --store "$1" --option trusted-public-keys "$3" \
    --option require-sigs true "$4"
}

# verify_in STORE_DIR KEY PATH: nix store verify -r with the cache key trusted.
verify_in() {
  nix store verify --store "$1" --option trusted-public-keys "$2" -r "$3"
}

# same_tree A B: same file tree, contents, modes and symlink targets.
same_tree() {
  [ -e "$1" ] || [ -L "$1" ] || return 1
  [ -e "$2" ] || [ -L "$2" ] || return 1
  diff -r --no-dereference "$1" "$2" >/dev/null 2>&1 || return 1
  local a b
  a=$(find "$1" -printf '%P %y %m %l\n' | sort) || return 1
  b=$(find "$2" -printf '%P %y %m %l\n' | sort) || return 1
  [ "$a" = "$b" ]
}

# narinfo_field FILE KEY: the value of the first "KEY: value" line.
narinfo_field() {
  awk -v k="$2" 'index($0, k ": ") == 1 { print substr($0, length(k) + 3); exit }' "$1"
}

# raw_request OUTFILE REQUEST: sends REQUEST (printf-style escapes such as \r\n
# are expanded) on one connection to $PORT, writes everything the server
# answers until it closes the connection (or 10 s pass) to OUTFILE.
raw_request() {
  python3 - "$PORT" "$1" "$2" <<'PYEOF'
import socket, sys, time
port, out, req = int(sys.argv[1]), sys.argv[2], sys.argv[3]
req = req.encode("latin-1").decode("unicode_escape").encode("latin-1")
s = socket.create_connection(("127.0.0.1", port), timeout=10)
data = b""
try:
    s.sendall(req)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
except OSError:
    pass
finally:
    s.close()
open(out, "wb").write(data)
PYEOF
}

# prepare_nar PATH NAME: writes $TMP/NAME.nar (nix-store --dump) and
# $TMP/NAME.nar.xz; sets NAR_FILE_HASH (sha256:nix-base32 of the .xz),
# NAR_FILE_SIZE, NAR_HASH, NAR_SIZE.
prepare_nar() {
  nix-store --dump "$1" >"$TMP/$2.nar" || fatal "nix-store --dump $1 failed"
  xz -c -T1 "$TMP/$2.nar" >"$TMP/$2.nar.xz" || fatal "xz failed"
  NAR_FILE_HASH="sha256:$(nix-hash --type sha256 --flat --base32 "$TMP/$2.nar.xz")"
  NAR_FILE_SIZE=$(stat -c %s "$TMP/$2.nar.xz")
  NAR_HASH="sha256:$(nix-hash --type sha256 --flat --base32 "$TMP/$2.nar")"
  NAR_SIZE=$(stat -c %s "$TMP/$2.nar")
}

# file_hash FILE: sha256:nix-base32 of FILE's bytes.
file_hash() {
  echo "sha256:$(nix-hash --type sha256 --flat --base32 "$1")"
}

# narinfo_text PATH URL FILEHASH FILESIZE NARHASH NARSIZE: an xz narinfo for
# PATH with its real references.
narinfo_text() {
  local refs
  refs=$(nix-store -q --references "$1" | xargs -rn1 basename | sort | tr '\n' ' ' | sed 's/ $//')
  printf 'StorePath: %s\nURL: %s\nCompression: xz\nFileHash: %s\nFileSize: %s\nNarHash: %s\nNarSize: %s\nReferences: %s\n' \
    "$1" "$2" "$3" "$4" "$5" "$6" "$refs"
}

# sign_jwt KEY_FILE CLAIMS_JSON [ALG]: an HS256 JWT over CLAIMS_JSON with the
# base64 secret in KEY_FILE ("none" as ALG makes an unsigned token).
sign_jwt() {
  python3 - "$1" "$2" "${3:-HS256}" <<'PYEOF'
import base64, hashlib, hmac, json, sys
def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
key_file, claims, alg = sys.argv[1], sys.argv[2], sys.argv[3]
head = b64(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode())
body = b64(json.dumps(json.loads(claims), separators=(",", ":")).encode())
if alg == "none":
    print(head + "." + body + ".")
else:
    key = base64.b64decode(open(key_file).read().strip())
    sig = hmac.new(key, (head + "." + body).encode(), hashlib.sha256).digest()
    print(head + "." + body + "." + b64(sig))
PYEOF
}

# upload_info PATH CACHE [NARHASH] [NARSIZE]: Attic's UploadPathNarInfo JSON
# for PATH, whose NAR is in $TMP/<hash>.nar.
upload_info() {
  local path=$1 cache=$2 hash size
  hash=${3:-"sha256:$(nix-hash --type sha256 --flat "$TMP/$(store_hash "$path").nar")"}
  size=${4:-$(stat -c %s "$TMP/$(store_hash "$path").nar")}
  python3 - "$path" "$cache" "$hash" "$size" <<'PYEOF'
import json, subprocess, sys
path, cache, nar_hash, nar_size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
refs = subprocess.run(["nix-store", "-q", "--references", path], capture_output=True, text=True).stdout.split()
deriver = subprocess.run(["nix-store", "-q", "--deriver", path], capture_output=True, text=True).stdout.strip()
base = path.split("/")[-1]
print(json.dumps({
    "cache": cache, "store_path_hash": base[:32], "store_path": path,
    "references": sorted(r.split("/")[-1] for r in refs),
    "system": "x86_64-linux",
    "deriver": deriver.split("/")[-1] if deriver.startswith("/") else None,
    "sigs": [], "ca": None, "nar_hash": nar_hash, "nar_size": nar_size}))
PYEOF
}
