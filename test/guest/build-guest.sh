#!/usr/bin/env bash
# Builds the real Debian 12 test guest that virt-v2v converts in the tests, from
# Debian packages only (debootstrap + the mirror apt is configured with).
#
# Usage: test/guest/build-guest.sh [OUT_DIR]     (default: .cache/guest)
#
# Outputs in OUT_DIR:
#   debian-guest.img     raw, sparse, 700 MiB, MBR, ext4 root on /dev/sda1, GRUB,
#                        kernel + small initramfs, ifupdown stanza for ens192,
#                        the seed's ifcfg-vmnic0 (no HWADDR), NetworkManager keyfile
#                        vmnic1, netplan ens224; its init brings up what ifupdown
#                        configures (udev, ifup, dhclient) and powers off
#                        (see test/guest/guest.ts for the MACs)
#   noroot-guest.img     raw, 64 MiB, one blank partition: no OS for virt-v2v to find
#   debian-guest-<key>.qcow2   compressed cache (~130 MiB) keyed on the hash of
#                        this directory's inputs; a second run only expands it.
#
# Measured recipe: /work/shared/reference/v2v-feasibility.md §3/§6. The rules it
# taught: MODULES=list + COMPRESS=gzip (else virt-v2v's update-initramfs runs for
# minutes under TCG and fills the disk), trim the rootfs, keep >=150 MB free, one
# appliance boot for partition/mkfs/tar-in/grub-install, keep a VGA console.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:-$repo/.cache/guest}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

export LIBGUESTFS_BACKEND="${LIBGUESTFS_BACKEND:-direct}"
# /dev/kvm can exist and still be unusable (nested without vmx); TCG always works.
export LIBGUESTFS_BACKEND_SETTINGS="${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}"
export DEBIAN_FRONTEND=noninteractive

log() { printf 'build-guest: %s\n' "$*" >&2; }

# The no-root variant needs no appliance: a partition table with one empty partition.
noroot="$out/noroot-guest.img"
if [[ ! -f "$noroot" ]]; then
  rm -f "$noroot.tmp"
  truncate -s 64M "$noroot.tmp"
  echo 'label: dos
start=2048, type=83' | sfdisk --quiet "$noroot.tmp"
  mv "$noroot.tmp" "$noroot"
fi

key="$(cd "$here" && find build-guest.sh files -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
image="$out/debian-guest.img"
cache="$out/debian-guest-$key.qcow2"

if [[ -f "$image" && -f "$image.key" && "$(cat "$image.key")" == "$key" ]]; then
  log "up to date ($key)"
  exit 0
fi
if [[ -f "$cache" ]]; then
  log "expanding cached $cache"
  qemu-img convert -f qcow2 -O raw "$cache" "$image.tmp"
  mv "$image.tmp" "$image"
  echo "$key" > "$image.key"
  exit 0
fi

mirror="${V2V_DEBIAN_MIRROR:-}"
if [[ -z "$mirror" ]]; then
  # The mirror apt uses: deb822 sources first, then the one-line format.
  mirror="$(awk '/^URIs:/{u=$2} /^Suites:/ && / bookworm( |$)/{print u; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
  if [[ -z "$mirror" ]]; then
    mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '$1=="deb" && $0 ~ / bookworm / {for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}')"
  fi
  mirror="${mirror:-http://deb.debian.org/debian}"
fi

work="$(mktemp -d "${TMPDIR:-/var/tmp}/v2v-guest.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"

log "debootstrap bookworm from $mirror"
debootstrap --variant=minbase --include=linux-image-amd64,grub-pc,ifupdown,isc-dhcp-client,initramfs-tools,udev \
  bookworm "$root" "$mirror" > "$work/debootstrap.log" 2>&1 || { tail -30 "$work/debootstrap.log" >&2; exit 1; }

log "trim and configure"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
  "$root"/usr/share/{doc,man,locale,info}/*
kver="$(basename "$(ls -d "$root"/lib/modules/*)")"
for d in gpu media infiniband iio staging net/wireless hwmon isdn bluetooth; do
  rm -rf "$root/lib/modules/$kver/kernel/drivers/$d"
done
rm -rf "$root/lib/modules/$kver/kernel/sound"
chroot "$root" depmod "$kver"

cp -a "$here/files/." "$root/"
chmod 0600 "$root/etc/NetworkManager/system-connections/vmnic1.nmconnection"
chmod 0600 "$root/etc/netplan/50-vmware.yaml"
chmod 0755 "$root/usr/local/sbin/v2v-boot-marker"
echo 'v2v-test-guest' > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tv2v-test-guest\n' > "$root/etc/hosts"
# VMware-style device name: virt-v2v must rewrite it to /dev/vda1.
printf '/dev/sda1\t/\text4\terrors=remount-ro\t0\t1\n' > "$root/etc/fstab"

sed -i -e 's/^MODULES=.*/MODULES=list/' -e 's/^COMPRESS=.*/COMPRESS=gzip/' "$root/etc/initramfs-tools/initramfs.conf"
grep -q '^COMPRESS=' "$root/etc/initramfs-tools/initramfs.conf" || echo 'COMPRESS=gzip' >> "$root/etc/initramfs-tools/initramfs.conf"
printf 'ext4\nsd_mod\nata_piix\nahci\nmptspi\nvmw_pvscsi\n' >> "$root/etc/initramfs-tools/modules"
chroot "$root" update-initramfs -u -k "$kver" > /dev/null

cat > "$root/etc/default/grub" <<'EOF'
GRUB_DEFAULT=0
GRUB_TIMEOUT=1
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0 init=/usr/local/sbin/v2v-boot-marker"
GRUB_TERMINAL="console serial"
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
EOF

tar -C "$root" --numeric-owner -cf "$work/rootfs.tar" .
rm -rf "$root"

log "partition, mkfs, tar-in, grub-install (one appliance boot)"
guestfish > "$work/guestfish.log" 2>&1 <<EOF || { tail -30 "$work/guestfish.log" >&2; exit 1; }
sparse $work/guest.img 700M
run
part-disk /dev/sda mbr
part-set-bootable /dev/sda 1 true
mkfs ext4 /dev/sda1
mount /dev/sda1 /
tar-in $work/rootfs.tar /
command "grub-install --target=i386-pc /dev/sda"
command "update-grub"
EOF

log "caching as $cache"
rm -f "$out"/debian-guest-*.qcow2
qemu-img convert -c -f raw -O qcow2 "$work/guest.img" "$cache.tmp"
mv "$cache.tmp" "$cache"
mv "$work/guest.img" "$image"
echo "$key" > "$image.key"
log "built $image ($key)"
