// A real HTTP/HTTPS file server on 127.0.0.1 for import tests: byte ranges
// (switchable), basic auth, a one-time connection drop, and throttling.
import { createReadStream, statSync } from 'node:fs';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface ImageServerOptions {
  root: string;
  ranges?: boolean;
  basicAuth?: { username: string; password: string };
  tls?: { cert: string; key: string };
  /** Per file name: drop the connection once after this fraction of the body. */
  dropOnceAt?: Record<string, number>;
  /** Bytes per second for every response (0 = unlimited). */
  throttle?: number;
}

export interface ImageServer {
  url: string;
  /** The live options: tests may change throttle or drops between requests. */
  options: ImageServerOptions;
  requests: { path: string; range?: string; status: number }[];
  close(): Promise<void>;
}

function throttled(bytesPerSecond: number): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      let pos = 0;
      const step = Math.max(1024, Math.floor(bytesPerSecond / 20));
      const push = () => {
        if (pos >= chunk.length) return done();
        this.push(chunk.subarray(pos, pos + step));
        pos += step;
        setTimeout(push, 50);
      };
      push();
    },
  });
}

export async function startImageServer(o: ImageServerOptions): Promise<ImageServer> {
  const requests: ImageServer['requests'] = [];
  const dropped = new Set<string>();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const name = decodeURIComponent((req.url ?? '/').split('?')[0]!.slice(1));
    const log = (status: number) => requests.push({ path: name, ...(req.headers.range ? { range: req.headers.range } : {}), status });
    if (o.basicAuth) {
      const expected = `Basic ${Buffer.from(`${o.basicAuth.username}:${o.basicAuth.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        log(401);
        res.writeHead(401, { 'www-authenticate': 'Basic realm="images"' }).end();
        return;
      }
    }
    let size: number;
    try {
      size = statSync(join(o.root, name)).size;
    } catch {
      log(404);
      res.writeHead(404).end();
      return;
    }
    let start = 0;
    let end = size - 1;
    let status = 200;
    const m = o.ranges !== false && req.headers.range ? /^bytes=(\d+)-(\d*)$/.exec(req.headers.range) : null;
    if (m) {
      start = Number(m[1]);
      end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
      status = 206;
    }
    const length = end - start + 1;
    log(status);
    res.writeHead(status, {
      'content-length': String(length),
      'content-type': 'application/octet-stream',
      ...(o.ranges !== false ? { 'accept-ranges': 'bytes' } : {}),
      ...(status === 206 ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
      etag: `"${size}"`,
    });
    const drop = o.dropOnceAt?.[name];
    // Drop once, inside the body that covers the chosen offset (never the 32 KiB format probe).
    if (drop !== undefined && !dropped.has(name) && length > 64 * 1024) {
      const cut = Math.floor(size * drop) - start;
      if (cut > 0 && cut < length) {
        const stream = createReadStream(join(o.root, name), { start, end: start + cut - 1 });
        stream.pipe(res, { end: false });
        stream.on('end', () => {
          // Only a body that really reached the cut counts as the one drop.
          dropped.add(name);
          setTimeout(() => res.socket?.destroy(), 20);
        });
        return;
      }
    }
    const file = createReadStream(join(o.root, name), { start, end });
    const chain = o.throttle ? pipeline(file, throttled(o.throttle), res) : pipeline(file, res);
    chain.catch(() => undefined);
  };
  const server: Server = o.tls ? createHttps({ cert: readFileSync(o.tls.cert), key: readFileSync(o.tls.key) }, handler) : createHttp(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${o.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    options: o,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
