#!/usr/bin/env bash
# Builds the fake libvixDiskLib (tests only) with the layout of VMware's
# distribution: OUTDIR/lib64/libvixDiskLib.so.8 (+ libvixDiskLib.so link) and
# its dependency libvixDiskLibVim.so.8 beside it, found by soname only (no
# RPATH), as in the real VDDK. Usage: build.sh OUTDIR. Skips the build when
# the output matches its inputs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: build.sh OUTDIR}"
lib="$out/lib64/libvixDiskLib.so.8"
stamp="$(cat "$here/fake-vddk.c" "$here/fake-vim.c" "$here/vixdisklib-types.h" "$here/build.sh" | sha256sum | cut -c1-16)"
if [[ -f "$lib" && -f "$lib.stamp" && "$(cat "$lib.stamp")" == "$stamp" ]]; then
  exit 0
fi
mkdir -p "$out/lib64"
cflags=(-std=gnu11 -O2 -g -Wall -Wextra -Werror -fPIC -fvisibility=hidden -pthread -shared)
gcc "${cflags[@]}" -Wl,-soname,libvixDiskLibVim.so.8 -o "$out/lib64/libvixDiskLibVim.so.8" "$here/fake-vim.c"
gcc "${cflags[@]}" -Wl,-soname,libvixDiskLib.so.8 -o "$lib.tmp" "$here/fake-vddk.c" \
  "$out/lib64/libvixDiskLibVim.so.8"
mv "$lib.tmp" "$lib"
ln -sf libvixDiskLib.so.8 "$out/lib64/libvixDiskLib.so"
# A VDDK 6.7-like build (no AllocateConnectParams, the short VixDiskLibInfo) in
# OUTDIR/vddk6, for the code paths older libraries take.
mkdir -p "$out/vddk6/lib64"
gcc "${cflags[@]}" -Wl,-soname,libvixDiskLibVim.so.6 -o "$out/vddk6/lib64/libvixDiskLibVim.so.6" "$here/fake-vim.c"
gcc "${cflags[@]}" -DFAKE_VDDK_VERSION=6 -Wl,-soname,libvixDiskLib.so.6 -o "$out/vddk6/lib64/libvixDiskLib.so.6" "$here/fake-vddk.c" \
  "$out/vddk6/lib64/libvixDiskLibVim.so.6"
echo "$stamp" > "$lib.stamp"
