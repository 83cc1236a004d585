// The import data path against hostile servers and images: bombs and a full
// volume with a decompressor running (no child left, no hang), servers that
// connect and never answer, every error status, redirects to another scheme,
// a web page where a disk was expected, and a stall after data arrived.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { makePki } from '../../helpers/certs.js';
import { startImageServer } from '../../helpers/image-server.js';
import { makeTar } from '../../helpers/registry.js';
import type { HostileCase, HostileContext } from '../harness.js';

const MiB = 2 ** 20;
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A real HTTP(S) server on loopback for one case; `ca` is the CA file a client must trust. */
async function serve(ctx: HostileContext, handler: Handler, options: { tls?: boolean } = {}): Promise<{ url: string; ca?: string }> {
  let server: Server;
  let ca: string | undefined;
  if (options.tls) {
    const pki = makePki('v2v-hostile-net');
    ctx.defer(() => rmSync(pki.dir, { recursive: true, force: true }));
    server = createHttps({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) }, handler);
    ca = pki.caCert;
  } else server = createHttp(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  ctx.defer(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`, ...(ca ? { ca } : {}) };
}

/** Serves `data` at any path, with or without byte ranges, as a file server would. */
function fileHandler(data: Buffer, ranges: boolean, contentType: string | null = 'application/octet-stream'): Handler {
  return (req, res) => {
    const m = ranges && req.headers.range ? /^bytes=(\d+)-(\d*)$/.exec(req.headers.range) : null;
    const start = m ? Number(m[1]) : 0;
    const end = m && m[2] ? Math.min(Number(m[2]), data.length - 1) : data.length - 1;
    res.writeHead(m ? 206 : 200, {
      ...(contentType ? { 'content-type': contentType } : {}),
      'content-length': String(end - start + 1),
      ...(m ? { 'content-range': `bytes ${start}-${end}/${data.length}` } : {}),
    });
    res.end(data.subarray(start, end + 1));
  };
}

function xz(data: Buffer): Buffer {
  const r = spawnSync('xz', ['-0', '-T2', '-c'], { input: data, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`xz failed: ${r.stderr.toString()}`);
  return r.stdout;
}

// ---- item 5: no hang, ever ------------------------------------------------

type Transport = 'file' | 'http' | 'http-no-ranges';
const TRANSPORTS: Transport[] = ['file', 'http', 'http-no-ranges'];

/** Where the CLI reads `data` from: a local file, or a loopback server with or without byte ranges. */
async function place(ctx: HostileContext, data: Buffer, transport: Transport, name: string): Promise<string> {
  const path = join(ctx.inputs, name);
  writeFileSync(path, data);
  if (transport === 'file') return `file://${path}`;
  return `${(await serve(ctx, fileHandler(data, transport === 'http'))).url}/${name}`;
}

// xz is the decompressor that runs as a child process: each case ends with an error while it still
// has output for a reader that has stopped reading (zlib runs in-process and is covered by import-faults).

/** Far more than the 16 MiB target once decoded, tiny on the wire. */
const bombCases: HostileCase[] = TRANSPORTS.map((transport): HostileCase => ({
  id: `net.bomb-xz-${transport}`,
  item: '5',
  what: `an xz bomb (64 MiB of zeros) over ${transport} into a 16 MiB volume`,
  setup: async (ctx) => ({ args: ['import', '--url', await place(ctx, xz(Buffer.alloc(64 * MiB)), transport, 'bomb.raw.xz'), '--target', ctx.target, '--size', '16Mi'] }),
  expect: { code: 'IMAGE_TOO_LARGE', exit: 1, deadlineMs: 30_000 },
}));

/**
 * A registry (plain HTTP, so `--insecure-registry`) serving one image with one layer; `blob` answers
 * the layer's request (by default with the layer).
 */
async function fakeRegistry(ctx: HostileContext, layer: Buffer, blob?: Handler): Promise<string> {
  const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
  const compressed = layer[0] === 0xfd ? '+xz' : layer[0] === 0x1f ? '+gzip' : '';
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(config), size: config.length },
    layers: [{ mediaType: `application/vnd.oci.image.layer.v1.tar${compressed}`, digest: digest(layer), size: layer.length }],
  });
  const { url } = await serve(ctx, (req, res) => {
    if (req.url?.includes('/manifests/')) res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(manifest);
    else if (req.url?.endsWith(digest(layer))) (blob ?? ((_q, r) => r.writeHead(200, { 'content-length': String(layer.length) }).end(layer)))(req, res);
    else res.writeHead(404).end();
  });
  return new URL(url).host;
}

/** A containerDisk whose xz layer holds a bomb: the layer's own decompressor must end too. */
const registryBomb: HostileCase = {
  id: 'net.bomb-registry-xz-layer',
  item: '5',
  what: 'a containerDisk whose xz-compressed layer holds 64 MiB of zeros, into a 16 MiB volume',
  setup: async (ctx) => {
    const host = await fakeRegistry(ctx, xz(makeTar([{ name: 'disk/disk.img', data: Buffer.alloc(64 * MiB) }])));
    return { args: ['import', '--url', `docker://${host}/bomb:latest`, '--insecure-registry', host, '--target', ctx.target, '--size', '16Mi'] };
  },
  // The disk inside the layer is a plain stream of unknown size: it outgrows the target.
  expect: { code: 'TARGET_TOO_SMALL', exit: 1, deadlineMs: 30_000 },
};

/** The volume fills up while xz is still sending: TARGET_WRITE_FAILED, then the end. */
const fullVolumeCases: HostileCase[] = TRANSPORTS.map((transport): HostileCase => ({
  id: `net.enospc-xz-${transport}`,
  item: '5',
  what: `an xz image of 16 MiB of data over ${transport} into an 8 MiB tmpfs that claims to be a 64 MiB volume`,
  setup: async (ctx) => {
    const url = await place(ctx, xz(randomBytes(16 * MiB)), transport, 'disk.raw.xz');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', ctx.target]);
    ctx.defer(() => execFileSync('umount', ['-l', ctx.target]));
    return { args: ['import', '--url', url, '--target', ctx.target, '--size', '64Mi'] };
  },
  expect: { code: 'TARGET_WRITE_FAILED', exit: 1, stderr: /ENOSPC/, deadlineMs: 30_000 },
}));

/** Connects (TLS completes), reads the request, and never answers: a named error after the answer deadline. */
const silentServerCases: HostileCase[] = [
  {
    id: 'net.tls-server-never-answers',
    item: '5',
    what: 'an HTTPS server that completes TLS and reads the request, then never answers',
    setup: async (ctx) => {
      const { url, ca } = await serve(ctx, () => undefined, { tls: true });
      return { args: ['import', '--url', `${url}/disk.img`, '--ca', ca!, '--target', ctx.target, '--size', '16Mi'] };
    },
    expect: { code: 'SOURCE_NOT_RESPONDING', exit: 1, stderr: /accepted the connection but did not answer within 60 s/, deadlineMs: 90_000 },
  },
  {
    id: 'net.server-answers-headers-then-silence',
    item: '5',
    what: 'an HTTP server that sends the headers of a 64 MiB image and then no byte of it',
    setup: async (ctx) => {
      const { url } = await serve(ctx, (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(64 * MiB) });
        res.flushHeaders();
      });
      return { args: ['import', '--url', `${url}/disk.img`, '--target', ctx.target, '--size', '64Mi'] };
    },
    expect: { code: 'SOURCE_NOT_RESPONDING', exit: 1, stderr: /began to answer, then sent nothing within 60 s/, deadlineMs: 90_000 },
  },
];

// ---- item 6: no stack traces; redirects ------------------------------------

const STATUS_CODES: Record<number, string> = {
  400: 'SOURCE_FAILED',
  401: 'SOURCE_AUTH_FAILED',
  403: 'SOURCE_AUTH_FAILED',
  404: 'SOURCE_NOT_FOUND',
  405: 'SOURCE_FAILED',
  410: 'SOURCE_FAILED',
  429: 'SOURCE_FAILED',
  500: 'SOURCE_FAILED',
  502: 'SOURCE_FAILED',
  503: 'SOURCE_FAILED',
  504: 'SOURCE_FAILED',
};

/** An error page with a body, as real servers send (the body is what used to crash the process). */
function errorPage(status: number): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/html' });
    res.end(`<html><body><h1>${status}</h1>${'x'.repeat(4096)}</body></html>`);
  };
}

const statusCases: HostileCase[] = [
  ...Object.entries(STATUS_CODES).map(([status, code]): HostileCase => ({
    id: `net.status-${status}`,
    item: '6',
    what: `the server answers the first request with HTTP ${status} and an error page`,
    setup: async (ctx) => {
      const { url } = await serve(ctx, errorPage(Number(status)));
      return { args: ['import', '--url', `${url}/disk.img`, '--target', ctx.target, '--size', '16Mi'] };
    },
    expect: { code, exit: 1, stderr: new RegExp(`HTTP ${status}`), deadlineMs: 20_000 },
  })),
  ...[403, 503].map((status): HostileCase => ({
    id: `net.status-${status}-https`,
    item: '6',
    what: `an HTTPS server answers HTTP ${status}`,
    setup: async (ctx) => {
      const { url, ca } = await serve(ctx, errorPage(status), { tls: true });
      return { args: ['import', '--url', `${url}/disk.img`, '--ca', ca!, '--target', ctx.target, '--size', '16Mi'] };
    },
    expect: { code: STATUS_CODES[status]!, exit: 1, deadlineMs: 20_000 },
  })),
  // The first request (the format probe) succeeds; the copy's own requests fail.
  ...([403, 404, 500] as const).flatMap((status) =>
    ([true, false] as const).map((ranges): HostileCase => ({
      id: `net.status-${status}-mid-copy-${ranges ? 'ranged' : 'stream'}`,
      item: '6',
      what: `the server sends the image's first bytes, then answers HTTP ${status} (${ranges ? 'ranged reads' : 'a stream without ranges'})`,
      setup: async (ctx) => {
        const image = randomBytes(8 * MiB);
        const good = fileHandler(image, ranges);
        let requests = 0;
        const { url } = await serve(ctx, (req, res) => (requests++ === 0 ? good(req, res) : errorPage(status)(req, res)));
        return { args: ['import', '--url', `${url}/disk.img`, '--target', ctx.target, '--size', '16Mi'] };
      },
      // A 500 is retried with backoff (0.5 + 1 + 2 + 4 + 8 s) before it is reported.
      expect: { code: STATUS_CODES[status]!, exit: 1, deadlineMs: 45_000 },
    })),
  ),
];

/** Redirects to another scheme are refused, naming the Location without its credentials. */
const refusedRedirects: { name: string; tls: boolean; location: (ctx: HostileContext, other: string) => string; shown: (ctx: HostileContext, other: string) => RegExp }[] = [
  { name: 'http-to-file', tls: false, location: (ctx) => `file://${ctx.secretPath}`, shown: (ctx) => new RegExp(`file://${ctx.secretPath}`) },
  { name: 'https-to-http', tls: true, location: (_ctx, other) => `${other}/disk.img`, shown: (_ctx, other) => new RegExp(`${other}/disk\\.img`) },
  { name: 'http-to-https', tls: false, location: () => 'https://127.0.0.1:9/disk.img', shown: () => /https:\/\/127\.0\.0\.1:9\/disk\.img/ },
  { name: 'http-to-ftp', tls: false, location: () => 'ftp://127.0.0.1/disk.img', shown: () => /ftp:\/\/127\.0\.0\.1\/disk\.img/ },
  {
    name: 'https-to-http-with-credentials',
    tls: true,
    location: (ctx, other) => `${other.replace('://', `://importer:${ctx.secret}@`)}/disk.img`,
    shown: (_ctx, other) => new RegExp(`${other}/disk\\.img`),
  },
];

const redirectCases: HostileCase[] = [
  ...refusedRedirects.flatMap((r) =>
    [302, 301, 307].map((status): HostileCase => {
      let other = '';
      return {
        id: `net.redirect-${status}-${r.name}`,
        item: '6',
        what: `the server redirects (HTTP ${status}) ${r.name.replace(/-/g, ' ')}`,
        setup: async (ctx) => {
          // The place a downgrade leads to exists and would serve a disk: the refusal is not by accident.
          other = (await serve(ctx, fileHandler(randomBytes(MiB), true))).url;
          const location = r.location(ctx, other);
          const { url, ca } = await serve(ctx, (_req, res) => res.writeHead(status, { location }).end('moved'), { tls: r.tls });
          return { args: ['import', '--url', `${url}/disk.img`, ...(ca ? ['--ca', ca] : []), '--target', ctx.target, '--size', '16Mi'] };
        },
        expect: {
          code: 'SOURCE_REDIRECT_REFUSED',
          exit: 1,
          deadlineMs: 20_000,
          check: (result, ctx) => {
            expect(result.stderr).toMatch(r.shown(ctx, other));
            expect(result.stderr).not.toMatch(/importer:/);
          },
        },
      };
    }),
  ),
  {
    id: 'net.redirect-registry-blob-to-file',
    item: '6',
    what: "a registry redirects the layer's download to file:// (the host's own secret file)",
    setup: async (ctx) => {
      const layer = makeTar([{ name: 'disk/disk.img', data: randomBytes(MiB) }]);
      const host = await fakeRegistry(ctx, layer, (_req, res) => res.writeHead(307, { location: `file://${ctx.secretPath}` }).end());
      return { args: ['import', '--url', `docker://${host}/disk:latest`, '--insecure-registry', host, '--target', ctx.target, '--size', '16Mi'] };
    },
    expect: { code: 'SOURCE_REDIRECT_REFUSED', exit: 1, stderr: /redirects to file:\/\/.*secret\.txt: a redirect from http to file is refused/, deadlineMs: 20_000 },
  },
  {
    id: 'net.redirect-loop',
    item: '6',
    what: 'the server redirects to itself for ever',
    setup: async (ctx) => {
      const { url } = await serve(ctx, (req, res) => res.writeHead(302, { location: req.url ?? '/' }).end());
      return { args: ['import', '--url', `${url}/disk.img`, '--target', ctx.target, '--size', '16Mi'] };
    },
    expect: { code: 'SOURCE_FAILED', exit: 1, stderr: /redirects more than 5 times/, deadlineMs: 20_000 },
  },
  // Within one scheme a redirect is followed, and the credentials stay with their own server.
  ...([301, 302, 303, 307, 308] as const).map((status): HostileCase => {
    // What the other server was sent as Authorization, and the image it leads to.
    const seen: (string | undefined)[] = [];
    let image = Buffer.alloc(0);
    return {
      id: `net.redirect-${status}-same-scheme-followed`,
      item: '6',
      what: `a redirect (HTTP ${status}) to another server of the same scheme is followed, without the credentials`,
      setup: async (ctx) => {
        image = randomBytes(2 * MiB);
        seen.length = 0;
        writeFileSync(join(ctx.inputs, 'disk.raw'), image);
        const images = await startImageServer({ root: ctx.inputs });
        ctx.defer(() => images.close());
        const other = await serve(ctx, (req, res) => {
          seen.push(req.headers.authorization);
          res.writeHead(302, { location: `${images.url}/disk.raw` }).end();
        });
        const { url } = await serve(ctx, (_req, res) => res.writeHead(status, { location: `${other.url}/disk.raw` }).end());
        const secretFile = join(ctx.inputs, 'secret.yaml');
        writeFileSync(secretFile, `apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  accessKeyId: importer\n  secretKey: ${ctx.secret}\n`);
        return { args: ['import', '--url', `${url}/disk.raw`, '--secret-file', secretFile, '--target', ctx.target] };
      },
      expect: {
        exit: 0,
        deadlineMs: 20_000,
        check: (_result, ctx) => {
          expect(seen.length).toBeGreaterThan(0);
          expect(seen.filter(Boolean)).toEqual([]);
          expect(readFileSync(join(ctx.target, 'disk.img')).subarray(0, image.length).equals(image)).toBe(true);
        },
      },
    };
  }),
];

// ---- item 11: a web page is not a disk; a stall names what arrived ----------

const pageCases: HostileCase[] = [
  {
    id: 'net.html-page-65-bytes',
    item: '11',
    what: 'a 65-byte HTML page (text/html) where the image should be',
    setup: async (ctx) => {
      const page = Buffer.from('<html><body>Please log in to download this file.</body></html>\n');
      const { url } = await serve(ctx, fileHandler(page, false, 'text/html'));
      return { args: ['import', '--url', `${url}/disk.img`, '--target', ctx.target, '--size', '16Mi'] };
    },
    expect: { code: 'IMAGE_NOT_A_DISK', exit: 1, stderr: /web page \(text\/html\)/, deadlineMs: 20_000 },
  },
  ...([true, false] as const).flatMap((ranges) =>
    [
      {
        name: 'text-html-40k',
        type: 'text/html; charset=utf-8',
        body: `<!DOCTYPE html>\n<html><head><title>Download</title></head><body>${'<p>mirror</p>'.repeat(3000)}</body></html>`,
      },
      { name: 'octet-stream-doctype', type: 'application/octet-stream', body: `\ufeff  <!doctype html><html><body>${'soft 404 '.repeat(2000)}</body></html>` },
      { name: 'no-type-html', type: null, body: `<html lang="en"><body>${'error '.repeat(2000)}</body></html>` },
    ].map((page): HostileCase => ({
      id: `net.html-page-${page.name}-${ranges ? 'ranged' : 'stream'}`,
      item: '11',
      what: `an HTML page (${page.type ?? 'no content type'}, ${page.body.length} bytes) ${ranges ? 'from a server with ranges' : 'without ranges'}`,
      setup: async (ctx) => {
        const { url } = await serve(ctx, fileHandler(Buffer.from(page.body), ranges, page.type));
        return { args: ['import', '--url', `${url}/disk.img`, '--target', ctx.target, '--size', '16Mi'] };
      },
      expect: { code: 'IMAGE_NOT_A_DISK', exit: 1, stderr: /web page/, deadlineMs: 20_000 },
    })),
  ),
  ...(['http-ranged', 'http-stream', 'file', 'gzip'] as const).map((how): HostileCase => ({
    id: `net.too-small-${how}`,
    item: '11',
    what: `65 bytes of binary data (${how}) as a "disk"`,
    setup: async (ctx) => {
      const data = randomBytes(65);
      const body = how === 'gzip' ? gzipSync(data) : data;
      const path = join(ctx.inputs, how === 'gzip' ? 'tiny.raw.gz' : 'tiny.raw');
      writeFileSync(path, body);
      const url = how === 'file' ? `file://${path}` : `${(await serve(ctx, fileHandler(body, how === 'http-ranged'))).url}/tiny`;
      return { args: ['import', '--url', url, '--target', ctx.target, '--size', '16Mi'] };
    },
    expect: { code: 'IMAGE_NOT_A_DISK', exit: 1, stderr: /65 bytes: too small to be a disk image/, deadlineMs: 20_000 },
  })),
];

/** Sends the probe, then 1 MiB of every copy request, then nothing: the stall names the bytes that came. */
const stallCases: HostileCase[] = (['ranged', 'stream', 'xz-stream'] as const).map((how): HostileCase => {
  // Bytes the server sent to the copy (the format probe aside).
  let sent = 0;
  return {
    id: `net.stall-after-data-${how}`,
    item: '11',
    what: `the server sends 1 MiB of each copy request and then goes silent (${how})`,
    setup: async (ctx) => {
      const image = how === 'xz-stream' ? xz(randomBytes(32 * MiB)) : randomBytes(32 * MiB);
      sent = 0;
      const { url } = await serve(ctx, (req, res) => {
        const m = how === 'ranged' && req.headers.range ? /^bytes=(\d+)-(\d*)$/.exec(req.headers.range) : null;
        const start = m ? Number(m[1]) : 0;
        const end = m && m[2] ? Math.min(Number(m[2]), image.length - 1) : image.length - 1;
        res.writeHead(m ? 206 : 200, { 'content-length': String(end - start + 1), ...(m ? { 'content-range': `bytes ${start}-${end}/${image.length}` } : {}) });
        const probe = req.headers.range === 'bytes=0-32773';
        const part = probe ? image.subarray(start, end + 1) : image.subarray(start, Math.min(end + 1, start + MiB));
        if (!probe) sent += part.length;
        res.write(part);
        if (probe && how === 'ranged') res.end();
      });
      return { args: ['import', '--url', `${url}/disk.img`, '--target', ctx.target, '--size', '64Mi', '--stall-timeout', '2'] };
    },
    expect: {
      code: 'COPY_STALLED',
      exit: 1,
      deadlineMs: 30_000,
      check: (result) => {
        const received = Number(/stopped after sending (\d+) bytes/.exec(result.stderr)?.[1] ?? -1);
        expect(received).toBeGreaterThanOrEqual(MiB);
        expect(received).toBeLessThanOrEqual(sent);
      },
    },
  };
});

export const netCases: HostileCase[] = [...bombCases, registryBomb, ...fullVolumeCases, ...silentServerCases, ...statusCases, ...redirectCases, ...pageCases, ...stallCases];
