// Content sniffing (never the file name) and stream decompression.
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ChildProcesses } from './children.js';
import { CopyError } from './errors.js';
import type { ImageFormat } from './source.js';

export type Compression = 'gzip' | 'xz' | 'none';

/** Bytes needed to tell every format apart (ISO's `CD001` sits at 0x8001). */
export const SNIFF_BYTES = 0x8001 + 5;

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'none';
}

/** The image format of (decompressed) content. Unrecognised content is raw, as CDI treats it. */
export function detectFormat(head: Buffer): ImageFormat {
  const at = (offset: number, text: string) => head.length >= offset + text.length && head.subarray(offset, offset + text.length).toString('latin1') === text;
  if (at(0, 'QFI\xfb')) return 'qcow2';
  if (at(0, 'KDMV') || at(0, '# Disk DescriptorFile')) return 'vmdk';
  if (at(0x8001, 'CD001')) return 'iso';
  return 'raw';
}

/** Formats qemu-img must convert; raw and ISO are copied byte for byte. */
export function needsConversion(format: ImageFormat): boolean {
  return format === 'qcow2' || format === 'vmdk';
}

/** Reads at least `n` bytes (fewer only at the end) and gives back a stream that still starts at byte 0. */
export async function peek(input: AsyncIterable<Buffer>, n: number): Promise<{ head: Buffer; rest: AsyncIterable<Buffer> }> {
  const it = input[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let have = 0;
  let ended = false;
  while (have < n) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    parts.push(chunk);
    have += chunk.length;
  }
  const head = Buffer.concat(parts);
  async function* rest(): AsyncGenerator<Buffer> {
    try {
      if (head.length) yield head;
      if (ended) return;
      for (;;) {
        const r = await it.next();
        if (r.done) {
          ended = true;
          return;
        }
        yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
      }
    } finally {
      // A consumer that stops early stops the input too (a decompressor, a network body).
      if (!ended) await Promise.resolve(it.return?.()).catch(() => undefined);
    }
  }
  return { head, rest: rest() };
}

/** Marks errors that come from the input side (the network), so they stay retryable after decompression. */
class InputFailure {
  constructor(readonly error: unknown) {}
}

function gunzip(input: AsyncIterable<Buffer>, what: string): AsyncIterable<Buffer> {
  const gz = createGunzip();
  const src = Readable.from(input, { objectMode: false });
  let inputError: InputFailure | undefined;
  src.on('error', (e) => {
    inputError = new InputFailure(e);
    gz.destroy(e);
  });
  src.pipe(gz);
  return (async function* () {
    try {
      for await (const chunk of gz) yield chunk as Buffer;
    } catch (e) {
      if (inputError) throw inputError.error;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'Z_BUF_ERROR' || /unexpected end/i.test((e as Error).message)) {
        throw new CopyError('IMAGE_TRUNCATED', `${what}: the gzip stream ends before its end marker`, { hint: 'the file is incomplete: download or upload it again', cause: e });
      }
      throw new CopyError('IMAGE_CORRUPT', `${what}: the gzip stream is corrupt: ${(e as Error).message}`, {
        hint: 'the file is damaged: check its checksum at the origin',
        cause: e,
      });
    } finally {
      // The consumer stopped (or failed): release the input too, down to the network stream.
      src.unpipe(gz);
      src.destroy();
    }
  })();
}

function unxz(input: AsyncIterable<Buffer>, what: string, children: ChildProcesses): AsyncIterable<Buffer> {
  const child = children.adopt(spawn('xz', ['--decompress', '--stdout', '--threads=0'], { stdio: ['pipe', 'pipe', 'pipe'] }));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let inputError: InputFailure | undefined;
  const exit = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  child.stdin.on('error', () => {
    // xz stopped reading (it failed or was killed); its exit status tells why.
  });
  const feed = (async () => {
    try {
      for await (const chunk of input) {
        if (!child.stdin.write(chunk)) {
          await new Promise<void>((resolve) => {
            const done = () => {
              child.stdin.off('drain', done);
              child.stdin.off('close', done);
              resolve();
            };
            child.stdin.on('drain', done);
            child.stdin.on('close', done);
          });
        }
        if (child.stdin.destroyed) return;
      }
      child.stdin.end();
    } catch (e) {
      inputError = new InputFailure(e);
      child.kill('SIGKILL');
    }
  })();
  return (async function* () {
    let completed = false;
    try {
      for await (const chunk of child.stdout) yield chunk as Buffer;
      const code = await exit;
      await feed;
      if (inputError) throw inputError.error;
      if (code !== 0) {
        if (/unexpected end of input/i.test(stderr)) {
          throw new CopyError('IMAGE_TRUNCATED', `${what}: the xz stream ends before its end marker`, {
            hint: 'the file is incomplete: download or upload it again',
            details: { xz: stderr.trim() },
          });
        }
        throw new CopyError('IMAGE_CORRUPT', `${what}: the xz stream is corrupt: ${stderr.trim()}`, {
          hint: 'the file is damaged: check its checksum at the origin',
          details: { xz: stderr.trim() },
        });
      }
      completed = true;
    } finally {
      if (!completed) child.kill('SIGKILL');
    }
  })();
}

/** `children` owns the decompressor process (xz), so the caller's end reaps it on every path. */
export function decompress(input: AsyncIterable<Buffer>, compression: Compression, what: string, children: ChildProcesses): AsyncIterable<Buffer> {
  if (compression === 'gzip') return gunzip(input, what);
  if (compression === 'xz') return unxz(input, what, children);
  return input;
}

/** Regroups a stream into chunks of exactly `size` bytes (the last may be shorter); each is valid until the next is asked for. */
export async function* rechunk(input: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  // One buffer, refilled once the consumer asks for the next chunk: gigabytes
  // of short-lived 4 MiB buffers would keep the garbage collector busy.
  const buf = Buffer.allocUnsafe(size);
  let fill = 0;
  for await (const chunk of input) {
    let pos = 0;
    while (pos < chunk.length) {
      const n = Math.min(size - fill, chunk.length - pos);
      chunk.copy(buf, fill, pos, pos + n);
      fill += n;
      pos += n;
      if (fill === size) {
        yield buf;
        fill = 0;
      }
    }
  }
  if (fill > 0) yield buf.subarray(0, fill);
}
