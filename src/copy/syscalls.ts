// The few Linux calls Node does not expose, through koffi (already a
// dependency for libvirt/VDDK): hole punching, block zero-out, device size,
// SEEK_DATA/SEEK_HOLE for local files' allocation maps, and the *at calls that
// work inside one directory by descriptor (archive extraction).
import { constants as osConstants } from 'node:os';
import koffi, { type LibraryHandle } from 'koffi';

const FALLOC_FL_KEEP_SIZE = 0x01;
const FALLOC_FL_PUNCH_HOLE = 0x02;
const BLKGETSIZE64 = 0x80081272;
const BLKZEROOUT = 0x127f;
const SEEK_DATA = 3;
const SEEK_HOLE = 4;
const SYNC_FILE_RANGE_WRITE = 2;

interface Libc {
  fallocate(fd: number, mode: number, offset: number, length: number): number;
  ioctlU64(fd: number, request: number, out: bigint[]): number;
  ioctlRange(fd: number, request: number, range: bigint[]): number;
  lseek(fd: number, offset: number, whence: number): number;
  syncFileRange: ReturnType<LibraryHandle['func']>;
  openat: ReturnType<LibraryHandle['func']>;
  mkdirat(dirfd: number, name: string, mode: number): number;
  symlinkat(target: string, dirfd: number, name: string): number;
  unlinkat(dirfd: number, name: string, flags: number): number;
  errno(): number;
}

let libc: Libc | undefined;

function load(): Libc {
  if (libc) return libc;
  const lib = koffi.load('libc.so.6');
  const errnoLocation = lib.func('int *__errno_location()');
  libc = {
    fallocate: lib.func('int fallocate(int fd, int mode, int64_t offset, int64_t len)'),
    ioctlU64: lib.func('ioctl', 'int', ['int', 'unsigned long', koffi.out(koffi.pointer('uint64_t'))]),
    ioctlRange: lib.func('ioctl', 'int', ['int', 'unsigned long', koffi.pointer('uint64_t')]),
    lseek: lib.func('int64_t lseek(int fd, int64_t offset, int whence)'),
    syncFileRange: lib.func('int sync_file_range(int fd, int64_t offset, int64_t nbytes, unsigned int flags)'),
    openat: lib.func('int openat(int dirfd, const char *path, int flags, ...)'),
    mkdirat: lib.func('int mkdirat(int dirfd, const char *path, uint32_t mode)'),
    symlinkat: lib.func('int symlinkat(const char *target, int dirfd, const char *path)'),
    unlinkat: lib.func('int unlinkat(int dirfd, const char *path, int flags)'),
    errno: () => koffi.decode(errnoLocation(), 'int') as number,
  };
  return libc;
}

function fail(call: string): never {
  const errno = load().errno();
  const err = new Error(`${call} failed: errno ${errno}`) as Error & { errno: number };
  err.errno = errno;
  throw err;
}

/**
 * Starts writeback of the file's dirty pages and returns without waiting for
 * the disk, on a pool thread. Advisory: the final fdatasync is what reports
 * errors; this only leaves it less to do.
 */
export function startWriteback(fd: number): Promise<void> {
  return new Promise((resolve) => {
    load().syncFileRange.async(fd, 0, 0, SYNC_FILE_RANGE_WRITE, () => resolve());
  });
}

/** Allocates [offset, offset+length) of a regular file (preallocation). */
export function allocate(fd: number, offset: number, length: number): void {
  if (length <= 0) return;
  if (load().fallocate(fd, 0, offset, length) !== 0) fail('fallocate');
}

/** The size of a block device in bytes. */
export function blockDeviceSize(fd: number): number {
  const out: bigint[] = [0n];
  if (load().ioctlU64(fd, BLKGETSIZE64, out) !== 0) fail('ioctl(BLKGETSIZE64)');
  return Number(out[0]);
}

const FALLOC_FL_ZERO_RANGE = 0x10;
let punchOnDevices = true;

/**
 * Tries to make a whole device range read as zeros cheaply (discard that
 * zeroes: thin devices, loop files). Returns false where only slow zeroing
 * would work; the caller then zeroes range by range.
 */
export function tryPunchDevice(fd: number, offset: number, length: number): boolean {
  if (length <= 0) return true;
  return load().fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length) === 0;
}

/**
 * Makes [offset, offset+length) of a block device read as zeros. First
 * fallocate(PUNCH_HOLE), which the kernel turns into a zeroing that may unmap
 * (thin devices and loop files stay sparse, as with qemu-img); devices that
 * cannot get BLKZEROOUT (WRITE ZEROES, or written zeros as the last resort).
 */
export function blockZeroOut(fd: number, offset: number, length: number): void {
  if (length <= 0) return;
  const c = load();
  if (punchOnDevices) {
    if (c.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length) === 0) return;
    punchOnDevices = false;
  }
  if (c.fallocate(fd, FALLOC_FL_ZERO_RANGE, offset, length) === 0) return;
  if (c.ioctlRange(fd, BLKZEROOUT, [BigInt(offset), BigInt(length)]) !== 0) fail('ioctl(BLKZEROOUT)');
}

const ENXIO = 6;

/**
 * The data ranges of a local file from SEEK_DATA/SEEK_HOLE; everything else is
 * a hole. Filesystems without support report the whole file as data.
 */
export function dataRanges(fd: number, size: number): { offset: number; length: number }[] {
  const c = load();
  const out: { offset: number; length: number }[] = [];
  let pos = 0;
  while (pos < size) {
    const data = c.lseek(fd, pos, SEEK_DATA);
    if (data < 0) {
      if (c.errno() === ENXIO) break;
      fail('lseek(SEEK_DATA)');
    }
    const hole = c.lseek(fd, data, SEEK_HOLE);
    if (hole < 0) fail('lseek(SEEK_HOLE)');
    const end = Math.min(hole, size);
    if (end > data) out.push({ offset: data, length: end - data });
    pos = end;
  }
  return out;
}

/** An errno as Node names it (`ENOENT`), for callers that branch on it like on fs errors. */
export class SyscallError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
    readonly code: string,
  ) {
    super(`${call} failed: ${code}`);
  }
}

function failed(call: string): never {
  const errno = load().errno();
  throw new SyscallError(call, errno, Object.entries(osConstants.errno).find(([, n]) => n === errno)?.[0] ?? `errno ${errno}`);
}

/**
 * openat(2) of one name in the directory `dirfd`: never a path, so with
 * O_NOFOLLOW no symlink is followed anywhere and nothing leaves that directory.
 */
export function openAt(dirfd: number, name: string, flags: number, mode = 0): number {
  const fd = load().openat(dirfd, name, flags, 'uint32_t', mode) as number;
  if (fd < 0) failed(`openat(${name})`);
  return fd;
}

export function mkdirAt(dirfd: number, name: string, mode: number): void {
  if (load().mkdirat(dirfd, name, mode) !== 0) failed(`mkdirat(${name})`);
}

export function symlinkAt(target: string, dirfd: number, name: string): void {
  if (load().symlinkat(target, dirfd, name) !== 0) failed(`symlinkat(${name})`);
}

/** Removes a name that is not a directory (AT_REMOVEDIR is never passed). */
export function unlinkAt(dirfd: number, name: string): void {
  if (load().unlinkat(dirfd, name, 0) !== 0) failed(`unlinkat(${name})`);
}
