#!/usr/bin/env bash
# Builds pionwhip/ offline against Debian's golang-github-pion-webrtc.v3-dev (GOPATH mode, no module
# proxy) into a temp dir named by the source's hash; a cached build is reused. Prints the binary's path.
set -euo pipefail
src="$(cd "$(dirname "$0")/pionwhip" && pwd)"
[ -x /usr/bin/go ] || { echo "go is missing: install golang-go (tests/run.sh does)" >&2; exit 1; }
[ -d /usr/share/gocode/src/github.com/pion/webrtc ] \
  || { echo "Pion is missing: install golang-github-pion-webrtc.v3-dev (tests/run.sh does)" >&2; exit 1; }
sum=$(cat "$src/main.go" "$src/go.mod" | sha256sum | cut -c1-16)
out="${TMPDIR:-/tmp}/engine-e2e-pionwhip-$sum"
if [ ! -x "$out/pionwhip" ]; then
  mkdir -p "$out/gopath/src/pionwhip"
  cp "$src/main.go" "$src/go.mod" "$out/gopath/src/pionwhip/"
  (cd "$out/gopath/src/pionwhip" \
    && GOPATH="$out/gopath:/usr/share/gocode" GO111MODULE=off GOPROXY=off GOFLAGS= \
       GOCACHE="${GOCACHE:-${TMPDIR:-/tmp}/engine-e2e-gocache}" go build -o "$out/pionwhip.tmp" .)
  mv "$out/pionwhip.tmp" "$out/pionwhip"
fi
echo "$out/pionwhip"
