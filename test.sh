#!/usr/bin/env bash
# Runs every test of the solution: the library tests on net8.0 and net10.0 (net8.0 self-contained, so no installed
# .NET 8 runtime is needed), the samples' tests on net10.0. The Redis tests start their own redis-server from PATH,
# so this installs it first when it is missing (Debian/Ubuntu, as root or with sudo). Ends with one line:
# "N passed, N failed", the total over every test run.
set -uo pipefail
cd "$(dirname "$0")"

if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis-server not found: installing it (apt-get install -y redis-server)"
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo_cmd="sudo"
    else
      echo "test.sh: redis-server is missing, and installing it needs root or sudo. Install it yourself" >&2
      echo "(Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) and run ./test.sh again." >&2
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: redis-server is missing and this is no Debian/Ubuntu system; install Redis and run ./test.sh again." >&2
    exit 1
  fi
  $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq redis-server >/dev/null \
    || { echo "test.sh: installing redis-server failed; install it yourself and run ./test.sh again." >&2; exit 1; }
fi

results="artifacts/test-results"
rm -rf "$results"
# A test host that hangs is stopped after 10 minutes and counted as failed, rather than stalling the run.
dotnet test Immune.sln -c Release --logger "trx" --results-directory "$results" --blame-hang-timeout 10m --blame-hang-dump-type none "$@"
status=$?

passed=0 failed=0
for file in "$results"/*.trx; do
  [ -f "$file" ] || continue
  counters=$(grep -o '<Counters [^>]*' "$file")
  p=$(grep -o ' passed="[0-9]*"' <<<"$counters" | grep -o '[0-9]*')
  f=$(grep -o ' failed="[0-9]*"' <<<"$counters" | grep -o '[0-9]*')
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
if [ "$passed" -eq 0 ] && [ "$status" -eq 0 ]; then
  status=1 # a run that executed no test proves nothing
fi
echo "$passed passed, $failed failed"
exit $status
