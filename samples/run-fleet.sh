#!/usr/bin/env bash
# Runs a fleet on this machine: a broker (redis-server with an append-only file, or nats-server with JetStream), three
# producers (two instances of "checkout", one of "payments"; the API sample) and two consumers (the consumer sample,
# one consumer group). Builds once, starts everything, waits until each answers, posts one CRITICAL event to each
# producer, and prints the fleet's health as a consumer sees it. Then it stops everything it started, unless --keep:
# then the fleet stays up, with its dashboard, until Ctrl+C.
#   samples/run-fleet.sh [--broker redis|nats] [--cluster] [--keep]
# --cluster (NATS): three nats-server nodes in one JetStream cluster, 4 shards of R3 streams, the consumers dividing the
# shards by leases; after the first round it kills one node and one consumer with SIGKILL, posts again and shows that
# the fleet still answers, whole.
# Ports (override with the environment): REDIS_PORT=6390 or NATS_PORT=4290 (with --cluster 4290-4292 for clients and
# 4293-4295 for the cluster's routes), producers 5081-5083, consumers 5090-5091 (BASE_PORT=5080). The broker's data and every host's log go to a temporary directory, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

keep=false broker=redis cluster=false
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=true ;;
    --cluster) cluster=true ;;
    --broker) broker=${2:-}; shift ;;
    *) echo "run-fleet: unknown argument '$1' (use --broker redis|nats, --cluster and --keep)" >&2; exit 2 ;;
  esac
  shift
done
[ "$broker" = redis ] || [ "$broker" = nats ] || { echo "run-fleet: --broker must be redis or nats (was '$broker')" >&2; exit 2; }
if $cluster && [ "$broker" != nats ]; then echo "run-fleet: --cluster runs a JetStream cluster: use it with --broker nats" >&2; exit 2; fi
redis_port=${REDIS_PORT:-6390}
nats_port=${NATS_PORT:-4290}
base=${BASE_PORT:-5080}
broker_port=$([ "$broker" = redis ] && echo "$redis_port" || echo "$nats_port")
tools=(curl dotnet)
if [ "$broker" = redis ]; then tools+=(redis-server redis-cli); else tools+=(nats-server); fi
if $cluster; then tools+=(pkill); fi
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || { echo "run-fleet: $tool is not installed (apt-get install -y redis-server, or nats-server; curl)" >&2; exit 1; }
done
broker_ports=("$broker_port")
if $cluster; then broker_ports=($(seq "$nats_port" $((nats_port + 5)))); fi
for port in "${broker_ports[@]}" $((base + 1)) $((base + 2)) $((base + 3)) $((base + 10)) $((base + 11)); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "run-fleet: port $port is in use. Stop what listens there, or choose other ports: BASE_PORT=6080 REDIS_PORT=6391 NATS_PORT=4291 $0" >&2
    exit 1
  fi
done

work=$(mktemp -d)
pids=() names=()
stop() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
  if [ "$status" -eq 0 ]; then echo "run-fleet: stopped everything it started."; else echo "run-fleet: stopped everything it started (exit $status)." >&2; fi
}
trap stop EXIT
trap 'exit 130' INT TERM

launch() { # launch <name> <command...>: runs it in the background, its output in $work/<name>.log
  local name=$1; shift
  "$@" >"$work/$name.log" 2>&1 &
  pids+=($!) names+=("$name")
}

# Wait until a command succeeds, as long as everything started still runs (a busy machine only takes longer), at most
# READY_TIMEOUT seconds (default 600), with a line of progress every 15 seconds; a host that exits shows its log.
ready() {
  local what=$1 started=$SECONDS last=$SECONDS; shift
  until "$@" >/dev/null 2>&1; do
    for i in "${!pids[@]}"; do
      if ! kill -0 "${pids[$i]}" 2>/dev/null; then
        echo "run-fleet: ${names[$i]} exited while waiting for $what; its log:" >&2
        tail -n 30 "$work/${names[$i]}.log" >&2
        return 1
      fi
    done
    if [ $((SECONDS - started)) -ge "${READY_TIMEOUT:-600}" ]; then
      echo "run-fleet: gave up after ${READY_TIMEOUT:-600} s waiting for $what" >&2; return 1
    fi
    if [ $((SECONDS - last)) -ge 15 ]; then echo "  still waiting for $what ($((SECONDS - started)) s)"; last=$SECONDS; fi
    sleep 0.5
  done
}

echo "[1/4] building the samples (the first build takes a few minutes)..."
for project in Immune.Samples.Api Immune.Samples.Consumer; do
  dotnet build "samples/$project" -c Release -v quiet -nologo >"$work/build.log" 2>&1 \
    || { cat "$work/build.log" >&2; echo "run-fleet: building $project failed (above)" >&2; exit 1; }
done

if [ "$broker" = redis ]; then
  echo "[2/4] starting redis-server on 127.0.0.1:$redis_port (append-only file, synced every second)..."
  mkdir -p "$work/redis"
  launch redis redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis" --save "" --appendonly yes --appendfsync everysec
  ready redis-server redis-cli -p "$redis_port" ping
  export ConnectionStrings__Redis="127.0.0.1:$redis_port"
elif $cluster; then
  echo "[2/4] starting a JetStream cluster of three nats-server nodes on 127.0.0.1:$nats_port-$((nats_port + 2))..."
  routes=nats://127.0.0.1:$((nats_port + 3)),nats://127.0.0.1:$((nats_port + 4)),nats://127.0.0.1:$((nats_port + 5))
  for i in 0 1 2; do
    launch "nats-$((i + 1))" nats-server --jetstream --addr 127.0.0.1 --port $((nats_port + i)) --store_dir "$work/nats-$((i + 1))" \
      --server_name "n$((i + 1))" --cluster_name immune --cluster "nats://127.0.0.1:$((nats_port + 3 + i))" --routes "$routes"
  done
  for i in 0 1 2; do ready "nats-server n$((i + 1))" bash -c "exec 3<>/dev/tcp/127.0.0.1/$((nats_port + i))"; done
  export ConnectionStrings__Nats="nats://127.0.0.1:$nats_port,nats://127.0.0.1:$((nats_port + 1)),nats://127.0.0.1:$((nats_port + 2))"
  export Immune__Broker=nats Immune__Nats__Shards=4 Immune__Nats__Replicas=3
else
  echo "[2/4] starting nats-server with JetStream on 127.0.0.1:$nats_port..."
  launch nats nats-server --jetstream --addr 127.0.0.1 --port "$nats_port" --store_dir "$work/nats"
  ready nats-server bash -c "exec 3<>/dev/tcp/127.0.0.1/$nats_port"
  export ConnectionStrings__Nats="nats://127.0.0.1:$nats_port" Immune__Broker=nats
fi

echo "[3/4] starting 3 producers (ports $((base + 1))-$((base + 3))) and 2 consumers ($((base + 10))-$((base + 11)))..."
host() { # host <name> <project> <port> <environment assignments...>
  local name=$1 project=$2 port=$3; shift 3
  launch "$name" env "$@" dotnet run --no-build -c Release --project "samples/$project" --urls "http://127.0.0.1:$port"
}
host checkout-1 Immune.Samples.Api $((base + 1)) Immune__Source=checkout
host checkout-2 Immune.Samples.Api $((base + 2)) Immune__Source=checkout
host payments Immune.Samples.Api $((base + 3)) Immune__Source=payments
host consumer-1 Immune.Samples.Consumer $((base + 10)) Immune__Redis__ConsumerName=c1
host consumer-2 Immune.Samples.Consumer $((base + 11)) Immune__Redis__ConsumerName=c2
for port in $((base + 1)) $((base + 2)) $((base + 3)); do ready "the producer on $port" curl -sf "http://127.0.0.1:$port/api/immune/health"; done
for port in $((base + 10)) $((base + 11)); do ready "the consumer on $port" curl -sf "http://127.0.0.1:$port/api/immune/fleet/health"; done

post_criticals() {
  for port in $((base + 1)) $((base + 2)) $((base + 3)); do
    curl -sf -X POST "http://127.0.0.1:$port/api/immune/event" -H 'content-type: application/json' \
         -d '{"severity":"CRITICAL","type":"POLICY_VIOLATION","message":"token reused"}' >/dev/null
  done
}
echo "[4/4] posting one CRITICAL event to each producer..."
post_criticals

# The consumers read the stream in the background: wait until they have read the three events.
ready "the consumers to read the events" bash -c "curl -sf 'http://127.0.0.1:$((base + 10))/api/immune/fleet/health?minutes=60' | grep -q '\"critical_issues\":3'"
echo "fleet health (checkout: 2 instances, payments: 1):"
curl -sf "http://127.0.0.1:$((base + 10))/api/immune/fleet/health?minutes=60"
echo
curl -sf "http://127.0.0.1:$((base + 10))/" | grep -q '<title>Immune' || { echo "run-fleet: the dashboard did not answer" >&2; exit 1; }

if $cluster; then
  echo "killing nats-server n1 and the consumer on $((base + 11)) with SIGKILL, then posting one more CRITICAL event to each producer..."
  for i in "${!names[@]}"; do
    if [ "${names[$i]}" = nats-1 ] || [ "${names[$i]}" = consumer-2 ]; then
      pkill -KILL -P "${pids[$i]}" 2>/dev/null || true # the host itself, started by 'dotnet run'
      kill -KILL "${pids[$i]}" 2>/dev/null || true
      wait "${pids[$i]}" 2>/dev/null || true
      unset "pids[$i]"
    fi
  done
  post_criticals
  ready "the surviving consumer to read all six events" bash -c "curl -sf 'http://127.0.0.1:$((base + 10))/api/immune/fleet/health?minutes=60' | grep -q '\"critical_issues\":6'"
  echo "fleet health with one node and one consumer killed (the others took over):"
  curl -sf "http://127.0.0.1:$((base + 10))/api/immune/fleet/health?minutes=60"
  echo
fi

if $keep; then
  echo "running: dashboard http://127.0.0.1:$((base + 10))/ (it updates every 2 seconds); producers on $((base + 1))-$((base + 3)), $broker on $broker_port. Ctrl+C stops them."
  wait
else
  echo "the fleet answered; stopping it now. To keep it running and open its dashboard: $0 --keep"
fi
