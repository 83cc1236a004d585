// The seed's operation matrix (HTTP, HTTPS with a custom CA, HTTP basic auth,
// registry, upload × QCOW2 and RAW) plus ISO, VMDK, .gz and .xz, each imported
// by the real CLI into a Filesystem directory and a Block loop device, checked
// with qemu-img compare and for the grown size.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usableSpace } from '../../src/copy/target.js';
import { makePki, type TestPki } from '../helpers/certs.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { imagesIdentical, makeImageSet, type ImageSet } from '../helpers/disk-images.js';
import { startImageServer, type ImageServer } from '../helpers/image-server.js';
import { createLoopDevice, type LoopDevice } from '../helpers/loop.js';
import { pushContainerDisk, startRegistry, type Registry } from '../helpers/registry.js';

const MiB = 2 ** 20;
const REQUESTED = 100 * MiB;

let work: string;
let images: ImageSet;
let pki: TestPki;
let plain: ImageServer;
let tls: ImageServer;
let basic: ImageServer;
let registry: Registry;
let loop: LoopDevice;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'v2v-import-'));
  images = makeImageSet(join(work, 'images'));
  pki = makePki('v2v-import');
  plain = await startImageServer({ root: images.dir });
  tls = await startImageServer({ root: images.dir, tls: { cert: pki.serverCert, key: pki.serverKey } });
  basic = await startImageServer({ root: images.dir, basicAuth: { username: 'importer', password: 's3cret-pass' } });
  registry = await startRegistry();
  await pushContainerDisk(registry, images.qcow2, 'disks/fedora:qcow2');
  await pushContainerDisk(registry, images.raw, 'disks/fedora:raw', { format: 'v2s2' });
  writeFileSync(
    join(work, 'endpoint-secret.yaml'),
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: endpoint-secret\n  labels:\n    app: containerized-data-importer\ntype: Opaque\ndata:\n  accessKeyId: ${Buffer.from('importer').toString('base64')}\n  secretKey: ${Buffer.from('s3cret-pass').toString('base64')}\n`,
  );
  writeFileSync(
    join(work, 'tls-certs.yaml'),
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tls-certs\ndata:\n  ca.pem: |\n${pki.caPem
      .trim()
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n')}\n`,
  );
  writeFileSync(join(work, 'token'), 'upload-token-1234\n');
  loop = createLoopDevice(join(work, 'block.img'), 80 * MiB);
}, 120_000);

afterAll(async () => {
  loop?.detach();
  await Promise.all([plain?.close(), tls?.close(), basic?.close(), registry?.stop()]);
  rmSync(work, { recursive: true, force: true });
  rmSync(join(tmpdir(), 'v2v-import-state'), { recursive: true, force: true });
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

type Mode = 'Filesystem' | 'Block';

/** A DataVolume in the seed's shape for a source block. */
function dataVolume(name: string, source: string, mode: Mode): string {
  return `apiVersion: cdi.kubevirt.io/v1beta1\nkind: DataVolume\nmetadata:\n  name: ${name}\nspec:\n  source:\n${source}\n  storage:\n    volumeMode: ${mode}\n    resources:\n      requests:\n        storage: 100Mi\n`;
}

function targetFor(mode: Mode, name: string): string {
  if (mode === 'Block') {
    loop.scribble();
    return loop.device;
  }
  const dir = join(work, 'targets', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function expectImported(r: CliResult, mode: Mode, target: string, source: string, sourceFormat: string): void {
  expect(r.stderr + r.stdout).not.toMatch(/error /);
  expect(r.code).toBe(0);
  const out = mode === 'Block' ? target : join(target, 'disk.img');
  const cmp = imagesIdentical(source, out, sourceFormat);
  expect(cmp.output).toContain('Images are identical');
  if (mode === 'Filesystem') {
    expect(statSync(out).size).toBe(usableSpace(REQUESTED));
    expect(existsSync(`${out}.v2v-partial`)).toBe(false);
  }
}

const MODES: Mode[] = ['Filesystem', 'Block'];
const PAIRS = [
  ['qcow2', 'disk.qcow2'],
  ['raw', 'disk.raw'],
] as const;

describe.each(MODES)('import into a %s volume', (mode) => {
  const state = join(tmpdir(), 'v2v-import-state'); // device markers; removed in afterAll
  const common = (target: string) => ['--target', target, '--state-dir', state, '-o', 'json'];

  it.each(PAIRS)('HTTP × %s (-f DataVolume)', async (format, file) => {
    const name = `http-${format}-${mode}`.toLowerCase();
    const dv = join(work, `${name}.yaml`);
    writeFileSync(dv, dataVolume(name, `    http:\n      url: "${plain.url}/${file}"`, mode));
    const target = targetFor(mode, name);
    const r = await runCli(['import', '-f', dv, ...common(target)]);
    expectImported(r, mode, target, join(images.dir, file), format);
  });

  it.each(PAIRS)('HTTPS with a custom CA (certConfigMap) × %s', async (format, file) => {
    const name = `https-${format}-${mode}`.toLowerCase();
    const dv = join(work, `${name}.yaml`);
    writeFileSync(dv, dataVolume(name, `    http:\n      url: "${tls.url}/${file}"\n      certConfigMap: tls-certs`, mode));
    const target = targetFor(mode, name);
    const r = await runCli(['import', '-f', dv, '--configmap-file', join(work, 'tls-certs.yaml'), ...common(target)]);
    expectImported(r, mode, target, join(images.dir, file), format);
  });

  it.each(PAIRS)('HTTP basic auth (secretRef) × %s', async (format, file) => {
    const name = `basic-${format}-${mode}`.toLowerCase();
    const dv = join(work, `${name}.yaml`);
    writeFileSync(dv, dataVolume(name, `    http:\n      url: "${basic.url}/${file}"\n      secretRef: endpoint-secret`, mode));
    const target = targetFor(mode, name);
    const r = await runCli(['import', '-f', dv, '--secret-file', join(work, 'endpoint-secret.yaml'), ...common(target)]);
    expectImported(r, mode, target, join(images.dir, file), format);
    expect(r.stderr).not.toContain('s3cret-pass');
  });

  it.each(PAIRS)('registry containerDisk × %s', async (format, file) => {
    const name = `registry-${format}-${mode}`.toLowerCase();
    const dv = join(work, `${name}.yaml`);
    writeFileSync(dv, dataVolume(name, `    registry:\n      url: "docker://${registry.host}/disks/fedora:${format}"`, mode));
    const target = targetFor(mode, name);
    const r = await runCli(['import', '-f', dv, '--insecure-registry', registry.host, ...common(target)]);
    expectImported(r, mode, target, join(images.dir, file), format);
  });

  it.each(PAIRS)('upload (/v1beta1/upload, bearer token) × %s', async (format, file) => {
    const name = `upload-${format}-${mode}`.toLowerCase();
    const dv = join(work, `${name}.yaml`);
    writeFileSync(dv, dataVolume(name, '    upload: {}', mode));
    const target = targetFor(mode, name);
    const port = 20000 + Math.floor(Math.random() * 20000);
    const cli = runCli(['import', '-f', dv, '--listen', `127.0.0.1:${port}`, '--upload-token-file', join(work, 'token'), ...common(target)]);
    const status = await uploadWhenReady(`http://127.0.0.1:${port}/v1beta1/upload`, join(images.dir, file), 'upload-token-1234');
    const r = await cli;
    expect(status).toBe(200);
    expectImported(r, mode, target, join(images.dir, file), format);
  });

  it.each([
    ['iso', 'disk.iso', 'raw'],
    ['vmdk', 'disk.vmdk', 'vmdk'],
    ['gz', 'disk.raw.gz', 'raw'],
    ['xz', 'disk.raw.xz', 'raw'],
  ] as const)('HTTPS --url × %s', async (kind, file, format) => {
    const name = `url-${kind}-${mode}`.toLowerCase();
    const target = targetFor(mode, name);
    const r = await runCli(['import', '--url', `${tls.url}/${file}`, '--ca', pki.caCert, '--size', '100Mi', '--volume-mode', mode, ...common(target)]);
    const reference = kind === 'gz' || kind === 'xz' ? images.raw : join(images.dir, file);
    expectImported(r, mode, target, reference, format);
    const result = JSON.parse(r.stdout) as { format: string; compression: string };
    expect(result.format).toBe(kind === 'gz' || kind === 'xz' ? 'raw' : kind);
    expect(result.compression).toBe(kind === 'gz' ? 'gzip' : kind === 'xz' ? 'xz' : 'none');
  });
});

/** Sends the file once the CLI's upload server answers /healthz (curl: a real client). */
async function uploadWhenReady(url: string, file: string, token: string, form = false): Promise<number> {
  const health = new URL('/healthz', url).toString();
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(health)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return new Promise((resolve, reject) => {
    const args = ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', `Authorization: Bearer ${token}`, ...(form ? ['-F', `file=@${file}`] : ['-T', file, '-X', 'POST']), url];
    const curl = spawn('curl', args);
    let out = '';
    curl.stdout.on('data', (d: Buffer) => (out += d.toString()));
    curl.on('error', reject);
    curl.on('close', () => resolve(Number(out)));
  });
}
