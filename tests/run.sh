#!/usr/bin/env bash
# Runs every test on a fresh Debian 12 machine: installs what the tests need, restores, builds, tests.
# Writes TestResults/*.trx and prints "tests: N passed, N failed" counted from them.
set -uo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use as independent peers and references: libsrtp2 (SRTP cross-check),
# openssl (DTLS peer), tshark (dissects our RTP/RTCP), chromium and firefox-esr (publish to the engine;
# Firefox from a network namespace made with iproute2's ip), ffmpeg
# (ffprobe/ffmpeg decode what arrived; makes the H.264/VP8/VP9 test data; its libavcodec59 family is
# what the engine binds to), nginx + libnginx-mod-rtmp (the RTMP server the engine pushes to),
# GStreamer 1.22's webrtcbin driven from python3 (plugins-bad: webrtcbin, dtls, srtp, h264parse; nice:
# ICE; ugly: x264enc; good: rtpbin and the RTP payloaders; base: opusenc and the test sources; the gir
# typelibs and python3-gi), Pion (golang-go builds it offline from Debian's Go sources) and coturn
# (turnutils_uclient, turnutils_peer and turnutils_stunclient drive our TURN server; turnserver is
# the reference in its bench; promtool (prometheus) checks /metrics; python3-yaml and
# systemd-analyze check the packaging).
PKGS=(libsrtp2-1 openssl tshark chromium firefox-esr iproute2 ffmpeg nginx libnginx-mod-rtmp
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly
  gstreamer1.0-nice gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-gst-plugins-bad-1.0 python3-gi
  golang-go golang-github-pion-webrtc.v3-dev coturn prometheus python3-yaml systemd)
# The native-AOT publish links with clang or gcc.
command -v clang >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || PKGS+=(clang)
PKGS+=(zlib1g-dev)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

dotnet restore Engine.sln || exit 1
dotnet build Engine.sln -c Release --no-restore || exit 1
# The end-to-end tests drive the native-AOT binary, as users run it.
dotnet publish src/Host -c Release -r linux-x64 -o artifacts || exit 1
# The Pion publisher the end-to-end tests run (cached by its source's hash; the test builds it too).
bash tests/Engine.EndToEnd.Tests/peers/build-pionwhip.sh >/dev/null || exit 1

rm -rf TestResults
status=0
for proj in tests/*/*.csproj; do
  name=$(basename "$proj" .csproj)
  dotnet test "$proj" -c Release --no-build --logger "trx;LogFileName=$name.trx" --results-directory TestResults || status=1
done

# A test project whose host crashed leaves no TRX: count it as a failure.
crashed=0
for proj in tests/*/*.csproj; do
  [ -f "TestResults/$(basename "$proj" .csproj).trx" ] || { echo "no results from $proj" >&2; crashed=$((crashed + 1)); }
done

read -r passed failed < <(cat TestResults/*.trx 2>/dev/null \
  | grep -o '<Counters [^>]*>' \
  | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); gsub(/"/, "", kv[2]);
           if (kv[1] == "passed") p += kv[2]; if (kv[1] == "failed") f += kv[2] } }
         END { print p + 0, f + 0 }')
failed=$((failed + crashed))
echo "tests: $passed passed, $failed failed"
if [ "$passed" -eq 0 ]; then echo "no test ran" >&2; exit 1; fi
[ "$failed" -eq 0 ] && [ $status -eq 0 ]
