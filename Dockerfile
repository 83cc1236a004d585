# The conversion-pod image: v2v on Node 20 with virt-v2v, libguestfs, qemu-img, nbdkit and libvirt.
# VDDK is not shipped (VMware's licence): the VDDK init image (vddk/Dockerfile) copies
# vmware-vix-disklib-distrib into an emptyDir that this container mounts at /vddk, away from
# the program in /opt/v2v.
#
# BASE_IMAGE is any Debian 12 (bookworm) image with Node 20 and npm on the PATH, the same for
# both stages: node:20-bookworm-slim by default; scripts/images.sh builds an equivalent local
# one where no registry can be reached.
ARG BASE_IMAGE=node:20-bookworm-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
# The program only: tsconfig.build.json also names scripts/ and test/, which the image leaves out.
COPY bin ./bin
COPY src ./src
COPY adapters ./adapters
COPY vddk ./vddk
COPY native ./native
RUN npm run build && npm prune --omit=dev

FROM ${BASE_IMAGE}
# The Job runs as uid 107, CDI's qemu user, so the PVCs CDI prepares are writable. Its group
# is root (gid 0), as OpenShift gives every arbitrary uid, so no group needs creating: a
# group of our own would collide with the system groups the packages below create (rdma
# takes gid 107). The user comes first, so that no package's system user can take uid 107.
RUN useradd --system --no-log-init --uid 107 --gid 0 --home-dir /var/lib/v2v --create-home --shell /usr/sbin/nologin v2v
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      virt-v2v libguestfs-tools libguestfs-xfs guestfs-tools linux-image-amd64 supermin \
      qemu-utils nbdkit libnbd-bin xz-utils libvirt0 ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && chmod 0644 /boot/vmlinuz-*
# Every volume of the Job mounts on a directory that is empty here (/etc/v2v, /etc/secret,
# /var/tmp, /vddk, /mnt/disks/disk<N>): a mount must hide nothing of the image.
RUN mkdir -p /mnt/disks && chown 107:0 /mnt/disks
WORKDIR /opt/v2v
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
RUN ln -s /opt/v2v/bin/v2v.js /usr/local/bin/v2v
# /dev/kvm is used when the node offers it; LIBGUESTFS_BACKEND_SETTINGS=force_tcg when it is broken.
ENV LIBGUESTFS_BACKEND=direct LIBGUESTFS_CACHEDIR=/var/tmp V2V_STATE_DIR=/var/tmp/v2v
USER 107
EXPOSE 2112 8080
# tini as PID 1 reaps what the tools orphan (guestfish forks its server and exits),
# which node as PID 1 would leave as zombies.
ENTRYPOINT ["tini", "--", "v2v", "pod"]
