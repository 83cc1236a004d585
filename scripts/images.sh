#!/usr/bin/env bash
# Builds the container images that the conversion-pod test plays in podman
# (test/integration/pod-podman.test.ts), and is quick when they exist:
#   localhost/v2v-local-base:<key>  Debian 12 + Node 20, the stand-in for
#                                   node:20-bookworm-slim (no registry is reachable here)
#   localhost/v2v:<key>             ./Dockerfile, built on that base
#   localhost/v2v-vddk-fake:<key>   ./vddk/Dockerfile around the fake libvixDiskLib
# Each <key> is a hash of everything its image is made of (recipe, sources, base),
# so a changed Dockerfile or source builds a new image and an unchanged one is reused;
# podman's layer cache makes such a rebuild cost only the layers that changed.
#
# Usage: scripts/images.sh           build what is missing, print the three references
#        scripts/images.sh --tags    print the references only (what the test expects)
# Needs podman and runc (scripts/apt-packages.txt); podman reads scripts/containers.conf.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
export CONTAINERS_CONF="$repo/scripts/containers.conf"
fake_vddk="${V2V_FAKE_VDDK_DIR:-$repo/.cache/fake-vddk}"

log() { printf 'images: %s\n' "$*" >&2; }
hash16() { sha256sum | cut -c1-16; }

# Where apt gets Debian here: the host's own sources, as test/guest/build-guest.sh finds them.
debian_mirror() {
  local mirror="${V2V_DEBIAN_MIRROR:-}"
  if [[ -z "$mirror" ]]; then
    mirror="$(awk '/^URIs:/{u=$2} /^Suites:/ && / bookworm( |$)/{print u; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
  fi
  if [[ -z "$mirror" ]]; then
    mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '$1=="deb" && $0 ~ / bookworm / {for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}')"
  fi
  echo "${mirror:-http://deb.debian.org/debian}"
}

# The stand-in for node:20-bookworm-slim: a minimal Debian 12 root with the
# host's Node 20 and npm where that image keeps them (/usr/local), apt pointed
# at the host's Debian sources, and the host's CA bundle for npm: extra CAs sit
# in the host's store, and npm inside a build reaches its registry only when it
# trusts them. The CA lives in this local image only, never in the Dockerfile.
build_local_base() {
  local tag="$1" work root
  work="$(mktemp -d "${TMPDIR:-/var/tmp}/v2v-base.XXXXXX")"
  # shellcheck disable=SC2064 # expand now: $work is local
  trap "rm -rf '$work'" RETURN
  root="$work/root"
  log "debootstrap bookworm from $(debian_mirror)"
  debootstrap --variant=minbase bookworm "$root" "$(debian_mirror)" > "$work/debootstrap.log" 2>&1 ||
    { tail -30 "$work/debootstrap.log" >&2; return 1; }
  # apt and dpkg as Debian's official images set them up: no fsync per unpacked file (an image
  # build is thrown away if it fails; fsync on overlayfs made the Dockerfile's install ~3 minutes
  # slower), no translations, no binary caches.
  echo 'force-unsafe-io' > "$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  printf 'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n' > "$root/etc/apt/apt.conf.d/docker-clean"
  echo 'Acquire::Languages "none";' > "$root/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Acquire::GzipIndexes "true";' > "$root/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' > "$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
  rm -f "$root/etc/apt/sources.list"
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/debian.sources"
  else
    grep -h '^deb .* bookworm' /etc/apt/sources.list /etc/apt/sources.list.d/*.list > "$root/etc/apt/sources.list"
  fi
  local node npm_dir
  node="$(command -v node)"
  npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
  install -m 0755 "$node" "$root/usr/local/bin/node"
  mkdir -p "$root/usr/local/lib/node_modules" "$root/usr/local/etc"
  cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  mkdir -p "$root/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  # npm's global config (PREFIX/etc/npmrc): trust that bundle. apt's ca-certificates
  # would rewrite the bundle in an image that installs it, so npm is told by name.
  echo 'cafile=/etc/ssl/certs/ca-certificates.crt' > "$root/usr/local/etc/npmrc"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/{doc,man,info}/*
  tar --numeric-owner -C "$root" -cf "$work/root.tar" .
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    "$work/root.tar" "$tag" > /dev/null
}

# Files hashed for an image: everything git would keep under those paths (tracked or not, never ignored).
hash_files() {
  git -C "$repo" ls-files -co --exclude-standard -z -- "$@" | LC_ALL=C sort -z | xargs -0 sha256sum | hash16
}

base_key="$(
  {
    declare -f build_local_base debian_mirror
    debian_mirror
    node --version
    sha256sum < "$(command -v node)"
    npm --version
    sha256sum < /etc/ssl/certs/ca-certificates.crt
  } | hash16
)"
base="localhost/v2v-local-base:$base_key"
# What ./Dockerfile copies, and the Dockerfile itself.
v2v_inputs=(Dockerfile .containerignore package.json package-lock.json tsconfig.json tsconfig.build.json bin src adapters vddk native)
v2v="localhost/v2v:$( { echo "$base"; hash_files "${v2v_inputs[@]}"; } | hash16)"
vddk_lib="$fake_vddk/lib64"
vddk="localhost/v2v-vddk-fake:$(
  {
    echo "$base"
    sha256sum < vddk/Dockerfile
    (cd "$vddk_lib" 2> /dev/null && find . ! -name '*.stamp' \( -type f -o -type l \) -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
  } | hash16
)"

if [[ "${1:-}" == "--tags" ]]; then
  printf 'base=%s\nv2v=%s\nvddk=%s\n' "$base" "$v2v" "$vddk"
  exit 0
fi

command -v podman > /dev/null || { log "podman is missing: run scripts/setup.sh (it installs scripts/apt-packages.txt)"; exit 1; }
[[ -f "$vddk_lib/libvixDiskLib.so.8" ]] || { log "the fake libvixDiskLib is missing in $vddk_lib: run scripts/setup.sh"; exit 1; }

# Keeps the newest few images of a repository: older keys only fill the disk.
# A few, not one: another checkout on this machine may still use its own key.
prune_superseded() {
  podman images --sort created --format '{{.Repository}}:{{.Tag}}' "$1" | tail -n +4 | xargs -r podman rmi --force > /dev/null || true
}

timed() {
  local what="$1" started=$SECONDS
  shift
  "$@"
  log "$what built in $((SECONDS - started)) s"
}

# RUN steps use the host's network: no CNI bridge (nor iptables) is needed for apt and npm.
build_opts=(--network host --pull=never --layers --quiet)

if ! podman image exists "$base"; then
  timed "$base" build_local_base "$base"
  prune_superseded localhost/v2v-local-base
fi

if ! podman image exists "$v2v"; then
  timed "$v2v" podman build "${build_opts[@]}" --build-arg "BASE_IMAGE=$base" -f Dockerfile -t "$v2v" . > /dev/null
  prune_superseded localhost/v2v
fi

if ! podman image exists "$vddk"; then
  context="$(mktemp -d "${TMPDIR:-/var/tmp}/v2v-vddk.XXXXXX")"
  trap 'rm -rf "$context"' EXIT
  # The layout of VMware's download: vmware-vix-disklib-distrib/lib64/libvixDiskLib.so.8 and its companions.
  mkdir -p "$context/vmware-vix-disklib-distrib"
  cp -a "$vddk_lib" "$context/vmware-vix-disklib-distrib/lib64"
  rm -f "$context"/vmware-vix-disklib-distrib/lib64/*.stamp
  timed "$vddk" podman build "${build_opts[@]}" --build-arg "BASE_IMAGE=$base" -f vddk/Dockerfile -t "$vddk" "$context" > /dev/null
  prune_superseded localhost/v2v-vddk-fake
fi

printf 'base=%s\nv2v=%s\nvddk=%s\n' "$base" "$v2v" "$vddk"
