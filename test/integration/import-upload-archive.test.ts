// The upload endpoint's other paths (form upload, async upload), its bearer
// token, and `--content-type archive`.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { imagesIdentical, makeImageSet, type ImageSet } from '../helpers/disk-images.js';
import { startImageServer, type ImageServer } from '../helpers/image-server.js';

let work: string;
let images: ImageSet;
let server: ImageServer;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'v2v-upload-'));
  images = makeImageSet(join(work, 'images'), 16 * 2 ** 20);
  writeFileSync(join(work, 'token'), 'upload-token-5678\n');
  mkdirSync(join(work, 'tree', 'etc'), { recursive: true });
  writeFileSync(join(work, 'tree', 'etc', 'hello.txt'), 'hello from the archive\n');
  execFileSync('sh', ['-c', `tar -C '${join(work, 'tree')}' -cf - etc | xz -0 > '${join(images.dir, 'tree.tar.xz')}'`]);
  server = await startImageServer({ root: images.dir });
}, 60_000);

afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitHealthy(base: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('upload server did not come up');
}

function curl(args: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn('curl', ['-s', '-w', '\n%{http_code}', ...args]);
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('error', reject);
    c.on('close', () => {
      const lines = out.trimEnd().split('\n');
      resolve({ status: Number(lines.pop()), body: lines.join('\n') });
    });
  });
}

describe('upload endpoint', () => {
  it.each([
    ['/v1beta1/upload-form', true],
    ['/v1beta1/upload-async', false],
  ])('%s imports the image; a request without the token gets 401', async (path, form) => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const target = join(work, `t${port}`);
    mkdirSync(target);
    const cli = runCli(['import', '--upload', '--listen', `127.0.0.1:${port}`, '--upload-token-file', join(work, 'token'), '--target', target, '--size', '32Mi']);
    await waitHealthy(base);
    const denied = await curl(['-X', 'POST', '--data-binary', 'x', `${base}${path}`]);
    expect(denied.status).toBe(401);
    const sent = await curl(['-H', 'Authorization: Bearer upload-token-5678', ...(form ? ['-F', `file=@${images.qcow2}`] : ['-T', images.qcow2, '-X', 'POST']), `${base}${path}`]);
    expect(sent.status).toBe(200);
    const r = await cli;
    expect(r.code).toBe(0);
    expect(imagesIdentical(images.qcow2, join(target, 'disk.img'), 'qcow2').output).toContain('Images are identical');
  });

  it('a synchronous upload of a corrupt image is answered 400 with the error code', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const target = join(work, `bad${port}`);
    mkdirSync(target);
    const bad = join(work, 'bad.qcow2');
    const q = readFileSync(images.qcow2);
    q.writeBigUInt64BE(0x10007n, 40); // an L1 table offset qemu refuses
    writeFileSync(bad, q);
    const cli = runCli(['import', '--upload', '--listen', `127.0.0.1:${port}`, '--upload-token-file', join(work, 'token'), '--target', target, '--size', '32Mi']);
    await waitHealthy(base);
    const sent = await curl(['-H', 'Authorization: Bearer upload-token-5678', '-T', bad, '-X', 'POST', `${base}/v1beta1/upload`]);
    expect(sent.status).toBe(400);
    expect(sent.body).toContain('IMAGE_CORRUPT');
    const r = await cli;
    expect(r.code).toBe(1);
  });
});

describe('--content-type archive', () => {
  it('extracts an xz tar into the directory', async () => {
    const target = join(work, 'archive');
    mkdirSync(target);
    const r = await runCli(['import', '--url', `${server.url}/tree.tar.xz`, '--target', target, '--content-type', 'archive']);
    expect(r.code).toBe(0);
    expect(readFileSync(join(target, 'etc', 'hello.txt'), 'utf8')).toBe('hello from the archive\n');
    expect(existsSync(join(target, '.v2v-partial'))).toBe(false);
  });
});
