import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/peers.js';

// No Docker engine runs here, so the Dockerfiles are kept honest by checking
// what can be checked: every package their RUN lines install exists in the
// Debian archive this machine uses (bookworm, as node:20-bookworm-slim),
// and the runtime stage is what SPEC §4.5 says.

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

  it('is multi-stage on Node 20, runs as uid 107, exposes the VDDK mount point, and enters `v2v pod` under tini, which reaps orphaned tool processes', () => {
    expect(text.match(/^FROM node:20-bookworm-slim/gm)).toHaveLength(2);
    expect(text).toMatch(/^USER 107$/m);
    expect(text).toMatch(/^VOLUME \["\/opt\/vmware-vix-disklib-distrib"\]$/m);
    expect(text).toMatch(/^ENTRYPOINT \["tini", "--", "v2v", "pod"\]$/m);
    expect(text).toMatch(/^EXPOSE 2112 8080$/m);
  });
});

describe('vddk/Dockerfile (VDDK init image, as the seed describes it)', () => {
  it('copies vmware-vix-disklib-distrib into /opt', () => {
    const text = readFileSync(`${REPO}vddk/Dockerfile`, 'utf8');
    expect(text).toMatch(/COPY vmware-vix-disklib-distrib \/vmware-vix-disklib-distrib/);
    expect(text).toMatch(/cp.*\/vmware-vix-disklib-distrib.*\/opt/);
  });
});
