/**
 * The copy engine: moves one disk from a `DiskSource` to a `DiskTarget`.
 *
 * Public API (other modules and tests code against exactly this):
 *
 *   copyDisk(options: CopyOptions): Promise<CopyResult>
 *
 *   CopyOptions = {
 *     source: DiskSource;                    // src/copy/source.ts
 *     target: DiskTarget | TargetSpec;       // src/copy/target.ts; a spec is opened with openTarget()
 *                                            //   { kind: 'filesystem', dir, size?, filesystemOverhead?, preallocation?, fileName? }
 *                                            //   { kind: 'block', device, stateDir? }
 *     signal?: AbortSignal;                  // abort → InterruptedError (exit 4), marker kept, resumable
 *     onProgress?: (p: CopyProgress) => void;// src/copy/progress.ts, about once per progressIntervalMs and at the end
 *     progressIntervalMs?: number;           // default 1000
 *     stallTimeoutMs?: number;               // no byte moved for this long → CopyError COPY_STALLED (default 120 000)
 *     checksum?: boolean;                    // sha256 of the source's virtual disk vs the target's → CHECKSUM_MISMATCH
 *     retries?: number;                      // transient source failures retried per position (default 5)
 *     retryDelayMs?: number;                 // first backoff (doubles, default 500)
 *     chunkSize?: number;                    // read size (default 4 MiB)
 *     parallel?: number;                     // reads in flight (default 8)
 *     scratchDir?: string;                   // where a streamed qcow2/vmdk lands before conversion
 *     label?: string;                        // the disk name in progress events (default source.description)
 *     log?: Logger;
 *   }
 *
 *   CopyResult = {
 *     format: ImageFormat; compression: 'none'|'gzip'|'xz';
 *     virtualSize: number;                   // bytes of the source disk
 *     targetSize: number;                    // bytes of the target (grown to the volume)
 *     bytesCopied: number;                   // data bytes written to the target (zeros skipped)
 *     bytesAllocated: number;                // target allocation after the copy
 *     resumedFrom: number;                   // 0 unless an interrupted copy was continued
 *     sha256?: string;                       // with checksum: the digest both sides agreed on
 *     durationMs: number; path: string;
 *   }
 *
 * Errors: CopyError (src/copy/errors.ts) with TARGET_TOO_SMALL (checked before the first byte moves),
 * IMAGE_NOT_A_DISK (raw content smaller than one sector), IMAGE_TOO_LARGE, IMAGE_CORRUPT, IMAGE_TRUNCATED, COPY_STALLED, CHECKSUM_MISMATCH, TARGET_WRITE_FAILED;
 * source errors pass through (SOURCE_TLS_UNTRUSTED, SOURCE_AUTH_FAILED, SOURCE_UNREACHABLE …);
 * InterruptedError on abort. The in-progress marker convention is described in target.ts.
 * Every child process of a copy (xz, qemu-img) ends with it, whatever way it ends.
 */
import { createHash, type Hash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InterruptedError, V2vError, describe } from '../errors.js';
import type { Logger } from '../log.js';
import { ChildProcesses } from './children.js';
import { CopyError } from './errors.js';
import { SNIFF_BYTES, decompress, detectCompression, detectFormat, needsConversion, peek, rechunk, type Compression } from './format.js';
import { ProgressMeter, type CopyProgress } from './progress.js';
import { externalReferencesError, refuseExternalReferences } from './image-references.js';
import { checkImage, compareImages, convertToRaw, imageInfo } from './qemu.js';
import type { DiskSource, Extent, ImageFormat, RandomAccessSource, StreamSource } from './source.js';
import { openTarget, targetTooSmall, type DiskTarget, type PartialMarker, type TargetSpec } from './target.js';

export interface CopyOptions {
  source: DiskSource;
  target: DiskTarget | TargetSpec;
  signal?: AbortSignal;
  onProgress?: (p: CopyProgress) => void;
  progressIntervalMs?: number;
  stallTimeoutMs?: number;
  checksum?: boolean;
  retries?: number;
  retryDelayMs?: number;
  chunkSize?: number;
  parallel?: number;
  scratchDir?: string;
  label?: string;
  log?: Logger;
}

export interface CopyResult {
  format: ImageFormat;
  compression: Compression;
  virtualSize: number;
  targetSize: number;
  bytesCopied: number;
  bytesAllocated: number;
  resumedFrom: number;
  sha256?: string;
  durationMs: number;
  path: string;
}

const MiB = 2 ** 20;
const GRANULE = 4096;
// Less than one sector holds no partition table and no filesystem: an error page, not a disk.
const MIN_DISK_BYTES = 512;
const ZERO_CHUNK = Buffer.alloc(4 * MiB);
// How often the target is fdatasync'ed and the marker advanced: at most this much is redone after a crash.
const CHECKPOINT_MS = 5000;
// Target writes in flight at once: the page-cache copies of one 4 MiB chunk each run on their own pool thread.
const WRITE_DEPTH = 4;

function isTarget(t: DiskTarget | TargetSpec): t is DiskTarget {
  return typeof (t as DiskTarget).prepare === 'function';
}

// Network failures worth another try. (Not imported from net/tls.ts: that pulls in undici,
// which local copies do not need and which costs a noticeable start-up time.)
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_ABORTED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Whether a source failure is worth another try at the same position. */
export function isTransient(e: unknown): boolean {
  if (e instanceof V2vError) return e.code === 'SOURCE_UNREACHABLE' || e.details?.['transient'] === true;
  for (let cur = e, depth = 0; cur && depth < 6; cur = (cur as { cause?: unknown }).cause, depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  }
  return false;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new InterruptedError();
}

/** Resolves with `p` or rejects as soon as `signal` aborts (sources may ignore the signal). */
function guard<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return guard(new Promise((r) => setTimeout(r, ms).unref()), signal);
}

/** Splits a buffer into runs of data and of zero granules. */
export function zeroRuns(buf: Buffer, granule = GRANULE): { offset: number; length: number; zero: boolean }[] {
  // Whole-chunk answers first: most chunks are all data or all zeros.
  if (buf.length <= ZERO_CHUNK.length && buf.equals(ZERO_CHUNK.subarray(0, buf.length))) return [{ offset: 0, length: buf.length, zero: true }];
  const runs: { offset: number; length: number; zero: boolean }[] = [];
  for (let pos = 0; pos < buf.length; pos += granule) {
    const end = Math.min(pos + granule, buf.length);
    // A granule whose first bytes are not zero is data; only the rest need a full compare.
    const zero = buf[pos] === 0 && buf[end - 1] === 0 && buf.subarray(pos, end).equals(ZERO_CHUNK.subarray(0, end - pos));
    const last = runs[runs.length - 1];
    if (last && last.zero === zero) last.length += end - pos;
    else runs.push({ offset: pos, length: end - pos, zero });
  }
  return runs;
}

class CopyRun {
  private readonly ctl = new AbortController();
  private readonly signal = this.ctl.signal;
  private readonly children = new ChildProcesses(this.signal);
  private readonly meter: ProgressMeter;
  private lastMovement = performance.now();
  /** Bytes that came from the source (before decompression); random sources may count partial reads themselves. */
  private received = 0;
  private lastReceived = 0;
  private lastCheckpoint = performance.now();
  private timers: NodeJS.Timeout[] = [];
  private hash: Hash | undefined;
  private marker: PartialMarker | undefined;
  private readonly started = performance.now();
  private readonly chunkSize: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private target!: DiskTarget;

  constructor(private readonly o: CopyOptions) {
    this.meter = new ProgressMeter(o.label ?? o.source.description, o.source.size);
    this.chunkSize = o.chunkSize ?? 4 * MiB;
    this.retries = o.retries ?? 5;
    this.retryDelayMs = o.retryDelayMs ?? 500;
    if (o.checksum) this.hash = createHash('sha256');
    // Every read in flight listens for the abort.
    setMaxListeners(0, this.signal);
  }

  async execute(): Promise<CopyResult> {
    const external = this.o.signal;
    const onExternalAbort = () =>
      this.ctl.abort(new InterruptedError(`copy of ${this.o.source.description} interrupted`, { hint: 'run the same command again: the copy resumes where it stopped' }));
    if (external?.aborted) onExternalAbort();
    external?.addEventListener('abort', onExternalAbort, { once: true });
    const stallMs = this.o.stallTimeoutMs ?? 120_000;
    this.timers.push(
      setInterval(
        () => {
          const received = this.bytesReceived();
          if (received !== this.lastReceived) {
            // A slow source is still a moving one, even before a whole chunk is in.
            this.lastReceived = received;
            this.lastMovement = performance.now();
          }
          if (performance.now() - this.lastMovement > stallMs) {
            const done = this.meter.bytesDone;
            this.ctl.abort(
              new CopyError(
                'COPY_STALLED',
                `no data moved for ${Math.round(stallMs / 1000)} s from ${this.o.source.description}: it stopped after sending ${received} bytes${done !== received ? ` (${done} bytes of the disk done)` : ''}`,
                {
                  hint: 'the source stopped sending: check the network or the source host, then run again to resume',
                  details: { bytesReceived: received, bytesDone: done, stallTimeoutMs: stallMs },
                },
              ),
            );
          }
        },
        Math.min(1000, Math.max(50, stallMs / 4)),
      ),
    );
    if (this.o.onProgress) {
      const every = this.o.progressIntervalMs ?? 1000;
      this.timers.push(setInterval(() => this.o.onProgress?.(this.meter.snapshot()), every));
    }
    let ok = false;
    try {
      this.target = isTarget(this.o.target) ? this.o.target : await openTarget(this.o.target);
      const result = this.o.source.kind === 'random' ? await this.copyRandom(this.o.source) : await this.copyStream(this.o.source);
      ok = true;
      this.meter.phase = 'done';
      this.o.onProgress?.(this.meter.snapshot());
      return result;
    } catch (e) {
      const err = this.signal.aborted ? abortReason(this.signal) : e;
      if (this.marker) {
        // Keep what is durable so a rerun resumes; never let the target look finished.
        await this.checkpoint(true).catch(() => undefined);
      }
      throw err;
    } finally {
      for (const t of this.timers) clearInterval(t);
      external?.removeEventListener('abort', onExternalAbort);
      // Before the target closes: a qemu-img still writing to it is stopped first.
      await this.children.stop();
      await this.target?.close().catch(() => undefined);
      // A source whose close() hangs must not hang the run (nor let Node exit with the promise unsettled).
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<void>(
        (resolve) =>
          (timer = setTimeout(() => {
            this.o.log?.warn({ source: this.o.source.description }, 'closing the source timed out');
            resolve();
          }, 30_000)),
      );
      await Promise.race([this.o.source.close(ok).catch((e: unknown) => this.o.log?.warn({ err: describe(e) }, 'closing the source failed')), limit]);
      clearTimeout(timer);
    }
  }

  /** What the source has sent so far: its own count when it keeps one (partial reads included), else ours. */
  private bytesReceived(): number {
    const src = this.o.source;
    return src.kind === 'random' && src.bytesReceived !== undefined ? src.bytesReceived : this.received;
  }

  private moved(bytes: number): void {
    this.lastMovement = performance.now();
    this.meter.bytesDone += bytes;
  }

  private identity(size: number | undefined): string {
    return this.o.source.identity ?? `${this.o.source.description}|${size ?? 'unknown'}`;
  }

  /** Where a previous, interrupted copy of the same source stopped (0 if none or another source). */
  private async resumePoint(identity: string): Promise<number> {
    const previous = await this.target.readMarker();
    if (!previous) return 0;
    if (previous.source.identity !== identity) {
      this.o.log?.info({ target: this.target.path }, 'an interrupted copy of another source is on the target: starting over');
      return 0;
    }
    const at = previous.doneOffset - (previous.doneOffset % this.chunkSize);
    if (at > 0) this.o.log?.info({ target: this.target.path, offset: at }, 'resuming an interrupted copy');
    return at;
  }

  private async begin(identity: string, virtualSize: number | undefined, doneOffset: number): Promise<void> {
    const now = new Date().toISOString();
    this.marker = {
      version: 1,
      source: { description: this.o.source.description, identity },
      ...(virtualSize !== undefined ? { virtualSize } : {}),
      doneOffset,
      startedAt: now,
      updatedAt: now,
    };
    await this.target.writeMarker(this.marker);
  }

  /** Makes everything below `doneOffset` durable, then records it (at most every CHECKPOINT_MS unless forced). */
  private async checkpoint(force = false, doneOffset?: number): Promise<void> {
    if (!this.marker) return;
    if (doneOffset !== undefined) this.marker.doneOffset = doneOffset;
    if (!force && performance.now() - this.lastCheckpoint < CHECKPOINT_MS) return;
    this.lastCheckpoint = performance.now();
    await this.target.sync();
    this.marker.updatedAt = new Date().toISOString();
    await this.target.writeMarker(this.marker);
  }

  /** Hashes what an earlier run already wrote, so a resumed copy still has a whole-disk checksum. */
  private async hashTargetPrefix(end: number): Promise<void> {
    if (!this.hash || end === 0) return;
    for (let pos = 0; pos < end; pos += this.chunkSize) this.hash.update(await this.target.read(pos, Math.min(this.chunkSize, end - pos)));
  }

  private hashZeros(length: number): void {
    if (!this.hash) return;
    for (let left = length; left > 0; left -= ZERO_CHUNK.length) this.hash.update(ZERO_CHUNK.subarray(0, Math.min(left, ZERO_CHUNK.length)));
  }

  /** Writes data runs, skips (or zeroes) zero runs. */
  private async writeData(buf: Buffer, offset: number): Promise<void> {
    for (const run of zeroRuns(buf)) {
      if (run.zero) {
        if (!this.target.zeroedAfterPrepare) await this.target.zero(offset + run.offset, run.length);
      } else {
        await this.target.write(buf.subarray(run.offset, run.offset + run.length), offset + run.offset);
        this.meter.bytesWritten += run.length;
      }
    }
  }

  private readonly pool: Buffer[] = [];

  private async readOnce(src: RandomAccessSource, offset: number, length: number): Promise<Buffer> {
    if (!src.readInto || length > this.chunkSize) return src.read(offset, length, this.signal);
    const buf = this.pool.pop() ?? Buffer.allocUnsafe(this.chunkSize);
    try {
      const n = await src.readInto(buf.subarray(0, length), offset, this.signal);
      return buf.subarray(0, n);
    } catch (e) {
      this.pool.push(buf);
      throw e;
    }
  }

  /** Gives a pooled buffer back once it is written. */
  private release(buf: Buffer): void {
    if (buf.buffer.byteLength === this.chunkSize && this.pool.length < 64) this.pool.push(Buffer.from(buf.buffer, buf.byteOffset, this.chunkSize));
  }

  private async readWithRetry(src: RandomAccessSource, offset: number, length: number): Promise<Buffer> {
    for (let attempt = 0; ; attempt++) {
      try {
        const buf = await guard(this.readOnce(src, offset, length), this.signal);
        const expected = Math.min(length, src.size - offset);
        this.received += buf.length;
        if (buf.length < expected) throw new CopyError('SOURCE_UNREACHABLE', `short read at ${offset}: ${buf.length} of ${expected} bytes`, { details: { transient: true } });
        this.lastMovement = performance.now();
        return buf.length > expected ? buf.subarray(0, expected) : buf;
      } catch (e) {
        if (this.signal.aborted) throw abortReason(this.signal);
        if (src.retryable === false || !isTransient(e) || attempt >= this.retries) throw e;
        this.o.log?.warn({ offset, attempt: attempt + 1, err: describe(e) }, 'source read failed, retrying from the last good offset');
        await sleep(this.retryDelayMs * 2 ** attempt, this.signal);
      }
    }
  }

  private async extentsOf(src: RandomAccessSource, offset: number, length: number): Promise<Extent[]> {
    if (!src.extents) return [{ offset, length, zero: false }];
    const extents = await guard(src.extents(offset, length, this.signal), this.signal);
    // Clip and fill gaps so the copy covers the range exactly whatever the source returns.
    const out: Extent[] = [];
    let pos = offset;
    for (const e of [...extents].sort((a, b) => a.offset - b.offset)) {
      const start = Math.max(e.offset, pos);
      const end = Math.min(e.offset + e.length, offset + length);
      if (end <= start) continue;
      if (start > pos) out.push({ offset: pos, length: start - pos, zero: false });
      out.push({ offset: start, length: end - start, zero: e.zero });
      pos = end;
    }
    if (pos < offset + length) out.push({ offset: pos, length: offset + length - pos, zero: false });
    return out;
  }

  private async copyRandom(src: RandomAccessSource): Promise<CopyResult> {
    if (src.format && needsConversion(src.format)) {
      if (!src.localPath)
        throw new CopyError('IMAGE_UNSUPPORTED', `${src.description} serves ${src.format} through read(); only raw can be copied that way`, {
          hint: 'sources of non-raw images must expose localPath or be streams',
        });
      return this.convertLocal(src.localPath, src.format, 'none');
    }
    const size = src.size;
    if (size < MIN_DISK_BYTES) throw notADisk(src.description, size);
    if (size > this.target.capacity) throw targetTooSmall(this.target, size);
    const identity = this.identity(size);
    const resumeFrom = await this.resumePoint(identity);
    await this.begin(identity, size, resumeFrom);
    const targetSize = this.target.finalSize(size);
    await this.target.prepare(targetSize, resumeFrom);
    this.meter.phase = 'copying';
    this.meter.bytesTotal = size;
    this.meter.bytesDone = resumeFrom;
    await this.hashTargetPrefix(resumeFrom);

    const depth = Math.max(1, this.o.parallel ?? 8);
    const window = 1024 * MiB;
    for (let base = resumeFrom; base < size; base += window) {
      const extents = await this.extentsOf(src, base, Math.min(window, size - base));
      const items: Extent[] = [];
      for (const e of extents) {
        if (e.zero) items.push(e);
        else for (let o = e.offset; o < e.offset + e.length; o += this.chunkSize) items.push({ offset: o, length: Math.min(this.chunkSize, e.offset + e.length - o), zero: false });
      }
      // Bounded read-ahead, writes in order: the marker's doneOffset is always a clean prefix.
      const reads = new Map<number, Promise<Buffer>>();
      let next = 0;
      const launch = () => {
        while (next < items.length && reads.size < depth) {
          const item = items[next]!;
          if (!item.zero) {
            const p = this.readWithRetry(src, item.offset, item.length);
            p.catch(() => undefined);
            reads.set(next, p);
          }
          next++;
        }
      };
      // Writes overlap too (up to WRITE_DEPTH), but are awaited in order: what is
      // awaited is a clean prefix, and only that goes into the marker.
      const writes: { end: number; done: Promise<void> }[] = [];
      const settleOldest = async () => {
        const oldest = writes.shift()!;
        await oldest.done;
        await this.checkpoint(false, oldest.end);
      };
      for (let i = 0; i < items.length; i++) {
        launch();
        const item = items[i]!;
        let done: Promise<void>;
        if (item.zero) {
          this.hashZeros(item.length);
          done = this.target.zeroedAfterPrepare ? Promise.resolve() : this.target.zero(item.offset, item.length);
        } else {
          const buf = await reads.get(i)!;
          reads.delete(i);
          this.hash?.update(buf);
          done = this.writeData(buf, item.offset).then(() => {
            if (src.readInto) this.release(buf);
          });
        }
        done = done.then(() => this.moved(item.length));
        done.catch(() => undefined);
        writes.push({ end: item.offset + item.length, done });
        if (writes.length >= WRITE_DEPTH) await settleOldest();
        if (this.signal.aborted) break;
      }
      while (writes.length) await settleOldest();
      if (this.signal.aborted) throw abortReason(this.signal);
    }
    return this.finish({ format: src.format ?? 'raw', compression: 'none', virtualSize: size, targetSize, resumedFrom: resumeFrom });
  }

  /** Zeroes a device past the image (it may hold old data), flushes, verifies, and removes the marker. */
  private async finish(r: { format: ImageFormat; compression: Compression; virtualSize: number; targetSize: number; resumedFrom: number }): Promise<CopyResult> {
    const stopIfAborted = () => {
      if (this.signal.aborted) throw abortReason(this.signal);
    };
    stopIfAborted();
    if (!this.target.zeroedAfterPrepare && r.targetSize > r.virtualSize) await this.target.zero(r.virtualSize, r.targetSize - r.virtualSize);
    this.meter.phase = 'flushing';
    await this.target.sync();
    stopIfAborted();
    let sha256: string | undefined;
    if (this.hash) {
      this.meter.phase = 'verifying';
      sha256 = this.hash.digest('hex');
      const targetHash = createHash('sha256');
      for (let pos = 0; pos < r.virtualSize; pos += this.chunkSize) {
        targetHash.update(await this.target.read(pos, Math.min(this.chunkSize, r.virtualSize - pos)));
        this.lastMovement = performance.now();
        stopIfAborted();
      }
      const got = targetHash.digest('hex');
      if (got !== sha256) {
        throw new CopyError('CHECKSUM_MISMATCH', `${this.target.path} does not match the source: sha256 ${got} ≠ ${sha256}`, {
          hint: 'the target or the source changed during the copy: run again',
          details: { source: sha256, target: got },
        });
      }
    }
    // The point of no return: after this the disk is finished.
    stopIfAborted();
    await this.target.commit();
    this.marker = undefined;
    return {
      ...r,
      bytesCopied: this.meter.bytesWritten,
      bytesAllocated: await this.target.allocatedBytes(),
      ...(sha256 ? { sha256 } : {}),
      durationMs: Math.round(performance.now() - this.started),
      path: this.target.path,
    };
  }

  /** Opens the stream (at `offset` when the source can), counting raw source bytes as movement. */
  private async openCounted(src: StreamSource, offset: number): Promise<AsyncIterable<Buffer>> {
    const stream = await guard(src.open(offset, this.signal), this.signal);
    const signal = this.signal;
    const moved = (bytes: number): void => {
      this.lastMovement = performance.now();
      this.received += bytes;
    };
    return (async function* () {
      try {
        for await (const chunk of stream as AsyncIterable<Buffer | string>) {
          if (signal.aborted) throw abortReason(signal);
          moved(chunk.length);
          yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
        }
      } finally {
        // Destroying a body before its end makes some streams (undici's) emit 'error': nobody reads it any more.
        stream.on('error', () => undefined);
        (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      }
    })();
  }

  private async copyStream(src: StreamSource): Promise<CopyResult> {
    const what = src.description;
    let compression: Compression = 'none';
    let format: ImageFormat = src.format ?? 'raw';
    let resumeFrom = 0;
    let done = 0;
    let prepared = false;
    let targetSize = 0;
    let knownSize: number | undefined;

    for (let attempt = 0; ; attempt++) {
      try {
        // Uncompressed raw from a source that can seek continues at the good offset; anything else is re-read and skipped.
        const seek = prepared && compression === 'none' && src.resumable === true && done > 0;
        const raw = await this.openCounted(src, seek ? done : 0);
        let decoded: AsyncIterable<Buffer> = raw;
        if (!seek) {
          const first = await peek(raw, 6);
          compression = detectCompression(first.head);
          decoded = decompress(first.rest, compression, what, this.children);
          const second = await peek(decoded, SNIFF_BYTES);
          format = detectFormat(second.head);
          decoded = second.rest;
          // peek stops short only at the end: this is the whole image.
          if (second.head.length < MIN_DISK_BYTES) throw notADisk(what, second.head.length);
          if (needsConversion(format)) return await this.downloadAndConvert(decoded, format, compression);
        }
        if (!prepared) {
          knownSize = compression === 'none' ? src.size : undefined;
          if (knownSize !== undefined && knownSize > this.target.capacity) throw targetTooSmall(this.target, knownSize);
          const identity = this.identity(src.size);
          resumeFrom = await this.resumePoint(identity);
          await this.begin(identity, knownSize, resumeFrom);
          targetSize = this.target.finalSize(knownSize ?? resumeFrom);
          await this.target.prepare(targetSize, resumeFrom);
          prepared = true;
          done = resumeFrom;
          this.meter.phase = 'copying';
          this.meter.bytesTotal = knownSize;
          this.meter.bytesDone = resumeFrom;
          this.hash = this.o.checksum ? createHash('sha256') : undefined;
          await this.hashTargetPrefix(resumeFrom);
        }
        let pos = seek ? done : 0;
        for await (const chunk of rechunk(decoded, this.chunkSize)) {
          const end = pos + chunk.length;
          if (end <= done) {
            pos = end;
            continue;
          }
          const part = pos < done ? chunk.subarray(done - pos) : chunk;
          if (end > this.target.capacity) {
            throw compression === 'none' && src.size === undefined
              ? targetTooSmall(this.target, end)
              : new CopyError(
                  'IMAGE_TOO_LARGE',
                  `${what}: the ${compression === 'none' ? '' : `${compression}-compressed `}image expands past the target's ${this.target.capacity} bytes; stopped at ${end} bytes`,
                  {
                    hint: 'request a larger volume (--size), or check that this is the image you meant',
                    details: { capacity: this.target.capacity, decodedBytes: end },
                  },
                );
          }
          if (end > targetSize) {
            targetSize = this.target.finalSize(end);
            await this.target.resize(targetSize);
          }
          this.hash?.update(part);
          await this.writeData(part, done);
          this.moved(part.length);
          done = end;
          pos = end;
          await this.checkpoint(false, done);
        }
        if (knownSize !== undefined && done < knownSize)
          throw new CopyError('SOURCE_UNREACHABLE', `${what} ended at ${done} of ${knownSize} bytes`, { details: { transient: true } });
        break;
      } catch (e) {
        if (this.signal.aborted) throw abortReason(this.signal);
        if (!isTransient(e) || attempt >= this.retries) {
          if (isTransient(e) && knownSize !== undefined && done < knownSize) {
            throw new CopyError('IMAGE_TRUNCATED', `${what} ended at ${done} of ${knownSize} bytes after ${attempt + 1} attempts`, {
              hint: 'the source keeps closing the transfer early',
              cause: e,
            });
          }
          throw e;
        }
        this.o.log?.warn({ offset: done, attempt: attempt + 1, err: describe(e) }, 'source stream failed, resuming from the last good offset');
        await sleep(this.retryDelayMs * 2 ** attempt, this.signal);
      }
    }
    const virtualSize = done;
    if (this.target.kind === 'filesystem' && targetSize !== this.target.finalSize(virtualSize)) {
      targetSize = this.target.finalSize(virtualSize);
      await this.target.resize(targetSize);
    }
    return this.finish({ format, compression, virtualSize, targetSize, resumedFrom: resumeFrom });
  }

  /** qcow2/vmdk arrive as a stream: land them in scratch space (as CDI does), then convert. */
  private async downloadAndConvert(decoded: AsyncIterable<Buffer>, format: ImageFormat, compression: Compression): Promise<CopyResult> {
    const scratchRoot = this.o.scratchDir ?? (this.target.kind === 'filesystem' ? dirname(this.target.path) : tmpdir());
    const dir = await mkdtemp(join(scratchRoot, '.v2v-scratch-'));
    try {
      const file = join(dir, `image.${format}`);
      const h = await open(file, 'w');
      this.meter.phase = 'downloading';
      try {
        for await (const chunk of rechunk(decoded, this.chunkSize)) {
          // Scratch is sparse too: skipping zero runs keeps a mostly empty image small.
          for (const run of zeroRuns(chunk)) if (!run.zero) await h.write(chunk, run.offset, run.length, this.meter.bytesDone + run.offset);
          this.moved(chunk.length);
          await h.truncate(this.meter.bytesDone);
        }
      } finally {
        await h.close();
      }
      this.meter.bytesDone = 0;
      return await this.convertLocal(file, format, compression);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async convertLocal(path: string, format: ImageFormat, compression: Compression): Promise<CopyResult> {
    const what = this.o.source.description;
    this.meter.phase = 'checking';
    // The header as qemu will read it, then qemu's own view of an image opened so that it follows nothing it can be told not to.
    await refuseExternalReferences(path, format, what);
    const info = await imageInfo(path, format, what, this.children);
    if (info.references.length) throw externalReferencesError(what, format, info.references);
    await checkImage(path, format, what, this.children);
    if (info.virtualSize > this.target.capacity) throw targetTooSmall(this.target, info.virtualSize);
    // Conversion restarts on a rerun: the marker says "incomplete", not where to resume.
    await this.begin(`${this.identity(info.virtualSize)}|${format}`, info.virtualSize, 0);
    const targetSize = this.target.finalSize(info.virtualSize);
    await this.target.prepare(targetSize, 0);
    await this.target.sync();
    this.meter.phase = 'converting';
    this.meter.bytesTotal = info.virtualSize;
    this.meter.bytesDone = 0;
    await convertToRaw({
      source: path,
      format,
      target: this.target.path,
      targetIsZero: this.target.zeroedAfterPrepare,
      children: this.children,
      signal: this.signal,
      onFraction: (f) => {
        this.lastMovement = performance.now();
        this.meter.bytesDone = Math.round(f * info.virtualSize);
        // qemu-img writes through the page cache and never flushes; get the disk going before our fdatasync.
        this.target.startWriteback();
      },
    });
    this.meter.bytesDone = info.virtualSize;
    const result = await this.finishConverted(path, format, { format, compression, virtualSize: info.virtualSize, targetSize, resumedFrom: 0 });
    return result;
  }

  private async finishConverted(
    path: string,
    format: ImageFormat,
    r: { format: ImageFormat; compression: Compression; virtualSize: number; targetSize: number; resumedFrom: number },
  ): Promise<CopyResult> {
    if (this.hash) {
      // Verify with qemu-img compare (reads the source image through its format), then hash the target.
      this.meter.phase = 'verifying';
      const same = await compareImages(path, format, this.target.path, this.children);
      if (!same.identical) throw new CopyError('CHECKSUM_MISMATCH', `${this.target.path} differs from the source image: ${same.message}`, { hint: 'run again' });
      const h = createHash('sha256');
      for (let pos = 0; pos < r.virtualSize; pos += this.chunkSize) h.update(await this.target.read(pos, Math.min(this.chunkSize, r.virtualSize - pos)));
      this.hash = undefined;
      const result = await this.finish(r);
      return { ...result, bytesCopied: this.convertedBytes(result), sha256: h.digest('hex') };
    }
    const result = await this.finish(r);
    return { ...result, bytesCopied: this.convertedBytes(result) };
  }

  /** qemu-img wrote the data: on a file that is what is allocated; a device does not say. */
  private convertedBytes(r: CopyResult): number {
    return this.target.kind === 'filesystem' ? r.bytesAllocated : r.virtualSize;
  }
}

function notADisk(what: string, size: number): CopyError {
  return new CopyError('IMAGE_NOT_A_DISK', `${what} is ${size} bytes: too small to be a disk image (less than one ${MIN_DISK_BYTES}-byte sector)`, {
    hint: 'the URL or file is not the image (an error page, a redirect notice, an empty file?): check it',
    details: { size },
  });
}

/** Copies one disk; see the module comment for the contract. */
export function copyDisk(options: CopyOptions): Promise<CopyResult> {
  return new CopyRun(options).execute();
}
