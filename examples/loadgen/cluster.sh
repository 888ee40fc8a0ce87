#!/usr/bin/env bash
# Fanout across the two nodes of a cluster, per adapter, side by side (README "Scaling out"):
#
#   examples/loadgen/cluster.sh -s "sio-redis=redis DEFAULT" -s "node-redis=redis node tests/js/bench-cluster-server.mjs" -r 3
#
# Each -s is NAME=ADAPTER CMD: CMD (a server honouring the bench contract, reading PORT,
# SIO_ADAPTER, REDIS_URL, REDIS_KEY and RECOVERY_MS; DEFAULT is sio's bench_server) is
# started twice, on two ports, with SIO_ADAPTER=ADAPTER and a channel prefix of the run's own,
# both pinned to CPU 0; the loadgen (CPU 1) connects 1,000 receivers spread over both nodes and
# one sender on the first, which `bcast`s (a window of 32 in flight, 64 B payloads). One JSON
# line per run goes to <out>/results.jsonl and the table of medians is printed. Redis:
# REDIS_URL, else a redis-server of the script's own on a free port (so the script runs in a
# private network namespace too: `unshare -n`, then `ip link set lo up`).
#
# Options: -r N repetitions (default 3), -d SECS per run (default 5), -o DIR, -B (no build),
# -e VAR=VALUE (more environment for the servers, e.g. RECOVERY_MS=120000; repeatable).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
die() { echo "cluster.sh: $*" >&2; exit 2; }

NAMES=() KINDS=() CMDS=() REPS=3 DUR=5 OUT="" BUILD=1 ENVS=()
while getopts ":s:r:d:o:e:B" opt; do
  case $opt in
    s) [[ $OPTARG == *=*" "* ]] || die "expected NAME=ADAPTER CMD, got '$OPTARG'"
       NAMES+=("${OPTARG%%=*}"); rest=${OPTARG#*=}; KINDS+=("${rest%% *}"); CMDS+=("${rest#* }") ;;
    r) REPS=$OPTARG ;;
    d) DUR=$OPTARG ;;
    o) OUT=$OPTARG ;;
    e) ENVS+=("$OPTARG") ;;
    B) BUILD=0 ;;
    *) die "unknown option (see the header of this script)" ;;
  esac
done
[ ${#NAMES[@]} -gt 0 ] || die "give at least one -s NAME=ADAPTER CMD"

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
[ "$BUILD" = 1 ] && (cd "$ROOT" && cargo build --release -p examples --example bench_server --example loadgen) >&2
BIN=$TARGET/release/examples
OUT=${OUT:-$TARGET/loadgen/cluster-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
ulimit -n 65536 2>/dev/null || true

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  die "nothing listens on port $1"
}

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

if [ -z "${REDIS_URL:-}" ]; then
  RPORT=$(free_port)
  redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no >"$OUT/redis.log" 2>&1 &
  PIDS+=($!)
  wait_port "$RPORT"
  REDIS_URL=redis://127.0.0.1:$RPORT
fi

for rep in $(seq "$REPS"); do
  for i in "${!NAMES[@]}"; do
    name=${NAMES[$i]} kind=${KINDS[$i]} cmd=${CMDS[$i]}
    [ "$cmd" = DEFAULT ] && cmd=$BIN/bench_server
    key="bench-$name-$rep-$RANDOM"
    ports=() servers=()
    for _ in 1 2; do
      port=$(free_port)
      (cd "$ROOT" && env PORT="$port" SIO_ADAPTER="$kind" REDIS_URL="$REDIS_URL" REDIS_KEY="$key" \
        "${ENVS[@]}" taskset -c 0 bash -c "exec $cmd") >>"$OUT/server-$name.log" 2>&1 &
      servers+=($!); PIDS+=($!); ports+=("$port")
    done
    wait_port "${ports[0]}"; wait_port "${ports[1]}"
    sleep 1 # both subscribed to the cluster's channels and stream
    taskset -c 1 timeout 300 "$BIN/loadgen" fanout --receivers 1000 --window 32 --payload 64 \
      --duration "$DUR" --url "http://127.0.0.1:${ports[0]}" --also-url "http://127.0.0.1:${ports[1]}" \
      --server-pid "${servers[0]}" --label "$name" --bench fanout --json >>"$RESULTS" \
      2>>"$OUT/loadgen.log" || echo "cluster.sh: loadgen failed ($name): see $OUT/loadgen.log" >&2
    tail -n 1 "$OUT/loadgen.log" >&2
    kill "${servers[@]}" 2>/dev/null || true
    wait "${servers[@]}" 2>/dev/null || true
  done
done
"$BIN/loadgen" report "$RESULTS" | tee "$OUT/summary.md"
