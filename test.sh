#!/usr/bin/env bash
# Runs every test of the solution: the library tests on net8.0 and net10.0 (net8.0 self-contained, so no installed
# .NET 8 runtime is needed), the samples' tests on net10.0. The samples' tests start their own redis-server and
# nats-server, drive a headless Chromium through chromedriver and check the example alert rules with promtool, all
# from PATH, so this installs what is missing first (Debian/Ubuntu packages redis-server, nats-server, chromium,
# chromium-driver and prometheus; as root or with sudo; --no-install-recommends). Ends with one line:
# "N passed, N failed", the total over every test run.
set -uo pipefail
cd "$(dirname "$0")"

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
{ command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; } || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "missing: ${missing[*]}: installing (apt-get install -y ${missing[*]})"
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo_cmd="sudo"
    else
      echo "test.sh: ${missing[*]} missing, and installing needs root or sudo. Install them yourself" >&2
      echo "(Debian/Ubuntu: apt-get install -y ${missing[*]}) and run ./test.sh again." >&2
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: ${missing[*]} missing and this is no Debian/Ubuntu system; install them and run ./test.sh again." >&2
    exit 1
  fi
  $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { echo "test.sh: installing ${missing[*]} failed; install them yourself and run ./test.sh again." >&2; exit 1; }
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
