// Disk image fixtures made with the real tools: a sparse raw disk with random
// data in scattered extents, and its qcow2, vmdk, gzip and xz forms; an ISO.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, existsSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

const MiB = 2 ** 20;

/** A raw image of `size` bytes with `extents` random-data extents of `extentSize` bytes spread over it. */
export function makeSparseRaw(path: string, size: number, extents: number, extentSize: number, seed = 1): void {
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, size);
    const stride = Math.floor(size / extents);
    for (let i = 0; i < extents; i++) {
      // Odd offsets inside each stride so extents do not line up with chunk edges.
      const offset = i * stride + ((i * 7919 + seed * 104729) % Math.max(1, stride - extentSize)) - (((i * 7919 + seed * 104729) % Math.max(1, stride - extentSize)) % 4096);
      for (let done = 0; done < extentSize; done += 4 * MiB) {
        const n = Math.min(4 * MiB, extentSize - done);
        writeSync(fd, randomBytes(n), 0, n, offset + done);
      }
    }
  } finally {
    closeSync(fd);
  }
}

export function qemuImg(...args: string[]): string {
  return execFileSync('qemu-img', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

export interface ImageSet {
  dir: string;
  raw: string;
  qcow2: string;
  vmdk: string;
  gz: string;
  xz: string;
  iso: string;
  /** Virtual sizes. */
  rawSize: number;
}

/** Builds every format from one raw disk into `dir` (names: disk.raw, disk.qcow2, disk.vmdk, disk.raw.gz, disk.raw.xz, disk.iso). */
export function makeImageSet(dir: string, size = 64 * MiB): ImageSet {
  mkdirSync(dir, { recursive: true });
  const raw = join(dir, 'disk.raw');
  makeSparseRaw(raw, size, 6, 512 * 1024);
  qemuImg('convert', '-f', 'raw', '-O', 'qcow2', raw, join(dir, 'disk.qcow2'));
  qemuImg('convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=monolithicSparse', raw, join(dir, 'disk.vmdk'));
  execFileSync('sh', ['-c', `gzip -1 -c '${raw}' > '${join(dir, 'disk.raw.gz')}' && xz -0 -T2 -c '${raw}' > '${join(dir, 'disk.raw.xz')}'`]);
  const isoRoot = join(dir, 'iso-root');
  mkdirSync(isoRoot, { recursive: true });
  writeFileSync(join(isoRoot, 'README.TXT'), 'v2v test ISO\n');
  writeFileSync(join(isoRoot, 'DATA.BIN'), randomBytes(300 * 1024));
  execFileSync('genisoimage', ['-quiet', '-o', join(dir, 'disk.iso'), '-V', 'V2VTEST', '-r', isoRoot]);
  return {
    dir,
    raw,
    qcow2: join(dir, 'disk.qcow2'),
    vmdk: join(dir, 'disk.vmdk'),
    gz: join(dir, 'disk.raw.gz'),
    xz: join(dir, 'disk.raw.xz'),
    iso: join(dir, 'disk.iso'),
    rawSize: size,
  };
}

/** `qemu-img compare` exit 0 = identical (a larger target's tail must read as zeros). */
export function imagesIdentical(source: string, target: string, sourceFormat?: string): { identical: boolean; output: string } {
  try {
    const output = execFileSync('qemu-img', ['compare', ...(sourceFormat ? ['-f', sourceFormat] : []), '-F', 'raw', source, target], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString();
    return { identical: true, output };
  } catch (e) {
    const err = e as { status?: number; stdout?: Buffer; stderr?: Buffer };
    return { identical: false, output: `${err.stdout?.toString() ?? ''}${err.stderr?.toString() ?? ''}` };
  }
}

export function requireTool(tool: string): void {
  const found = ['/usr/bin', '/usr/sbin', '/bin', '/sbin', '/usr/local/bin'].some((d) => existsSync(join(d, tool)));
  if (!found) throw new Error(`${tool} is missing: install it (scripts/apt-packages.txt) before the tests`);
}
