#!/usr/bin/env bash
# Installs the Debian packages railwatch needs to build, test and run, but only the missing ones:
# dpkg-query is asked first, and `apt-get update` runs only when something has to be installed.
# Idempotent; safe to run before every build.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config make git clang-format clang-tidy curl
  # libraries (see docs/ARCHITECTURE.md for why each one)
  libcurl4-openssl-dev libcpp-httplib-dev nlohmann-json3-dev libsimdjson-dev
  libsqlite3-dev libsqlitecpp-dev sqlite3
  libpq-dev libpqxx-dev postgresql-15
  libssl-dev libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev libexpected-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # test tooling: SMTP server, Node.js for the schema check and the browser tests, openssl
  # (throw-away test CA), promtool (in `prometheus`) to check /metrics, the browser, and wrk for
  # the API load run (make load)
  python3 python3-aiosmtpd nodejs openssl prometheus chromium wrk
  # packaging (make package, integration.package): dpkg-shlibdeps for Depends, systemd-analyze
  # to verify the unit, man to read the generated page
  dpkg-dev systemd man-db
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  # nodejs from other repositories may ship npm inside; accept any installed nodejs.
  if [[ "$status" != ii* ]]; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "install-deps: installing missing Debian packages: ${missing[*]}" >&2
if [[ $(id -u) -ne 0 ]]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's nodejs package does not include npm; a nodejs from elsewhere does.
if ! command -v npm >/dev/null 2>&1; then
  $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
echo "install-deps: done" >&2
