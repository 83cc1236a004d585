#!/usr/bin/env bash
# Builds the vcsim test peer offline from Debian's Go toolchain and govmomi sources.
# Usage: build.sh OUTPUT_BINARY. Skips the build when OUTPUT is newer than its inputs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: build.sh OUTPUT_BINARY}"
stamp="$(cat "$here/main.go" "$here/build.sh" | sha256sum | cut -c1-16)-$(dpkg-query -W -f='${Version}' golang-github-vmware-govmomi-dev 2>/dev/null || echo none)"
if [[ -x "$out" && -f "$out.stamp" && "$(cat "$out.stamp")" == "$stamp" ]]; then
  exit 0
fi
mkdir -p "$(dirname "$out")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/vcsim-v2v"
cp "$here/main.go" "$work/src/vcsim-v2v/"
cd "$work/src/vcsim-v2v"
GOPATH="$work:/usr/share/gocode" GO111MODULE=off GOFLAGS= GOCACHE="${GOCACHE:-$HOME/.cache/go-build}" \
  go build -trimpath -ldflags='-s -w' -o "$out" .
echo "$stamp" > "$out.stamp"
