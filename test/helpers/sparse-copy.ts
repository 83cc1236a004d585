import { open } from 'node:fs/promises';
import type { RandomAccessSource } from '../../src/copy/source.js';

// A small test-local copy loop (the real copy engine lives elsewhere): data
// extents are read and written with positional writes into a sparse file of
// the source's size; zero extents are skipped, so they stay holes.

export interface SparseCopyResult {
  dataBytes: number;
  zeroBytes: number;
}

export async function copyToSparseFile(
  source: RandomAccessSource,
  target: string,
  options: { chunkBytes?: number; parallel?: number; onChunk?: (offset: number, length: number) => void } = {},
): Promise<SparseCopyResult> {
  const chunk = options.chunkBytes ?? 4 * 1024 * 1024;
  const fh = await open(target, 'w');
  let ok = false;
  try {
    await fh.truncate(source.size);
    const extents = source.extents ? await source.extents(0, source.size) : [{ offset: 0, length: source.size, zero: false }];
    const work: { offset: number; length: number }[] = [];
    let zeroBytes = 0;
    for (const e of extents) {
      if (e.zero) {
        zeroBytes += e.length;
        continue;
      }
      for (let o = e.offset; o < e.offset + e.length; o += chunk) work.push({ offset: o, length: Math.min(chunk, e.offset + e.length - o) });
    }
    let next = 0;
    let dataBytes = 0;
    const worker = async (): Promise<void> => {
      while (next < work.length) {
        const piece = work[next++]!;
        const buf = await source.read(piece.offset, piece.length);
        await fh.write(buf, 0, buf.length, piece.offset);
        dataBytes += buf.length;
        options.onChunk?.(piece.offset, piece.length);
      }
    };
    await Promise.all(Array.from({ length: options.parallel ?? 4 }, worker));
    await fh.sync();
    ok = true;
    return { dataBytes, zeroBytes };
  } finally {
    await fh.close();
    await source.close(ok);
  }
}
