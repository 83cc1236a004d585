// Finds and loads libvixDiskLib from a VDDK distribution directory (the init
// image copies `vmware-vix-disklib-distrib` to /opt). Absent → VDDK_MISSING;
// present but unusable (not an ELF shared object — Forklift's `file -E`
// check — or lacking VixDiskLib symbols) → VDDK_INVALID.
import { openSync, readSync, closeSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VixDiskLib, VixLoadError } from '../native/vixdisklib.js';
import { VddkError } from './errors.js';

export const DEFAULT_VDDK_DIR = '/opt/vmware-vix-disklib-distrib';

/** nbdkit's search order: newest soname first, `lib64/` before the top level. */
export function libraryCandidates(dir: string): string[] {
  const out: string[] = [];
  for (const version of [8, 7, 6]) {
    out.push(join(dir, 'lib64', `libvixDiskLib.so.${version}`), join(dir, `libvixDiskLib.so.${version}`));
  }
  return out;
}

export interface LocatedVddk {
  /** The distribution directory (passed to InitEx as libDir). */
  dir: string;
  path: string;
  version: number;
}

export function locateVddk(dir: string = DEFAULT_VDDK_DIR): LocatedVddk {
  const found = libraryCandidates(dir).find((p) => existsSync(p));
  if (!found) {
    throw new VddkError('VDDK_MISSING', `no libvixDiskLib.so.{8,7,6} under ${dir} (looked in ${dir}/lib64 and ${dir})`, {
      hint: "build the VDDK init image (vddk/Dockerfile) from VMware's vmware-vix-disklib-distrib and mount it at /opt/vmware-vix-disklib-distrib",
      details: { dir, candidates: libraryCandidates(dir) },
    });
  }
  const elf = elfKind(found);
  if (elf !== 'shared-object') {
    throw new VddkError('VDDK_INVALID', `${found} is not an ELF shared object (${elf})`, {
      hint: 'the VDDK image must contain VMware\'s Linux 64-bit VDDK; `file -E` on the library must say "ELF 64-bit LSB shared object"',
      details: { path: found },
    });
  }
  return { dir, path: found, version: Number(/\.so\.(\d+)$/.exec(found)![1]) };
}

/** What `file -E` would say, reduced to the one answer that matters. */
function elfKind(path: string): 'shared-object' | string {
  const header = Buffer.alloc(20);
  let n: number;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    n = readSync(fd, header, 0, header.length, 0);
  } catch (e) {
    return `unreadable: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (n < 20 || header.readUInt32BE(0) !== 0x7f454c46) return 'not ELF';
  if (header[4] !== 2) return 'ELF, but not 64-bit';
  if (header[5] !== 1) return 'ELF, but not little-endian';
  const type = header.readUInt16LE(16);
  if (type !== 3) return `ELF, but type ${type} instead of a shared object`;
  const machine = header.readUInt16LE(18);
  if (process.arch === 'x64' && machine !== 62) return `ELF for machine ${machine}, not x86-64`;
  return 'shared-object';
}

/** Locates and loads VDDK; every failure is VDDK_MISSING or VDDK_INVALID. */
export function loadVddk(dir: string = DEFAULT_VDDK_DIR): { lib: VixDiskLib; located: LocatedVddk } {
  const located = locateVddk(dir);
  try {
    return { lib: VixDiskLib.load(located.path), located };
  } catch (e) {
    const why = e instanceof VixLoadError ? e.message : String(e);
    throw new VddkError('VDDK_INVALID', `${located.path} cannot be used: ${why}`, {
      hint: 'the library or one of its dependencies does not load on this system; use the Linux 64-bit VDDK matching the init image',
      cause: e,
      details: { path: located.path },
    });
  }
}

/**
 * Checks a VDDK configuration file (`key = "value"` lines, `#` comments, as
 * VixDiskLib_InitEx reads them) before passing it through, so a typo is a
 * named error with a line number instead of a silent default.
 */
export async function checkVddkConfig(path: string): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new VddkError('VDDK_CONFIG_INVALID', `cannot read the VDDK config file ${path}`, { hint: 'check the vddk-config path', cause });
  }
  const entries = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^([A-Za-z][\w.]*)\s*=\s*(?:"([^"]*)"|(\S+))$/.exec(line);
    if (!m) {
      throw new VddkError('VDDK_CONFIG_INVALID', `${path}:${i + 1}: expected key = "value", got ${JSON.stringify(line)}`, {
        hint: 'e.g. VixDiskLib.nfcAio.Session.BufSizeIn64KB = "16"',
      });
    }
    entries.set(m[1]!, m[2] ?? m[3]!);
  });
  return entries;
}
