import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, openSync, closeSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MiB = 1024 * 1024;

/**
 * A small but real Debian disk: a GPT with one Linux partition at 1 MiB
 * holding an ext4 file system filled (mkfs.ext4 -d) from this Debian's own
 * files (bash, libc, libvirt, docs, /etc/os-release). Everything mkfs does not
 * write stays a hole, so the image is sparse like a thin VMware disk.
 */
export function makeDebianImage(path: string, sizeMiB = 64): { path: string; size: number } {
  const root = mkdtempSync(join(tmpdir(), 'v2v-debian-root-'));
  mkdirSync(join(root, 'etc'));
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  mkdirSync(join(root, 'usr/share/doc'), { recursive: true });
  cpSync('/etc/os-release', join(root, 'etc/os-release'), { dereference: true });
  cpSync('/etc/debian_version', join(root, 'etc/debian_version'));
  cpSync('/bin/bash', join(root, 'usr/bin/bash'));
  cpSync('/usr/bin/qemu-img', join(root, 'usr/bin/qemu-img'));
  cpSync('/usr/lib/x86_64-linux-gnu/libc.so.6', join(root, 'usr/lib/libc.so.6'), { dereference: true });
  for (const doc of ['bash', 'coreutils', 'e2fsprogs', 'libc6', 'qemu-utils']) {
    try {
      cpSync(`/usr/share/doc/${doc}`, join(root, 'usr/share/doc', doc), { recursive: true, dereference: true });
    } catch {
      // a doc directory this machine lacks; the image is still a real file system
    }
  }
  const size = sizeMiB * MiB;
  closeSync(openSync(path, 'w'));
  execFileSync('truncate', ['-s', String(size), path]);
  execFileSync('sfdisk', ['-q', path], { input: 'label: gpt\nstart=2048, type=L, name=debian-root\n' });
  execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'debian-root', '-E', `offset=${MiB}`, '-d', root, path, `${sizeMiB - 2}M`], { stdio: 'pipe' });
  return { path, size };
}

/** The VMware descriptor of a monolithic flat disk (what vSphere writes next to `-flat.vmdk`). */
export function flatDescriptor(flatName: string, sizeBytes: number): string {
  return [
    '# Disk DescriptorFile',
    'version=1',
    'encoding="UTF-8"',
    'CID=fffffffe',
    'parentCID=ffffffff',
    'createType="vmfs"',
    '',
    '# Extent description',
    `RW ${sizeBytes / 512} VMFS "${flatName}"`,
    '',
    '# The Disk Data Base',
    '#DDB',
    'ddb.adapterType = "lsilogic"',
    'ddb.virtualHWVersion = "13"',
    '',
  ].join('\n');
}

/** Bytes a file actually occupies (its allocated blocks). */
export function allocatedBytes(path: string): number {
  return Number(execFileSync('stat', ['-c', '%b', path]).toString().trim()) * 512;
}

/** `qemu-img compare` of two raw images or devices; true when their contents are identical. */
export function sameContent(a: string, b: string): boolean {
  try {
    execFileSync('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', a, b], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

export { readFileSync, writeFileSync };
