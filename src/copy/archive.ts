// `contentType: archive`: a (possibly compressed) tar extracted into a
// Filesystem volume instead of a disk image, as CDI does.
import { mkdir, open, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ChildProcesses } from './children.js';
import { CopyError } from './errors.js';
import { decompress, detectCompression, peek } from './format.js';
import type { DiskSource } from './source.js';
import { walkTar } from './tar.js';

export interface ArchiveResult {
  files: number;
  bytes: number;
}

async function* randomAsStream(source: DiskSource & { kind: 'random' }, signal?: AbortSignal): AsyncGenerator<Buffer> {
  for (let pos = 0; pos < source.size; pos += 4 << 20) yield await source.read(pos, Math.min(4 << 20, source.size - pos), signal);
}

export async function extractArchive(source: DiskSource, dir: string, signal?: AbortSignal): Promise<ArchiveResult> {
  let ok = false;
  const marker = join(dir, '.v2v-partial');
  const children = new ChildProcesses(signal);
  try {
    await writeFile(marker, JSON.stringify({ source: source.description, startedAt: new Date().toISOString() }) + '\n');
    const raw: AsyncIterable<Buffer> = source.kind === 'random' ? randomAsStream(source, signal) : ((await source.open(0, signal)) as AsyncIterable<Buffer>);
    const first = await peek(raw, 6);
    const tar = decompress(first.rest, detectCompression(first.head), source.description, children);
    const result: ArchiveResult = { files: 0, bytes: 0 };
    await walkTar(tar, source.description, async (entry, data) => {
      if (signal?.aborted) throw signal.reason;
      if (!entry.name) return;
      const path = join(dir, entry.name);
      if (entry.type === 'directory') await mkdir(path, { recursive: true });
      else if (entry.type === 'symlink') {
        await mkdir(dirname(path), { recursive: true });
        await symlink(entry.linkName, path);
      } else if (entry.type === 'file') {
        await mkdir(dirname(path), { recursive: true });
        const h = await open(path, 'w', entry.mode & 0o777 || 0o644);
        try {
          for await (const piece of data) {
            await h.write(piece);
            result.bytes += piece.length;
          }
          await h.sync();
        } finally {
          await h.close();
        }
        result.files++;
      } else if (entry.type === 'hardlink') {
        throw new CopyError('IMAGE_UNSUPPORTED', `${source.description}: hard links in archives are not supported ("${entry.name}")`, {});
      }
    });
    await rm(marker, { force: true });
    ok = true;
    return result;
  } finally {
    await children.stop();
    await source.close(ok).catch(() => undefined);
  }
}
