import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Agent, type Dispatcher } from 'undici';
import type { Extent, RandomAccessSource } from '../../src/copy/source.js';
import { makeAgent } from '../../src/net/tls.js';
import { redactUrl, registerSecret } from '../../src/redact.js';
import { OvirtError, transportError } from './errors.js';
import type { OvirtServices } from './services.js';
import type { ImageTransfer } from './types.js';

// An oVirt disk as a random-access source, through an image transfer: create
// it (direction download, format raw), wait for `transferring`, then read
// from the imageio daemon (`transfer_url`, or the engine's proxy at
// `proxy_url`): OPTIONS for features and max_readers, `/extents` for the
// data/zero map, ranged GETs for data. The transfer is always ended:
// `finalize` after a good copy, `cancel` after a failed or aborted one.

export interface ImageioDownloadOptions {
  diskId: string;
  /** How long the transfer may stay in `initializing` (or `resuming`) before TRANSFER_STALLED. */
  readyTimeoutMs?: number;
  /** Poll interval for the transfer phase. */
  pollIntervalMs?: number;
  /** Asked of the engine: the transfer is paused after this many idle seconds. */
  inactivityTimeoutS?: number;
  /** How often the ticket is renewed (`extend`); default half the inactivity timeout. */
  renewIntervalMs?: number;
  /** Reads in flight at once, capped by the daemon's `max_readers`. */
  maxReaders?: number;
  /** Attempts per read that make no progress before TRANSFER_FAILED. */
  maxRetries?: number;
  /** First retry delay; doubles per failed attempt. */
  retryBackoffMs?: number;
  /** How long finalize may take to reach `finished_success`. */
  finalizeTimeoutMs?: number;
  /** Stops waiting for `transferring`: the transfer is cancelled on the engine and the abort reason thrown. */
  signal?: AbortSignal;
}

/** Counters a copy engine or test can read. */
export interface ImageioStats {
  reads: number;
  retries: number;
  bytesRead: number;
  extends: number;
  /** Which endpoint served the data. */
  endpoint: 'transfer_url' | 'proxy_url';
}

const TERMINAL_FAILURE = new Set(['cancelled', 'cancelled_system', 'cancelled_user', 'finalizing_failure', 'finished_failure', 'finished_cleanup', 'finalizing_cleanup']);

export class ImageioSource implements RandomAccessSource {
  readonly kind = 'random' as const;
  readonly retryable = true;
  readonly description: string;
  readonly stats: ImageioStats;
  private extentMap: Promise<Extent[]> | undefined;
  private readonly waiting: (() => void)[] = [];
  private active = 0;
  private renewTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  /** When the daemon last served us (data, extents) or the ticket was extended. */
  private lastActivity = Date.now();
  /** Why `close(false)` could not cancel the transfer, if it could not. */
  cancelError: unknown;

  private constructor(
    private readonly services: OvirtServices,
    readonly transfer: ImageTransfer,
    readonly size: number,
    private readonly dataUrl: URL,
    private readonly agent: Agent,
    private readonly features: string[],
    private readonly maxReaders: number,
    private readonly options: Required<Omit<ImageioDownloadOptions, 'diskId' | 'signal'>> & { diskId: string },
    endpoint: ImageioStats['endpoint'],
  ) {
    this.description = `oVirt disk ${options.diskId} via imageio transfer ${transfer.id}`;
    this.stats = { reads: 0, retries: 0, bytesRead: 0, extends: 0, endpoint };
  }

  static async open(services: OvirtServices, opts: ImageioDownloadOptions): Promise<ImageioSource> {
    const inactivityTimeoutS = opts.inactivityTimeoutS ?? 60;
    const options = {
      diskId: opts.diskId,
      readyTimeoutMs: opts.readyTimeoutMs ?? 120_000,
      pollIntervalMs: opts.pollIntervalMs ?? 1_000,
      inactivityTimeoutS,
      renewIntervalMs: opts.renewIntervalMs ?? (inactivityTimeoutS * 1000) / 2,
      maxReaders: opts.maxReaders ?? 4,
      maxRetries: opts.maxRetries ?? 5,
      retryBackoffMs: opts.retryBackoffMs ?? 500,
      finalizeTimeoutMs: opts.finalizeTimeoutMs ?? 120_000,
    };
    const disk = await services.disks.get(opts.diskId);
    if (disk.storageType && disk.storageType !== 'image') {
      throw new OvirtError('TRANSFER_FAILED', `disk ${opts.diskId} has storage type ${disk.storageType}: imageio transfers only image disks`, {
        hint: 'direct LUN and managed block disks are not copied through imageio',
      });
    }
    const size = disk.provisionedSize ?? 0;
    opts.signal?.throwIfAborted();
    let transfer = await services.imageTransfers.add({ diskId: opts.diskId, direction: 'download', format: 'raw', inactivityTimeoutS });
    // From here on the transfer exists on the engine: any failure or abort must cancel it.
    try {
      transfer = await waitForTransferring(services, transfer, options, opts.signal);
      // The ticket in the URL is the only credential the daemon asks for: keep it out of every message.
      for (const u of [transfer.transferUrl, transfer.proxyUrl]) if (u) registerSecret(new URL(u).pathname.split('/').pop());
      const agent = makeAgent(services.client.tls, { requestMs: 60_000 });
      const candidates: [ImageioStats['endpoint'], string][] = [];
      if (transfer.transferUrl) candidates.push(['transfer_url', transfer.transferUrl]);
      if (transfer.proxyUrl && transfer.proxyUrl !== transfer.transferUrl) candidates.push(['proxy_url', transfer.proxyUrl]);
      if (candidates.length === 0) {
        await agent.close();
        throw new OvirtError('TRANSFER_FAILED', `image transfer ${transfer.id} has neither transfer_url nor proxy_url`, {
          hint: 'check the engine and the imageio service on the hosts',
        });
      }
      let lastError: unknown;
      for (const [endpoint, url] of candidates) {
        try {
          const options_ = await imageioOptions(agent, new URL(url));
          const source = new ImageioSource(
            services,
            transfer,
            size,
            new URL(url),
            agent,
            options_.features,
            Math.max(1, Math.min(options.maxReaders, options_.maxReaders ?? 1)),
            options,
            endpoint,
          );
          source.startRenewal();
          return source;
        } catch (e) {
          // The host daemon may be unreachable from here while the engine's proxy is: try the next endpoint.
          lastError = e;
        }
      }
      await agent.close();
      throw lastError;
    } catch (e) {
      await services.imageTransfers.cancel(transfer.id).catch(() => undefined);
      throw e;
    }
  }

  private startRenewal(): void {
    if (this.options.renewIntervalMs <= 0) return;
    this.renewTimer = setInterval(() => {
      // A transfer idle past its inactivity timeout is paused by the engine: keep the ticket alive
      // while the consumer is slow. Data requests keep it alive on their own.
      if (Date.now() - this.lastActivity < this.options.renewIntervalMs) return;
      this.services.imageTransfers.extend(this.transfer.id).then(
        () => {
          this.stats.extends++;
          this.lastActivity = Date.now();
        },
        () => undefined,
      );
    }, this.options.renewIntervalMs);
    this.renewTimer.unref();
  }

  /** The data/zero map from `/extents?context=zero`, clipped to the range. Zero extents become holes in the target. */
  async extents(offset: number, length: number): Promise<Extent[]> {
    this.extentMap ??= this.fetchExtents();
    const all = await this.extentMap;
    const end = Math.min(offset + length, this.size);
    const out: Extent[] = [];
    for (const e of all) {
      const s = Math.max(e.offset, offset);
      const t = Math.min(e.offset + e.length, end);
      if (t > s) out.push({ offset: s, length: t - s, zero: e.zero });
    }
    return out;
  }

  private async fetchExtents(): Promise<Extent[]> {
    if (!this.features.includes('extents')) return [{ offset: 0, length: this.size, zero: false }];
    const url = new URL(`${this.dataUrl.href.replace(/\/+$/, '')}/extents`);
    url.searchParams.set('context', 'zero');
    const body = await this.withRetries('extents', async () => {
      const res = await request(url, { method: 'GET', dispatcher: this.agent });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new HttpStatusError(res.statusCode, text);
      return text;
    });
    this.lastActivity = Date.now();
    const list = JSON.parse(body) as { start: number; length: number; zero: boolean; hole?: boolean }[];
    return list.map((e) => ({ offset: Number(e.start), length: Number(e.length), zero: Boolean(e.zero) }));
  }

  /**
   * Reads [offset, offset+length) with a ranged GET. A 5xx, a dropped
   * connection or a short body is retried (with backoff) from the last byte
   * received, so a retry never refetches what already arrived.
   */
  async read(offset: number, length: number, signal?: AbortSignal): Promise<Buffer> {
    const len = Math.max(0, Math.min(length, this.size - offset));
    const out = Buffer.allocUnsafe(len);
    if (len === 0) return out;
    await this.acquire();
    try {
      let got = 0;
      let failures = 0;
      while (got < len) {
        signal?.throwIfAborted();
        const from = offset + got;
        try {
          this.stats.reads++;
          const res = await request(this.dataUrl, {
            method: 'GET',
            dispatcher: this.agent,
            headers: { range: `bytes=${from}-${offset + len - 1}` },
            ...(signal ? { signal } : {}),
          });
          if (res.statusCode !== 206 && res.statusCode !== 200) {
            const text = await res.body.text().catch(() => '');
            throw new HttpStatusError(res.statusCode, text);
          }
          // A server that ignores Range answers 200 with the whole image: skip to our offset.
          let skip = res.statusCode === 200 ? from : 0;
          for await (const chunk of res.body as AsyncIterable<Buffer>) {
            let c = chunk;
            if (skip > 0) {
              if (c.length <= skip) {
                skip -= c.length;
                continue;
              }
              c = c.subarray(skip);
              skip = 0;
            }
            const n = Math.min(c.length, len - got);
            c.copy(out, got, 0, n);
            got += n;
            this.stats.bytesRead += n;
            if (got >= len) break;
          }
          if (got < len) throw new ShortReadError(from, got - (from - offset));
          this.lastActivity = Date.now();
        } catch (e) {
          if (signal?.aborted) throw e;
          const progressed = offset + got > from;
          if (progressed) failures = 0;
          failures++;
          if (!isRetryable(e) || failures > this.options.maxRetries) throw await this.readError(e, offset + got, failures);
          this.stats.retries++;
          await sleep(this.options.retryBackoffMs * 2 ** Math.min(failures - 1, 6));
        }
      }
      return out;
    } finally {
      this.release();
    }
  }

  private async withRetries<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (!isRetryable(e) || attempt > this.options.maxRetries) throw await this.readError(e, 0, attempt, what);
        this.stats.retries++;
        await sleep(this.options.retryBackoffMs * 2 ** Math.min(attempt - 1, 6));
      }
    }
  }

  private async readError(e: unknown, offset: number, attempts: number, what = `read at offset ${offset}`): Promise<OvirtError> {
    if (e instanceof HttpStatusError) {
      const gone = e.status === 403 || e.status === 404;
      return new OvirtError('TRANSFER_FAILED', `imageio ${what}: HTTP ${e.status} after ${attempts} attempt(s) from ${redactUrl(this.dataUrl.origin)}`, {
        cause: e,
        hint: gone
          ? 'the transfer ticket is gone (expired, paused or cancelled on the engine); start the copy again'
          : 'the imageio daemon failed repeatedly; check the host and its storage',
        details: { offset, status: e.status, transferId: this.transfer.id },
      });
    }
    if (e instanceof ShortReadError) {
      return new OvirtError('TRANSFER_FAILED', `imageio ${what}: the connection kept ending early (${attempts} attempts)`, {
        cause: e,
        details: { offset, transferId: this.transfer.id },
      });
    }
    const named = await transportError(e, this.dataUrl, `imageio ${what}`);
    return new OvirtError('TRANSFER_FAILED', named.message, {
      cause: e,
      ...(named.hint ? { hint: named.hint } : {}),
      details: { offset, transferId: this.transfer.id, transport: named.code },
    });
  }

  private async acquire(): Promise<void> {
    if (this.active < this.maxReaders) {
      this.active++;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
  }

  private release(): void {
    this.active--;
    this.waiting.shift()?.();
  }

  /** `finalize` after a good copy (waits for finished_success), `cancel` otherwise. Idempotent. */
  close(ok: boolean): Promise<void> {
    this.closing ??= this.end(ok);
    return this.closing;
  }

  private async end(ok: boolean): Promise<void> {
    if (this.renewTimer) clearInterval(this.renewTimer);
    try {
      if (!ok) {
        // The caller is already handling a failure: a failed cancel must not replace that error.
        // The engine still ends the transfer itself after its inactivity timeout.
        await this.services.imageTransfers.cancel(this.transfer.id).catch((e: unknown) => {
          this.cancelError = e;
        });
        return;
      }
      await this.services.imageTransfers.finalize(this.transfer.id);
      const deadline = Date.now() + this.options.finalizeTimeoutMs;
      for (;;) {
        const t = await this.services.imageTransfers.get(this.transfer.id).catch((e: unknown) => {
          // The engine removes a finished transfer after a while: gone after finalize is success.
          if ((e as { code?: string }).code === 'SOURCE_OBJECT_NOT_FOUND') return undefined;
          throw e;
        });
        if (!t || t.phase === 'finished_success') return;
        if (TERMINAL_FAILURE.has(t.phase)) {
          throw new OvirtError('TRANSFER_FAILED', `image transfer ${this.transfer.id} ended in phase ${t.phase} after finalize`, {
            hint: 'the engine could not verify or close the image; see the engine events for the disk',
          });
        }
        if (Date.now() > deadline) {
          throw new OvirtError('TRANSFER_STALLED', `image transfer ${this.transfer.id} still in phase ${t.phase} ${this.options.finalizeTimeoutMs} ms after finalize`, {
            hint: 'see the transfer in the engine; it may need to be cancelled by hand',
          });
        }
        await sleep(this.options.pollIntervalMs);
      }
    } finally {
      await this.agent.close().catch(() => undefined);
    }
  }
}

async function waitForTransferring(
  services: OvirtServices,
  created: ImageTransfer,
  options: { readyTimeoutMs: number; pollIntervalMs: number },
  signal: AbortSignal | undefined,
): Promise<ImageTransfer> {
  const started = Date.now();
  let transfer = created;
  for (;;) {
    signal?.throwIfAborted();
    if (transfer.phase === 'transferring') return transfer;
    if (TERMINAL_FAILURE.has(transfer.phase) || transfer.phase === 'paused_system' || transfer.phase === 'paused_user') {
      throw new OvirtError('TRANSFER_FAILED', `image transfer ${transfer.id} went to phase ${transfer.phase} before transferring`, {
        hint: 'see the engine events for the disk (is it locked, or is no host able to serve it?)',
        details: { phase: transfer.phase },
      });
    }
    if (Date.now() - started > options.readyTimeoutMs) {
      throw new OvirtError('TRANSFER_STALLED', `image transfer ${transfer.id} stayed in phase ${transfer.phase} for ${options.readyTimeoutMs} ms`, {
        hint: 'the engine could not prepare the disk on a host (host down, storage domain inactive?); the transfer was cancelled',
        details: { phase: transfer.phase },
      });
    }
    await sleep(options.pollIntervalMs, undefined, signal ? { signal } : {}).catch(() => signal?.throwIfAborted());
    transfer = await services.imageTransfers.get(transfer.id);
  }
}

async function imageioOptions(agent: Dispatcher, url: URL): Promise<{ features: string[]; maxReaders?: number }> {
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, { method: 'OPTIONS', dispatcher: agent });
  } catch (cause) {
    throw await transportError(cause, url, 'imageio OPTIONS');
  }
  const text = await res.body.text();
  if (res.statusCode !== 200) {
    throw new OvirtError('TRANSFER_FAILED', `imageio OPTIONS ${url.origin}: HTTP ${res.statusCode}`, { hint: 'the imageio daemon refused the ticket' });
  }
  try {
    const doc = JSON.parse(text) as { features?: string[]; max_readers?: number };
    return { features: doc.features ?? [], ...(doc.max_readers !== undefined ? { maxReaders: Number(doc.max_readers) } : {}) };
  } catch {
    // An old daemon without an OPTIONS document: no extents, one reader.
    return { features: [] };
  }
}

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`);
  }
}

class ShortReadError extends Error {
  constructor(offset: number, received: number) {
    super(`the body ended after ${received} bytes of a range starting at ${offset}`);
  }
}

function isRetryable(e: unknown): boolean {
  if (e instanceof HttpStatusError) return e.status >= 500 || e.status === 429;
  if (e instanceof ShortReadError) return true;
  const code = (e as { code?: string })?.code ?? (e as { cause?: { code?: string } })?.cause?.code;
  return typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|UND_ERR_SOCKET|UND_ERR_CLOSED|UND_ERR_BODY_TIMEOUT|UND_ERR_HEADERS_TIMEOUT)$/.test(code);
}
