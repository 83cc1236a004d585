# The conversion-pod image: v2v on Node 20 with virt-v2v, libguestfs, qemu-img, nbdkit and libvirt.
# VDDK is not shipped (VMware's licence): the VDDK init image (vddk/Dockerfile) copies
# vmware-vix-disklib-distrib into /opt, an emptyDir shared with this container.

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY adapters ./adapters
COPY vddk ./vddk
COPY native ./native
COPY scripts ./scripts
COPY test ./test
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      virt-v2v libguestfs-tools libguestfs-xfs guestfs-tools linux-image-amd64 supermin \
      qemu-utils nbdkit libnbd-bin xz-utils libvirt0 ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && chmod 0644 /boot/vmlinuz-*
# uid 107 like CDI's qemu user, so the PVCs CDI prepares are writable.
RUN groupadd -g 107 qemu-v2v && useradd -u 107 -g 107 -d /var/lib/v2v -m qemu-v2v \
 && mkdir -p /opt/vmware-vix-disklib-distrib /mnt/disks /etc/v2v /etc/secret \
 && chown 107:107 /mnt/disks
WORKDIR /opt/v2v
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
RUN ln -s /opt/v2v/bin/v2v.js /usr/local/bin/v2v
# /dev/kvm is used when the node offers it; LIBGUESTFS_BACKEND_SETTINGS=force_tcg when it is broken.
ENV LIBGUESTFS_BACKEND=direct LIBGUESTFS_CACHEDIR=/var/tmp V2V_STATE_DIR=/var/tmp/v2v
VOLUME ["/opt/vmware-vix-disklib-distrib"]
USER 107
EXPOSE 2112 8080
# tini as PID 1 reaps what the tools orphan (guestfish forks its server and exits),
# which node as PID 1 would leave as zombies.
ENTRYPOINT ["tini", "--", "v2v", "pod"]
