// Sparse: a 4 GiB raw disk with 1 GiB of random data in scattered extents
// leaves ≈ 1 GiB allocated in the target — over HTTP (no allocation map:
// zero detection) and from a local file (SEEK_DATA/SEEK_HOLE extents).
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usableSpace } from '../../src/copy/target.js';
import { runCli } from '../helpers/cli.js';
import { imagesIdentical, makeSparseRaw } from '../helpers/disk-images.js';
import { startImageServer, type ImageServer } from '../helpers/image-server.js';

const GiB = 2 ** 30;
let work: string;
let server: ImageServer;
let raw: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'v2v-sparse-'));
  mkdirSync(join(work, 'src'));
  raw = join(work, 'src', 'disk.raw');
  makeSparseRaw(raw, 4 * GiB, 256, (1 * GiB) / 256);
  server = await startImageServer({ root: join(work, 'src') });
}, 180_000);

afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('a 4 GiB disk with 1 GiB of data', () => {
  it.each([
    ['over HTTP (zero detection)', () => `${server.url}/disk.raw`],
    ['from a local file (extent map)', () => `file://${raw}`],
  ])(
    '%s leaves ≈ 1 GiB allocated and the full size',
    async (_what, url) => {
      const dir = join(work, `t-${Math.random().toString(36).slice(2)}`);
      mkdirSync(dir);
      try {
        const r = await runCli(['import', '--url', url(), '--target', dir, '--size', '5Gi', '-o', 'json'], { timeoutMs: 170_000 });
        expect(r.stderr).not.toMatch(/error /);
        expect(r.code).toBe(0);
        const st = statSync(join(dir, 'disk.img'));
        expect(st.size).toBe(usableSpace(5 * GiB));
        const allocated = st.blocks * 512;
        expect(allocated).toBeGreaterThanOrEqual(1 * GiB);
        expect(allocated).toBeLessThan(1.05 * GiB);
        expect(imagesIdentical(raw, join(dir, 'disk.img')).output).toContain('Images are identical');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    180_000,
  );
});
