// Debian's docker-registry (distribution 2.8) on a free loopback port, and
// containerDisk images pushed into it by skopeo from an OCI layout we build.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './disk-images.js';

export interface Registry {
  host: string;
  dir: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startRegistry(): Promise<Registry> {
  requireTool('docker-registry');
  requireTool('skopeo');
  const dir = mkdtempSync(join(tmpdir(), 'v2v-registry-'));
  const port = await freePort();
  const config = join(dir, 'config.yml');
  writeFileSync(config, `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const host = `127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`http://${host}/v2/`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (i > 100 || child.exitCode !== null) throw new Error(`docker-registry did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    dir,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Builds an OCI layout holding one layer (a tar made by GNU tar, gzip'd, with
 * the disk at `disk/<name>`, or `layerTar` as given) and pushes it with skopeo.
 */
export async function pushContainerDisk(
  registry: Registry,
  image: string,
  ref: string,
  options: { diskName?: string; layerTar?: Buffer; format?: 'oci' | 'v2s2'; destCreds?: string } = {},
): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'v2v-oci-'));
  try {
    let layer: Buffer;
    let diffId: string;
    if (options.layerTar) {
      layer = options.layerTar;
      diffId = sha256(layer);
    } else {
      mkdirSync(join(work, 'root', 'disk'), { recursive: true });
      copyFileSync(image, join(work, 'root', 'disk', options.diskName ?? 'disk.img'));
      execFileSync('tar', ['--owner=107', '--group=107', '--sparse', '-C', join(work, 'root'), '-cf', join(work, 'layer.tar'), 'disk']);
      const tar = readFileSync(join(work, 'layer.tar'));
      diffId = sha256(tar);
      execFileSync('gzip', ['-1', join(work, 'layer.tar')]);
      layer = readFileSync(join(work, 'layer.tar.gz'));
    }
    const blobs = join(work, 'oci', 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    const put = (data: Buffer) => {
      const d = sha256(data);
      writeFileSync(join(blobs, d), data);
      return { digest: `sha256:${d}`, size: data.length };
    };
    const layerDesc = put(layer);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] }, config: {} }));
    const configDesc = put(config);
    const gz = layer[0] === 0x1f && layer[1] === 0x8b;
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configDesc },
        layers: [{ mediaType: gz ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar', ...layerDesc }],
      }),
    );
    const manifestDesc = put(manifest);
    writeFileSync(join(work, 'oci', 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(
      join(work, 'oci', 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifestDesc, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
      }),
    );
    // Asynchronous: the registry's token service may live in this very process.
    await new Promise<void>((resolve, reject) => {
      const args = [
        'copy',
        '--quiet',
        '--dest-tls-verify=false',
        ...(options.format === 'v2s2' ? ['--format', 'v2s2'] : []),
        ...(options.destCreds ? ['--dest-creds', options.destCreds] : []),
        `oci:${join(work, 'oci')}:latest`,
        `docker://${registry.host}/${ref}`,
      ];
      const child = spawn('skopeo', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`skopeo copy failed: ${stderr}`))));
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A ustar archive from raw entries (names unchecked: for hostile-archive tests). */
export function makeTar(entries: { name: string; data?: Buffer; type?: '0' | '1' | '5' | '2'; link?: string }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100, 'utf8');
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(data.length.toString(8).padStart(11, '0') + '\0', 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write(e.type ?? '0', 156);
    if (e.link) h.write(e.link, 157, 100);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
