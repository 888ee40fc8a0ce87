#!/usr/bin/env bash
# Traces one Socket.IO connection on the wire, from SYN to the namespace CONNECT reply
# (issue 18): TCP segments, data each way, turns, and the server's syscalls on the connection.
#
#   examples/loadgen/trace.sh                    # sio's bench_server, WebSocket and polling→upgrade
#   examples/loadgen/trace.sh -s sio=DEFAULT -s "node=node tests/js/reference-server.mjs"
#
# Runs in a network namespace of its own (unshare -n: root), so the capture on its loopback
# holds this connection only; the server runs under `strace -f`, tcpdump captures lo, and one
# socket.io-client 4.8 (examples/loadgen/trace/client.mjs, from tests/node_modules: run
# `npm ci --prefix tests` once) connects once. Every step is bounded by `timeout`.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

usage() {
  cat <<'USAGE'
usage: examples/loadgen/trace.sh [-s NAME=CMD]... [-m MODES] [-o DIR] [-B] [-q]

  -s NAME=CMD  a server (reads $PORT; exec'd under strace), repeatable. DEFAULT is sio's
               examples/bench_server (release). Default: sio=DEFAULT.
  -m MODES     ws, upgrade or both (default ws,upgrade)
  -o DIR       where captures and logs go (default target/trace/<stamp>)
  -B           do not build the bench server
  -q           summaries only (no segment timeline)
USAGE
}

NAMES=() CMDS=() MODES="ws,upgrade" OUT="" BUILD=1 QUIET=0
while getopts ":s:m:o:Bqh" opt; do
  case $opt in
    s) NAMES+=("${OPTARG%%=*}"); CMDS+=("${OPTARG#*=}") ;;
    m) MODES=$OPTARG ;;
    o) OUT=$OPTARG ;;
    B) BUILD=0 ;;
    q) QUIET=1 ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
((${#NAMES[@]} > 0)) || { NAMES=(sio); CMDS=(DEFAULT); }
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
OUT=${OUT:-$TARGET/trace/$(date +%Y%m%d-%H%M%S)}

if [[ -z ${SIO_TRACE_NETNS:-} ]]; then
  for tool in tcpdump strace node python3 unshare ip; do
    command -v $tool >/dev/null || { echo "trace.sh: needs $tool" >&2; exit 2; }
  done
  [[ -d $ROOT/tests/node_modules/socket.io-client ]] || { echo "trace.sh: run npm ci --prefix tests" >&2; exit 2; }
  if ((BUILD)); then
    (cd "$ROOT" && cargo build --release -p examples --example bench_server) >&2
  fi
  mkdir -p "$OUT"
  SIO_TRACE_NETNS=1 exec unshare -n "$0" "$@" -o "$OUT" -B
fi

ip link set lo up
PORT=3000
IFS=, read -r -a MODE_LIST <<<"$MODES"
for i in "${!NAMES[@]}"; do
  name=${NAMES[$i]} cmd=${CMDS[$i]}
  [[ $cmd == DEFAULT ]] && cmd=$TARGET/release/examples/bench_server
  for mode in "${MODE_LIST[@]}"; do
    base=$OUT/$name-$mode
    timeout 30 tcpdump -i lo --immediate-mode -U -s 0 -w "$base.pcap" "tcp port $PORT" 2>"$base.tcpdump.log" &
    dump=$!
    for _ in $(seq 100); do grep -q listening "$base.tcpdump.log" 2>/dev/null && break; sleep 0.05; done
    (cd "$ROOT" && PORT=$PORT exec timeout 30 strace -f -ttt -qq -e trace=network,write,writev,read,readv \
      -o "$base.strace" bash -c "exec $cmd") >"$base.server.log" 2>&1 &
    server=$!
    for _ in $(seq 200); do ss -ltnH "sport = :$PORT" | grep -q . && break; sleep 0.05; done
    timeout 10 node "$HERE/trace/client.mjs" "http://127.0.0.1:$PORT" "$mode" | sed "s/^/[$name $mode] /" || true
    sleep 0.3
    kill -INT "$dump" 2>/dev/null || true
    wait "$dump" 2>/dev/null || true
    # The server is strace's child: stop it by its own PID, strace then ends.
    for child in $(pgrep -P "$(pgrep -P "$server" || true)" || true); do kill "$child" 2>/dev/null || true; done
    wait "$server" 2>/dev/null || true
    echo "== $name, $mode"
    if ((QUIET)); then
      python3 "$HERE/trace/analyze.py" "$base.pcap" "$PORT" "$base.strace" | grep -E '^(SUMMARY|SYSCALLS|analyze)'
    else
      python3 "$HERE/trace/analyze.py" "$base.pcap" "$PORT" "$base.strace"
    fi
  done
done
