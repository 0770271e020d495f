#!/usr/bin/env python3
"""Records the engine's plain-RTP forward (RTP2RTMPSHELL mode) to an .rtpdump file.

Run by the engine as RTP2RTMPSHELL: capture.py <sdp> <rtmp url> <transcode 0/1> <log>.
Environment: CAPTURE_OUT (path without extension), CAPTURE_SECONDS (default 20).

File format (little-endian), one record per RTP packet, in arrival order:
  u64 arrival time in microseconds (monotonic clock; only differences matter)
  u8  track index (the SDP m-line order: the engine's track index)
  u16 packet length
  the RTP packet as received (plain RTP, header included)
Recording starts at the first video packet that carries an H.264 SPS (the keyframe the engine
asks for), so a reader can start decoding at the first record; audio before it is dropped.
CAPTURE_OUT.sdp gets a copy of the SDP (payload types, fmtp; its ports mean nothing later).

capture.py trim <in.rtpdump> <out.rtpdump> <seconds> keeps the first <seconds>.
"""
import os
import select
import shutil
import signal
import socket
import struct
import sys
import time

RECORD = struct.Struct("<QBH")


def rtp_payload(pkt):
    if len(pkt) < 12 or pkt[0] >> 6 != 2:
        return b""
    off = 12 + 4 * (pkt[0] & 0x0F)
    if pkt[0] & 0x10:
        if len(pkt) < off + 4:
            return b""
        off += 4 + 4 * struct.unpack_from(">H", pkt, off + 2)[0]
    end = len(pkt)
    if pkt[0] & 0x20 and end > off:
        end -= pkt[-1]
    return pkt[off:end] if end > off else b""


def has_sps(payload):
    if not payload:
        return False
    nal = payload[0] & 0x1F
    if nal == 7:
        return True
    if nal == 24:  # STAP-A: 16-bit sizes, each followed by a NAL unit
        o = 1
        while o + 3 <= len(payload):
            n = struct.unpack_from(">H", payload, o)[0]
            if payload[o + 2] & 0x1F == 7:
                return True
            o += 2 + n
    return False


def parse_sdp(path):
    tracks = []  # (port, is_video)
    with open(path) as f:
        for line in f:
            if line.startswith("m="):
                parts = line.split()
                tracks.append((int(parts[1]), parts[0] == "m=video"))
    return tracks


def capture(sdp):
    out = os.environ["CAPTURE_OUT"]
    seconds = float(os.environ.get("CAPTURE_SECONDS", "20"))
    shutil.copyfile(sdp, out + ".sdp")
    tracks = parse_sdp(sdp)
    socks = []
    for i, (port, _) in enumerate(tracks):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind(("127.0.0.1", port))
        socks.append(s)
    index = {s.fileno(): i for i, s in enumerate(socks)}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    started = None
    count = 0
    with open(out + ".rtpdump.part", "wb") as f:
        # Bounded: gives up 60 s after start if no keyframe ever came.
        deadline = time.monotonic() + 60
        while not stop and time.monotonic() < deadline:
            ready, _, _ = select.select(socks, [], [], 0.5)
            for s in ready:
                pkt = s.recv(65536)
                now = time.monotonic_ns() // 1000
                track = index[s.fileno()]
                if started is None:
                    if not (tracks[track][1] and has_sps(rtp_payload(pkt))):
                        continue
                    started = now
                    deadline = time.monotonic() + seconds
                f.write(RECORD.pack(now, track, len(pkt)))
                f.write(pkt)
                count += 1
    os.replace(out + ".rtpdump.part", out + ".rtpdump")
    print(f"capture: {count} packets, {os.path.getsize(out + '.rtpdump')} bytes", flush=True)


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    o = 0
    while o + RECORD.size <= len(data):
        t, track, n = RECORD.unpack_from(data, o)
        o += RECORD.size
        yield t, track, data[o:o + n]
        o += n


def trim(src, dst, seconds):
    first = None
    with open(dst, "wb") as f:
        for t, track, pkt in read(src):
            first = t if first is None else first
            if t - first > seconds * 1e6:
                break
            f.write(RECORD.pack(t, track, len(pkt)))
            f.write(pkt)


def stats(path):
    recs = list(read(path))
    span = (recs[-1][0] - recs[0][0]) / 1e6
    for track in sorted({r[1] for r in recs}):
        size = sum(len(rtp_payload(p)) for _, t, p in recs if t == track)
        n = sum(1 for r in recs if r[1] == track)
        print(f"track {track}: {n} packets, payload {size * 8 / span / 1e6:.3f} Mbit/s over {span:.1f} s")


if __name__ == "__main__":
    if sys.argv[1] == "trim":
        trim(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    elif sys.argv[1] == "stats":
        stats(sys.argv[2])
    else:
        capture(sys.argv[1])
