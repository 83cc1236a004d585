import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VixDiskLibError } from '../../native/vixdisklib.js';
import type { SourceVm } from '../../src/model.js';
import { fromVixError } from '../../vddk/errors.js';
import { checkVddkConfig, libraryCandidates } from '../../vddk/library.js';
import { assertReadable, transportList } from '../../vddk/source.js';

const context = { server: 'vc.example.com', vm: 'web (vm-42)', disk: '[ds1] web/web.vmdk' };

describe('VixError → named VDDK errors', () => {
  it.each([
    [30201, 'SSL Exception: …', 'connect', 'VDDK_THUMBPRINT_MISMATCH'],
    [1, 'The host thumbprint does not match', 'connect', 'VDDK_THUMBPRINT_MISMATCH'],
    [3014, 'Insufficient permissions in the host operating system', 'connect', 'SOURCE_AUTH_FAILED'],
    [35, 'Authentication failure', 'connect', 'SOURCE_AUTH_FAILED'],
    [18000, 'Cannot connect to host', 'connect', 'SOURCE_UNREACHABLE'],
    [14009, 'The server refused connection', 'open', 'SOURCE_UNREACHABLE'],
    [4, 'The file was not found', 'open', 'VDDK_DISK_NOT_FOUND'],
    [13003, 'The snapshot was not found', 'connect', 'VDDK_SNAPSHOT_NOT_FOUND'],
    [4000, 'The virtual machine cannot be found', 'connect', 'VM_NOT_FOUND'],
    [7, 'A file access error occurred', 'read', 'VDDK_READ_FAILED'],
    [16000, 'One of the parameters supplied is invalid', 'open', 'VDDK_OPEN_FAILED'],
  ] as const)('%i (%s) at %s → %s', (code, text, step, expected) => {
    const e = fromVixError(new VixDiskLibError('VixDiskLib_X', code, text), step, context);
    expect(e.code).toBe(expected);
    expect(e.details).toMatchObject({ vixError: code });
  });

  it('puts the presented thumbprint into the mismatch hint', () => {
    const e = fromVixError(new VixDiskLibError('VixDiskLib_ConnectEx', 30201, 'SSL'), 'connect', { ...context, presentedThumbprint: 'AA:BB' });
    expect(e.hint).toContain('thumbprint: "AA:BB"');
  });
});

describe('transports', () => {
  it('defaults to nbdssl:nbd and keeps the order given', () => {
    expect(transportList(undefined)).toBe('nbdssl:nbd');
    expect(transportList(['hotadd', 'nbdssl'])).toBe('hotadd:nbdssl');
    expect(transportList(['file'])).toBe('file');
  });
  it('rejects an unknown transport by name', () => {
    expect(() => transportList(['nfs' as 'nbd'])).toThrow(/unknown VDDK transport "nfs"/);
  });
});

describe('power state before VDDK', () => {
  const vm = (powerState: SourceVm['powerState']): SourceVm =>
    ({ name: 'web', id: 'vm-42', powerState, source: { type: 'vsphere', moref: 'vm-42', changeTrackingEnabled: false, devices: [], tpm: false } }) as unknown as SourceVm;
  it.each(['on', 'suspended', 'unknown'] as const)('%s is refused as VM_POWERED_ON', (state) => {
    expect(() => assertReadable(vm(state), undefined)).toThrow(expect.objectContaining({ code: 'VM_POWERED_ON' }));
  });
  it('off is read; a running VM is read from a snapshot', () => {
    expect(() => assertReadable(vm('off'), undefined)).not.toThrow();
    expect(() => assertReadable(vm('on'), 'snapshot-7')).not.toThrow();
  });
});

describe('library discovery and config', () => {
  it('looks for .so.8, .so.7, .so.6 under lib64/ first, as nbdkit does', () => {
    expect(libraryCandidates('/opt/v')).toEqual([
      '/opt/v/lib64/libvixDiskLib.so.8',
      '/opt/v/libvixDiskLib.so.8',
      '/opt/v/lib64/libvixDiskLib.so.7',
      '/opt/v/libvixDiskLib.so.7',
      '/opt/v/lib64/libvixDiskLib.so.6',
      '/opt/v/libvixDiskLib.so.6',
    ]);
  });
  it('reads key = "value" lines and names a bad line with its number', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v2v-vddkcfg-'));
    const good = join(dir, 'good');
    writeFileSync(good, '# tuning\nVixDiskLib.nfcAio.Session.BufSizeIn64KB = "16"\nvixDiskLib.transport.LogLevel=2\n');
    expect(Object.fromEntries(await checkVddkConfig(good))).toEqual({ 'VixDiskLib.nfcAio.Session.BufSizeIn64KB': '16', 'vixDiskLib.transport.LogLevel': '2' });
    const bad = join(dir, 'bad');
    writeFileSync(bad, '\n\nthis is not a setting\n');
    await expect(checkVddkConfig(bad)).rejects.toMatchObject({ code: 'VDDK_CONFIG_INVALID', message: expect.stringContaining(`${bad}:3:`) });
    await expect(checkVddkConfig(join(dir, 'absent'))).rejects.toMatchObject({ code: 'VDDK_CONFIG_INVALID' });
  });
});
