// A local image file as a source: raw files are read at random with their
// SEEK_DATA/SEEK_HOLE map; qcow2/vmdk are handed to qemu-img via localPath.
import { open, type FileHandle } from 'node:fs/promises';
import { CopyError } from './errors.js';
import { SNIFF_BYTES, detectCompression, detectFormat } from './format.js';
import type { Extent, ImageFormat, RandomAccessSource, StreamSource } from './source.js';
import { dataRanges } from './syscalls.js';

export async function openLocalFile(path: string): Promise<RandomAccessSource | StreamSource> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    throw new CopyError('SOURCE_NOT_FOUND', `cannot open ${path}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { hint: 'check the path', cause });
  }
  const st = await handle.stat();
  const head = Buffer.alloc(Math.min(SNIFF_BYTES, st.size));
  await handle.read(head, 0, head.length, 0);
  const compressed = detectCompression(head) !== 'none';
  if (compressed) {
    await handle.close();
    // Compressed files are streams: the engine decompresses them.
    return {
      kind: 'stream',
      description: path,
      size: st.size,
      identity: `${path}|${st.size}|${st.mtimeMs}`,
      resumable: true,
      async open(offset: number) {
        const h = await open(path, 'r');
        return h.createReadStream({ start: offset, highWaterMark: 1 << 20 });
      },
      async close() {},
    };
  }
  const format: ImageFormat = detectFormat(head);
  const size = st.size;
  return {
    kind: 'random',
    description: path,
    size,
    format,
    localPath: path,
    identity: `${path}|${size}|${st.mtimeMs}`,
    retryable: false,
    async extents(offset: number, length: number): Promise<Extent[]> {
      const out: Extent[] = [];
      let pos = offset;
      const end = offset + length;
      for (const r of dataRanges(handle.fd, size)) {
        const s = Math.max(r.offset, offset);
        const e = Math.min(r.offset + r.length, end);
        if (e <= s) continue;
        if (s > pos) out.push({ offset: pos, length: s - pos, zero: true });
        out.push({ offset: s, length: e - s, zero: false });
        pos = e;
      }
      if (pos < end) out.push({ offset: pos, length: end - pos, zero: true });
      return out;
    },
    async read(offset: number, length: number): Promise<Buffer> {
      const n = Math.min(length, size - offset);
      const buf = Buffer.allocUnsafe(n);
      let done = 0;
      while (done < n) {
        const { bytesRead } = await handle.read(buf, done, n - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return buf.subarray(0, done);
    },
    async readInto(buf: Buffer, offset: number): Promise<number> {
      const n = Math.min(buf.length, size - offset);
      let done = 0;
      while (done < n) {
        const { bytesRead } = await handle.read(buf, done, n - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done;
    },
    async close() {
      await handle.close();
    },
  };
}
