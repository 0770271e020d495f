#!/usr/bin/env bash
# Regenerates the H.264 test data with Debian's ffmpeg (libx264) — an encoder and an RTP
# packetizer we did not write. Output: Annex B streams and RTP payload dumps (rtpdump-like:
# per packet a 2-byte big-endian length then the RTP packet).
set -euo pipefail
cd "$(dirname "$0")"
enc() { # name profile size extra...
  local name=$1 profile=$2 size=$3; shift 3
  ffmpeg -v error -y -f lavfi -i "testsrc=size=$size:rate=15" -t 1 -c:v libx264 -profile:v "$profile" \
    -g 15 -bf 0 -preset "${PRESET:-ultrafast}" "$@" -bsf:v h264_mp4toannexb -f h264 "$name.h264"
}
enc baseline-320x240 baseline 320x240 -pix_fmt yuv420p -t 2 -g 10
PRESET=fast enc main-640x360 main 640x360 -pix_fmt yuv420p
PRESET=fast enc high-200x120 high 200x120 -pix_fmt yuv420p
PRESET=fast enc high444-64x48 high444 64x48 -pix_fmt yuv444p
PRESET=fast enc interlaced-320x240 high 320x240 -pix_fmt yuv420p -flags +ildct+ilme
# Non-reference pictures (nal_ref_idc 0): one B-frame between P-frames, no pyramid.
enc nonref-320x240 main 320x240 -pix_fmt yuv420p -t 2 -g 10 -bf 1 -x264-params b-pyramid=none:b-adapt=0:weightb=0
# VP8/VP9 in IVF (the frames as the encoder wrote them), 2 s with a keyframe every 10 frames.
for codec in vp8 vp9; do
  ffmpeg -v error -y -f lavfi -i "testsrc=size=320x240:rate=15" -t 2 -c:v "libvpx$([ $codec = vp9 ] && echo -vp9)" \
    -g 10 -keyint_min 10 -b:v 300k -deadline realtime -cpu-used 8 -pix_fmt yuv420p "$codec-320x240.ivf"
done
# RTP: ffmpeg's RTP muxer over loopback, captured by a tiny listener.
rtp() { # input output
python3 - "$1" "$2" <<'PY'
import socket, subprocess, struct, sys
src, dst = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); s.settimeout(3)
port = s.getsockname()[1]
p = subprocess.Popen(["ffmpeg", "-v", "error", "-re", "-i", src, "-c", "copy", "-strict", "experimental",
                      "-f", "rtp", "-payload_type", "96", "-pkt_size", "600", f"rtp://127.0.0.1:{port}?rtcpport={port}"])
out = open(dst, "wb")
try:
    while True:
        d, _ = s.recvfrom(2048)
        if 200 <= d[1] <= 204: continue  # RTCP
        out.write(struct.pack(">H", len(d)) + d)
except socket.timeout:
    pass
p.wait(); out.close()
PY
}
rtp baseline-320x240.h264 baseline-320x240.rtp
rtp vp8-320x240.ivf vp8-320x240.rtp
rtp vp9-320x240.ivf vp9-320x240.rtp
ls -la
