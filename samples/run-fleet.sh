#!/usr/bin/env bash
# Runs a fleet on this machine: a broker (redis-server, or nats-server with JetStream), three producers (two instances
# of "checkout", one of "payments"; the API sample) and two consumers (the consumer sample, one consumer group). Builds
# once, starts everything, waits until each answers, posts one CRITICAL event to each producer, and prints the fleet's
# health as a consumer sees it. Everything it started stops when it ends; with --keep it stays up until Ctrl+C.
#   samples/run-fleet.sh [--broker redis|nats] [--keep]
# Ports (override with the environment): REDIS_PORT=6390 or NATS_PORT=4290, producers 5081-5083, consumers 5090-5091
# (BASE_PORT=5080).
set -euo pipefail
cd "$(dirname "$0")/.."

keep=false broker=redis
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=true ;;
    --broker) broker=${2:-}; shift ;;
    *) echo "run-fleet: unknown argument '$1' (use --broker redis|nats and --keep)" >&2; exit 2 ;;
  esac
  shift
done
[ "$broker" = redis ] || [ "$broker" = nats ] || { echo "run-fleet: --broker must be redis or nats (was '$broker')" >&2; exit 2; }
redis_port=${REDIS_PORT:-6390}
nats_port=${NATS_PORT:-4290}
base=${BASE_PORT:-5080}
tools=(curl dotnet)
if [ "$broker" = redis ]; then tools+=(redis-server redis-cli); else tools+=(nats-server); fi
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || { echo "run-fleet: $tool is not installed (apt-get install -y redis-server, or nats-server)" >&2; exit 1; }
done

pids=()
store=""
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true
  if [ -n "$store" ]; then rm -rf "$store"; fi
}
trap stop EXIT

# Wait until a command succeeds: as long as everything started is still running (a slow, busy machine only takes
# longer), at most READY_TIMEOUT seconds (default 600), with a line of progress every 15 seconds.
ready() {
  local started=$SECONDS last=$SECONDS
  until "$@" >/dev/null 2>&1; do
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null || { echo "run-fleet: a process it started ($pid) exited while waiting for: $*" >&2; return 1; }
    done
    if [ $((SECONDS - started)) -ge "${READY_TIMEOUT:-600}" ]; then
      echo "run-fleet: gave up after ${READY_TIMEOUT:-600} s waiting for: $*" >&2; return 1
    fi
    if [ $((SECONDS - last)) -ge 15 ]; then echo "  still waiting ($((SECONDS - started)) s): $*"; last=$SECONDS; fi
    sleep 0.5
  done
}

echo "building the samples once..."
dotnet build samples/Immune.Samples.Api -c Release -v quiet -nologo >/dev/null
dotnet build samples/Immune.Samples.Consumer -c Release -v quiet -nologo >/dev/null

if [ "$broker" = redis ]; then
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null &
  pids+=($!)
  ready redis-cli -p "$redis_port" ping
  export ConnectionStrings__Redis="127.0.0.1:$redis_port"
else
  store=$(mktemp -d)
  nats-server --jetstream --addr 127.0.0.1 --port "$nats_port" --store_dir "$store" >/dev/null 2>&1 &
  pids+=($!)
  ready bash -c "exec 3<>/dev/tcp/127.0.0.1/$nats_port"
  export ConnectionStrings__Nats="nats://127.0.0.1:$nats_port" Immune__Broker=nats
fi
start() { # start <project> <port> <environment assignments...>
  local project=$1 port=$2; shift 2
  env "$@" dotnet run --no-build -c Release --project "samples/$project" --urls "http://127.0.0.1:$port" >/dev/null 2>&1 &
  pids+=($!)
}
start Immune.Samples.Api $((base + 1)) Immune__Source=checkout
start Immune.Samples.Api $((base + 2)) Immune__Source=checkout
start Immune.Samples.Api $((base + 3)) Immune__Source=payments
start Immune.Samples.Consumer $((base + 10)) Immune__ConsumerName=c1
start Immune.Samples.Consumer $((base + 11)) Immune__ConsumerName=c2
for port in $((base + 1)) $((base + 2)) $((base + 3)); do ready curl -sf "http://127.0.0.1:$port/api/immune/health"; done
for port in $((base + 10)) $((base + 11)); do ready curl -sf "http://127.0.0.1:$port/api/immune/fleet/health"; done

for port in $((base + 1)) $((base + 2)) $((base + 3)); do
  curl -sf -X POST "http://127.0.0.1:$port/api/immune/event" -H 'content-type: application/json' \
       -d '{"severity":"CRITICAL","type":"POLICY_VIOLATION","message":"token reused"}' >/dev/null
done

# The consumers read the stream in the background: wait until they have read the three events.
ready bash -c "curl -sf 'http://127.0.0.1:$((base + 10))/api/immune/fleet/health?minutes=60' | grep -q '\"critical_issues\":3'"
echo "fleet health (checkout: 2 instances, payments: 1):"
curl -sf "http://127.0.0.1:$((base + 10))/api/immune/fleet/health?minutes=60"
echo
curl -sf "http://127.0.0.1:$((base + 10))/" | grep -q '<title>Immune' || { echo "run-fleet: the dashboard did not answer" >&2; exit 1; }
echo "dashboard: http://127.0.0.1:$((base + 10))/ (open it in a browser; it updates every 2 seconds)"

if $keep; then
  echo "running: producers on $((base + 1))-$((base + 3)), consumers on $((base + 10))-$((base + 11)), $broker on $([ "$broker" = redis ] && echo "$redis_port" || echo "$nats_port"); Ctrl+C stops them"
  wait
fi
