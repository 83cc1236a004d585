// A minimal copy loop for tests of random-access sources, until the copy
// engine lands: extents → reads → positional writes. A file target is made
// sparse and holes are skipped; a block target gets zeros written into holes.
import { open } from 'node:fs/promises';
import type { RandomAccessSource } from '../../src/copy/source.js';

export interface CopyProgress {
  bytesDone: number;
  bytesTotal: number;
}

export async function copyToTarget(
  source: RandomAccessSource,
  target: string,
  options: { kind: 'file' | 'block'; chunk?: number; onProgress?: (p: CopyProgress) => void },
): Promise<{ dataBytes: number; zeroBytes: number }> {
  const chunk = options.chunk ?? 4 * 1024 * 1024;
  const fh = await open(target, options.kind === 'file' ? 'w' : 'r+');
  let dataBytes = 0;
  let zeroBytes = 0;
  try {
    if (options.kind === 'file') await fh.truncate(source.size);
    const extents = source.extents ? await source.extents(0, source.size) : [{ offset: 0, length: source.size, zero: false }];
    const zeros = Buffer.alloc(chunk);
    for (const e of extents) {
      for (let pos = e.offset; pos < e.offset + e.length; pos += chunk) {
        const n = Math.min(chunk, e.offset + e.length - pos);
        if (e.zero) {
          if (options.kind === 'block') await fh.write(zeros, 0, n, pos);
          zeroBytes += n;
        } else {
          const data = await source.read(pos, n);
          await fh.write(data, 0, data.length, pos);
          dataBytes += n;
        }
        options.onProgress?.({ bytesDone: dataBytes + zeroBytes, bytesTotal: source.size });
      }
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { dataBytes, zeroBytes };
}
