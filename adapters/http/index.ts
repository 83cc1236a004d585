// HTTP/HTTPS disk source (CDI `source.http`): ranged reads when the server
// offers them, a stream otherwise; basic auth from the endpoint Secret; a
// custom CA; the proxy environment.
import { request, type Dispatcher } from 'undici';
import { SNIFF_BYTES, detectCompression, detectFormat, needsConversion } from '../../src/copy/format.js';
import type { DiskSource, ImageFormat, RandomAccessSource, StreamSource } from '../../src/copy/source.js';
import { registerSecret, redactUrl } from '../../src/redact.js';
import { basicAuth, makeDispatcher, statusError, transportError } from '../../src/net/http-transport.js';

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
}

type Body = Dispatcher.ResponseData['body'];

async function drain(body: Body): Promise<void> {
  try {
    body.destroy();
  } catch {
    // nothing to release
  }
}

async function readAll(body: Body, expected: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(expected);
  let fill = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
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

export async function openHttpSource(options: HttpSourceOptions): Promise<DiskSource> {
  const url = options.url;
  const shown = redactUrl(url);
  if (options.password) registerSecret(options.password);
  const dispatcher =
    options.dispatcher ?? makeDispatcher({ ...(options.ca ? { ca: options.ca } : {}), ...(options.insecureSkipVerify ? { insecureSkipVerify: true } : {}) }, options.env);
  const auth: Record<string, string> = options.username !== undefined && options.password !== undefined ? { authorization: basicAuth(options.username, options.password) } : {};

  const get = async (range: string | undefined, signal?: AbortSignal) => {
    try {
      return await request(url, { method: 'GET', dispatcher, headers: { ...auth, ...(range ? { range } : {}), 'accept-encoding': 'identity' }, ...(signal ? { signal } : {}) });
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw await transportError(e, url);
    }
  };

  const probe = await get(`bytes=0-${SNIFF_BYTES - 1}`);
  if (probe.statusCode !== 200 && probe.statusCode !== 206) {
    await drain(probe.body);
    throw statusError(probe.statusCode, url);
  }
  const ranged = probe.statusCode === 206;
  const size = ranged
    ? totalFromContentRange(probe.headers['content-range'])
    : header(probe.headers, 'content-length') !== undefined
      ? Number(header(probe.headers, 'content-length'))
      : undefined;
  const head = await readAll(probe.body, ranged ? Math.min(SNIFF_BYTES, size ?? SNIFF_BYTES) : SNIFF_BYTES).catch(async (e: unknown) => {
    throw await transportError(e, url);
  });
  if (!ranged) await drain(probe.body);
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
      async read(offset, length, signal) {
        const end = Math.min(offset + length, size) - 1;
        const res = await get(`bytes=${offset}-${end}`, signal);
        if (res.statusCode !== 206) {
          await drain(res.body);
          throw statusError(res.statusCode, url);
        }
        try {
          return await readAll(res.body, end - offset + 1);
        } catch (e) {
          if (signal?.aborted) throw signal.reason;
          throw await transportError(e, url);
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
        await drain(res.body);
        throw statusError(res.statusCode, url);
      }
      return res.body;
    },
    close,
  };
  return stream;
}
