#!/usr/bin/env bash
# Installs the Debian 12 packages garret needs to build, test and serve,
# asking apt only for what is missing. Safe to run repeatedly.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config make
  libboost-dev libcurl4-openssl-dev libsqlite3-dev libpq-dev
  postgresql
  libzstd-dev liblzma-dev libbz2-dev libssl-dev libsodium-dev
  nlohmann-json3-dev libtoml11-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libyaml-cpp-dev
  nix-bin xz-utils zstd bzip2 curl sqlite3 procps python3 python3-yaml openssl
)
# node and npm run s3rver, the S3-compatible server of the S3 storage tests. A
# node that is already installed (say NodeSource's, which bundles npm) is kept.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
if [ "${GARRET_BENCH:-0}" = 1 ]; then
  packages+=(nginx-light wrk time)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Test-only Node packages (package.json, pinned by package-lock.json) into the
# git-ignored node_modules/, unless the locked s3rver is already there.
root="$(cd "$(dirname "$0")/.." && pwd)"
locked_version() {
  (cd "$root" && node -p "require('./package-lock.json').packages['node_modules/s3rver'].version")
}
installed_version() {
  (cd "$root" && node -p "require('./node_modules/s3rver/package.json').version" 2>/dev/null) || true
}
if [ "$(installed_version)" != "$(locked_version)" ]; then
  echo "installing test tools from package-lock.json into node_modules/"
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
fi
