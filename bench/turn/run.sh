#!/usr/bin/env bash
# TURN relay bench: coturn (Debian's turnserver) and ours (artifacts/engine) under the same
# turnutils_uclient load, one after the other in one run, on loopback through one turnutils_peer echo.
# CPU is utime+stime from /proc/PID/stat around the load; relayed packets are both directions.
#   bench/turn/run.sh [clients] [messages] [bytes] [interval_ms]
# After the paced rounds, SATURATE=1 (default) repeats the pair with -z 0 (no pacing: each client
# sends as fast as it can, so the servers, the client and the peer compete for the cores) to see
# whether either server keeps up. STRACE=1 counts each server's syscalls over one more paced load
# (perf stat on the syscall tracepoints, all threads).
set -euo pipefail
CLIENTS=${1:-50}; MESSAGES=${2:-2000}; BYTES=${3:-1000}; INTERVAL=${4:-5}
PACED=${PACED:-1}; SATURATE=${SATURATE:-1}; STRACE=${STRACE:-0}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ENGINE=${ENGINE:-$ROOT/artifacts/engine}
WORK=$(mktemp -d /tmp/turn-bench.XXXXXX)
USER_=bench; PASS=bench-pass; REALM=bench.test
OURS_PORT=23478; COTURN_PORT=24478; PEER_PORT=23480; HTTP_PORT=23880; MEDIA_PORT=23000
TCK=$(getconf CLK_TCK)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

cat > "$WORK/engine.config" <<CONF
[BASE]
PORT=$HTTP_PORT
[LOG]
LOGLEVEL=3
[WEBRTC]
WEBRTCPORTSTART=$MEDIA_PORT
ICELOCALIP=127.0.0.1
RTP2RTMPSHELL=/bin/true
[TURN]
listening-port=$OURS_PORT
listening-ip=127.0.0.1
relay-ip=127.0.0.1
min-port=41000
max-port=42999
realm=$REALM
lt-cred-mech
user=$USER_:$PASS
allowed-peer-ip=127.0.0.1
no-tls
CONF

turnutils_peer -L 127.0.0.1 -p $PEER_PORT >/dev/null 2>&1 & pids+=($!)
"$ENGINE" --config "$WORK/engine.config" >"$WORK/engine.log" 2>&1 & OURS=$!; pids+=($OURS)
# coturn with the equivalent options; its default relay threads (one per CPU) are kept.
turnserver -n --listening-port $COTURN_PORT --listening-ip 127.0.0.1 --relay-ip 127.0.0.1 \
  --min-port 43000 --max-port 44999 --realm $REALM --lt-cred-mech --user $USER_:$PASS \
  --allowed-peer-ip 127.0.0.1 --allow-loopback-peers --no-tls --no-dtls --no-cli --no-tcp-relay --log-file stdout \
  --simple-log >"$WORK/coturn.log" 2>&1 & COTURN=$!; pids+=($COTURN)
sleep 3
kill -0 $OURS || { cat "$WORK/engine.log"; exit 1; }
kill -0 $COTURN || { cat "$WORK/coturn.log"; exit 1; }

run() { # name pid port [interval]
  local name=$1 pid=$2 port=$3 interval=${4:-$INTERVAL}
  local c0 c1 t0 t1 out sent recv lost
  c0=$(cpu_ticks "$pid"); t0=$(date +%s.%N)
  out=$(turnutils_uclient -c -z "$interval" -u $USER_ -w $PASS -p "$port" -e 127.0.0.1 -r $PEER_PORT \
        -n "$MESSAGES" -m "$CLIENTS" -l "$BYTES" 127.0.0.1 2>&1 || true)
  t1=$(date +%s.%N); c1=$(cpu_ticks "$pid")
  sent=$(grep -o 'tot_send_msgs=[0-9]*' <<<"$out" | tail -1 | cut -d= -f2 || true)
  recv=$(grep -o 'tot_recv_msgs=[0-9]*' <<<"$out" | tail -1 | cut -d= -f2 || true)
  lost=$(grep -o 'Total lost packets [0-9]*' <<<"$out" | tail -1 | awk '{print $4}' || true)
  [ -n "$sent" ] || { echo "$name: turnutils_uclient failed:" >&2; tail -5 <<<"$out" >&2; }
  awk -v n="$name" -v c="$((c1 - c0))" -v tck="$TCK" -v s="${sent:-0}" -v r="${recv:-0}" -v l="${lost:-?}" \
      -v wall="$(echo "$t1 - $t0" | bc)" -v rss="$(rss_kb "$pid")" -v hwm="$(hwm_kb "$pid")" 'BEGIN {
    cpu = c / tck; relayed = 2 * r;  # client->peer and peer->client for each echoed message
    pps = cpu > 0 ? relayed / cpu : 0; per_m = relayed > 0 ? cpu / (relayed / 1e6) : 0;
    printf "| %s | %d | %d | %s | %.2f | %.1f | %.0f | %.2f | %.1f / %.1f |\n", n, s, r, l, cpu, wall, pps, per_m, rss / 1024, hwm / 1024 }'
}

echo "turnutils_uclient: $CLIENTS clients x $MESSAGES messages of $BYTES B, channels, UDP, -z $INTERVAL ms; $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "coturn: $(turnserver --version 2>/dev/null | head -1 || true)"
if [ "$PACED" = 1 ]; then
  echo
  echo "| server | sent | received | lost | CPU-s | wall s | relayed packets per CPU-s | CPU-s per million relayed | RSS / peak MB |"
  echo "|---|---|---|---|---|---|---|---|---|"
  run coturn $COTURN $COTURN_PORT
  run ours $OURS $OURS_PORT
  run coturn $COTURN $COTURN_PORT
  run ours $OURS $OURS_PORT
fi

if [ "$SATURATE" = 1 ]; then
  echo
  echo "unpaced (-z 0), the same clients and messages:"
  echo
  echo "| server | sent | received | lost | CPU-s | wall s | relayed packets per CPU-s | CPU-s per million relayed | RSS / peak MB |"
  echo "|---|---|---|---|---|---|---|---|---|"
  run coturn $COTURN $COTURN_PORT 0
  run ours $OURS $OURS_PORT 0
  run coturn $COTURN $COTURN_PORT 0
  run ours $OURS $OURS_PORT 0
fi

if [ "$STRACE" = 1 ]; then
  # perf's syscall tracepoints barely slow the server (strace -c does, which makes wakes find more).
  EVENTS=raw_syscalls:sys_enter
  for c in epoll_wait epoll_pwait recvmmsg recvmsg recvfrom sendmmsg sendmsg sendto read write; do
    EVENTS+=",syscalls:sys_enter_$c"
  done
  for s in "coturn $COTURN $COTURN_PORT" "ours $OURS $OURS_PORT"; do
    set -- $s
    perf stat -x, -e "$EVENTS" -p "$2" -o "$WORK/perf.$1" & tp=$!
    sleep 1
    out=$(run "$1" "$2" "$3")
    kill -INT $tp; wait $tp 2>/dev/null || true
    recv=$(awk -F'|' '{print $4}' <<<"$out" | xargs)
    echo
    echo "$1 while counted: $out"
    awk -F, -v r="$recv" '$1 ~ /^[0-9]+$/ && $1 > 0 { n = $3; sub(/.*sys_enter_?/, "", n); if (n == "") n = "all syscalls";
      printf "  %-14s %9d  %.2f per relayed packet\n", n, $1, $1 / (2 * r) }' "$WORK/perf.$1"
  done
fi
