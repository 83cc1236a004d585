// copyDisk() against the source contract, as the imageio and VDDK sources use
// it: extents (zero extents never read), transient read failures retried,
// a read that never returns (COPY_STALLED), abort (InterruptedError, marker
// kept, resume), checksum, and a Block loop device with stale data.
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyDisk } from '../../src/copy/engine.js';
import { openLocalFile } from '../../src/copy/local-file.js';
import type { CopyProgress } from '../../src/copy/progress.js';
import type { Extent, RandomAccessSource } from '../../src/copy/source.js';
import { openTarget } from '../../src/copy/target.js';
import { InterruptedError } from '../../src/errors.js';
import { imagesIdentical, makeSparseRaw } from '../helpers/disk-images.js';
import { createLoopDevice } from '../helpers/loop.js';

const MiB = 2 ** 20;
let work: string;
let image: string;
const SIZE = 32 * MiB;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'v2v-engine-'));
  image = join(work, 'disk.raw');
  makeSparseRaw(image, SIZE, 4, MiB);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A source over the fixture file with hooks, shaped like the imageio/VDDK sources. */
function fileSource(hooks: { beforeRead?: (offset: number, n: number) => Promise<void> | void; extents?: boolean } = {}): RandomAccessSource & { reads: number[] } {
  const fd = openSync(image, 'r');
  const reads: number[] = [];
  return {
    kind: 'random',
    description: 'test source',
    size: SIZE,
    retryable: true,
    reads,
    ...(hooks.extents === false
      ? {}
      : {
          async extents(offset: number, length: number): Promise<Extent[]> {
            const local = await openLocalFile(image);
            try {
              return await (local as RandomAccessSource).extents!(offset, length);
            } finally {
              await local.close(true);
            }
          },
        }),
    async read(offset: number, length: number): Promise<Buffer> {
      await hooks.beforeRead?.(offset, length);
      reads.push(offset);
      const buf = Buffer.alloc(Math.min(length, SIZE - offset));
      readSync(fd, buf, 0, buf.length, offset);
      return buf;
    },
    async close() {
      closeSync(fd);
    },
  };
}

function dir(name: string): string {
  const d = join(work, name);
  mkdirSync(d, { recursive: true });
  return d;
}

describe('copyDisk', () => {
  it('reads only data extents, keeps holes, reports progress, and checks the sha256', async () => {
    const source = fileSource();
    const events: CopyProgress[] = [];
    const r = await copyDisk({ source, target: { kind: 'filesystem', dir: dir('extents') }, checksum: true, onProgress: (p) => events.push(p), chunkSize: MiB });
    expect(imagesIdentical(image, r.path).output).toContain('Images are identical');
    expect(source.reads.length).toBe(4);
    expect(r.bytesCopied).toBe(4 * MiB);
    expect(statSync(r.path).blocks * 512).toBe(4 * MiB);
    expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(events.at(-1)).toMatchObject({ phase: 'done', bytesDone: SIZE, bytesTotal: SIZE });
  });

  it('retries a read that fails with a connection reset, from the same offset', async () => {
    let failures = 0;
    const source = fileSource({
      beforeRead: () => {
        if (failures++ < 2) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      },
    });
    const r = await copyDisk({ source, target: { kind: 'filesystem', dir: dir('retry') }, retryDelayMs: 10 });
    expect(imagesIdentical(image, r.path).output).toContain('Images are identical');
    expect(failures).toBeGreaterThan(2);
  });

  it('fails with COPY_STALLED when a read never returns', async () => {
    const source = fileSource({ beforeRead: () => new Promise(() => undefined) });
    await expect(copyDisk({ source, target: { kind: 'filesystem', dir: dir('stall') }, stallTimeoutMs: 300 })).rejects.toMatchObject({ code: 'COPY_STALLED' });
    expect(existsSync(join(work, 'stall', 'disk.img.v2v-partial'))).toBe(true);
  });

  it('on abort throws InterruptedError (exit 4), keeps the marker, and a second run resumes', async () => {
    const controller = new AbortController();
    let reads = 0;
    const source = fileSource({
      extents: false,
      beforeRead: async () => {
        if (++reads === 20) controller.abort();
        await new Promise((r) => setTimeout(r, 5));
      },
    });
    const target = dir('abort');
    const error = await copyDisk({ source, target: { kind: 'filesystem', dir: target }, signal: controller.signal, chunkSize: MiB, parallel: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as InterruptedError).exitCode).toBe(4);
    const marker = JSON.parse(readFileSync(join(target, 'disk.img.v2v-partial'), 'utf8')) as { doneOffset: number };
    expect(marker.doneOffset).toBeGreaterThan(0);
    const again = fileSource({ extents: false });
    const r = await copyDisk({ source: again, target: { kind: 'filesystem', dir: target }, chunkSize: MiB, checksum: true });
    expect(r.resumedFrom).toBe(marker.doneOffset);
    expect(again.reads[0]).toBe(marker.doneOffset);
    expect(existsSync(join(target, 'disk.img.v2v-partial'))).toBe(false);
    expect(imagesIdentical(image, r.path).output).toContain('Images are identical');
  });

  it('opens a Block target, refuses nothing it can hold, and leaves no stale data', async () => {
    const loop = createLoopDevice(join(work, 'loop.img'), 40 * MiB);
    try {
      loop.scribble(0x5a);
      const target = await openTarget({ kind: 'block', device: loop.device, stateDir: join(work, 'state') });
      expect(target.capacity).toBe(40 * MiB);
      const r = await copyDisk({ source: fileSource(), target });
      expect(r.targetSize).toBe(40 * MiB);
      expect(imagesIdentical(image, loop.device).output).toContain('Images are identical');
    } finally {
      loop.detach();
    }
  });
});
