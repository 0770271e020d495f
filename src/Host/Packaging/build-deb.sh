#!/usr/bin/env bash
# Builds engine_VERSION_ARCH.deb from the published native-AOT binary, offline, with dpkg-deb:
#   bash src/Host/Packaging/build-deb.sh artifacts/engine OUTDIR
# (artifacts/engine comes from: dotnet publish src/Host -c Release -r linux-x64 -o artifacts).
# Installs /usr/bin/engine, /etc/engine/mediaserver.config (a conffile, from the binary's
# --print-config), /lib/systemd/system/engine.service; its postinst makes the user `engine` and
# /var/lib/engine, /var/log/engine, then enables and (under systemd) starts the service.
set -euo pipefail
if [ $# -ne 2 ]; then echo "usage: $0 ENGINE_BINARY OUTDIR" >&2; exit 2; fi
bin=$(realpath "$1")
out=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
# shellcheck source=common.sh
. "$here/common.sh"
[ -x "$bin" ] || { echo "$bin is not an executable" >&2; exit 2; }

version=$(engine_version "$bin")
arch=$(engine_arch "$bin")
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"

install -D -m 0755 "$bin" "$stage/usr/bin/engine"
install -d -m 0755 "$stage/etc/engine"
engine_packaged_config "$bin" > "$stage/etc/engine/mediaserver.config"
chmod 0644 "$stage/etc/engine/mediaserver.config"
install -D -m 0644 "$here/engine.service" "$stage/lib/systemd/system/engine.service"
install -D -m 0644 "$repo/README.md" "$stage/usr/share/doc/engine/README.md"

install -d -m 0755 "$stage/DEBIAN"
# Depends: libc6 for what the binary links (glibc 2.34 symbols at most); the rest are what src/
# loads at run time: FFmpeg 5.1 (src/Codec/Native/Av.cs: libavutil.so.57, libavcodec.so.59,
# libavformat.so.59, libswresample.so.4, libswscale.so.6), libvpx.so.7 (src/Codec/Native/Vpx.cs:
# the VP8 encoder's rate changes), libcrypto.so.3 (src/Dtls, src/Srtp,
# src/Ice) and libssl.so.3 (.NET's SslStream for TURN over TLS and rtmps://), both in libssl3;
# passwd for useradd in postinst. No libsrtp2: SRTP is our own.
ffmpeg='(>= 7:5.1)'
cat > "$stage/DEBIAN/control" <<CONTROL
Package: engine
Version: $version
Architecture: $arch
Maintainer: engine developers <root@localhost>
Section: net
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Depends: libc6 (>= 2.34), libavcodec59 $ffmpeg, libavformat59 $ffmpeg, libavutil57 $ffmpeg, libswscale6 $ffmpeg, libswresample4 $ffmpeg, libvpx7, libssl3, passwd
Description: WebRTC media engine and server (WHIP/WHEP, legacy WebSocket, RTMP gateway)
 One native-AOT binary: ICE-lite, DTLS-SRTP, RTP/RTCP with NACK/PLI/REMB/transport-cc, WHIP,
 WHEP and the legacy WebSocket signaling; published streams leave as RTMP or a recording.
 Runs as the systemd service engine.service, user engine, config /etc/engine/mediaserver.config.
CONTROL
echo /etc/engine/mediaserver.config > "$stage/DEBIAN/conffiles"

# Maintainer scripts. DPKG_ROOT is set when dpkg installs into another root without chrooting
# (dpkg --root=DIR --force-script-chrootless): then only DIR changes and no service is started.
{
  cat <<'HEAD'
#!/bin/sh
set -e
HEAD
  cat "$here/setup-user.sh"
  cat <<'BODY'
if [ "$1" = configure ]; then
  engine_setup "${DPKG_ROOT:-}"
  if [ -n "${DPKG_ROOT:-}" ]; then
    systemctl --root="$DPKG_ROOT" enable engine.service >/dev/null 2>&1 || true
  elif command -v systemctl >/dev/null 2>&1; then
    systemctl enable engine.service >/dev/null 2>&1 || true
    if [ -d /run/systemd/system ]; then
      systemctl daemon-reload
      systemctl restart engine.service
    fi
  fi
fi
exit 0
BODY
} > "$stage/DEBIAN/postinst"

cat > "$stage/DEBIAN/prerm" <<'PRERM'
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
  systemctl stop engine.service || true
fi
exit 0
PRERM

cat > "$stage/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
root="${DPKG_ROOT:-}"
case "$1" in
  remove)
    if [ -z "$root" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
    ;;
  purge)
    # The recordings and logs go with a purge; the user stays (files it owned may be elsewhere).
    rm -f "$root/etc/systemd/system/multi-user.target.wants/engine.service"
    rm -rf "$root/var/lib/engine" "$root/var/log/engine"
    if [ -z "$root" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
    ;;
esac
exit 0
POSTRM
chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm" "$stage/DEBIAN/postrm"

deb="$out/engine_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
