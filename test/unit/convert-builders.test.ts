import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseAcceleration } from '../../src/convert/accel.js';
import { inPlaceArgv, libguestfsEnv, liveViewArgv, nbdOverlayCreateArgv, overlayCommitArgv, overlayCreateArgv, overlayMapArgv, overlayRebaseArgv } from '../../src/convert/argv.js';
import { ownRanges } from '../../src/convert/commit-undo.js';
import { buildDomainXml, driveSuffix } from '../../src/convert/domain-xml.js';
import { quoteArg } from '../../src/convert/guestfish.js';
import { guestVm } from '../guest/guest.js';
import { REPO } from '../helpers/peers.js';

/** Compares with test/fixtures/convert/NAME; UPDATE_GOLDEN=1 rewrites the file. */
function golden(name: string, actual: string): void {
  const path = `${REPO}test/fixtures/convert/${name}`;
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(path, actual);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

/** libvirt's own parser (test driver, no daemon): the seam the koffi binding will fill. */
function virshDefine(xml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'v2v-domxml-'));
  writeFileSync(join(dir, 'domain.xml'), xml);
  return execFileSync('virsh', ['-c', 'test:///default', 'define', join(dir, 'domain.xml')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('domain XML for virt-v2v -i libvirtxml', () => {
  it('describes the Debian test guest: SCSI disk on its overlay, BIOS, four vmxnet3 NICs (golden)', () => {
    const xml = buildDomainXml(guestVm(), [{ path: '/work/disk0.overlay.qcow2', format: 'qcow2' }]);
    golden('domain-bios-scsi.xml', xml);
    expect(virshDefine(xml)).toContain("Domain 'debian-guest' defined");
  });

  it('keeps each disk on its source bus with per-prefix letters, EFI via os firmware, escapes names (golden)', () => {
    const base = guestVm();
    const vm = guestVm({
      name: 'web & db <prod>',
      firmware: 'efi',
      cpu: { sockets: 2, coresPerSocket: 2 },
      memoryMiB: 4096,
      source: { ...(base.source as Extract<typeof base.source, { type: 'vsphere' }>), uuid: '420C1D2E-AAAA-BBBB-CCCC-0123456789AB' },
      disks: [
        { ...base.disks[0]!, controller: { bus: 'sata', model: 'VirtualAHCIController' } },
        { ...base.disks[0]!, key: '2001', controller: { bus: 'ide', model: 'VirtualIDEController' } },
        { ...base.disks[0]!, key: '2002', controller: { bus: 'scsi', model: 'VirtualLsiLogicController' } },
        { ...base.disks[0]!, key: '2003', controller: { bus: 'nvme', model: 'VirtualNVMEController' } },
      ],
      nics: [
        { mac: '00:50:56:AB:CD:EF', model: 'e1000e', network: { name: "dvs 'prod'" } },
        { mac: '00:50:56:00:00:09', model: 'sriov', network: { name: '' } },
      ],
    });
    const xml = buildDomainXml(vm, [
      { path: '/d/0.qcow2', format: 'qcow2' },
      { path: '/d/1.qcow2', format: 'qcow2' },
      { path: '/d/2.qcow2', format: 'qcow2' },
      { path: '/dev/block3', format: 'raw', block: true },
    ]);
    golden('domain-efi-mixed.xml', xml);
    expect(xml).toContain("<target dev='sda' bus='sata'/>");
    expect(xml).toContain("<target dev='hda' bus='ide'/>");
    expect(xml).toContain("<target dev='sdb' bus='scsi'/>");
    expect(xml).toContain("<target dev='sdc' bus='sata'/>");
    expect(xml).toContain('<memory>4194304</memory>');
    expect(xml).toContain('<name>web &amp; db &lt;prod&gt;</name>');
    expect(virshDefine(xml)).toContain('defined');
  });

  it('refuses a domain with no disks (virt-v2v would say "no non-removable disks")', () => {
    expect(() => buildDomainXml(guestVm(), [])).toThrow(/at least one disk/);
  });

  it.each([
    [0, 'a'],
    [25, 'z'],
    [26, 'aa'],
    [27, 'ab'],
    [701, 'zz'],
    [702, 'aaa'],
  ])('drive suffix %i → %s', (index, suffix) => {
    expect(driveSuffix(index)).toBe(suffix);
  });
});

describe('command lines (golden)', () => {
  it('virt-v2v-in-place and qemu-img overlay/commit argv', () => {
    const lines = [
      ['virt-v2v-in-place', ...inPlaceArgv({ domainXml: '/w/domain.xml' })],
      ['virt-v2v-in-place', ...inPlaceArgv({ domainXml: '/w/domain.xml', verbose: true })],
      ['qemu-img', ...overlayCreateArgv({ path: '/t/disk0/disk.img', format: 'raw' }, '/w/disk0.overlay.qcow2')],
      ['qemu-img', ...overlayCommitArgv('/w/disk0.overlay.qcow2')],
      ['qemu-img', ...overlayMapArgv('/w/disk0.overlay.qcow2')],
      ['nbdkit', ...liveViewArgv({ path: '/t/disk0/disk.img', socket: '/tmp/v2v-view-x/disk0.sock', pidFile: '/tmp/v2v-view-x/disk0.pid' })],
      ['qemu-img', ...nbdOverlayCreateArgv('/tmp/v2v-view-x/disk0.sock', '/w/disk0.nics.qcow2')],
      ['qemu-img', ...overlayRebaseArgv('/w/disk0.nics.qcow2', { path: '/t/disk0/disk.img', format: 'raw' })],
    ].map((argv) => argv.join(' '));
    golden('argv.txt', `${lines.join('\n')}\n`);
  });

  it('a commit writes exactly the ranges the overlay holds itself (depth 0), adjacent ones merged', () => {
    const map = [
      { start: 0, length: 65536, depth: 1 },
      { start: 65536, length: 131072, depth: 0 },
      { start: 196608, length: 65536, depth: 0 },
      { start: 262144, length: 1 << 20, depth: 1 },
      { start: 262144 + (1 << 20), length: 65536, depth: 0 },
    ];
    expect(ownRanges(map)).toEqual([
      { offset: 65536, length: 196608 },
      { offset: 262144 + (1 << 20), length: 65536 },
    ]);
    expect(ownRanges([{ start: 0, length: 1 << 30, depth: 1 }])).toEqual([]);
  });

  it('libguestfs env: direct backend always, force_tcg only when KVM is unusable', () => {
    const base = { PATH: '/usr/bin', LIBGUESTFS_BACKEND: 'libvirt' };
    expect(libguestfsEnv(base, { forceTcg: true })).toEqual({ PATH: '/usr/bin', LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg', TERM: 'dumb' });
    expect(libguestfsEnv(base, { forceTcg: false })).toEqual({ PATH: '/usr/bin', LIBGUESTFS_BACKEND: 'direct', TERM: 'dumb' });
    // The user's own settings are kept; force_tcg is added once.
    expect(libguestfsEnv({ LIBGUESTFS_BACKEND_SETTINGS: 'gdb' }, { forceTcg: true })['LIBGUESTFS_BACKEND_SETTINGS']).toBe('gdb:force_tcg');
    expect(libguestfsEnv({ LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' }, { forceTcg: true })['LIBGUESTFS_BACKEND_SETTINGS']).toBe('force_tcg');
  });
});

describe('guestfish stdin quoting', () => {
  it.each([
    ['/etc/network/interfaces', '/etc/network/interfaces'],
    ['format:qcow2', 'format:qcow2'],
    ['/etc/netplan/*.yaml', '"/etc/netplan/*.yaml"'],
    ['/etc/NetworkManager/system-connections/Wired connection 1', '"/etc/NetworkManager/system-connections/Wired connection 1"'],
    ['a"b\\c', '"a\\x22b\\x5cc"'],
    ['a file\nwith lines\tand ü', '"a file\\x0awith lines\\x09and \\xc3\\xbc"'],
  ])('%s → %s', (arg, quoted) => {
    expect(quoteArg(arg)).toBe(quoted);
  });

  it('refuses a NUL byte, which guestfish cannot take', () => {
    expect(() => quoteArg('a\0b')).toThrow(/NUL/);
  });
});

describe('KVM or TCG', () => {
  const usable = { override: undefined, kvmDeviceUsable: true, cpuHasVirtualization: true, qemuKvmProbe: true };
  it.each([
    ['everything usable', usable, false],
    ['no /dev/kvm', { ...usable, kvmDeviceUsable: false }, true],
    ['nested without vmx/svm (this CI machine)', { ...usable, cpuHasVirtualization: false }, true],
    ['qemu aborts with KVM', { ...usable, qemuKvmProbe: false }, true],
    ['V2V_FORCE_TCG=1 on a KVM host', { ...usable, override: '1' }, true],
    ['V2V_FORCE_TCG=0 without /dev/kvm', { ...usable, override: '0', kvmDeviceUsable: false }, false],
  ])('%s', (_name, facts, forceTcg) => {
    expect(chooseAcceleration(facts).forceTcg).toBe(forceTcg);
  });
});
