#!/usr/bin/env bash
# The README's first command: on a fresh Debian 12 machine with the .NET SDK, installs what the
# server needs (FFmpeg 5.1's libraries; a C toolchain for the native-AOT link), builds the AOT
# binary into artifacts/ and starts it on the embedded default config. Arguments go to the engine.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Runtime: the libraries the engine binds to. Build: the linker native AOT calls (clang or gcc).
PKGS=(libavcodec59 libavformat59 libavutil57 libswscale6 libswresample4)
command -v clang >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || PKGS+=(clang)
dpkg -s zlib1g-dev >/dev/null 2>&1 || PKGS+=(zlib1g-dev)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=(); else SUDO=(sudo); fi
  echo "installing ${missing[*]}" >&2
  # A fresh machine's package lists may be empty or stale: refresh them before installing.
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

dotnet publish src/Host -c Release -r linux-x64 -o artifacts
exec artifacts/engine "$@"
