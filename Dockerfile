# The conversion-pod image: v2v on Node 20 with virt-v2v, libguestfs, qemu-img, nbdkit and libvirt.
# VDDK is not shipped (VMware's licence): an init container copies it to /opt/vmware-vix-disklib-distrib.

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
      virt-v2v libguestfs-tools linux-image-amd64 qemu-utils nbdkit libnbd-bin libvirt0 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# uid 107 like CDI's qemu user, so PVC permissions line up.
RUN groupadd -g 107 qemu-v2v && useradd -u 107 -g 107 -d /var/lib/v2v -m qemu-v2v
WORKDIR /opt/v2v
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
RUN ln -s /opt/v2v/bin/v2v.js /usr/local/bin/v2v
ENV LIBGUESTFS_BACKEND=direct
VOLUME ["/opt/vmware-vix-disklib-distrib"]
USER 107
EXPOSE 2112 8080
ENTRYPOINT ["v2v", "pod"]
