#!/usr/bin/env bash
# deploy/container/Containerfile and deploy/systemd/garretd.service, checked
# without a container engine or a running systemd:
# - every shared library this garretd links directly belongs to a Debian
#   package the runtime stage installs (dpkg -S), so a new dependency cannot
#   be forgotten there; the stages, user, port and entrypoint are as documented;
# - the unit passes `systemd-analyze verify`, carries the hardening it
#   promises, and scores at most 2.0 in `systemd-analyze security`.
# Each check is also run on a deliberately broken copy and must fail there.
#
# Environment: GARRETD (the binary; default build/apps/garretd/garretd).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${GARRET_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
garretd=${GARRETD:-$src/build/apps/garretd/garretd}
containerfile=$src/deploy/container/Containerfile
unit=$src/deploy/systemd/garretd.service
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$garretd" ]; then
  echo "FAIL: garretd not found at '$garretd' (build it: make garretd; or set GARRETD)" >&2
  exit 1
fi

# ---- Containerfile ----------------------------------------------------------------

# runtime_packages FILE: the packages of the runtime stage's apt-get install.
runtime_packages() {
  awk '/^FROM /{stage++} stage==2' "$1" |
    sed -n '/apt-get install/,/rm -rf \/var\/lib\/apt\/lists/p' |
    sed 's/[ \\]/\n/g' | grep -E '^[a-z0-9][a-z0-9.+-]+$' |
    grep -vE '^(apt-get|install|rm|update|DEBIAN_FRONTEND=.*)$' | sort -u
}

# package_of LIBPATH: the Debian package shipping that file ("" if none).
package_of() {
  local path=$1 candidates real
  real=$(readlink -f "$path")
  candidates=("$path" "$real" "${path#/usr}" "/usr${path}" "${real#/usr}")
  for p in "${candidates[@]}"; do
    if out=$(dpkg-query -S "$p" 2>/dev/null); then
      out=${out%%:*}
      echo "${out%%,*}"
      return
    fi
  done
}

# check_libraries CONTAINERFILE: prints a line per library garretd links
# directly (its NEEDED entries) that no listed package ships. apt brings the
# libraries those depend on with them.
check_libraries() {
  local listed lib path pkg needed
  listed=$(runtime_packages "$1")
  needed=$(readelf -d "$garretd" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')
  ldd "$garretd" | awk '/=>/ {print $1, $3}' | while read -r lib path; do
    grep -qxF "$lib" <<<"$needed" || continue
    case $lib in libasan* | libubsan* | liblsan* | libtsan*) continue ;; esac
    pkg=$(package_of "$path")
    if [ -z "$pkg" ]; then
      echo "$lib ($path): no Debian package ships it"
    elif ! grep -qx "$pkg" <<<"$listed"; then
      echo "$lib: package $pkg is not installed by the runtime stage"
    fi
  done
}

# check_containerfile FILE: prints a line per structural problem.
check_containerfile() {
  local f=$1
  grep -qE '^ARG BUILD_IMAGE=debian:12$' "$f" || echo "build stage is not debian:12"
  grep -qE '^ARG RUNTIME_IMAGE=debian:12-slim$' "$f" || echo "runtime stage is not debian:12-slim"
  [ "$(grep -c '^FROM ' "$f")" = 2 ] || echo "expected two stages"
  grep -q 'scripts/install-deps.sh' "$f" || echo "the build stage does not use scripts/install-deps.sh"
  grep -q 'GARRET_BUILD_TESTS=OFF' "$f" || echo "the build stage builds the tests"
  grep -qE '^USER [1-9][0-9]*:[1-9][0-9]*$' "$f" || echo "USER is not a numeric non-root uid:gid"
  grep -qE '^EXPOSE 8080$' "$f" || echo "no EXPOSE 8080"
  grep -qE '^ENTRYPOINT \["garretd"\]$' "$f" || echo "ENTRYPOINT is not [\"garretd\"]"
  grep -qE ':latest\b' "$f" && echo "a :latest image"
  grep -q "ldd /usr/local/bin/garretd | grep 'not found'" "$f" ||
    echo "the runtime stage does not fail on a missing library"
  true
}

if command -v dpkg-query >/dev/null; then
  problems=$(check_libraries "$containerfile")
  if [ -z "$problems" ]; then
    pass "Containerfile installs a package for each library garretd links directly"
  else
    fail "Containerfile runtime packages: $problems"
  fi
  # Broken copy: a library's package removed from the list.
  sed 's/ libsodium23//' "$containerfile" >"$tmp/Containerfile.broken"
  if grep -q libsodium <<<"$(check_libraries "$tmp/Containerfile.broken")"; then
    pass "a runtime package missing from the list is caught"
  else
    fail "removing libsodium23 from the Containerfile was not caught"
  fi
else
  echo "note: no dpkg-query (not Debian); runtime packages not checked against ldd"
fi

problems=$(check_containerfile "$containerfile")
if [ -z "$problems" ]; then
  pass "Containerfile stages, user, port, entrypoint"
else
  fail "Containerfile: $problems"
fi
sed 's/^USER .*/USER root/' "$containerfile" >"$tmp/Containerfile.root"
if grep -q USER <<<"$(check_containerfile "$tmp/Containerfile.root")"; then
  pass "a root USER is caught"
else
  fail "USER root was not caught"
fi

# ---- systemd unit -------------------------------------------------------------------

# check_unit FILE: prints a line per missing directive or failed verification.
check_unit() {
  local f=$1 d
  for d in 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' 'NoNewPrivileges=yes' \
    'CapabilityBoundingSet=' 'SystemCallFilter=@system-service' 'MemoryDenyWriteExecute=yes' \
    'Restart=on-failure' 'StateDirectory=garret'; do
    grep -qx "$d" "$f" || echo "no $d"
  done
  grep -qE '^RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6$' "$f" || echo "RestrictAddressFamilies"
  grep -qE '^(DynamicUser=yes|User=[a-z_][a-z0-9_-]*)$' "$f" || echo "neither DynamicUser nor a User"
  grep -qE '^ExecStart=/usr/local/bin/garretd serve -f /etc/garret/server.toml' "$f" ||
    echo "ExecStart does not run garretd serve -f /etc/garret/server.toml"
  # garretd drains for up to 30 s after SIGTERM.
  local stop
  stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s\?$/\1/p' "$f")
  [ -n "$stop" ] && [ "$stop" -ge 35 ] || echo "TimeoutStopSec must leave 30 s of drain (>= 35s)"
  if command -v systemd-analyze >/dev/null; then
    mkdir -p "$tmp/unit"
    sed "s#/usr/local/bin/garretd#$garretd#" "$f" >"$tmp/unit/garretd.service"
    systemd-analyze verify "$tmp/unit/garretd.service" >"$tmp/verify.out" 2>&1 ||
      echo "systemd-analyze verify: $(cat "$tmp/verify.out")"
    if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
      local score
      score=$(systemd-analyze security --offline=yes "$tmp/unit/garretd.service" 2>/dev/null |
        sed -n 's/.*Overall exposure level for garretd.service: \([0-9.]*\).*/\1/p')
      if [ -z "$score" ] || ! awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
        echo "exposure level '${score:-?}' above 2.0"
      fi
    fi
  fi
  true
}

problems=$(check_unit "$unit")
if [ -z "$problems" ]; then
  pass "garretd.service: verified, hardened, drains on stop"
else
  fail "garretd.service: $problems"
fi
sed -e '/^ProtectSystem=/d' -e '/^CapabilityBoundingSet=/d' "$unit" >"$tmp/weak.service"
if [ "$(check_unit "$tmp/weak.service" | grep -cE 'ProtectSystem|CapabilityBoundingSet')" -ge 2 ]; then
  pass "a unit without ProtectSystem and CapabilityBoundingSet is caught"
else
  fail "a weakened unit was not caught"
fi
sed 's/^TimeoutStopSec=.*/TimeoutStopSec=5s/' "$unit" >"$tmp/short.service"
if grep -q TimeoutStopSec <<<"$(check_unit "$tmp/short.service")"; then
  pass "a stop timeout shorter than the drain is caught"
else
  fail "TimeoutStopSec=5s was not caught"
fi
if command -v systemd-analyze >/dev/null; then
  sed 's/^ExecStart=.*/ExecStart=relative-garretd serve/' "$unit" >"$tmp/bad.service"
  if grep -qE 'ExecStart|verify' <<<"$(check_unit "$tmp/bad.service")"; then
    pass "an invalid ExecStart is caught"
  else
    fail "an invalid ExecStart was not caught"
  fi
else
  echo "note: systemd-analyze not installed; the unit is checked by its directives only"
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "Containerfile and garretd.service: all checks passed"
