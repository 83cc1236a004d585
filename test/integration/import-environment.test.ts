// The environment around an import: HTTP(S)_PROXY / NO_PROXY honoured (a real
// forward proxy with CONNECT), a full target filesystem (ENOSPC mid-copy →
// TARGET_WRITE_FAILED, marker kept), and preallocation.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usableSpace } from '../../src/copy/target.js';
import { makePki, type TestPki } from '../helpers/certs.js';
import { runCli } from '../helpers/cli.js';
import { imagesIdentical, makeImageSet, makeSparseRaw, type ImageSet } from '../helpers/disk-images.js';
import { startImageServer, type ImageServer } from '../helpers/image-server.js';

const MiB = 2 ** 20;
let work: string;
let images: ImageSet;
let pki: TestPki;
let plain: ImageServer;
let tls: ImageServer;
let proxy: Server;
let proxied: string[] = [];

function startProxy(): Promise<Server> {
  const server = createServer((req, res) => {
    proxied.push(`GET ${req.url}`);
    const upstream = request(req.url!, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req, socket, head) => {
    proxied.push(`CONNECT ${req.url}`);
    const [host, port] = (req.url ?? '').split(':');
    const up = connect(Number(port), host!, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'v2v-env-'));
  images = makeImageSet(join(work, 'images'), 32 * MiB);
  makeSparseRaw(join(images.dir, 'big-data.raw'), 32 * MiB, 4, 4 * MiB);
  pki = makePki('v2v-env');
  plain = await startImageServer({ root: images.dir });
  tls = await startImageServer({ root: images.dir, tls: { cert: pki.serverCert, key: pki.serverKey } });
  proxy = await startProxy();
}, 60_000);

afterAll(async () => {
  await Promise.all([plain?.close(), tls?.close()]);
  proxy?.closeAllConnections();
  proxy?.close();
  rmSync(work, { recursive: true, force: true });
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

function target(name: string): string {
  const dir = join(work, 'targets', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('proxy environment', () => {
  const proxyUrl = () => `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  it('HTTP_PROXY carries plain HTTP imports', async () => {
    proxied = [];
    const dir = target('proxy-http');
    const r = await runCli(['import', '--url', `${plain.url}/disk.qcow2`, '--target', dir], { env: { HTTP_PROXY: proxyUrl(), NO_PROXY: '' } });
    expect(r.code).toBe(0);
    // undici tunnels plain HTTP through CONNECT too; either way the proxy carried it.
    expect(proxied.some((p) => p.startsWith(`GET ${plain.url}/disk.qcow2`) || p === `CONNECT ${new URL(plain.url).host}`)).toBe(true);
    expect(imagesIdentical(images.qcow2, join(dir, 'disk.img'), 'qcow2').output).toContain('Images are identical');
  });

  it('HTTPS_PROXY tunnels HTTPS with CONNECT and the custom CA still verifies the origin', async () => {
    proxied = [];
    const dir = target('proxy-https');
    const r = await runCli(['import', '--url', `${tls.url}/disk.raw`, '--ca', pki.caCert, '--target', dir], { env: { HTTPS_PROXY: proxyUrl(), NO_PROXY: '' } });
    expect(r.code).toBe(0);
    expect(proxied.some((p) => p === `CONNECT ${new URL(tls.url).host}`)).toBe(true);
    expect(imagesIdentical(images.raw, join(dir, 'disk.img')).output).toContain('Images are identical');
  });

  it('NO_PROXY bypasses the proxy', async () => {
    proxied = [];
    const dir = target('no-proxy');
    const r = await runCli(['import', '--url', `${plain.url}/disk.raw`, '--target', dir], { env: { HTTP_PROXY: proxyUrl(), NO_PROXY: '127.0.0.1' } });
    expect(r.code).toBe(0);
    expect(proxied).toEqual([]);
  });
});

describe('a full target filesystem', () => {
  it('ENOSPC mid-copy is TARGET_WRITE_FAILED with a hint, and the target stays marked incomplete', async () => {
    const mnt = target('tmpfs');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6M', 'tmpfs', mnt]);
    try {
      const r = await runCli(['import', '--url', `${plain.url}/big-data.raw`, '--target', mnt, '--size', '64Mi']);
      expect(r.stderr).toContain('error TARGET_WRITE_FAILED');
      expect(r.stderr).toContain('ENOSPC');
      expect(r.stderr).toMatch(/volume is full/);
      expect(r.code).toBe(1);
      expect(existsSync(join(mnt, 'disk.img.v2v-partial'))).toBe(true);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});

describe('preallocation', () => {
  it('--preallocation allocates the whole grown image', async () => {
    const dir = target('prealloc');
    const r = await runCli(['import', '--url', `${plain.url}/disk.raw`, '--target', dir, '--size', '48Mi', '--preallocation']);
    expect(r.code).toBe(0);
    const st = statSync(join(dir, 'disk.img'));
    expect(st.size).toBe(usableSpace(48 * MiB));
    expect(st.blocks * 512).toBeGreaterThanOrEqual(usableSpace(48 * MiB));
    expect(imagesIdentical(images.raw, join(dir, 'disk.img')).output).toContain('Images are identical');
  });
});
