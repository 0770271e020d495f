#!/usr/bin/env bash
# Builds engine-VERSION-linux-ARCH.tar.gz from the published native-AOT binary, offline, for
# machines without dpkg (the legacy gateway shipped this way):
#   bash src/Host/Packaging/build-tar.sh artifacts/engine OUTDIR
# The tar holds the binary, the packaged config, the systemd unit and install.sh:
#   tar xzf engine-*.tar.gz && sudo engine-*/install.sh [--prefix /usr/local] [--root DIR]
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
case "$(engine_arch "$bin")" in amd64) arch=x64 ;; arm64) arch=arm64 ;; esac
name="engine-$version-linux-$arch"
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dir="$stage/$name"
mkdir -p "$dir"
install -m 0755 "$bin" "$dir/engine"
engine_packaged_config "$bin" > "$dir/mediaserver.config"
install -m 0644 "$here/engine.service" "$dir/engine.service"
install -m 0644 "$repo/README.md" "$dir/README.md"
{
  cat <<'HEAD'
#!/bin/sh
# Installs the engine from this folder: PREFIX/bin/engine, /etc/engine/mediaserver.config (an
# existing one is kept; the new one lands beside it as mediaserver.config.new), the systemd unit in
# /etc/systemd/system, the user `engine`, /var/lib/engine and /var/log/engine; then enables and
# (under systemd) starts engine.service.
#   install.sh [--prefix /usr/local] [--root DIR] [--no-start]
# --root DIR installs under DIR instead of / (a staging or test root): users go to DIR/etc/passwd
# and nothing is started.
set -eu
prefix=/usr/local
root=
start=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=$2; shift 2 ;;
    --root) root=$(cd "$2" && pwd); [ "$root" = / ] && root=; shift 2 ;;
    --no-start) start=no; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
src=$(cd "$(dirname "$0")" && pwd)
HEAD
  cat "$here/setup-user.sh"
  cat <<'BODY'
install -d -m 0755 "$root$prefix/bin" "$root/etc/engine" "$root/etc/systemd/system" "$root$prefix/share/doc/engine"
install -m 0755 "$src/engine" "$root$prefix/bin/engine"
install -m 0644 "$src/README.md" "$root$prefix/share/doc/engine/README.md"
config="$root/etc/engine/mediaserver.config"
if [ -e "$config" ] && ! cmp -s "$src/mediaserver.config" "$config"; then
  install -m 0644 "$src/mediaserver.config" "$config.new"
  echo "kept $config; the new default is $config.new"
else
  install -m 0644 "$src/mediaserver.config" "$config"
fi
sed -e "s#^ExecStart=/usr/bin/engine #ExecStart=$prefix/bin/engine #" \
    -e "s#file:///usr/share/doc/engine/#file://$prefix/share/doc/engine/#" \
    "$src/engine.service" > "$root/etc/systemd/system/engine.service"
chmod 0644 "$root/etc/systemd/system/engine.service"
engine_setup "$root"
if [ -n "$root" ]; then
  mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
  ln -sf /etc/systemd/system/engine.service "$root/etc/systemd/system/multi-user.target.wants/engine.service"
elif command -v systemctl >/dev/null 2>&1; then
  systemctl enable engine.service >/dev/null 2>&1 || true
  if [ -d /run/systemd/system ] && [ "$start" = yes ]; then
    systemctl daemon-reload
    systemctl restart engine.service
    echo "engine.service started: systemctl status engine"
  fi
fi
echo "installed $prefix/bin/engine${root:+ under $root}"
BODY
} > "$dir/install.sh"
chmod 0755 "$dir/install.sh"

tarball="$out/$name.tar.gz"
tar -C "$stage" --owner=0 --group=0 --numeric-owner -czf "$tarball" "$name"
echo "$tarball"
