import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommitUndo } from '../../src/convert/commit-undo.js';

const MiB = 1 << 20;
const sha = async (path: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

describe('CommitUndo on real files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'v2v-undo-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('puts back exactly what a commit overwrote, data and zeros alike, and stores the zeros as holes', async () => {
    const base = join(dir, 'disk.img');
    // 32 MiB: data in the first 4 MiB and at 20 MiB + 1 KiB, zeros (a hole) elsewhere.
    await writeFile(base, Buffer.alloc(0));
    const fd = await open(base, 'r+');
    await fd.truncate(32 * MiB);
    await fd.write(randomBytes(4 * MiB), 0, 4 * MiB, 0);
    await fd.write(randomBytes(3000), 0, 3000, 20 * MiB + 1024);
    await fd.close();
    const before = await sha(base);

    // What a trim-heavy overlay would overwrite: mostly free space.
    const ranges = [
      { offset: 2 * MiB, length: 10 * MiB },
      { offset: 16 * MiB, length: 12 * MiB },
    ];
    const undo = await CommitUndo.save(base, ranges, join(dir, 'undo.bin'));
    expect(undo.bytes).toBe(22 * MiB);
    const saved = await stat(join(dir, 'undo.bin'));
    expect(saved.size).toBe(22 * MiB);
    expect(saved.blocks * 512).toBeLessThanOrEqual(8 * MiB);

    // The commit: those ranges now hold something else.
    const w = await open(base, 'r+');
    for (const r of ranges) await w.write(Buffer.alloc(r.length, 0xa5), 0, r.length, r.offset);
    await w.close();
    expect(await sha(base)).not.toBe(before);

    await undo.restore();
    expect(await sha(base)).toBe(before);
  });
});
