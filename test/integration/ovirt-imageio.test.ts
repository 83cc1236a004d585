import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OvirtSource } from '../../adapters/ovirt/index.js';
import { copyToSparseFile } from '../helpers/sparse-copy.js';
import { DOWNLOAD_DISK_ID } from '../peers/ovirt/fixtures.js';
import { startOvirtFake, type OvirtFake, type OvirtFakeOptions } from '../peers/ovirt/server.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Three data extents in a 1 GiB sparse raw file; the rest are holes. */
const DATA_EXTENTS = [
  { offset: 0, length: 4 * MiB },
  { offset: 300 * MiB, length: 6 * MiB },
  { offset: GiB - 2 * MiB, length: 2 * MiB },
];
const DATA_BYTES = DATA_EXTENTS.reduce((n, e) => n + e.length, 0);

let dir: string;
let sourceImage: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'v2v-imageio-'));
  sourceImage = join(dir, 'source.raw');
  const fh = await open(sourceImage, 'w');
  await fh.truncate(GiB);
  for (const e of DATA_EXTENTS) await fh.write(randomBytes(e.length), 0, e.length, e.offset);
  await fh.close();
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function allocatedBytes(path: string): Promise<number> {
  return (await stat(path)).blocks * 512;
}

async function imagesIdentical(a: string, b: string): Promise<boolean> {
  try {
    await run('qemu-img', ['compare', '-q', '-f', 'raw', '-F', 'raw', a, b]);
    return true;
  } catch {
    return false;
  }
}

async function withFake<T>(options: OvirtFakeOptions, fn: (fake: OvirtFake, source: OvirtSource) => Promise<T>): Promise<T> {
  const fake = await startOvirtFake({ diskFiles: { [DOWNLOAD_DISK_ID]: sourceImage }, ...options });
  const source = await OvirtSource.connect({ name: 'rhv', url: fake.url, username: fake.username, password: fake.password, ca: fake.pki.caPem });
  try {
    return await fn(fake, source);
  } finally {
    await source.close();
    await fake.stop();
  }
}

const imageioGets = (fake: OvirtFake) => fake.log.filter((r) => r.server === 'imageio' && r.method === 'GET' && r.range);
const rangeStart = (r: { range?: string }) => Number(r.range!.split('-')[0]);

describe('imageio download of a 1 GiB sparse disk with 3 data extents', () => {
  it('is byte-identical, holes stay holes, and the transfer is finalized', async () => {
    const target = join(dir, 'target-ok.raw');
    await withFake({}, async (fake, source) => {
      const disk = await source.openDiskDownload(DOWNLOAD_DISK_ID, { pollIntervalMs: 20 });
      expect(disk.size).toBe(GiB);
      const result = await copyToSparseFile(disk, target);
      expect(result.dataBytes).toBe(DATA_BYTES);

      expect(await imagesIdentical(sourceImage, target)).toBe(true);
      const [src, dst] = [await allocatedBytes(sourceImage), await allocatedBytes(target)];
      expect(Math.abs(dst - src)).toBeLessThanOrEqual(MiB);
      expect(dst).toBeLessThan(16 * MiB);

      // Only data extents crossed the wire.
      const fetched = imageioGets(fake).reduce((n, r) => n + (Number(r.range!.split('-')[1]) - rangeStart(r) + 1), 0);
      expect(fetched).toBe(DATA_BYTES);

      const [transfer] = fake.transfers;
      expect(transfer!.actions).toEqual(['add', 'finalize']);
      expect(transfer!.phases).toEqual(['initializing', 'transferring', 'finalizing_success', 'finished_success']);
      expect(fake.log.some((r) => r.server === 'imageio' && r.method === 'OPTIONS')).toBe(true);
      expect(fake.log.some((r) => r.path.endsWith('/extents') && r.query['context'] === 'zero')).toBe(true);
      expect(disk.stats.endpoint).toBe('transfer_url');
    });
  });

  it('falls back to proxy_url when transfer_url cannot be reached', async () => {
    const target = join(dir, 'target-proxy.raw');
    await withFake({ transferUrl: 'unreachable' }, async (fake, source) => {
      const disk = await source.openDiskDownload(DOWNLOAD_DISK_ID, { pollIntervalMs: 20 });
      await copyToSparseFile(disk, target);
      expect(disk.stats.endpoint).toBe('proxy_url');
      expect(await imagesIdentical(sourceImage, target)).toBe(true);
      expect(fake.transfers[0]!.actions).toContain('finalize');
    });
  });

  it('retries a 5xx and a dropped connection from the last good offset', async () => {
    const target = join(dir, 'target-retry.raw');
    const dropAt = 300 * MiB + MiB + 12_345;
    await withFake(
      {
        imageioFaults: [
          { kind: 'status', status: 503, offset: 2 * MiB },
          { kind: 'drop', offset: dropAt },
        ],
      },
      async (fake, source) => {
        const disk = await source.openDiskDownload(DOWNLOAD_DISK_ID, { pollIntervalMs: 20, retryBackoffMs: 10 });
        await copyToSparseFile(disk, target);
        expect(await imagesIdentical(sourceImage, target)).toBe(true);
        const gets = imageioGets(fake);
        expect(gets.filter((r) => r.status === 503)).toHaveLength(1);
        // The dropped read resumes at the first byte it did not get, not at the start of its range.
        expect(gets.some((r) => rangeStart(r) === dropAt)).toBe(true);
        expect(disk.stats.retries).toBe(2);
        expect(fake.transfers[0]!.actions).toEqual(['add', 'finalize']);
      },
    );
  });

  it('gives up with TRANSFER_FAILED when imageio keeps failing, and the transfer is cancelled', async () => {
    const target = join(dir, 'target-fail.raw');
    await withFake({ imageioFaults: [{ kind: 'status', status: 500, offset: 0, times: 1000 }] }, async (fake, source) => {
      const disk = await source.openDiskDownload(DOWNLOAD_DISK_ID, { pollIntervalMs: 20, retryBackoffMs: 5, maxRetries: 3 });
      await expect(copyToSparseFile(disk, target)).rejects.toMatchObject({ code: 'TRANSFER_FAILED' });
      expect(fake.transfers[0]!.actions).toEqual(['add', 'cancel']);
    });
  });

  it('a transfer stuck in initializing is TRANSFER_STALLED (not a hang) and is cancelled', async () => {
    await withFake({ initializingPolls: Infinity }, async (fake, source) => {
      const err = await source.openDiskDownload(DOWNLOAD_DISK_ID, { pollIntervalMs: 50, readyTimeoutMs: 500 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'TRANSFER_STALLED' });
      expect(fake.transfers[0]!.actions).toEqual(['add', 'cancel']);
      expect(fake.transfers[0]!.phases).toEqual(['initializing', 'cancelled_user']);
    });
  });

  it('renews the ticket (extend) so a slow consumer does not idle the transfer out', async () => {
    await withFake({}, async (fake, source) => {
      const renewed = await source.openDiskDownload(DOWNLOAD_DISK_ID, { pollIntervalMs: 20, inactivityTimeoutS: 2, renewIntervalMs: 250 });
      await new Promise((r) => setTimeout(r, 3500));
      expect((await renewed.read(0, 4096)).length).toBe(4096);
      await renewed.close(true);
      expect(fake.transfers[0]!.actions.filter((a) => a === 'extend').length).toBeGreaterThan(0);

      // The same wait without renewal: the engine pauses the transfer and the ticket is gone.
      const idle = await source.openDiskDownload(DOWNLOAD_DISK_ID, { pollIntervalMs: 20, inactivityTimeoutS: 2, renewIntervalMs: 0 });
      await new Promise((r) => setTimeout(r, 3500));
      await expect(idle.read(0, 4096)).rejects.toMatchObject({ code: 'TRANSFER_FAILED' });
      await idle.close(false);
      expect(fake.transfers[1]!.phases).toContain('paused_system');
      expect(fake.transfers[1]!.actions).toEqual(['add', 'cancel']);
    });
  });

  it('a LUN disk is refused before any transfer is created', async () => {
    await withFake({}, async (fake, source) => {
      const lunVm = fake.inventory.vms.find((v) => v.vm['name'] === 'vm-lun-disk')!;
      const lunDisk = (lunVm.diskattachments[1]!['disk'] as { id: string }).id;
      await expect(source.openDiskDownload(lunDisk)).rejects.toMatchObject({ code: 'TRANSFER_FAILED' });
      expect(fake.transfers).toHaveLength(0);
    });
  });
});
