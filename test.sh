#!/usr/bin/env bash
# Runs every test of the solution. The Redis transport tests start their own redis-server from PATH,
# so this installs it first when it is missing (Debian/Ubuntu, as root or with sudo).
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis-server not found: installing it (apt-get install -y redis-server)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq redis-server >/dev/null
fi

results="artifacts/test-results"
rm -rf "$results"
dotnet test Immune.sln -c Release --logger "trx" --results-directory "$results" "$@"
