#!/usr/bin/env bash
# Installs everything the demo and the tests need on a fresh Debian 12 machine,
# and is quick when it is all there already: apt packages, node modules, and
# the test peers built from source (vcsim).
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t packages < <(grep -v '^\s*#' scripts/apt-packages.txt | grep -v '^\s*$')
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi

bash test/peers/vcsim/build.sh "$PWD/.cache/vcsim/vcsim-v2v"
bash native/fake-vddk/build.sh "$PWD/.cache/fake-vddk"

# The Debian guest virt-v2v converts in the tests: built once from Debian packages,
# then expanded from its compressed cache (.cache/guest) on later runs.
bash test/guest/build-guest.sh "$PWD/.cache/guest"
