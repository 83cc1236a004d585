import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VsphereSource } from '../../adapters/vsphere/index.js';
import { OpenFlags, VixDiskLib } from '../../native/vixdisklib.js';
import { loadSources } from '../../src/config/sources.js';
import type { SourceVm } from '../../src/model.js';
import { fetchPresentedCertificate } from '../../src/net/tls.js';
import { vddkOptionsFromSource } from '../../vddk/config.js';
import { VddkError } from '../../vddk/errors.js';
import { VddkSource, type VddkSourceOptions } from '../../vddk/source.js';
import { copyDisk } from '../../src/copy/engine.js';
import type { CopyProgress as EngineProgress } from '../../src/copy/progress.js';
import { allocatedBytes, flatDescriptor, makeDebianImage, sameContent } from '../helpers/disk-image.js';
import { configureFakeVddk, fakeVddkDir } from '../helpers/fake-vddk.js';
import { startVcsim, type Vcsim } from '../helpers/vcsim.js';

const MiB = 1024 * 1024;

async function rejection(p: Promise<unknown>): Promise<VddkError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(VddkError);
    return e as VddkError;
  }
  throw new Error('expected a rejection');
}

// A vcsim whose VM disk holds a real (small) Debian image, written through
// the datastore's /folder HTTP API, read back through VDDK (the fake library
// over vcsim's datastore directory) into a sparse file and a loop device.
describe('VDDK source against vcsim and the fake libvixDiskLib', () => {
  let vcsim: Vcsim;
  let work: string;
  let image: { path: string; size: number };
  let vms: SourceVm[];
  let offVm: SourceVm;
  let onVm: SourceVm;
  let options: VddkSourceOptions;
  let trace: string;
  let loop: string | undefined;
  const libraryDir = fakeVddkDir();

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'v2v-vddk-'));
    vcsim = await startVcsim({ cluster: 1, host: 1, standaloneHost: 0, vm: 2, autostart: false });
    const client = await vcsim.client();
    const inventory = new VsphereSource('vc', client, undefined, 500);
    vms = await inventory.listVms();
    offVm = vms.find((vm) => vm.name === 'DC0_C0_RP0_VM0')!;
    onVm = vms.find((vm) => vm.name === 'DC0_C0_RP0_VM1')!;
    const task = await client.invoke('PowerOnVM_Task', { type: 'VirtualMachine', value: onVm.id }, '');
    await client.waitForTask(task as { type: string; value: string });
    vms = await inventory.listVms();
    onVm = vms.find((vm) => vm.name === 'DC0_C0_RP0_VM1')!;
    await inventory.close();

    // The guest disk, uploaded where the VM's backing file says it lives.
    image = makeDebianImage(join(work, 'debian.img'), 64);
    const file = offVm.disks[0]!.file!; // "[LocalDS_0] DC0_C0_RP0_VM0/disk1.vmdk"
    const [, dsName, rel] = /^\[([^\]]+)\] (.+)$/.exec(file)!;
    const flatRel = rel!.replace(/\.vmdk$/, '-flat.vmdk');
    const base = vcsim.url.replace(/\/sdk$/, '');
    const auth = `Basic ${Buffer.from(`${vcsim.username}:${vcsim.password}`).toString('base64')}`;
    const put = async (path: string, body: Buffer | string) => {
      const res = await request(`${base}/folder/${path}?dcPath=DC0&dsName=${dsName}`, {
        method: 'PUT',
        body,
        headers: { authorization: auth },
        dispatcher: new (await import('undici')).Agent({ connect: { rejectUnauthorized: false } }),
      });
      await res.body.dump();
      expect(res.statusCode).toBe(200);
    };
    await put(flatRel, readFileSync(image.path));
    await put(rel!, flatDescriptor(flatRel.split('/').pop()!, image.size));
    // An upload writes every zero; the datastore keeps the disk thin, as a thin-provisioned VMFS disk is.
    const flatOnDatastore = join(vcsim.datastores.get(dsName!)!, flatRel);
    execFileSync('fallocate', ['--dig-holes', flatOnDatastore]);
    expect(allocatedBytes(flatOnDatastore)).toBeLessThan(image.size / 2);

    const presented = await fetchPresentedCertificate('127.0.0.1', Number(new URL(vcsim.url).port));
    trace = join(work, 'vddk-trace.log');
    configureFakeVddk({ datastores: vcsim.datastores, thumbprint: presented.thumbprint, user: vcsim.username, password: vcsim.password, faults: undefined, trace });
    const sourcesFile = await vcsim.sourcesFile({ insecureSkipVerify: true, thumbprint: presented.thumbprint });
    const [config] = await loadSources(sourcesFile);
    options = await vddkOptionsFromSource(config!, vcsim.password, offVm, offVm.disks[0]!, { libraryDir });
  });

  afterAll(async () => {
    if (loop) execFileSync('losetup', ['-d', loop]);
    await vcsim?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('copies the Debian disk through the copy engine into a Filesystem target: identical bytes, holes kept, only allocated data read, progress to 100 %', async () => {
    const source = await VddkSource.open(options);
    const progress: EngineProgress[] = [];
    const target = join(work, 'fs', 'disk.img');
    mkdirSync(join(work, 'fs'));
    try {
      expect(source.size).toBe(image.size);
      expect(source.transport).toBe('nbdssl');
      expect(source.io).toBe('handles');
      const extents = await source.extents(0, source.size);
      const allocated = extents.filter((e) => !e.zero).reduce((n, e) => n + e.length, 0);
      expect(allocated).toBeLessThan(image.size / 2);
      const result = await copyDisk({ source, target: { kind: 'filesystem', dir: join(work, 'fs') }, onProgress: (p) => progress.push(p), progressIntervalMs: 10 });
      expect(result.bytesCopied).toBeLessThanOrEqual(allocated);
      expect(source.bytesRead).toBe(allocated);
    } finally {
      await source.close(true);
    }
    expect(sameContent(image.path, target)).toBe(true);
    // Holes preserved: the target occupies about what the source had allocated (64 KiB chunk rounding).
    expect(allocatedBytes(target)).toBeLessThanOrEqual(allocatedBytes(image.path) + 4 * MiB);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.map((p) => p.bytesDone)).toEqual([...progress.map((p) => p.bytesDone)].sort((a, b) => a - b));
    expect(progress.at(-1)).toMatchObject({ bytesDone: image.size, bytesTotal: image.size });
    // The real guest is there: the partition table and the ext4 label survive the copy.
    expect(execFileSync('sfdisk', ['--dump', target]).toString()).toContain('name="debian-root"');
    const trailer = await readFile(trace, 'utf8');
    expect(trailer).toMatch(new RegExp(`ConnectEx server=127\\.0\\.0\\.1 vmxSpec=moref=${offVm.id} readOnly=1 snapshot= transports=nbdssl:nbd`));
    expect(trailer).toContain('Open path=[LocalDS_0] DC0_C0_RP0_VM0/disk1.vmdk flags=4 transport=nbdssl');
  });

  it('copies the same disk through the copy engine onto a Block target (a loop device filled with garbage): holes are zeroed, bytes identical', async () => {
    const backing = join(work, 'block-backing.img');
    writeFileSync(backing, Buffer.alloc(image.size, 0xa5));
    loop = execFileSync('losetup', ['--find', '--show', backing]).toString().trim();
    const source = await VddkSource.open(options);
    try {
      await copyDisk({ source, target: { kind: 'block', device: loop, stateDir: work } });
    } finally {
      await source.close(true);
    }
    expect(sameContent(image.path, loop)).toBe(true);
  });

  it('reads through ReadAsync completions on one handle (io: async, as for hotadd) with the same result', async () => {
    const source = await VddkSource.open({ ...options, io: 'async', readsInFlight: 4, readSize: MiB });
    const target = join(work, 'async', 'disk.img');
    mkdirSync(join(work, 'async'));
    try {
      expect(source.io).toBe('async');
      await copyDisk({ source, target: { kind: 'filesystem', dir: join(work, 'async') }, chunkSize: 8 * MiB });
    } finally {
      await source.close(true);
    }
    expect(sameContent(image.path, target)).toBe(true);
  });

  it('reports extents exactly over any range, and a disk tail shorter than a 64 KiB chunk as data', async () => {
    // A disk of 1 MiB + 3 sectors with data only in its last sector and at 256 KiB.
    const dir = join(vcsim.datastores.get('LocalDS_0')!, 'odd');
    execFileSync('mkdir', ['-p', dir]);
    const size = MiB + 3 * 512;
    const flat = join(dir, 'odd-flat.vmdk');
    execFileSync('truncate', ['-s', String(size), flat]);
    const fd = openSync(flat, 'r+');
    writeSync(fd, Buffer.alloc(4096, 1), 0, 4096, 256 * 1024);
    writeSync(fd, Buffer.alloc(512, 2), 0, 512, size - 512);
    closeSync(fd);
    writeFileSync(join(dir, 'odd.vmdk'), flatDescriptor('odd-flat.vmdk', size));
    const source = await VddkSource.open({ ...options, disk: '[LocalDS_0] odd/odd.vmdk' });
    try {
      expect(source.size).toBe(size);
      expect(await source.extents(0, size)).toEqual([
        { offset: 0, length: 256 * 1024, zero: true },
        { offset: 256 * 1024, length: 64 * 1024, zero: false },
        { offset: 320 * 1024, length: MiB - 320 * 1024, zero: true },
        { offset: MiB, length: 3 * 512, zero: false },
      ]);
      expect(await source.extents(300 * 1024, 100 * 1024)).toEqual([
        { offset: 300 * 1024, length: 20 * 1024, zero: false },
        { offset: 320 * 1024, length: 80 * 1024, zero: true },
      ]);
      const tail = await source.read(size - 700, 1000);
      expect(tail.length).toBe(700);
      expect(tail.subarray(188).every((b) => b === 2)).toBe(true);
      expect(tail.subarray(0, 188).every((b) => b === 0)).toBe(true);
    } finally {
      await source.close(true);
    }
  });

  it('refuses a powered-on VM before VDDK connects (vmware.power_state.on)', async () => {
    writeFileSync(trace, '');
    expect(onVm.powerState).toBe('on');
    const err = await rejection(VddkSource.open({ ...options, vm: onVm, disk: onVm.disks[0]! }));
    expect(err.code).toBe('VM_POWERED_ON');
    expect(err.hint).toContain('vmware.power_state.on');
    expect(readFileSync(trace, 'utf8')).not.toContain('ConnectEx');
  });

  it('reads a running VM from a snapshot: the snapshot moref and transports go to ConnectEx, hotadd falls back to the next transport', async () => {
    writeFileSync(trace, '');
    const source = await VddkSource.open({ ...options, vm: onVm, disk: offVm.disks[0]!, snapshotMoref: 'snapshot-42', transports: ['hotadd', 'nbd'] });
    try {
      expect(source.transport).toBe('nbd');
      expect((await source.read(MiB, 4096)).equals(readFileSync(image.path).subarray(MiB, MiB + 4096))).toBe(true);
    } finally {
      await source.close(true);
    }
    expect(readFileSync(trace, 'utf8')).toContain(`vmxSpec=moref=${onVm.id} readOnly=1 snapshot=snapshot-42 transports=hotadd:nbd`);
    const none = await rejection(VddkSource.open({ ...options, transports: ['hotadd', 'san'] }));
    expect(none.code).toBe('VDDK_OPEN_FAILED');
    expect(none.details).toMatchObject({ vixErrorName: 'VIX_E_NOT_SUPPORTED' });
  });

  it('keeps the event loop live while VDDK reads (a slow read is still pending when a timer fires), and honours an aborted signal', async () => {
    configureFakeVddk({ faults: 'slow-read-ms=2000' });
    try {
      const source = await VddkSource.open({ ...options, readsInFlight: 1 });
      try {
        let settled = false;
        const pending = source.read(0, MiB).finally(() => (settled = true));
        await new Promise((r) => setTimeout(r, 20));
        expect(settled).toBe(false);
        await pending;
        const aborted = AbortSignal.abort();
        await expect(source.read(0, MiB, aborted)).rejects.toMatchObject({ name: 'AbortError' });
        // close() while a read runs waits for it (VDDK takes one call per handle), then closes.
        const inFlight = source.read(MiB, MiB);
        await source.close(false);
        expect((await inFlight).equals(readFileSync(image.path).subarray(MiB, 2 * MiB))).toBe(true);
      } finally {
        await source.close(true);
      }
    } finally {
      configureFakeVddk({ faults: undefined });
    }
  });

  it('names a wrong thumbprint VDDK_THUMBPRINT_MISMATCH, with the presented one in the hint', async () => {
    const wrong = '00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33';
    const err = await rejection(VddkSource.open({ ...options, thumbprint: wrong }));
    expect(err.code).toBe('VDDK_THUMBPRINT_MISMATCH');
    expect(err.hint).toContain(options.thumbprint);
  });

  it('names a wrong password SOURCE_AUTH_FAILED and never shows it', async () => {
    const err = await rejection(VddkSource.open({ ...options, credentials: { type: 'uid', userName: vcsim.username, password: 'not-the-Passw0rd' } }));
    expect(err.code).toBe('SOURCE_AUTH_FAILED');
    expect(`${err.message} ${err.hint}`).not.toContain('not-the-Passw0rd');
    // A vim25 session cookie (credType SESSIONID) instead of a password, as Forklift passes one.
    const bySession = await VddkSource.open({ ...options, credentials: { type: 'session', cookie: 'vmware_soap_session="52a8d0e4-session"', userName: vcsim.username } });
    await bySession.close(true);
    const noSession = await rejection(VddkSource.open({ ...options, credentials: { type: 'session', cookie: '' } }));
    expect(noSession.code).toBe('SOURCE_AUTH_FAILED');
  });

  it('loads a libvixDiskLib whose dependencies sit beside it without an RPATH, as VMware ships it, without LD_LIBRARY_PATH', () => {
    const dynamic = execFileSync('readelf', ['-d', join(libraryDir, 'lib64', 'libvixDiskLib.so.8')]).toString();
    expect(dynamic).toContain('[libvixDiskLibVim.so.8]');
    expect(dynamic).not.toMatch(/RPATH|RUNPATH/);
    expect(process.env['LD_LIBRARY_PATH'] ?? '').not.toContain(libraryDir);
    // Every other test here opened the library through that dependency (the thumbprint check lives in it).
  });

  it('works with a VDDK 6.7-like library (libvixDiskLib.so.6: no AllocateConnectParams, the short VixDiskLibInfo)', async () => {
    const v6 = join(libraryDir, 'vddk6');
    const source = await VddkSource.open({ ...options, libraryDir: v6 });
    try {
      expect(source.size).toBe(image.size);
      expect((await source.read(MiB, MiB)).equals(readFileSync(image.path).subarray(MiB, 2 * MiB))).toBe(true);
    } finally {
      await source.close(true);
    }
    const lib = VixDiskLib.load(join(v6, 'lib64', 'libvixDiskLib.so.6'));
    expect(lib.version).toBe(6);
    lib.acquire({ libDir: v6 });
    try {
      const conn = await lib.connect(null, { readOnly: true, transportModes: 'file' });
      const handle = await lib.open(conn, offVm.disks[0]!.file!, OpenFlags.readOnly);
      // The 6.x struct has no sector-size fields (the fake poisons the bytes after it): they read as 512.
      expect(lib.getInfo(handle)).toMatchObject({ capacitySectors: image.size / 512, logicalSectorSize: 512, physicalSectorSize: 512 });
      await lib.close(handle);
      await lib.disconnect(conn);
    } finally {
      lib.release();
    }
  });

  it('names a missing library VDDK_MISSING and a file that is no library VDDK_INVALID', async () => {
    const missing = await rejection(VddkSource.open({ ...options, libraryDir: join(work, 'no-vddk-here') }));
    expect(missing.code).toBe('VDDK_MISSING');
    const bogus = join(work, 'bogus-vddk');
    execFileSync('mkdir', ['-p', join(bogus, 'lib64')]);
    writeFileSync(join(bogus, 'lib64', 'libvixDiskLib.so.8'), 'this is a text file, not VMware VDDK\n');
    const invalid = await rejection(VddkSource.open({ ...options, libraryDir: bogus }));
    expect(invalid.code).toBe('VDDK_INVALID');
    // An ELF shared object that is not libvixDiskLib (libc) is invalid too.
    const other = join(work, 'other-elf');
    execFileSync('mkdir', ['-p', join(other, 'lib64')]);
    execFileSync('cp', ['-L', '/usr/lib/x86_64-linux-gnu/libz.so.1', join(other, 'lib64', 'libvixDiskLib.so.8')]);
    const notVddk = await rejection(VddkSource.open({ ...options, libraryDir: other }));
    expect(notVddk.code).toBe('VDDK_INVALID');
    expect(notVddk.message).toContain('VixDiskLib_');
  });

  it('retries a failed read and succeeds; a read that keeps failing is VDDK_READ_FAILED with its sector range', async () => {
    configureFakeVddk({ faults: 'fail-read=2,fail-count=2' });
    try {
      const source = await VddkSource.open({ ...options, readAttempts: 3 });
      try {
        const data = await source.read(0, 8 * MiB);
        expect(data.equals(readFileSync(image.path).subarray(0, 8 * MiB))).toBe(true);
      } finally {
        await source.close(true);
      }
      configureFakeVddk({ faults: 'fail-read=1,fail-count=100' });
      const failing = await VddkSource.open({ ...options, readAttempts: 3, readSize: 1 * MiB });
      try {
        const err = await rejection(failing.read(3 * MiB, MiB));
        expect(err.code).toBe('VDDK_READ_FAILED');
        expect(err.message).toContain('sectors 6144–8191');
        expect(err.details).toMatchObject({ startSector: 6144, endSector: 8191, attempts: 3, vixErrorName: 'VIX_E_FILE_ERROR' });
      } finally {
        await failing.close(false);
      }
    } finally {
      configureFakeVddk({ faults: undefined });
    }
  });

  it('passes a vddk-config file to InitEx, and names a malformed one', async () => {
    const config = join(work, 'vddk-config');
    writeFileSync(config, '# AIO tuning for NBD\nVixDiskLib.nfcAio.Session.BufSizeIn64KB = "16"\nVixDiskLib.nfcAio.Session.BufCount = "4"\n');
    const source = await VddkSource.open({ ...options, configFile: config });
    await source.close(true);
    expect(readFileSync(trace, 'utf8')).toContain(`config=${config}`);
    writeFileSync(config, 'VixDiskLib.nfcAio.Session.BufSizeIn64KB 16\n');
    const err = await rejection(VddkSource.open({ ...options, configFile: config }));
    expect(err.code).toBe('VDDK_CONFIG_INVALID');
    expect(err.message).toContain(':1:');
  });
});
