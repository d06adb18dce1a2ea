#!/usr/bin/env bash
# Installs the Debian 12 packages garret needs to build, test and serve,
# asking apt only for what is missing. Safe to run repeatedly.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config make
  libboost-dev libcurl4-openssl-dev libsqlite3-dev libpq-dev
  libzstd-dev liblzma-dev libbz2-dev libssl-dev libsodium-dev
  nlohmann-json3-dev libtoml11-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev
  nix-bin xz-utils zstd bzip2 curl sqlite3 procps python3 python3-yaml
)
if [ "${GARRET_BENCH:-0}" = 1 ]; then
  packages+=(nginx-light wrk)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
