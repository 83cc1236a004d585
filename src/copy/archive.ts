// `contentType: archive`: a (possibly compressed) tar extracted into a
// Filesystem volume instead of a disk image, as CDI does. Nothing is ever
// written outside the volume, and no link the archive makes is left leading
// out of it, however its links combine.
import { closeSync, constants as fsConstants, fsync, lstatSync, readlinkSync, write } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { V2vError } from '../errors.js';
import { ChildProcesses } from './children.js';
import { CopyError } from './errors.js';
import { decompress, detectCompression, peek } from './format.js';
import type { DiskSource } from './source.js';
import { type SyscallError, mkdirAt, openAt, symlinkAt, unlinkAt } from './syscalls.js';
import { walkTar, type TarEntry } from './tar.js';

export interface ArchiveResult {
  files: number;
  bytes: number;
}

/** What a name in the target is when a path is resolved through it. */
export type TreeNode = { kind: 'directory' | 'file' | 'missing' } | { kind: 'link'; target: string };

/** Linux gives up after 40 links in one resolution (ELOOP); so do we. */
const MAX_LINKS = 40;

/**
 * Resolves `path` (names relative to `from`, itself a link-free path below the
 * root) as the kernel would, following every link `lookup` reports: the
 * link-free path it reaches, `outside` when it leaves the root (an absolute
 * link, or `..` above it), `loop` after too many links. Past a name that does
 * not exist yet (or is a file), the rest is taken as written.
 */
export function resolveBeneath(path: readonly string[], lookup: (physical: readonly string[]) => TreeNode, from: readonly string[] = []): string[] | 'outside' | 'loop' {
  const at = [...from];
  const rest = [...path];
  let links = 0;
  /** Where the names that do not exist (yet) begin in `at`; `..` back above it makes the tree count again. */
  let unknownFrom = Infinity;
  while (rest.length) {
    const name = rest.shift()!;
    if (name === '' || name === '.') continue;
    if (name === '..') {
      if (!at.length) return 'outside';
      at.pop();
      if (at.length <= unknownFrom) unknownFrom = Infinity;
      continue;
    }
    const node: TreeNode = at.length < unknownFrom ? lookup([...at, name]) : { kind: 'missing' };
    if (node.kind === 'link') {
      if (++links > MAX_LINKS) return 'loop';
      if (node.target.startsWith('/')) return 'outside';
      rest.unshift(...node.target.split('/'));
      continue;
    }
    if (node.kind !== 'directory' && at.length < unknownFrom) unknownFrom = at.length;
    at.push(name);
  }
  return at;
}

const writeFd = promisify(write);
const fsyncFd = promisify(fsync);

const O_CLOEXEC = 0o2000000;
const AT_FDCWD = -100;
const DIRECTORY = fsConstants.O_RDONLY | fsConstants.O_DIRECTORY | O_CLOEXEC;
const NAMED_DIRECTORY = DIRECTORY | fsConstants.O_NOFOLLOW;
const NEW_FILE = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC | fsConstants.O_NOFOLLOW | O_CLOEXEC;

const OUTCOME = {
  outside: 'leads outside the target once the links in it are followed',
  loop: `goes through more than ${MAX_LINKS} links`,
};

function unsafe(where: string, entry: TarEntry, why: string): CopyError {
  return new CopyError('IMAGE_UNSAFE_PATH', `${where}: the archive entry "${entry.name}"${entry.linkName ? ` → "${entry.linkName}"` : ''} ${why}`, {
    hint: 'the archive was built wrongly or maliciously; it is refused',
    details: { entry: entry.name, ...(entry.linkName ? { link: entry.linkName } : {}) },
  });
}

/**
 * The target directory as an archive fills it. Each entry's place is found by
 * resolving its path in the tree as it stands (the archive's links and any
 * that were there) and refused when that leaves the directory; the kernel
 * then walks that link-free path one name at a time with O_NOFOLLOW, so no
 * write ever goes through a link, whatever changed in between. A symlink is
 * made only when what it points to, resolved the same way, stays inside.
 */
class Extraction {
  /** Every symlink this archive made, as link-free paths, for the final check. */
  private readonly links: string[][] = [];
  private readonly rootFd: number;

  constructor(
    private readonly root: string,
    private readonly where: string,
  ) {
    this.rootFd = openAt(AT_FDCWD, root, DIRECTORY);
  }

  close(): void {
    closeSync(this.rootFd);
  }

  private lookup = (physical: readonly string[]): TreeNode => {
    const path = join(this.root, ...physical);
    try {
      const st = lstatSync(path);
      if (st.isSymbolicLink()) return { kind: 'link', target: readlinkSync(path) };
      return { kind: st.isDirectory() ? 'directory' : 'file' };
    } catch {
      return { kind: 'missing' };
    }
  };

  private resolve(path: readonly string[], entry: TarEntry, from: readonly string[] = []): string[] {
    const r = resolveBeneath(path, this.lookup, from);
    if (Array.isArray(r)) return r;
    throw unsafe(this.where, entry, OUTCOME[r]);
  }

  /** Opens the directory at a link-free path, making the names that are missing. */
  private openDirectory(physical: readonly string[], entry: TarEntry): number {
    let fd = openAt(this.rootFd, '.', DIRECTORY);
    try {
      for (const name of physical) {
        let next: number;
        try {
          next = openAt(fd, name, NAMED_DIRECTORY);
        } catch (e) {
          if ((e as SyscallError).code !== 'ENOENT') throw e;
          mkdirAt(fd, name, 0o777);
          next = openAt(fd, name, NAMED_DIRECTORY);
        }
        closeSync(fd);
        fd = next;
      }
      return fd;
    } catch (e) {
      closeSync(fd);
      const code = (e as SyscallError).code;
      // A link where the resolution saw a directory: the tree changed under us.
      if (code === 'ELOOP') throw unsafe(this.where, entry, 'meets a link the kernel refuses to follow');
      if (code === 'ENOTDIR' || code === 'EEXIST') throw unsafe(this.where, entry, 'goes through something that is not a directory');
      throw e;
    }
  }

  /** Removes what is at `name` unless it is a directory; tar's later entries replace earlier ones. */
  private replace(dirfd: number, name: string, entry: TarEntry): void {
    try {
      unlinkAt(dirfd, name);
    } catch (e) {
      const code = (e as SyscallError).code;
      if (code === 'ENOENT') return;
      if (code === 'EISDIR') throw unsafe(this.where, entry, 'would replace a directory');
      throw e;
    }
  }

  /** A failure of the volume itself (full, read-only, I/O), as the disk path names it. */
  private writeFailed(entry: TarEntry, e: unknown): unknown {
    if (e instanceof V2vError) return e;
    const code = (e as NodeJS.ErrnoException).code;
    return new CopyError('TARGET_WRITE_FAILED', `${this.where}: writing "${entry.name}" into ${this.root} failed: ${code ?? (e as Error).message}`, {
      hint: code === 'ENOSPC' ? 'the target volume is full: use a larger volume' : 'check the target volume',
      cause: e,
      details: { entry: entry.name, errno: code },
    });
  }

  async add(entry: TarEntry, data: AsyncIterable<Buffer>, result: ArchiveResult): Promise<void> {
    if (entry.type === 'hardlink')
      throw new CopyError('IMAGE_UNSUPPORTED', `${this.where}: hard links in archives are not supported ("${entry.name}")`, {
        hint: 'make the archive with tar --hard-dereference',
      });
    if (entry.type === 'other') return;
    // Only what touches the volume is a write failure; the data stream's own errors pass as they are.
    const onTarget = async <T>(op: () => T | Promise<T>): Promise<T> => {
      try {
        return await op();
      } catch (e) {
        throw this.writeFailed(entry, e);
      }
    };
    const names = entry.name.split('/');
    const base = names.pop()!;
    const parent = this.resolve(names, entry);
    const dirfd = await onTarget(() => this.openDirectory(parent, entry));
    try {
      if (entry.type === 'directory') {
        await onTarget(() => {
          try {
            closeSync(openAt(dirfd, base, NAMED_DIRECTORY));
          } catch {
            this.replace(dirfd, base, entry);
            mkdirAt(dirfd, base, 0o777);
          }
        });
      } else if (entry.type === 'symlink') {
        this.resolve(entry.linkName.split('/'), entry, parent);
        await onTarget(() => {
          this.replace(dirfd, base, entry);
          symlinkAt(entry.linkName, dirfd, base);
        });
        this.links.push([...parent, base]);
      } else {
        const fd = await onTarget(() => {
          this.replace(dirfd, base, entry);
          return openAt(dirfd, base, NEW_FILE, entry.mode & 0o777 || 0o644);
        });
        try {
          for await (const piece of data) {
            await onTarget(async () => {
              for (let done = 0; done < piece.length;) done += (await writeFd(fd, piece, done, piece.length - done, null)).bytesWritten;
            });
            result.bytes += piece.length;
          }
          await onTarget(() => fsyncFd(fd));
        } finally {
          closeSync(fd);
        }
        result.files++;
      }
    } finally {
      closeSync(dirfd);
    }
  }

  /**
   * Later entries can change what an earlier link goes through, so every link
   * is resolved again in the tree as it ends, whether the archive was all in
   * or refused half way: one that leads out is removed, never left behind.
   * Returns the refusal for the first such link.
   */
  removeOutwardLinks(): CopyError | undefined {
    let refusal: CopyError | undefined;
    for (const link of this.links) {
      const node = this.lookup(link);
      if (node.kind !== 'link') continue;
      const r = resolveBeneath(node.target.split('/'), this.lookup, link.slice(0, -1));
      if (Array.isArray(r)) continue;
      const entry: TarEntry = { name: link.join('/'), type: 'symlink', size: 0, mode: 0, linkName: node.target };
      const dirfd = this.openDirectory(link.slice(0, -1), entry);
      try {
        unlinkAt(dirfd, link[link.length - 1]!);
      } finally {
        closeSync(dirfd);
      }
      refusal ??= unsafe(this.where, entry, `${OUTCOME[r]}, once the links after it are in`);
    }
    return refusal;
  }
}

async function* randomAsStream(source: DiskSource & { kind: 'random' }, signal?: AbortSignal): AsyncGenerator<Buffer> {
  for (let pos = 0; pos < source.size; pos += 4 << 20) yield await source.read(pos, Math.min(4 << 20, source.size - pos), signal);
}

export async function extractArchive(source: DiskSource, dir: string, signal?: AbortSignal): Promise<ArchiveResult> {
  let ok = false;
  const marker = join(dir, '.v2v-partial');
  let tree: Extraction | undefined;
  const children = new ChildProcesses(signal);
  try {
    await writeFile(marker, JSON.stringify({ source: source.description, startedAt: new Date().toISOString() }) + '\n');
    const extraction = new Extraction(dir, source.description);
    tree = extraction;
    const raw: AsyncIterable<Buffer> = source.kind === 'random' ? randomAsStream(source, signal) : ((await source.open(0, signal)) as AsyncIterable<Buffer>);
    const first = await peek(raw, 6);
    const tar = decompress(first.rest, detectCompression(first.head), source.description, children);
    const result: ArchiveResult = { files: 0, bytes: 0 };
    await walkTar(tar, source.description, async (entry, data) => {
      if (signal?.aborted) throw signal.reason;
      if (!entry.name) return;
      await extraction.add(entry, data, result);
    });
    const refusal = extraction.removeOutwardLinks();
    if (refusal) throw refusal;
    await rm(marker, { force: true });
    ok = true;
    return result;
  } finally {
    try {
      if (!ok) tree?.removeOutwardLinks();
    } catch {
      // the failure that stopped the extraction is the one to report
    }
    tree?.close();
    await children.stop();
    await source.close(ok).catch(() => undefined);
  }
}
