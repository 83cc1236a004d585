import { createHash } from 'node:crypto';
import { createReadStream, existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VsphereSource } from '../../adapters/vsphere/index.js';
import { loadSources } from '../../src/config/sources.js';
import { copyDisk } from '../../src/copy/engine.js';
import { createLogger } from '../../src/log.js';
import type { RandomAccessSource } from '../../src/copy/source.js';
import type { SourceVm } from '../../src/model.js';
import { guestImages } from '../guest/guest.js';
import { runCli } from '../helpers/cli.js';
import { configureFakeVddk, fakeVddkDir } from '../helpers/fake-vddk.js';
import { startFolderProxy, type FolderProxy } from '../helpers/folder-proxy.js';
import { fakeVddkEnvFor, installGuest } from '../helpers/guest-vm.js';
import { startVcsim, type Vcsim } from '../helpers/vcsim.js';

const NO_VDDK = '/nonexistent/vmware-vix-disklib-distrib';

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

// The datastore transport against vcsim's real /folder (Debian's govmomi):
// the same bytes as VDDK (the fake libvixDiskLib over the same datastore),
// chosen by `auto` when no library is there, and its faults.
describe('vSphere disks read from the datastore over HTTPS (--transport datastore | auto)', () => {
  let vcsim: Vcsim;
  let work: string;
  let sources: string;
  let debian: string;
  let small: string;

  beforeAll(async () => {
    ({ debian, noRoot: small } = guestImages());
    work = await mkdtemp(join(tmpdir(), 'v2v-datastore-'));
    vcsim = await startVcsim({ cluster: 1, host: 1, standaloneHost: 0, vm: 4, autostart: false });
    const client = await vcsim.client();
    try {
      await installGuest(vcsim, client, 'DC0_C0_RP0_VM0', debian);
      await installGuest(vcsim, client, 'DC0_C0_RP0_VM1', small);
      await installGuest(vcsim, client, 'DC0_C0_RP0_VM2', small);
      await installGuest(vcsim, client, 'DC0_C0_RP0_VM3', small);
    } finally {
      await client.logout();
    }
    // VM2's extent is gone from the datastore; its descriptor still names it.
    rmSync(join(vcsim.datastores.get('LocalDS_0')!, 'DC0_C0_RP0_VM2', 'disk1-flat.vmdk'));
    // VM3's disk is a delta in a snapshot chain: its bytes are only the changes.
    const vm3 = join(vcsim.datastores.get('LocalDS_0')!, 'DC0_C0_RP0_VM3', 'disk1.vmdk');
    await writeFile(vm3, (await readFile(vm3, 'utf8')).replace('parentCID=ffffffff', 'parentCID=0badc0de').replace('createType="vmfs"', 'createType="vmfsSparse"'));
    const fake = await fakeVddkEnvFor(vcsim);
    configureFakeVddk({ datastores: vcsim.datastores, thumbprint: fake.thumbprint, user: vcsim.username, password: vcsim.password, faults: undefined });
    sources = await vcsim.sourcesFile({ insecureSkipVerify: true, thumbprint: fake.thumbprint });
  }, 600_000);
  afterAll(async () => {
    await vcsim?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const targetDir = async (name: string) => {
    await mkdir(join(work, name));
    return join(work, name);
  };

  async function open(url?: string): Promise<{ provider: VsphereSource; vm: (name: string) => Promise<SourceVm> }> {
    // The fault proxy speaks plain HTTP on loopback: the source opts in to it, as a user would have to.
    const file = url ? await vcsim.sourcesFile({ insecureSkipVerify: true, allowInsecureHttp: true, url }, 'proxied') : sources;
    const provider = await VsphereSource.open((await loadSources(file))[0]!);
    return { provider, vm: async (name) => (await provider.listVms()).find((v) => v.name === name)! };
  }

  it('the Debian guest disk read through the datastore and through VDDK is sha256-identical to the image', async () => {
    const { provider, vm } = await open();
    try {
      const guest = await vm('DC0_C0_RP0_VM0');
      const disk = guest.disks[0]!;
      const viaDatastore = await provider.openDisk(guest, disk, { transport: 'datastore' });
      expect(viaDatastore.description).toBe('datastore://[LocalDS_0] DC0_C0_RP0_VM0/disk1-flat.vmdk');
      const ds = await copyDisk({ source: viaDatastore, target: { kind: 'filesystem', dir: await targetDir('ds') }, checksum: true });
      await viaDatastore.close(true);
      const viaVddk = await provider.openDisk(guest, disk, { transport: 'vddk', vddk: { libraryDir: fakeVddkDir() } });
      expect(viaVddk.description).toMatch(/^vddk:/);
      const vddk = await copyDisk({ source: viaVddk, target: { kind: 'filesystem', dir: await targetDir('vddk') }, checksum: true });
      await viaVddk.close(true);
      const expected = await sha256(debian);
      expect(await sha256(ds.path)).toBe(expected);
      expect(await sha256(vddk.path)).toBe(expected);
      expect(ds.sha256).toBe(vddk.sha256);
      // Without an allocation map, zero blocks are still skipped: no more data written than VDDK's allocated blocks.
      expect(ds.bytesCopied).toBeLessThanOrEqual(vddk.bytesCopied);
    } finally {
      await provider.close();
    }
  }, 600_000);

  it('auto with no VDDK library reads from the datastore and logs why', async () => {
    const { provider, vm } = await open();
    const lines: string[] = [];
    const out = new PassThrough().on('data', (d: Buffer) => lines.push(d.toString()));
    try {
      const guest = await vm('DC0_C0_RP0_VM1');
      const source = await provider.openDisk(guest, guest.disks[0]!, { transport: 'auto', vddk: { libraryDir: NO_VDDK }, log: createLogger({ destination: out, json: true }) });
      expect(source.description).toMatch(/^datastore:/);
      expect(lines.join('')).toContain(`no VDDK library under ${NO_VDDK}, reading the disk from the datastore over HTTPS`);
    } finally {
      await provider.close();
    }
  });

  it('a batch plan (copy only, transport auto) with no VDDK directory copies through the datastore', async () => {
    const plan = join(work, 'plan.yaml');
    await writeFile(plan, `sourcesFile: ${sources}\ndefaults:\n  targetDir: ${join(work, 'batch')}\n  guestConversion: false\nvms:\n  - vm: DC0_C0_RP0_VM1\n`);
    const res = await runCli(['batch', plan, '--vddk-libdir', NO_VDDK], { env: { V2V_LOG_LEVEL: 'info' }, timeoutMs: 300_000 });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('reading the disk from the datastore over HTTPS');
    expect(await sha256(join(work, 'batch', 'DC0_C0_RP0_VM1', 'disk0', 'disk.img'))).toBe(await sha256(small));
  }, 300_000);

  it('a missing flat extent is DATASTORE_FILE_NOT_FOUND (exit 1) before any byte is written, no complete marker', async () => {
    const target = join(work, 'vm2');
    const res = await runCli(['convert', '--sources', sources, '--source', 'vc', '--vm', 'DC0_C0_RP0_VM2', '--target', target, '--transport', 'datastore'], {
      timeoutMs: 120_000,
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/error DATASTORE_FILE_NOT_FOUND: \[LocalDS_0\] DC0_C0_RP0_VM2\/disk1-flat\.vmdk is not on the datastore \(HTTP 404\)/);
    expect(res.stderr).toContain('--transport vddk');
    expect(existsSync(join(target, 'disk0', 'disk.img'))).toBe(false);
    expect(existsSync(join(target, '.v2v-complete.json'))).toBe(false);
  }, 120_000);

  it('a delta disk of a snapshot chain is refused as DATASTORE_DISK_UNSUPPORTED before any copy', async () => {
    const { provider, vm } = await open();
    try {
      const guest = await vm('DC0_C0_RP0_VM3');
      const error = await provider.openDisk(guest, guest.disks[0]!, { transport: 'datastore' }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'DATASTORE_DISK_UNSUPPORTED',
        message: expect.stringContaining('a delta disk in a snapshot chain'),
        hint: expect.stringContaining('--transport vddk'),
      });
    } finally {
      await provider.close();
    }
  });

  describe('through a proxy that checks sessions on /folder and can drop connections', () => {
    let proxy: FolderProxy | undefined;
    afterAll(async () => proxy?.close());

    it('a session logged out mid-copy: one re-login, the copy continues and is identical', async () => {
      proxy = await startFolderProxy(vcsim.url);
      const { provider, vm } = await open(proxy.url);
      try {
        const guest = await vm('DC0_C0_RP0_VM1');
        const source = await provider.openDisk(guest, guest.disks[0]!, { transport: 'datastore' });
        const oldCookie = provider.client.sessionCookie;
        // The session ends (vim25 Logout, as an expiry would) before the first read past a quarter of the disk.
        let logout: Promise<unknown> | undefined;
        const size = (source as RandomAccessSource).size;
        const loggedOutMidCopy: RandomAccessSource = {
          kind: 'random',
          size,
          description: source.description,
          retryable: true,
          close: (ok) => source.close(ok),
          read: async (offset, length, signal) => {
            if (offset >= size / 4) await (logout ??= provider.client.invoke('Logout', provider.client.serviceContent.sessionManager, '', { retryAuth: false }));
            return (source as RandomAccessSource).read(offset, length, signal);
          },
        };
        const result = await copyDisk({ source: loggedOutMidCopy, target: { kind: 'filesystem', dir: await targetDir('relogin') } });
        expect(logout).toBeDefined();
        expect(proxy.stats.refused).toBeGreaterThan(0);
        expect((source as unknown as { relogins: number }).relogins).toBe(1);
        expect(provider.client.sessionCookie).not.toBe(oldCookie);
        expect(await sha256(result.path)).toBe(await sha256(small));
      } finally {
        await provider.close();
        await proxy.close();
        proxy = undefined;
      }
    }, 300_000);

    it('a session refused again after the re-login is SOURCE_AUTH_FAILED, no copy', async () => {
      proxy = await startFolderProxy(vcsim.url, { refuseAll: true });
      const { provider, vm } = await open(proxy.url);
      try {
        const guest = await vm('DC0_C0_RP0_VM1');
        const error = await provider.openDisk(guest, guest.disks[0]!, { transport: 'datastore' }).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'SOURCE_AUTH_FAILED', message: expect.stringContaining('also after logging in again') });
        expect(proxy.stats.refused).toBe(2);
        expect(JSON.stringify(error)).not.toContain(provider.client.sessionCookie!.split('=')[1]);
      } finally {
        await provider.close();
        await proxy.close();
        proxy = undefined;
      }
    });

    it('a connection dropped at 50 % is resumed at that offset, not restarted, and the copy is identical', async () => {
      const size = (await import('node:fs')).statSync(small).size;
      proxy = await startFolderProxy(vcsim.url, { cutAtOffset: size / 2 });
      const { provider, vm } = await open(proxy.url);
      try {
        const guest = await vm('DC0_C0_RP0_VM1');
        const source = await provider.openDisk(guest, guest.disks[0]!, { transport: 'datastore' });
        const result = await copyDisk({ source, target: { kind: 'filesystem', dir: await targetDir('dropped') }, retryDelayMs: 50 });
        expect(proxy.stats.cuts).toBe(1);
        // Every byte crossed once (plus the probe and the descriptor): the retry asked only for the range that broke.
        expect(proxy.stats.folderBytes).toBeLessThan(size + 64 * 1024);
        expect(await sha256(result.path)).toBe(await sha256(small));
      } finally {
        await provider.close();
        await proxy.close();
        proxy = undefined;
      }
    }, 300_000);

    it('a connection that keeps dropping ends, after the retries, in a named error with the partial marker kept', async () => {
      const size = (await import('node:fs')).statSync(small).size;
      proxy = await startFolderProxy(vcsim.url, { cutAtOffset: size / 2, cuts: 100 });
      const { provider, vm } = await open(proxy.url);
      try {
        const guest = await vm('DC0_C0_RP0_VM1');
        const source = await provider.openDisk(guest, guest.disks[0]!, { transport: 'datastore' });
        const dir = await targetDir('dropping');
        const error = await copyDisk({ source, target: { kind: 'filesystem', dir }, retries: 2, retryDelayMs: 10 }).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'SOURCE_FAILED', message: expect.stringContaining('[LocalDS_0] DC0_C0_RP0_VM1/disk1-flat.vmdk') });
        expect(existsSync(join(dir, 'disk.img.v2v-partial'))).toBe(true);
      } finally {
        await provider.close();
        await proxy.close();
        proxy = undefined;
      }
    }, 300_000);
  });
});
