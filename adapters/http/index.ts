// HTTP/HTTPS disk source (CDI `source.http`): ranged reads when the server
// offers them, a stream otherwise; basic auth from the endpoint Secret; a
// custom CA; the proxy environment; redirects within the same scheme.
import { request, type Dispatcher } from 'undici';
import { CopyError } from '../../src/copy/errors.js';
import { SNIFF_BYTES, detectCompression, detectFormat, needsConversion } from '../../src/copy/format.js';
import type { DiskSource, ImageFormat, RandomAccessSource, StreamSource } from '../../src/copy/source.js';
import { SourceError } from '../../src/errors.js';
import { registerSecret, redactUrl } from '../../src/redact.js';
import { ANSWER_DEADLINE_MS, basicAuth, discard, makeDispatcher, redirectTarget, statusError, transportError } from '../../src/net/http-transport.js';

export interface HttpSourceOptions {
  url: string;
  /** Basic auth (the endpoint Secret's accessKeyId / secretKey). */
  username?: string;
  password?: string;
  /** PEM CA bundle that signs the server certificate. */
  ca?: string;
  insecureSkipVerify?: boolean;
  env?: Readonly<NodeJS.ProcessEnv>;
  dispatcher?: Dispatcher;
  /** How long the server may take to begin an answer (default 60 s); with `dispatcher`, say what it was given. */
  answerDeadlineMs?: number;
  /** Stops the first request (the format probe); later ones get the copy's own signal. */
  signal?: AbortSignal;
}

type Body = Dispatcher.ResponseData['body'];

const MAX_REDIRECTS = 5;

async function readAll(body: Body, expected: number, onBytes: (n: number) => void = () => undefined): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(expected);
  let fill = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    onBytes(chunk.length);
    const n = Math.min(chunk.length, expected - fill);
    chunk.copy(buf, fill, 0, n);
    fill += n;
    // A server without ranges sends everything: stop (and close) once we have what we asked for.
    if (fill === expected) break;
  }
  return fill === expected ? buf : buf.subarray(0, fill);
}

/** `bytes 0-32767/1073741824` → 1073741824 */
export function totalFromContentRange(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  const m = v ? /^bytes\s+\d+-\d+\/(\d+)$/i.exec(v.trim()) : null;
  return m ? Number(m[1]) : undefined;
}

function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A web page where an image was expected: a login, a download page, a soft 404. */
function isWebPage(contentType: string | undefined, head: Buffer): boolean {
  if (detectCompression(head) !== 'none' || detectFormat(head) !== 'raw') return false; // the content proves it is an image
  if (contentType && /^\s*(text\/html|application\/xhtml\+xml)\b/i.test(contentType)) return true;
  return /^(\xef\xbb\xbf)?\s*<(!doctype\s+html|html[\s>])/i.test(head.subarray(0, 512).toString('latin1'));
}

export async function openHttpSource(options: HttpSourceOptions): Promise<DiskSource> {
  const url = options.url;
  const shown = redactUrl(url);
  if (options.password) registerSecret(options.password);
  const answerMs = options.answerDeadlineMs ?? ANSWER_DEADLINE_MS;
  const tls = { ...(options.ca ? { ca: options.ca } : {}), ...(options.insecureSkipVerify ? { insecureSkipVerify: true } : {}) };
  const dispatcher = options.dispatcher ?? makeDispatcher(tls, options.env, answerMs);
  const auth: Record<string, string> = options.username !== undefined && options.password !== undefined ? { authorization: basicAuth(options.username, options.password) } : {};
  const origin = new URL(url).origin;
  let received = 0;

  /** GET, following redirects within the scheme; the credentials go only to the URL's own origin. */
  const get = async (range: string | undefined, signal?: AbortSignal, extra: Partial<Dispatcher.RequestOptions> = {}): Promise<Dispatcher.ResponseData> => {
    let at = url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      let res: Dispatcher.ResponseData;
      try {
        res = await request(at, {
          method: 'GET',
          dispatcher,
          headers: { ...(new URL(at).origin === origin ? auth : {}), ...(range ? { range } : {}), 'accept-encoding': 'identity' },
          ...(signal ? { signal } : {}),
          ...extra,
        });
      } catch (e) {
        if (signal?.aborted) throw signal.reason;
        throw await transportError(e, at, answerMs);
      }
      // Whoever drops this body later (a consumer that stops early, an error path) must not crash the process.
      res.body.on('error', () => undefined);
      const next = redirectTarget(res.statusCode, res.headers['location'], at);
      if (next === undefined) return res;
      discard(res.body);
      at = next;
    }
    throw new SourceError('SOURCE_FAILED', `${shown} redirects more than ${MAX_REDIRECTS} times`, { hint: 'check the URL', details: { url: shown } });
  };

  try {
    // Silence inside the probe's body is bounded too: the copy engine's stall timer is not running yet.
    const probe = await get(`bytes=0-${SNIFF_BYTES - 1}`, options.signal, { bodyTimeout: answerMs });
    if (probe.statusCode !== 200 && probe.statusCode !== 206) {
      discard(probe.body);
      throw statusError(probe.statusCode, url);
    }
    const ranged = probe.statusCode === 206;
    const size = ranged
      ? totalFromContentRange(probe.headers['content-range'])
      : header(probe.headers, 'content-length') !== undefined
        ? Number(header(probe.headers, 'content-length'))
        : undefined;
    const head = await readAll(probe.body, ranged ? Math.min(SNIFF_BYTES, size ?? SNIFF_BYTES) : SNIFF_BYTES).catch(async (e: unknown) => {
      if (options.signal?.aborted) throw options.signal.reason;
      throw await transportError(e, url, answerMs);
    });
    if (!ranged) discard(probe.body);
    const contentType = header(probe.headers, 'content-type');
    if (isWebPage(contentType, head)) {
      throw new CopyError('IMAGE_NOT_A_DISK', `${shown} is a web page${contentType ? ` (${contentType.split(';')[0]!.trim()})` : ''}, not a disk image`, {
        hint: 'the URL leads to a page (a login, a download page, an error): give the direct link to the image file',
        details: { url: shown, ...(contentType ? { contentType } : {}) },
      });
    }
    const etag = header(probe.headers, 'etag') ?? header(probe.headers, 'last-modified') ?? '';
    const identity = `${shown}|${size ?? '?'}|${etag}`;
    const close = async () => {
      // destroy, not close: close() waits for a body the engine may have stopped reading.
      await dispatcher.destroy().catch(() => undefined);
    };

    const compressed = detectCompression(head) !== 'none';
    const format: ImageFormat = compressed ? 'unknown' : detectFormat(head);
    if (ranged && size !== undefined && !compressed && !needsConversion(format)) {
      const source: RandomAccessSource = {
        kind: 'random',
        description: shown,
        size,
        format,
        identity,
        retryable: true,
        get bytesReceived() {
          return received;
        },
        async read(offset, length, signal) {
          const end = Math.min(offset + length, size) - 1;
          const res = await get(`bytes=${offset}-${end}`, signal);
          if (res.statusCode !== 206) {
            discard(res.body);
            throw statusError(res.statusCode, url);
          }
          try {
            return await readAll(res.body, end - offset + 1, (n) => (received += n));
          } catch (e) {
            if (signal?.aborted) throw signal.reason;
            throw await transportError(e, url, answerMs);
          }
        },
        close,
      };
      return source;
    }
    const stream: StreamSource = {
      kind: 'stream',
      description: shown,
      ...(size !== undefined ? { size } : {}),
      ...(compressed ? {} : { format }),
      identity,
      resumable: ranged,
      async open(offset, signal) {
        const res = await get(offset > 0 ? `bytes=${offset}-` : undefined, signal);
        const okStatus = offset > 0 ? 206 : 200;
        if (res.statusCode !== okStatus) {
          discard(res.body);
          throw statusError(res.statusCode, url);
        }
        return res.body;
      },
      close,
    };
    return stream;
  } catch (e) {
    await dispatcher.destroy().catch(() => undefined);
    throw e;
  }
}
