import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/peers.js';

// No Docker engine runs here, so the Dockerfiles are kept honest by checking
// what can be checked: every package their RUN lines install exists in the
// Debian archive this machine uses (bookworm, as node:20-bookworm-slim),
// and the runtime stage is what the conversion pod needs. The images
// themselves are built and played in podman by test/integration/pod-podman.test.ts.

function runLines(dockerfile: string): string[] {
  return dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => /^RUN\s/.test(l.trim()));
}

function aptPackages(run: string): string[] {
  const m = /apt-get install\s+([^&|;]+)/.exec(run);
  if (!m) return [];
  return m[1]!.split(/\s+/).filter((w) => w && !w.startsWith('-'));
}

/** Which of `packages` the archive has: one apt-cache call for all (each call costs seconds on a busy machine). */
function missingFromApt(packages: string[]): string[] {
  const shown = spawnSync('apt-cache', ['show', '--no-all-versions', ...packages], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).stdout ?? '';
  const found = new Set([...shown.matchAll(/^Package: (\S+)$/gm)].map((m) => m[1]));
  return packages.filter((p) => !found.has(p));
}

describe('Dockerfile (conversion-pod image)', () => {
  const text = readFileSync(`${REPO}Dockerfile`, 'utf8');

  it('installs only packages that exist in Debian bookworm', () => {
    const packages = runLines(text).flatMap(aptPackages);
    // libguestfs-xfs: without it the appliance cannot mount a RHEL 7-9 root (XFS) and virt-v2v finds no OS.
    expect(packages).toEqual(expect.arrayContaining(['virt-v2v', 'libguestfs-xfs', 'qemu-utils', 'nbdkit', 'libnbd-bin', 'libvirt0', 'linux-image-amd64', 'tini']));
    const missing = missingFromApt(packages);
    expect(missing).toEqual([]);
    expect(missingFromApt(['tini', 'no-such-package-v2v-test'])).toEqual(['no-such-package-v2v-test']);
  });

  it('is multi-stage on one base image (a build argument, node:20-bookworm-slim by default), and enters `v2v pod` under tini, which reaps orphaned tool processes', () => {
    expect(text).toMatch(/^ARG BASE_IMAGE=node:20-bookworm-slim$/m);
    expect(text.match(/^FROM .*/gm)).toEqual(['FROM ${BASE_IMAGE} AS build', 'FROM ${BASE_IMAGE}']);
    expect(text).toMatch(/^ENTRYPOINT \["tini", "--", "v2v", "pod"\]$/m);
    expect(text).toMatch(/^EXPOSE 2112 8080$/m);
  });

  it('runs as uid 107 in group 0, created before the packages whose system groups and users would take 107', () => {
    expect(text).toMatch(/^USER 107$/m);
    const runs = runLines(text);
    const createsUser = runs.findIndex((r) => /useradd .*--uid 107 --gid 0 /.test(r));
    const installs = runs.findIndex((r) => aptPackages(r).includes('virt-v2v'));
    expect(createsUser).toBeGreaterThanOrEqual(0);
    expect(createsUser).toBeLessThan(installs);
    expect(text).not.toMatch(/groupadd/);
  });

  it('declares no VOLUME and keeps the program in /opt/v2v, where no volume of the Job mounts', () => {
    // podman and Docker mount an empty anonymous volume on a VOLUME, hiding what an init container put there.
    const instructions = text.replace(/^#.*\n/gm, '');
    expect(instructions).not.toMatch(/^VOLUME/m);
    expect(instructions).not.toMatch(/vmware-vix-disklib-distrib/);
    expect(text).toMatch(/^WORKDIR \/opt\/v2v$/m);
  });

  it('copies from the checkout only what scripts/images.sh hashes, so a change to any of it builds a new image', () => {
    const copied = [...text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '));
    const hashed = /^v2v_inputs=\(([^)]*)\)$/m.exec(readFileSync(`${REPO}scripts/images.sh`, 'utf8'))?.[1]?.split(' ') ?? [];
    expect(copied.length).toBeGreaterThan(0);
    expect(hashed).toEqual(expect.arrayContaining(['Dockerfile', ...copied]));
  });
});

describe('vddk/Dockerfile (VDDK init image, as the seed describes it)', () => {
  it('copies vmware-vix-disklib-distrib into /opt, on a base image from a build argument (busybox by default)', () => {
    const text = readFileSync(`${REPO}vddk/Dockerfile`, 'utf8');
    expect(text).toMatch(/^ARG BASE_IMAGE=busybox:latest$/m);
    expect(text.match(/^FROM .*/gm)).toEqual(['FROM ${BASE_IMAGE}']);
    expect(text).toMatch(/^COPY vmware-vix-disklib-distrib \/vmware-vix-disklib-distrib$/m);
    expect(text).toMatch(/^RUN mkdir -p \/opt$/m);
    expect(text).toMatch(/^ENTRYPOINT \["cp", "-r", "\/vmware-vix-disklib-distrib", "\/opt"\]$/m);
  });
});
