#!/usr/bin/env bash
# Installs what the build, the demo and the tests need on Debian 12, idempotently:
# packages already present are not touched, and apt runs only when something is missing.
set -euo pipefail

PACKAGES=(
  php8.2-cli php8.2-dev php8.2-sqlite3 php8.2-mysql php8.2-pgsql php8.2-mbstring php8.2-xml php8.2-curl
  phpunit php-guzzlehttp-guzzle
  clang libclang-dev pkg-config
  mariadb-server postgresql
  python3-yaml openssl procps
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  # Services must not be started by the package scripts (no init system in CI);
  # the test scripts start private servers themselves.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo (Rust stable) is required: https://rustup.rs" >&2
  exit 1
fi
