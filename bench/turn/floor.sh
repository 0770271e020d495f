#!/usr/bin/env bash
# The relay floor beside bench/turn/run.sh: bench/tools/udp_relay_floor.c relays the same datagram
# pattern (a socket per client, one send and one receive per relayed datagram, replies batched)
# with no TURN at all, through the same turnutils_peer echo, under its own paced client.
#   bench/turn/floor.sh [clients] [messages] [bytes] [tick_us]
# The default tick matches what turnutils_uclient -z 5 achieved in run.sh (2000 messages per
# client in about 21 s: one datagram per client every 10.5 ms).
set -euo pipefail
CLIENTS=${1:-50}; MESSAGES=${2:-2000}; BYTES=${3:-1000}; TICK=${4:-10500}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/turn-floor.XXXXXX)
RELAY_PORT=25478; PEER_PORT=25480
cc -O2 "$ROOT/bench/tools/udp_relay_floor.c" -o "$WORK/floor"
turnutils_peer -L 127.0.0.1 -p $PEER_PORT >/dev/null 2>&1 & PEER=$!
"$WORK/floor" relay $RELAY_PORT $PEER_PORT >"$WORK/relay.out" & RELAY=$!
trap 'kill $PEER $RELAY 2>/dev/null || true; rm -rf "$WORK"' EXIT
sleep 1
"$WORK/floor" client $RELAY_PORT "$CLIENTS" "$MESSAGES" "$BYTES" "$TICK"
kill -TERM $RELAY; wait $RELAY || true
cat "$WORK/relay.out"
