// Targets: a Filesystem volume (`<dir>/disk.img`, raw, sparse) or a Block
// volume (a raw device). Opening a target never changes it; `prepare()` does,
// after the engine has checked that the image fits.
//
// In-progress convention (users and reruns rely on it):
//   Filesystem: `<dir>/disk.img.v2v-partial` sits next to `disk.img` while a
//   copy is in progress or was interrupted. It is JSON (`PartialMarker`) with
//   the source identity and `doneOffset`, the offset below which the target is
//   known good (fdatasync'ed before the marker was written). It is removed only
//   after the final fsync of `disk.img`, and the directory is fsync'ed after the
//   removal. A `disk.img` with a marker next to it is NOT a finished disk.
//   Block: a device has no "next to", so the marker lives in a state directory
//   (`stateDir`; the CLI's default is $V2V_STATE_DIR or /var/lib/v2v) named after the device
//   path (`dev-loop0.v2v-partial`), same content and rules.
import { constants as fsc } from 'node:fs';
import { mkdir, open, rename, rm, stat, statfs, readFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CopyError, formatBytes } from './errors.js';
import { allocate, blockDeviceSize, blockZeroOut, startWriteback, tryPunchDevice } from './syscalls.js';

/** CDI's default filesystem overhead (5.5 %): the share of a Filesystem PVC the image may not use. */
export const DEFAULT_FILESYSTEM_OVERHEAD = 0.055;

export type TargetSpec =
  | {
      kind: 'filesystem';
      /** The mounted volume; the image is written to `<dir>/disk.img`. */
      dir: string;
      /** The requested volume size in bytes; the image is grown to it minus the filesystem overhead. */
      size?: number;
      /** Fraction of `size` reserved for the filesystem (default 0.055, as CDI). */
      filesystemOverhead?: number;
      /** Allocate the whole image up front (CDI `preallocation: true`). */
      preallocation?: boolean;
      /** File name inside `dir` (default `disk.img`). */
      fileName?: string;
    }
  | {
      kind: 'block';
      /** The raw block device (e.g. `/dev/loop3`, `/dev/block0`). */
      device: string;
      /** Where the in-progress marker lives (the CLI's default: $V2V_STATE_DIR or /var/lib/v2v). */
      stateDir: string;
      preallocation?: boolean;
    };

export interface PartialMarker {
  version: 1;
  /** What is being copied: the source description and its identity (size, etag, digest …). */
  source: { description: string; identity: string };
  virtualSize?: number;
  /** Everything below this offset is durable and equal to the source. */
  doneOffset: number;
  startedAt: string;
  updatedAt: string;
}

/** CDI's usable space: ceil((1 - overhead) × size), rounded down to 512 bytes. */
export function usableSpace(size: number, overhead = DEFAULT_FILESYSTEM_OVERHEAD): number {
  const withOverhead = Math.ceil((1 - overhead) * size);
  return withOverhead - (withOverhead % 512);
}

export interface DiskTarget {
  readonly kind: 'filesystem' | 'block';
  /** `disk.img` or the device. */
  readonly path: string;
  /** The largest virtual size that fits. */
  readonly capacity: number;
  /** Where the in-progress marker is (see the module comment). */
  readonly markerPath: string;
  /** Whether zero ranges may be skipped (a fresh sparse file, a device discarded to zeros). Valid after prepare(). */
  readonly zeroedAfterPrepare: boolean;
  /** The size the target ends with for a disk of `virtualSize` (grown to the volume, as CDI does). */
  finalSize(virtualSize: number): number;
  readMarker(): Promise<PartialMarker | undefined>;
  writeMarker(marker: PartialMarker): Promise<void>;
  /**
   * Makes the target ready for bytes from `resumeFrom` on: a file is cut to
   * `resumeFrom` and regrown to `size` (so everything after is a hole), a
   * device is left as it is.
   */
  prepare(size: number, resumeFrom: number): Promise<void>;
  write(buffer: Buffer, offset: number): Promise<void>;
  /** Makes a range read as zeros where it might not already. */
  zero(offset: number, length: number): Promise<void>;
  /** Grows a file target while a stream of unknown size is written. */
  resize(size: number): Promise<void>;
  /** Starts writing dirty pages to the device without waiting (at most one such call in flight). */
  startWriteback(): void;
  /** fdatasync. */
  sync(): Promise<void>;
  read(offset: number, length: number): Promise<Buffer>;
  /** Bytes allocated on disk (files: st_blocks × 512; devices: bytes written). */
  allocatedBytes(): Promise<number>;
  /** After the final sync: removes the marker atomically and syncs the directory. */
  commit(): Promise<void>;
  close(): Promise<void>;
}

async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, fsc.O_RDONLY);
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

class MarkerFile {
  constructor(readonly path: string) {}
  async read(): Promise<PartialMarker | undefined> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as PartialMarker;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      // A marker that cannot be read still says "incomplete": restart from 0.
      return { version: 1, source: { description: '', identity: '' }, doneOffset: 0, startedAt: '', updatedAt: '' };
    }
  }
  async write(marker: PartialMarker): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    const h = await open(tmp, 'w');
    try {
      await h.writeFile(JSON.stringify(marker, null, 2) + '\n');
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(tmp, this.path);
    await syncDir(dirname(this.path));
  }
  async remove(): Promise<void> {
    await rm(this.path, { force: true });
    await syncDir(dirname(this.path));
  }
}

// Dirty data after which writeback is started, so that the disk writes while
// the copy goes on instead of all at the final fdatasync.
const WRITEBACK_EVERY = 32 * 2 ** 20;

abstract class BaseTarget {
  protected handle: FileHandle | undefined;
  protected written = 0;
  private dirty = 0;
  private writeback: Promise<void> | undefined;
  constructor(protected readonly marker: MarkerFile) {}
  get markerPath(): string {
    return this.marker.path;
  }
  readMarker(): Promise<PartialMarker | undefined> {
    return this.marker.read();
  }
  writeMarker(m: PartialMarker): Promise<void> {
    return this.marker.write(m);
  }
  protected h(): FileHandle {
    if (!this.handle) throw new Error('target not prepared');
    return this.handle;
  }
  abstract readonly path: string;
  async write(buffer: Buffer, offset: number): Promise<void> {
    let done = 0;
    try {
      while (done < buffer.length) {
        const { bytesWritten } = await this.h().write(buffer, done, buffer.length - done, offset + done);
        done += bytesWritten;
      }
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      throw new CopyError('TARGET_WRITE_FAILED', `writing ${this.path} at offset ${offset + done} failed: ${code ?? (cause as Error).message}`, {
        hint: code === 'ENOSPC' ? 'the target volume is full: use a larger volume' : 'check the target volume',
        cause,
        details: { offset: offset + done, errno: code },
      });
    }
    this.written += buffer.length;
    this.dirty += buffer.length;
    if (this.dirty >= WRITEBACK_EVERY) this.startWriteback();
  }
  startWriteback(): void {
    if (this.writeback || !this.handle) return;
    this.dirty = 0;
    this.writeback = startWriteback(this.handle.fd).finally(() => (this.writeback = undefined));
  }
  async sync(): Promise<void> {
    await this.writeback;
    if (this.handle) await this.handle.datasync();
  }
  async read(offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.h().read(buf, done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === length ? buf : buf.subarray(0, done);
  }
  async commit(): Promise<void> {
    await this.sync();
    await this.marker.remove();
  }
  async close(): Promise<void> {
    // The pool thread may still hold the descriptor.
    await this.writeback;
    await this.handle?.close();
    this.handle = undefined;
  }
}

class FilesystemTarget extends BaseTarget implements DiskTarget {
  readonly kind = 'filesystem' as const;
  readonly zeroedAfterPrepare = true;
  constructor(
    readonly path: string,
    readonly capacity: number,
    private readonly requestedSize: number | undefined,
    private readonly overhead: number,
    private readonly preallocation: boolean,
  ) {
    super(new MarkerFile(`${path}.v2v-partial`));
  }
  finalSize(virtualSize: number): number {
    return this.requestedSize === undefined ? virtualSize : Math.max(virtualSize, usableSpace(this.requestedSize, this.overhead));
  }
  async prepare(size: number, resumeFrom: number): Promise<void> {
    this.handle = await open(this.path, fsc.O_RDWR | fsc.O_CREAT, 0o644);
    // Cutting and regrowing turns everything past the resume point into holes,
    // so zero ranges never need writing and stale data never survives.
    await this.handle.truncate(resumeFrom);
    await this.handle.truncate(size);
    if (this.preallocation) allocate(this.handle.fd, 0, size);
  }
  async zero(): Promise<void> {
    // After prepare() every byte past the resume point is a hole already.
  }
  async resize(size: number): Promise<void> {
    await this.h().truncate(size);
    if (this.preallocation) allocate(this.h().fd, 0, size);
  }
  async allocatedBytes(): Promise<number> {
    return (await stat(this.path)).blocks * 512;
  }
}

class BlockTarget extends BaseTarget implements DiskTarget {
  readonly kind = 'block' as const;
  zeroedAfterPrepare = false;
  constructor(
    readonly path: string,
    readonly capacity: number,
    markerPath: string,
    private readonly preallocation: boolean,
  ) {
    super(new MarkerFile(markerPath));
  }
  finalSize(): number {
    return this.capacity;
  }
  async prepare(_size: number, resumeFrom: number): Promise<void> {
    this.handle = await open(this.path, fsc.O_RDWR);
    // One discard-that-zeroes over the rest of the device makes every zero
    // range known-zero (loop files and thin devices stay sparse). Devices that
    // cannot do it are zeroed range by range, only where the image is zero.
    if (!this.preallocation) this.zeroedAfterPrepare = tryPunchDevice(this.handle.fd, resumeFrom, this.capacity - resumeFrom);
  }
  async zero(offset: number, length: number): Promise<void> {
    const end = Math.min(offset + length, this.capacity);
    if (end > offset) blockZeroOut(this.h().fd, offset, end - offset);
  }
  async resize(size: number): Promise<void> {
    if (size > this.capacity) throw new Error('block device cannot grow');
  }
  async allocatedBytes(): Promise<number> {
    return this.written;
  }
}

/** `/dev/loop0` → `dev-loop0` */
function markerNameFor(device: string): string {
  return device.replace(/^\/+/, '').replace(/[^A-Za-z0-9._-]+/g, '-') + '.v2v-partial';
}

/** Opens (without changing) a target and measures what fits in it. */
export async function openTarget(spec: TargetSpec): Promise<DiskTarget> {
  if (spec.kind === 'filesystem') {
    let st;
    try {
      st = await stat(spec.dir);
    } catch (cause) {
      throw new CopyError('TARGET_INVALID', `target directory ${spec.dir} does not exist`, { hint: 'mount the volume or create the directory', cause });
    }
    if (!st.isDirectory())
      throw new CopyError('TARGET_INVALID', `${spec.dir} is not a directory`, {
        hint: 'a Filesystem target is the directory the image goes into; use --volume-mode Block for a device',
      });
    const overhead = spec.filesystemOverhead ?? DEFAULT_FILESYSTEM_OVERHEAD;
    const fs = await statfs(spec.dir);
    const free = fs.bavail * fs.bsize;
    const path = join(spec.dir, spec.fileName ?? 'disk.img');
    let existing = 0;
    try {
      existing = (await stat(path)).blocks * 512;
    } catch {
      // no previous image
    }
    // Sparse images only need room for their data; the requested size is the
    // contract, free space is checked only when preallocating.
    const requested = spec.size === undefined ? Number.MAX_SAFE_INTEGER : usableSpace(spec.size, overhead);
    const capacity = spec.preallocation ? Math.min(requested, free + existing) : requested;
    return new FilesystemTarget(path, capacity, spec.size, overhead, spec.preallocation ?? false);
  }
  let handle: FileHandle;
  try {
    handle = await open(spec.device, fsc.O_RDONLY);
  } catch (cause) {
    throw new CopyError('TARGET_INVALID', `cannot open block device ${spec.device}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, {
      hint: 'check the device path and permissions',
      cause,
    });
  }
  try {
    const st = await handle.stat();
    if (!st.isBlockDevice()) throw new CopyError('TARGET_INVALID', `${spec.device} is not a block device`, { hint: 'use --volume-mode Filesystem for a directory' });
    const size = blockDeviceSize(handle.fd);
    return new BlockTarget(spec.device, size, join(spec.stateDir, markerNameFor(spec.device)), spec.preallocation ?? false);
  } finally {
    await handle.close();
  }
}

/** The error for an image that does not fit, naming both sizes. */
export function targetTooSmall(target: DiskTarget, virtualSize: number): CopyError {
  return new CopyError(
    'TARGET_TOO_SMALL',
    `the image needs ${formatBytes(virtualSize)} (${virtualSize} bytes) but ${target.path} holds only ${formatBytes(target.capacity)} (${target.capacity} bytes)`,
    {
      hint:
        target.kind === 'filesystem'
          ? `request a volume of at least ${Math.ceil(virtualSize / (1 - DEFAULT_FILESYSTEM_OVERHEAD) / 2 ** 20)} MiB (the image plus CDI's filesystem overhead)`
          : 'use a block device at least as large as the image',
      details: { virtualSize, capacity: target.capacity, target: target.path },
    },
  );
}
