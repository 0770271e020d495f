#!/usr/bin/env bash
# Records a real Chromium publish (H.264 Constrained Baseline from OpenH264 + Opus) as plain RTP:
# runs artifacts/engine in the legacy RTP2RTMPSHELL mode with capture.py as the "script", which
# writes data/chromium-h264-opus.rtpdump (+ .sdp). Over ~8 MB, only the first 10 s are kept.
# Needs: cd repo && dotnet publish src/Host -c Release -r linux-x64 -o artifacts; chromium; python3.
# Usage: bench/Engine.Codec.Bench/record.sh [seconds=20]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
seconds=${1:-20}
engine=$repo/artifacts/engine
[ -x "$engine" ] || { echo "build $engine first (dotnet publish src/Host -c Release -r linux-x64 -o artifacts)" >&2; exit 1; }
work=$(mktemp -d /dev/shm/codec-record.XXXXXX)
out=$here/data/chromium-h264-opus
mkdir -p "$here/data"
rm -f "$out.rtpdump" "$out.sdp"

free_port() { python3 -c "import socket,sys; s=socket.socket(socket.AF_INET, getattr(socket, sys.argv[1])); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])" "$1"; }
http=$(free_port SOCK_STREAM)
media=$(free_port SOCK_DGRAM)
cdp=$(free_port SOCK_STREAM)

# Chromium's built-in fake camera pattern compresses to ~0.3 Mbps whatever the bitrate allowed; a
# 960x540 30 fps test pattern with temporal noise (5 s, looped by Chromium) makes OpenH264 spend its
# full rate. Not 720p: on 2 cores WebRTC's CPU adaptation scales 720p down mid-stream (a new SPS).
nice ffmpeg -v error -f lavfi -i "testsrc2=size=960x540:rate=30,noise=alls=${NOISE:-6}:allf=t" -t 5 -pix_fmt yuv420p "$work/camera.y4m"

cat > "$work/engine.config" <<CFG
[BASE]
PORT=$http
[LOG]
LOGLEVEL=4
LOGDIR=$work
[WEBRTC]
WEBRTCPORTSTART=$media
ICELOCALIP=127.0.0.1
RTP2RTMPSHELL=$here/capture.py
[RTP]
RTP_MAX_VIDEO_BPS=3000000
CFG

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

CAPTURE_OUT=$out CAPTURE_SECONDS=$seconds "$engine" --config "$work/engine.config" > "$work/engine.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$http/api/streams" >/dev/null && break; sleep 0.2; done

chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$work/profile" --use-fake-device-for-media-stream \
  --use-fake-ui-for-media-stream --use-file-for-fake-video-capture="$work/camera.y4m" --allow-loopback-in-peer-connection --remote-debugging-port=$cdp --remote-allow-origins='*' \
  "http://127.0.0.1:$http/?stream=rec&loopback=1&video=h264" > "$work/chromium.out" 2>&1 &
pids+=($!)

# Through the DevTools protocol, without changing the test page: Chromium's own bitrate hints on the
# answer's H.264 line (start at 2.5 Mbps, never below 2.4 Mbps) so the recording has the target rate
# from its first frame instead of the congestion controller's ramp-up; then publish over WHIP.
# Prints the browser's own stats at the end.
python3 - "$cdp" "$seconds" "$out.rtpdump" <<'PY'
import base64, json, os, socket, struct, sys, time, urllib.request
port, seconds, dump = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]

def targets():
    for _ in range(100):
        try:
            return json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2))
        except OSError:
            time.sleep(0.2)
    raise SystemExit("no DevTools endpoint")

page = next(t for t in targets() if t["type"] == "page")
path = page["webSocketDebuggerUrl"].split(str(port), 1)[1]
s = socket.create_connection(("127.0.0.1", port), timeout=10)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
buf = buf.split(b"\r\n\r\n", 1)[1]

def recv_exact(n):
    global buf
    while len(buf) < n:
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("DevTools closed")
        buf += chunk
    data, buf = buf[:n], buf[n:]
    return data

def recv_message():
    payload = b""
    while True:
        b0, b1 = recv_exact(2)
        n = b1 & 0x7F
        if n == 126: n = struct.unpack(">H", recv_exact(2))[0]
        elif n == 127: n = struct.unpack(">Q", recv_exact(8))[0]
        payload += recv_exact(n)
        if b0 & 0x80:
            return payload

next_id = 0
def evaluate(expr, await_promise=False):
    global next_id
    next_id += 1
    msg = json.dumps({"id": next_id, "method": "Runtime.evaluate",
                      "params": {"expression": expr, "returnByValue": True, "awaitPromise": await_promise}}).encode()
    mask = os.urandom(4)
    header = bytes([0x81]) + (bytes([0x80 | len(msg)]) if len(msg) < 126 else bytes([0x80 | 126]) + struct.pack(">H", len(msg)))
    s.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(msg)))
    while True:
        reply = json.loads(recv_message())
        if reply.get("id") == next_id:
            return reply.get("result", {}).get("result", {}).get("value")

for _ in range(50):
    if evaluate("typeof start === 'function'"):
        break
    time.sleep(0.2)
evaluate(r"""(() => {
  const srd = RTCPeerConnection.prototype.setRemoteDescription;
  RTCPeerConnection.prototype.setRemoteDescription = function (d) {
    const sdp = d.sdp.replace(/^(a=fmtp:\d+ .*profile-level-id=42e01f.*)$/m, "$1;x-google-start-bitrate=2500;x-google-min-bitrate=2400;x-google-max-bitrate=2500");
    return srd.call(this, { type: d.type, sdp });
  };
  start(publishWhip);
  return true;
})()""")
deadline = time.time() + 30
while time.time() < deadline and evaluate("String(window.engineState)") not in ("connected", "media flowing"):
    time.sleep(0.5)
print("browser:", evaluate("String(window.engineState)"), flush=True)
# The engine's first PLI may be answered before capture.py has bound its ports: once it listens,
# pausing and resuming the video encoding makes a fresh keyframe, where the recording starts.
time.sleep(3)
evaluate(r"""(async () => {
  const s = pc.getSenders().find(s => s.track && s.track.kind === "video");
  for (const active of [false, true]) {
    const p = s.getParameters();
    p.encodings[0].active = active;
    await s.setParameters(p);
    await new Promise(r => setTimeout(r, 200));
  }
  return true;
})()""", True)
# capture.py writes the dump and exits after `seconds` of media.
deadline = time.time() + seconds + 30
while time.time() < deadline and not os.path.exists(dump):
    time.sleep(1)
print("browser stats:", evaluate("JSON.stringify(window.engineStats)"), flush=True)
evaluate("stop().then(() => true)", True)
PY

[ -f "$out.rtpdump" ] || { echo "no recording; engine log:" >&2; tail -20 "$work/engine.out" >&2; exit 1; }
size=$(stat -c %s "$out.rtpdump")
if [ "$size" -gt $((8 * 1024 * 1024)) ]; then
  echo "recording is $size bytes: keeping the first 10 s"
  python3 "$here/capture.py" trim "$out.rtpdump" "$out.rtpdump.tmp" 10
  mv "$out.rtpdump.tmp" "$out.rtpdump"
fi
ls -l "$out.rtpdump" "$out.sdp"
python3 "$here/capture.py" stats "$out.rtpdump"
