// An upload endpoint speaking the CDI upload server's paths, as a disk
// source: `v2v import --upload` listens, a client (virtctl image-upload, curl)
// sends the image, the engine copies it as it arrives.
//   POST|PUT /v1beta1/upload           body = image; answered when the import is done
//   POST|PUT /v1beta1/upload-async     body = image; answered when the body is received
//   POST     /v1beta1/upload-form      multipart/form-data, field "file"; answered when done
//   POST     /v1beta1/upload-form-async
//   (and the /v1alpha1/ aliases), GET /healthz
// Every upload needs `Authorization: Bearer <token>`.
import { timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import type { StreamSource } from '../../src/copy/source.js';
import { V2vError } from '../../src/errors.js';
import { registerSecret } from '../../src/redact.js';

export interface UploadServerOptions {
  host?: string;
  port?: number;
  token: string;
  /** PEM certificate and key: serve HTTPS. */
  tls?: { cert: string; key: string };
}

export interface UploadEndpoint {
  url: string;
  source: StreamSource;
  /** Answers a waiting synchronous upload with the import's outcome. */
  finish(error?: unknown): void;
  close(): Promise<void>;
}

const PATHS: Record<string, { form: boolean; async: boolean }> = {
  '/v1alpha1/upload': { form: false, async: false },
  '/v1beta1/upload': { form: false, async: false },
  '/v1alpha1/upload-async': { form: false, async: true },
  '/v1beta1/upload-async': { form: false, async: true },
  '/v1alpha1/upload-form': { form: true, async: false },
  '/v1beta1/upload-form': { form: true, async: false },
  '/v1alpha1/upload-form-async': { form: true, async: true },
  '/v1beta1/upload-form-async': { form: true, async: true },
};

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
  if (!m) return false;
  const a = Buffer.from(m[1]!.trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Extracts the part named `file` from a multipart/form-data body as a stream,
 * without buffering the image: the boundary is searched across chunk edges.
 */
export function multipartFile(body: AsyncIterable<Buffer>, boundary: string): Readable {
  const out = new PassThrough();
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  void (async () => {
    let buf: Buffer = Buffer.alloc(0);
    let state: 'preamble' | 'headers' | 'data' | 'skip' | 'done' = 'preamble';
    const first = Buffer.from(`--${boundary}`);
    try {
      for await (const chunk of body) {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        for (;;) {
          if (state === 'preamble') {
            const i = buf.indexOf(first);
            if (i === -1) break;
            buf = buf.subarray(i + first.length);
            state = 'headers';
          } else if (state === 'headers') {
            const end = buf.indexOf('\r\n\r\n');
            if (end === -1) break;
            const headers = buf.subarray(0, end).toString('utf8');
            buf = buf.subarray(end + 4);
            state = /name="file"/i.test(headers) ? 'data' : 'skip';
          } else if (state === 'data' || state === 'skip') {
            const i = buf.indexOf(delimiter);
            if (i === -1) {
              // Keep a tail that could be the start of the delimiter.
              const keep = Math.min(buf.length, delimiter.length - 1);
              const emit = buf.subarray(0, buf.length - keep);
              if (state === 'data' && emit.length && !out.write(emit)) await new Promise((r) => out.once('drain', r));
              buf = buf.subarray(buf.length - keep);
              break;
            }
            if (state === 'data') {
              out.end(buf.subarray(0, i));
              state = 'done';
            } else {
              buf = buf.subarray(i + delimiter.length);
              state = 'headers';
            }
          } else break;
        }
      }
      if (state !== 'done')
        out.destroy(
          new V2vError('UPLOAD_INVALID', state === 'data' ? 'the form upload ended before its closing boundary' : 'the form upload has no "file" field', {
            details: { transient: state === 'data' },
          }),
        );
    } catch (e) {
      out.destroy(e as Error);
    }
  })();
  return out;
}

export async function startUploadServer(options: UploadServerOptions): Promise<UploadEndpoint> {
  registerSecret(options.token);
  type Pending = { stream: Readable; res: ServerResponse; async: boolean };
  let waiting: ((p: Pending) => void) | undefined;
  let queued: Pending | undefined;
  let current: Pending | undefined;
  let busy = false;

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (req.method === 'GET' && path === '/healthz') {
      res.end('OK');
      return;
    }
    const route = PATHS[path];
    if (!route) {
      res.writeHead(404).end('not an upload path\n');
      return;
    }
    if (req.method !== 'POST' && req.method !== 'PUT') {
      res.writeHead(405, { allow: 'POST, PUT' }).end();
      return;
    }
    if (!tokenMatches(req.headers.authorization, options.token)) {
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end('invalid or missing upload token\n');
      return;
    }
    if (busy) {
      req.resume();
      res.writeHead(503).end('an upload is already in progress\n');
      return;
    }
    let stream: Readable = req;
    if (route.form) {
      const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(req.headers['content-type'] ?? '');
      if (!m) {
        req.resume();
        res.writeHead(400).end('multipart/form-data with a boundary expected\n');
        return;
      }
      stream = multipartFile(req, (m[1] ?? m[2])!.trim());
    }
    busy = true;
    const pending: Pending = { stream, res, async: route.async };
    if (route.async) {
      // Answered once the whole body is in.
      req.on('end', () => {
        if (!res.headersSent) res.writeHead(200).end();
      });
    }
    req.on('close', () => {
      if (!req.complete) stream.destroy(Object.assign(new Error('the upload client disconnected'), { code: 'ECONNRESET' }));
    });
    if (waiting) {
      const w = waiting;
      waiting = undefined;
      w(pending);
    } else queued = pending;
  };

  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler) : createHttpServer(handler);
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const url = `${options.tls ? 'https' : 'http'}://${addr.address}:${addr.port}`;

  const answer = (error?: unknown) => {
    const p = current;
    current = undefined;
    busy = false;
    if (!p || p.res.headersSent) return;
    if (error === undefined) p.res.writeHead(200).end();
    else {
      const status = error instanceof V2vError && /^(IMAGE_|TARGET_TOO_SMALL)/.test(error.code) ? 400 : 500;
      p.res
        .writeHead(status, { 'content-type': 'text/plain' })
        .end(`${error instanceof V2vError ? `${error.code}: ` : ''}${error instanceof Error ? error.message : String(error)}\n`);
    }
  };

  const source: StreamSource = {
    kind: 'stream',
    description: `upload ${url}`,
    resumable: false,
    open(_offset, signal) {
      if (current) {
        // A retry after a failed upload: the next upload replaces it.
        answer(new Error('the upload failed; send it again'));
      }
      const take = (p: Pending) => {
        current = p;
        return p.stream;
      };
      if (queued) {
        const q = queued;
        queued = undefined;
        return Promise.resolve(take(q));
      }
      return new Promise((resolve, reject) => {
        waiting = (p) => resolve(take(p));
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    },
    async close(ok) {
      // A failure is answered by finish(error), which knows the error.
      if (current && ok) answer();
    },
  };

  return {
    url,
    source,
    finish: answer,
    async close() {
      if (current) answer(new Error('the import stopped'));
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
