// Real virt-v2v-in-place (TCG, LIBGUESTFS_BACKEND=direct) on the real Debian
// guest built by test/guest/build-guest.sh. Each appliance launch costs
// 15–90 s here, so the tests share one converted disk and keep launches few:
// convert (2: virt-v2v + NIC step), read back (1), inspector (1), NIC step
// again (1), no os-release (2), no-root (1), kill (1), cancel late (2), cancel (≤1).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertGuest, type ConversionReport, type ConvertEvent } from '../../src/convert/convert.js';
import { ConversionError } from '../../src/convert/errors.js';
import { renameGuestNics } from '../../src/convert/nics-apply.js';
import { InterruptedError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { guestImages, guestVm } from '../guest/guest.js';

const MINUTES = 60_000;
const env = { ...process.env, LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' };

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Reads files from the disk in one read-only appliance launch (what virt-cat
 * does, batched). An entry with a space is a guestfish command (`stat /path`), run as is.
 */
function readGuestFiles(disk: string, paths: string[]): Record<string, string> {
  const marker = '----v2v-file----';
  const script = paths.map((p) => `echo ${marker}\n${p.includes(' ') ? `-${p}` : `-cat ${p}`}`).join('\n');
  const out = execFileSync('guestfish', ['--ro', '-a', disk, '-i'], { input: script, env, encoding: 'utf8', maxBuffer: 1 << 26 });
  const parts = out.split(`${marker}\n`).slice(1);
  return Object.fromEntries(paths.map((p, i) => [p, parts[i] ?? '']));
}

/** A fresh copy of a test image to convert, its checksum before, and a scratch directory that must end empty. */
async function freshDisk(image: string, name: string): Promise<{ disk: string; before: string; scratch: string }> {
  const disk = join(work, `${name}.img`);
  execFileSync('cp', ['--sparse=always', image, disk]);
  return { disk, before: await sha256(disk), scratch: join(work, `scratch-${name}`) };
}

/** The pid of the process whose command line mentions `needle` (our own unique temp path). */
async function pidMentioning(needle: string, program: string): Promise<number | undefined> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (cmdline[0]?.endsWith(program) && cmdline.some((a) => a.includes(needle))) return Number(entry);
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}

let work: string;
let images: { debian: string; noRoot: string };

beforeAll(async () => {
  images = guestImages();
  work = await mkdtemp(join(tmpdir(), 'v2v-convert-test-'));
}, 10 * MINUTES);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('convertGuest on the Debian guest', () => {
  let disk: string;
  let report: ConversionReport;
  const events: ConvertEvent[] = [];

  beforeAll(async () => {
    disk = join(work, 'disk0.img');
    execFileSync('cp', ['--sparse=always', images.debian, disk]);
    report = await convertGuest({
      vm: guestVm(),
      disks: [{ path: disk, format: 'raw' }],
      nicNaming: 'eth',
      workDir: join(work, 'scratch'),
      env,
      onProgress: (e) => events.push(e),
    });
  }, 20 * MINUTES);

  it('reports the guest, the steps and virt-v2v phases in order, and leaves no overlay behind', async () => {
    // Named by the cheap probe (guest-probe.ts), from os-release: inspect-os would say "12.15", from debian_version.
    expect(report.os).toMatchObject({
      root: '/dev/sda1',
      type: 'linux',
      distro: 'debian',
      majorVersion: 12,
      osinfo: 'debian12',
      hostname: 'v2v-test-guest',
      productName: 'Debian GNU/Linux 12 (bookworm)',
    });
    expect(report.acceleration.forceTcg).toBe(true);
    const steps = events.flatMap((e) => (e.kind === 'step' ? [e.step] : []));
    expect(steps).toEqual(['preparing', 'converting', 'renaming-nics', 'committing', 'done']);
    const phases = events.flatMap((e) => (e.kind === 'phase' ? [e.phase] : []));
    expect(phases).toEqual(expect.arrayContaining(['opening', 'inspecting', 'converting', 'finishing']));
    expect(phases.indexOf('inspecting')).toBeLessThan(phases.indexOf('finishing'));
    expect(await readdir(join(work, 'scratch'))).toEqual([]);
  });

  it('reports every NIC file it changed', () => {
    expect(report.nics.unchanged).toBe(false);
    expect(report.nics.changed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: '/etc/sysconfig/network-scripts/ifcfg-vmnic0', renamedTo: '/etc/sysconfig/network-scripts/ifcfg-eth0' }),
        expect.objectContaining({ path: '/etc/NetworkManager/system-connections/vmnic1.nmconnection', renamedTo: '/etc/NetworkManager/system-connections/eth2.nmconnection' }),
        expect.objectContaining({ path: '/etc/netplan/50-vmware.yaml' }),
        expect.objectContaining({ path: '/etc/network/interfaces' }),
        expect.objectContaining({ path: '/etc/udev/rules.d/70-persistent-net.rules', created: true }),
      ]),
    );
    expect(report.nics.changed).toHaveLength(5);
  });

  it(
    'wrote the conversion and the renamed NICs into the raw disk',
    () => {
      const files = readGuestFiles(disk, [
        '/etc/sysconfig/network-scripts/ifcfg-eth0',
        '/etc/sysconfig/network-scripts/ifcfg-vmnic0',
        '/etc/NetworkManager/system-connections/eth2.nmconnection',
        '/etc/netplan/50-vmware.yaml',
        '/etc/network/interfaces',
        '/etc/udev/rules.d/70-persistent-net.rules',
        '/etc/fstab',
        '/etc/initramfs-tools/modules',
        'stat /etc/NetworkManager/system-connections/eth2.nmconnection',
      ]);
      expect(files['/etc/sysconfig/network-scripts/ifcfg-eth0']).toMatch(/^NAME=eth0$/m);
      expect(files['/etc/sysconfig/network-scripts/ifcfg-eth0']).toMatch(/^DEVICE=eth0$/m);
      // The seed's file carries no MAC, and none is invented.
      expect(files['/etc/sysconfig/network-scripts/ifcfg-eth0']).not.toMatch(/HWADDR/);
      expect(files['/etc/sysconfig/network-scripts/ifcfg-vmnic0']).toBe('');
      expect(files['/etc/NetworkManager/system-connections/eth2.nmconnection']).toMatch(/^interface-name=eth2$/m);
      expect(files['/etc/NetworkManager/system-connections/eth2.nmconnection']).toContain('# Büro – 2. Stock (UTF-8 must come back byte for byte)\n');
      // NetworkManager ignores a keyfile others can read: the rewritten one keeps 0600.
      expect(Number(/^mode: (\d+)$/m.exec(files['stat /etc/NetworkManager/system-connections/eth2.nmconnection'] ?? '')?.[1]) & 0o777).toBe(0o600);
      expect(files['/etc/netplan/50-vmware.yaml']).toContain('set-name: eth3');
      expect(files['/etc/network/interfaces']).toContain('iface eth1 inet dhcp');
      expect(files['/etc/udev/rules.d/70-persistent-net.rules']).toContain('ATTR{address}=="00:50:56:aa:00:01", ATTR{type}=="1", NAME="eth0"');
      // virt-v2v's own work: the VMware device name became virtio, virtio drivers in the initramfs.
      expect(files['/etc/fstab']).toMatch(/^\/dev\/vda1\s+\/\s+ext4/m);
      expect(files['/etc/initramfs-tools/modules']).toMatch(/virtio_blk/);
    },
    10 * MINUTES,
  );

  it(
    'virt-inspector reads the converted disk as Debian 12',
    () => {
      // virt-v2v-inspector runs a whole throwaway conversion (~4 min under TCG
      // here); virt-inspector is libguestfs' same inspection in ~25 s.
      const xml = execFileSync('virt-inspector', ['--no-applications', '--no-icon', '-a', disk], { env, encoding: 'utf8', maxBuffer: 1 << 26 });
      expect(xml).toContain('<distro>debian</distro>');
      expect(xml).toContain('<major_version>12</major_version>');
      expect(xml).toContain('<osinfo>debian12</osinfo>');
      expect(xml).toMatch(/<mountpoint dev="\/dev\/sda1">\/<\/mountpoint>/);
    },
    10 * MINUTES,
  );

  it(
    'the converted disk boots on virtio under qemu: root on /dev/vda1',
    async () => {
      // The guest's init is a marker script (test/guest/files/usr/local/sbin/v2v-boot-marker)
      // that prints what the kernel saw and powers off. A copy: booting replays the journal.
      const bootDisk = join(work, 'boot.img');
      execFileSync('cp', ['--sparse=always', disk, bootDisk]);
      const serial = join(work, 'serial.log');
      // prettier-ignore
      execFileSync('qemu-system-x86_64', [
      '-machine', 'q35,accel=tcg', '-cpu', 'max', '-m', '1024', '-display', 'none', '-vga', 'std',
      '-serial', `file:${serial}`, '-no-reboot',
      '-drive', `file=${bootDisk},format=raw,if=virtio`,
      '-netdev', 'user,id=n0', '-device', 'virtio-net-pci,netdev=n0,mac=00:50:56:aa:00:01',
    ], { timeout: 5 * MINUTES, stdio: 'ignore' });
      const log = await readFile(serial, 'utf8');
      expect(log).toMatch(/V2V-BOOT-OK root=\/dev\/vda1 /);
      await rm(bootDisk, { force: true });
    },
    10 * MINUTES,
  );

  it(
    'renaming the NICs again changes nothing and says so',
    async () => {
      const before = await sha256(disk);
      const again = await renameGuestNics({ drives: [{ path: disk, format: 'raw' }], nics: guestVm().nics, naming: 'eth', env });
      expect(again.report).toMatchObject({ unchanged: true, changed: [], skipped: [] });
      expect(again.os?.distro).toBe('debian');
      expect(await sha256(disk)).toBe(before);
    },
    10 * MINUTES,
  );

  it(
    'a guest without os-release, which the cheap probe cannot name, is named by inspect-os and still renamed',
    async () => {
      const old = join(work, 'no-os-release.img');
      execFileSync('cp', ['--sparse=always', images.debian, old]);
      execFileSync('guestfish', ['-a', old, '-i'], { input: 'rm-f /etc/os-release\nrm-f /usr/lib/os-release\n', env });
      const renamed = await renameGuestNics({ drives: [{ path: old, format: 'raw' }], nics: guestVm().nics, naming: 'eth', env });
      expect(renamed.os).toMatchObject({ root: '/dev/sda1', type: 'linux', distro: 'debian', majorVersion: 12, osinfo: 'debian12' });
      expect(renamed.os?.productName).toMatch(/^12\.\d+$/);
      expect(renamed.report.changed.map((c) => c.renamedTo ?? c.path)).toContain('/etc/sysconfig/network-scripts/ifcfg-eth0');
      await rm(old, { force: true });
    },
    10 * MINUTES,
  );
});

describe('convertGuest failure safety', () => {
  it(
    "a disk with no operating system fails with CONVERSION_NO_ROOT, keeps virt-v2v's message, leaves the disk byte-identical",
    async () => {
      const { disk, before, scratch } = await freshDisk(images.noRoot, 'noroot');
      const error = await convertGuest({ vm: guestVm(), disks: [{ path: disk, format: 'raw' }], workDir: scratch, env }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConversionError);
      expect(error).toMatchObject({ code: 'CONVERSION_NO_ROOT', exitCode: 1 });
      expect((error as ConversionError).message).toContain('No root device found in this operating system image');
      expect(await sha256(disk)).toBe(before);
      expect(await readdir(scratch)).toEqual([]);
    },
    15 * MINUTES,
  );

  it(
    'virt-v2v killed mid-way → CONVERSION_FAILED, disk byte-identical, overlay removed',
    async () => {
      const { disk, before, scratch } = await freshDisk(images.debian, 'killed');
      let killed: Promise<void> | undefined;
      const error = await convertGuest({
        vm: guestVm(),
        disks: [{ path: disk, format: 'raw' }],
        workDir: scratch,
        env,
        onProgress: (e) => {
          if (e.kind === 'phase' && e.phase === 'inspecting' && !killed) {
            killed = (async () => {
              const pid = await pidMentioning(scratch, 'virt-v2v-in-place');
              if (pid === undefined) throw new Error('virt-v2v-in-place process not found');
              process.kill(pid, 'SIGKILL');
            })();
          }
        },
      }).catch((e: unknown) => e);
      await killed;
      expect(error).toBeInstanceOf(ConversionError);
      expect(error).toMatchObject({ code: 'CONVERSION_FAILED' });
      expect((error as ConversionError).message).toContain('killed by SIGKILL');
      expect(await sha256(disk)).toBe(before);
      expect(await readdir(scratch)).toEqual([]);
    },
    15 * MINUTES,
  );

  it(
    "cancelling after virt-v2v's work was committed (while the NICs are renamed) puts the disk back byte for byte",
    async () => {
      const { disk, before, scratch } = await freshDisk(images.debian, 'cancelled-late');
      const controller = new AbortController();
      const lines: { msg: string; undoBytes?: number }[] = [];
      // Cancelled the moment virt-v2v's overlay is in the disk and the NIC appliance is about to write.
      const destination = new Writable({
        write: (chunk: Buffer, _encoding, done) => {
          const line = JSON.parse(chunk.toString()) as { msg: string; undoBytes?: number };
          lines.push(line);
          if (line.msg.startsWith('overlay committed')) controller.abort();
          done();
        },
      });
      const logger = createLogger({ json: true, level: 'info', destination });
      const error = await convertGuest({
        vm: guestVm(),
        disks: [{ path: disk, format: 'raw' }],
        workDir: scratch,
        env,
        logger,
        signal: controller.signal,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InterruptedError);
      // virt-v2v's changes (the initramfs, fstab, …) had been written into the disk, then undone.
      expect(lines.find((l) => l.msg.startsWith('overlay committed'))?.undoBytes).toBeGreaterThan(1 << 20);
      expect(await sha256(disk)).toBe(before);
      expect(await readdir(scratch)).toEqual([]);
      expect(await pidMentioning(scratch, 'qemu-system-x86_64')).toBeUndefined();
    },
    15 * MINUTES,
  );

  it(
    'cancelling (AbortSignal) stops virt-v2v and discards the overlay: INTERRUPTED, disk byte-identical',
    async () => {
      const { disk, before, scratch } = await freshDisk(images.debian, 'cancelled');
      const controller = new AbortController();
      const error = await convertGuest({
        vm: guestVm(),
        disks: [{ path: disk, format: 'raw' }],
        workDir: scratch,
        env,
        signal: controller.signal,
        onProgress: (e) => {
          if (e.kind === 'phase' && e.phase === 'opening') controller.abort();
        },
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InterruptedError);
      expect(error).toMatchObject({ code: 'INTERRUPTED', exitCode: 4 });
      expect(await pidMentioning(scratch, 'virt-v2v-in-place')).toBeUndefined();
      expect(await sha256(disk)).toBe(before);
      expect(await readdir(scratch)).toEqual([]);
    },
    15 * MINUTES,
  );
});
