// A streaming tar reader (ustar, pax, GNU long names) for containerDisk layers
// and `contentType: archive`. Entry names that would escape their root
// (absolute, or with a `..` component) are refused.
import { posix } from 'node:path';
import { CopyError } from './errors.js';

export interface TarEntry {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  size: number;
  mode: number;
  linkName: string;
}

/** Reads exact byte counts from a chunked stream. */
export class ByteReader {
  private buffered: Buffer[] = [];
  private have = 0;
  private ended = false;
  private readonly it: AsyncIterator<Buffer>;
  constructor(input: AsyncIterable<Buffer>) {
    this.it = input[Symbol.asyncIterator]();
  }
  private async fill(n: number): Promise<void> {
    while (this.have < n && !this.ended) {
      const r = await this.it.next();
      if (r.done) this.ended = true;
      else {
        const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
        this.buffered.push(b);
        this.have += b.length;
      }
    }
  }
  private take(n: number): Buffer {
    const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.buffered = rest.length ? [rest] : [];
    this.have = rest.length;
    return out;
  }
  /** Exactly n bytes, or fewer only at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    await this.fill(n);
    return this.take(Math.min(n, this.have));
  }
  /** Yields the next n bytes in pieces without holding them all. */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.have === 0) await this.fill(1);
      if (this.have === 0) return;
      const piece = this.take(Math.min(left, this.have));
      left -= piece.length;
      yield piece;
    }
  }
  async skip(n: number): Promise<number> {
    let skipped = 0;
    for await (const piece of this.stream(n)) skipped += piece.length;
    return skipped;
  }
  async return(): Promise<void> {
    await this.it.return?.();
  }
}

function cString(buf: Buffer, start: number, length: number): string {
  const slice = buf.subarray(start, start + length);
  const nul = slice.indexOf(0);
  return slice.subarray(0, nul === -1 ? slice.length : nul).toString('utf8');
}

function octal(buf: Buffer, start: number, length: number): number {
  const first = buf[start]!;
  if (first & 0x80) {
    // GNU base-256 for sizes ≥ 8 GiB.
    let v = first & 0x7f;
    for (let i = 1; i < length; i++) v = v * 256 + buf[start + i]!;
    return v;
  }
  const text = cString(buf, start, length).trim();
  return text ? parseInt(text, 8) : 0;
}

function parsePax(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < text.length) {
    const space = text.indexOf(' ', pos);
    if (space === -1) break;
    const len = Number(text.slice(pos, space));
    if (!Number.isFinite(len) || len <= 0) break;
    const record = text.slice(space + 1, pos + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

/** `./disk/disk.img` → `disk/disk.img`; throws IMAGE_UNSAFE_PATH for names that escape. */
export function safeEntryName(name: string, where: string): string {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (name.startsWith('/') || parts.includes('..')) {
    throw new CopyError('IMAGE_UNSAFE_PATH', `${where}: the archive entry "${name}" points outside its root`, {
      hint: 'the image was built wrongly or maliciously; it is refused',
      details: { entry: name },
    });
  }
  return parts.join('/');
}

const TYPES: Record<string, TarEntry['type']> = { '0': 'file', '\0': 'file', '7': 'file', '5': 'directory', '2': 'symlink', '1': 'hardlink' };

/**
 * Walks a tar stream. `onEntry` gets each entry with a stream of its data; it
 * must consume or ignore it (what it leaves is skipped). Returning `true` stops.
 */
export async function walkTar(input: AsyncIterable<Buffer>, where: string, onEntry: (entry: TarEntry, data: AsyncIterable<Buffer>) => Promise<boolean | void>): Promise<void> {
  const r = new ByteReader(input);
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  for (;;) {
    const header = await r.read(512);
    if (header.length === 0) return;
    if (header.length < 512) throw new CopyError('IMAGE_TRUNCATED', `${where}: the tar archive ends inside a header`, { hint: 'the layer is incomplete' });
    if (header.every((b) => b === 0)) return;
    const typeflag = String.fromCharCode(header[156]!);
    const size = octal(header, 124, 12);
    const padded = Math.ceil(size / 512) * 512;
    if (typeflag === 'x' || typeflag === 'L' || typeflag === 'K' || typeflag === 'g') {
      const body = await r.read(padded);
      const text = body.subarray(0, size).toString('utf8');
      if (typeflag === 'x') pax = parsePax(text);
      else if (typeflag === 'L') longName = text.replace(/\0+$/, '');
      else if (typeflag === 'K') longLink = text.replace(/\0+$/, '');
      continue;
    }
    const magic = header.subarray(257, 262).toString('latin1');
    const prefix = magic === 'ustar' ? cString(header, 345, 155) : '';
    const rawName = pax['path'] ?? longName ?? (prefix ? `${prefix}/${cString(header, 0, 100)}` : cString(header, 0, 100));
    const linkName = pax['linkpath'] ?? longLink ?? cString(header, 157, 100);
    const realSize = pax['size'] !== undefined ? Number(pax['size']) : size;
    const realPadded = Math.ceil(realSize / 512) * 512;
    longName = longLink = undefined;
    pax = {};
    const entry: TarEntry = { name: safeEntryName(rawName, where), type: TYPES[typeflag] ?? 'other', size: realSize, mode: octal(header, 100, 8), linkName };
    if (entry.type === 'symlink' || entry.type === 'hardlink') {
      const base = entry.type === 'hardlink' ? '' : posix.dirname(entry.name);
      const resolved = posix.normalize(posix.join(base, entry.linkName));
      if (entry.linkName.startsWith('/') || resolved === '..' || resolved.startsWith('../')) {
        throw new CopyError('IMAGE_UNSAFE_PATH', `${where}: the archive link "${entry.name}" → "${entry.linkName}" points outside its root`, {
          hint: 'the image was built wrongly or maliciously; it is refused',
          details: { entry: entry.name, link: entry.linkName },
        });
      }
    }
    let consumed = 0;
    const data = (async function* () {
      for await (const piece of r.stream(realSize)) {
        consumed += piece.length;
        yield piece;
      }
    })();
    const stop = await onEntry(entry, data);
    if (stop === true) {
      await r.return();
      return;
    }
    const left = realSize - consumed;
    if ((await r.skip(left + (realPadded - realSize))) < left)
      throw new CopyError('IMAGE_TRUNCATED', `${where}: the tar archive ends inside "${entry.name}"`, { hint: 'the layer is incomplete' });
  }
}
