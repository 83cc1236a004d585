// What an image names outside its own bytes: a qcow2 backing file or external
// data file, a VMDK's extent files or parent disk. qemu-img would open those
// names on this host, so an uploaded image could copy any local file (a
// mounted Secret, a service-account token) into the disk it fills. v2v imports
// only self-contained images: the header is read here, at the offsets qemu
// reads, before qemu-img ever opens the image.
import { open } from 'node:fs/promises';
import { CopyError } from './errors.js';
import type { ImageFormat } from './source.js';

export interface ExternalReference {
  /** What the image names: `backing file`, `external data file`, `FLAT extent`…, `parent disk`, or that it is a descriptor. */
  kind: string;
  /** The name as the image writes it; empty when it lies past the bytes read. */
  name: string;
}

/** qcow2's header, extensions and backing name all sit in its first cluster (at most 2 MiB); qemu reads a VMDK descriptor up to 1 MiB. */
export const REFERENCE_HEADER_BYTES = 2 << 20;

const QCOW2_INCOMPAT_DATA_FILE = 4n;
const QCOW2_EXT_DATA_FILE = 0x44415441;
/** qemu reads a sparse VMDK's descriptor (CID, parentFileNameHint) at 0x200, DESC_SIZE = 20 sectors. */
const VMDK_SPARSE_DESCRIPTOR = { offset: 0x200, length: 20 * 512 };

const text = (buf: Buffer, start: number, end: number): string => {
  const slice = buf.subarray(Math.max(0, start), Math.max(0, Math.min(end, buf.length)));
  const nul = slice.indexOf(0);
  return slice.subarray(0, nul === -1 ? slice.length : nul).toString('latin1');
};

/** A u64 as a safe number, or undefined when it is past anything a buffer could hold. */
function u64(big: bigint): number | undefined {
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : undefined;
}

function qcow2References(head: Buffer): ExternalReference[] {
  if (head.length < 72) return [];
  const refs: ExternalReference[] = [];
  const version = head.readUInt32BE(4);
  const backingOffset = u64(head.readBigUInt64BE(8));
  const backingSize = head.readUInt32BE(16);
  if (backingOffset !== 0 && backingSize !== 0) {
    refs.push({ kind: 'backing file', name: backingOffset === undefined ? '' : text(head, backingOffset, backingOffset + Math.min(backingSize, 1023)) });
  }
  // Version 2 has no feature bits: what follows byte 72 is already its extensions.
  let dataFileFlag = false;
  let extensionsAt = 72;
  if (version >= 3 && head.length >= 104) {
    dataFileFlag = (head.readBigUInt64BE(72) & QCOW2_INCOMPAT_DATA_FILE) !== 0n;
    extensionsAt = head.readUInt32BE(100);
  }
  let dataFileName: string | undefined;
  const clusterBits = head.readUInt32BE(20);
  const extensionsEnd = Math.min(head.length, backingOffset || (clusterBits >= 9 && clusterBits <= 21 ? 2 ** clusterBits : head.length));
  for (let at = extensionsAt; at + 8 <= extensionsEnd;) {
    const type = head.readUInt32BE(at);
    const length = head.readUInt32BE(at + 4);
    if (type === 0) break;
    if (type === QCOW2_EXT_DATA_FILE) dataFileName = text(head, at + 8, at + 8 + length);
    at += 8 + Math.ceil(length / 8) * 8;
  }
  // The extension without the feature bit is ignored by qemu; no honest image has one, so it is refused too.
  if (dataFileFlag || dataFileName !== undefined) refs.push({ kind: 'external data file', name: dataFileName ?? '' });
  return refs;
}

/** The files a VMDK descriptor's extent lines name (`RW 2048 FLAT "disk-flat.vmdk" 0`), as qemu's sscanf reads them. */
function descriptorExtents(descriptor: string): ExternalReference[] {
  const refs: ExternalReference[] = [];
  for (const line of descriptor.split('\n')) {
    const m = /^\s*(\S{1,10})\s+[+-]?\d+\s+(\S{1,10})\s+"([^\n\r"]{0,511})"/.exec(line);
    if (m) refs.push({ kind: `${m[2]} extent`, name: m[3]! });
  }
  return refs;
}

function parentHint(descriptor: string): ExternalReference[] {
  const at = descriptor.indexOf('parentFileNameHint');
  if (at === -1) return [];
  const m = /^parentFileNameHint\s*=\s*"([^"]*)"?/.exec(descriptor.slice(at));
  return [{ kind: 'parent disk', name: m?.[1] ?? '' }];
}

const DESCRIPTOR: ExternalReference = { kind: 'a descriptor (its data live in other files)', name: '' };

function vmdkReferences(head: Buffer): ExternalReference[] {
  const magic = head.subarray(0, 4).toString('latin1');
  if (magic === 'KDMV' || magic === 'COWD') {
    const refs: ExternalReference[] = [];
    // A KDMV header with no capacity hands the whole image to the descriptor it points at, extents and all.
    if (magic === 'KDMV' && head.length >= 36 && head.readBigUInt64LE(12) === 0n && head.readBigUInt64LE(28) !== 0n) {
      const at = u64(head.readBigUInt64LE(28) * 512n);
      const named = at === undefined ? [] : descriptorExtents(text(head, at, at + (1 << 20)));
      refs.push(...(named.length ? named : [DESCRIPTOR]));
    }
    refs.push(...parentHint(text(head, VMDK_SPARSE_DESCRIPTOR.offset, VMDK_SPARSE_DESCRIPTOR.offset + VMDK_SPARSE_DESCRIPTOR.length)));
    return refs;
  }
  // Anything else qemu opens as a text descriptor, whose data always live in the files it names.
  const descriptor = text(head, 0, 1 << 20);
  const named = descriptorExtents(descriptor);
  return [...(named.length ? named : [DESCRIPTOR]), ...parentHint(descriptor)];
}

/** Every name outside its own bytes that `head` (the image's first REFERENCE_HEADER_BYTES) would make qemu open. Never throws. */
export function externalReferences(format: ImageFormat, head: Buffer): ExternalReference[] {
  if (format === 'qcow2') return qcow2References(head);
  if (format === 'vmdk') return vmdkReferences(head);
  return [];
}

/** IMAGE_UNSUPPORTED naming what the image refers to. */
export function externalReferencesError(what: string, format: ImageFormat, refs: readonly ExternalReference[]): CopyError {
  const named = refs.map((r) => {
    const name = r.name.length > 200 ? `${r.name.slice(0, 200)}…` : r.name;
    const pseudo = r.name.startsWith('json:') ? ' (a json: pseudo-filename)' : '';
    return name ? `${r.kind} ${JSON.stringify(name)}${pseudo}` : r.kind;
  });
  return new CopyError('IMAGE_UNSUPPORTED', `${what}: the ${format} image refers to files outside itself (${named.join(', ')}); v2v reads only the image it is given`, {
    hint:
      format === 'vmdk'
        ? 'import a self-contained VMDK: where its files are, run qemu-img convert -O vmdk -o subformat=streamOptimized DISK.vmdk disk.vmdk (or -O qcow2) and import the result'
        : 'import a self-contained image: where its files are, run qemu-img convert -O qcow2 IMAGE flat.qcow2 and import the result',
    details: { references: refs.map((r) => ({ kind: r.kind, name: r.name })) },
  });
}

/** Reads the header of a local image and refuses it when it names anything outside itself. */
export async function refuseExternalReferences(path: string, format: ImageFormat, what: string): Promise<void> {
  const handle = await open(path, 'r');
  let head: Buffer;
  try {
    const buf = Buffer.alloc(REFERENCE_HEADER_BYTES);
    let have = 0;
    while (have < buf.length) {
      const { bytesRead } = await handle.read(buf, have, buf.length - have, have);
      if (bytesRead === 0) break;
      have += bytesRead;
    }
    head = buf.subarray(0, have);
  } finally {
    await handle.close();
  }
  const refs = externalReferences(format, head);
  if (refs.length) throw externalReferencesError(what, format, refs);
}
