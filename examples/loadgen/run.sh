#!/usr/bin/env bash
# The standard load test of the README's "Performance" section, as one command:
#
#   examples/loadgen/run.sh                       # build, then sio's bench_server, 3 repetitions
#   examples/loadgen/run.sh -s sio=DEFAULT -s other=/path/to/server -r 5
#
# For each repetition, scenario and server (interleaved: A B A B ...): a fresh server process
# pinned to CPU 0 (`taskset -c 0`) on a new loopback port, the loadgen pinned to CPU 1 under
# `timeout`, the server's CPU time per operation read from /proc/PID/stat, the server stopped
# by its PID. One JSON line per run goes to <out>/results.jsonl; the Markdown table of medians
# is printed and kept in <out>/summary.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CALLER_PWD=$PWD

usage() {
  cat <<'EOF'
usage: examples/loadgen/run.sh [-s NAME=CMD]... [-S LIST] [-r N] [-d SECS] [-o DIR] [-B]

  -s NAME=CMD  a server honouring the bench contract (DESIGN §6), repeatable. CMD is one
               command (it is exec'd, so its PID is the server's) and reads the port from
               $PORT. NAME=DEFAULT is sio's examples/bench_server. Default: sio=DEFAULT.
  -S LIST      scenarios, comma-separated (default: echo-p16,fanout,conns,connect; also
               known: echo, echo-polling, room, storm, storm-recover, storm-restart).
               storm-recover starts the server with RECOVERY_MS=$LOADGEN_RECOVERY_MS
               (default 120000); storm-restart kills the server once all clients are
               connected and starts a new one on the same port.
  -r N         repetitions (default 3)
  -d SECS      measured seconds per run (default 10; conns holds 3 s)
  -o DIR       output directory (default target/loadgen/<stamp>)
  -B           do not build (cargo build --release --example bench_server --example loadgen)

Environment: CARGO_TARGET_DIR (where the binaries are), LOADGEN_PORT_BASE (default 21000),
LOADGEN_SERVER_CPU (default 0), LOADGEN_LOAD_CPU (default 1).
EOF
}

die() { echo "run.sh: $*" >&2; exit 2; }
note() { echo "run.sh: $*" >&2; }

declare -A ARGS=(
  [echo]="echo --clients 100 --pipeline 1 --payload 64"
  [echo-p16]="echo --clients 100 --pipeline 16 --payload 64"
  [echo-polling]="echo --clients 100 --pipeline 16 --payload 64 --polling-share 0.05"
  [fanout]="fanout --receivers 1000 --window 32 --payload 64"
  [room]="room --sockets 10000 --room-size 100 --window 32 --payload 64"
  [conns]="conns --conns 10000 --hold 3"
  [connect]="connect --concurrency 50"
  [storm]="storm --conns 10000"
  [storm-recover]="storm --conns 10000 --recover"
  [storm-restart]="storm --conns 10000 --restart"
)

NAMES=() CMDS=() LIST="echo-p16,fanout,conns,connect" REPS=3 DUR=10 OUT="" BUILD=1
while getopts ":s:S:r:d:o:Bh" opt; do
  case $opt in
    s) [[ $OPTARG == *=* ]] || die "expected NAME=CMD, got '$OPTARG'"
       NAMES+=("${OPTARG%%=*}"); CMDS+=("${OPTARG#*=}") ;;
    S) LIST=$OPTARG ;;
    r) REPS=$OPTARG ;;
    d) DUR=$OPTARG ;;
    o) case $OPTARG in /*) OUT=$OPTARG ;; *) OUT=$CALLER_PWD/$OPTARG ;; esac ;;
    B) BUILD=0 ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
(($# == 0)) || die "unexpected arguments: $*"
[[ $REPS =~ ^[1-9][0-9]*$ ]] || die "-r wants a positive integer"
[[ $DUR =~ ^[0-9]+([.][0-9]+)?$ ]] || die "-d wants seconds"
((${#NAMES[@]} > 0)) || { NAMES=(sio); CMDS=(DEFAULT); }
IFS=, read -r -a SCENARIOS <<<"$LIST"
for s in "${SCENARIOS[@]}"; do [[ -n ${ARGS[$s]:-} ]] || die "unknown scenario '$s'"; done

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
BIN=$TARGET/release/examples
if ((BUILD)); then
  (cd "$ROOT" && cargo build --release -p examples --example bench_server --example loadgen) >&2
fi
LOADGEN=$BIN/loadgen
[[ -x $LOADGEN ]] || die "$LOADGEN not built (drop -B)"
for i in "${!CMDS[@]}"; do
  [[ ${CMDS[$i]} == DEFAULT ]] && CMDS[$i]=$BIN/bench_server
done
command -v taskset >/dev/null || die "taskset (util-linux) is needed"

# 10,000 connections need as many descriptors in the server and in the loadgen.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(( $(ulimit -n) >= 10100 )) || note "open-file limit $(ulimit -n) is below 10,100: conns will fall short"

OUT=${OUT:-$TARGET/loadgen/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
SERVER_CPU=${LOADGEN_SERVER_CPU:-0} LOAD_CPU=${LOADGEN_LOAD_CPU:-1}
PORT=${LOADGEN_PORT_BASE:-21000}
{
  echo "date: $(date -Is)"; echo "host: $(uname -srm), $(nproc) CPUs"
  echo "servers:"; for i in "${!NAMES[@]}"; do echo "  ${NAMES[$i]} = ${CMDS[$i]}"; done
  echo "scenarios: ${SCENARIOS[*]}; reps $REPS; duration $DUR s"
  echo "commit: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >"$OUT/run-info.txt"

SERVER_PID=""
stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
trap 'stop_server; exit 130' INT TERM
trap stop_server EXIT

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_server NAME CMD SCENARIO: on $PORT, pinned; sets SERVER_PID.
start_server() {
  local env=()
  [[ $3 == storm-recover ]] && env=(env "RECOVERY_MS=${LOADGEN_RECOVERY_MS:-120000}")
  PORT=$PORT taskset -c "$SERVER_CPU" "${env[@]}" bash -c "exec $2" >>"$OUT/server-$1.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do port_open "$PORT" && break; sleep 0.1; done
  port_open "$PORT" || { note "$1 did not listen on $PORT"; stop_server; return 1; }
}

for rep in $(seq "$REPS"); do
  for s in "${SCENARIOS[@]}"; do
    for i in "${!NAMES[@]}"; do
      name=${NAMES[$i]} cmd=${CMDS[$i]}
      while port_open "$PORT"; do PORT=$((PORT + 1)); done
      start_server "$name" "$cmd" "$s" || continue
      note "rep $rep: $s against $name (pid $SERVER_PID, port $PORT)"
      lines=$(wc -l <"$OUT/loadgen.log" 2>/dev/null || echo 0)
      # shellcheck disable=SC2086
      taskset -c "$LOAD_CPU" timeout 600 "$LOADGEN" ${ARGS[$s]} --duration "$DUR" \
        --url "http://127.0.0.1:$PORT" --server-pid "$SERVER_PID" --label "$name" --bench "$s" --json \
        >>"$RESULTS" 2>>"$OUT/loadgen.log" &
      load=$!
      if [[ $s == storm-restart ]]; then
        # Once every client is connected, the server goes and a new one comes on the same port.
        for _ in $(seq 1200); do
          tail -n +"$((lines + 1))" "$OUT/loadgen.log" 2>/dev/null | grep -q "restart it now" && break
          kill -0 "$load" 2>/dev/null || break
          sleep 0.1
        done
        stop_server
        start_server "$name" "$cmd" "$s" || note "$name did not come back on $PORT"
      fi
      wait "$load" || note "loadgen failed ($s, $name): see $OUT/loadgen.log"
      tail -n 1 "$OUT/loadgen.log" >&2
      stop_server
      PORT=$((PORT + 1))
    done
  done
done

"$LOADGEN" report "$RESULTS" | tee "$OUT/summary.md"
note "results: $RESULTS"
