// Registry token auth end to end: docker-registry configured for bearer
// tokens from a token service of ours (RS256 JWTs with an x5c chain the
// registry trusts), skopeo pushing with credentials, v2v pulling with the
// DataVolume's secretRef; wrong credentials are SOURCE_AUTH_FAILED.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSign, randomUUID, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { imagesIdentical, makeImageSet, requireTool, type ImageSet } from '../helpers/disk-images.js';
import { pushContainerDisk, type Registry } from '../helpers/registry.js';

let work: string;
let images: ImageSet;
let tokenServer: Server;
let registryProcess: ChildProcess;
let registry: Registry;

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

function startTokenService(key: string, certDer: Buffer): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const expected = `Basic ${Buffer.from('puller:pull-secret').toString('base64')}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    const access = url.searchParams.getAll('scope').map((s) => {
      const [type, name, actions] = s.split(':');
      return { type, name, actions: (actions ?? '').split(',') };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    const claims = { iss: 'v2v-test-issuer', sub: 'puller', aud: url.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(input).sign(key);
    const token = `${input}.${b64url(signature)}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

beforeAll(async () => {
  requireTool('docker-registry');
  work = mkdtempSync(join(tmpdir(), 'v2v-regauth-'));
  images = makeImageSet(join(work, 'images'), 16 * 2 ** 20);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=v2v token issuer', '-keyout', join(work, 'token.key'), '-out', join(work, 'token.pem')],
    { stdio: 'pipe' },
  );
  const certDer = Buffer.from(new X509Certificate(readFileSync(join(work, 'token.pem'))).raw);
  tokenServer = await startTokenService(readFileSync(join(work, 'token.key'), 'utf8'), certDer);
  const tokenPort = (tokenServer.address() as AddressInfo).port;
  const port = 30000 + Math.floor(Math.random() * 20000);
  mkdirSync(join(work, 'data'));
  writeFileSync(
    join(work, 'config.yml'),
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(work, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\nauth:\n  token:\n    realm: http://127.0.0.1:${tokenPort}/token\n    service: v2v-test-registry\n    issuer: v2v-test-issuer\n    rootcertbundle: ${join(work, 'token.pem')}\n`,
  );
  registryProcess = spawn('docker-registry', ['serve', join(work, 'config.yml')], { stdio: 'ignore' });
  const host = `127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`http://${host}/v2/`);
      if (res.status === 401) break;
    } catch {
      // starting
    }
    if (i > 100) throw new Error('docker-registry with token auth did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  registry = { host, dir: work, stop: async () => undefined };
  await pushContainerDisk(registry, images.qcow2, 'private/disk:v1', { destCreds: 'puller:pull-secret' });
}, 120_000);

afterAll(async () => {
  registryProcess?.kill('SIGTERM');
  tokenServer?.close();
  rmSync(work, { recursive: true, force: true });
});

function files(user: string, pass: string): { dv: string; secret: string } {
  const dv = join(work, `dv-${user}-${pass}.yaml`);
  const secret = join(work, `secret-${user}-${pass}.yaml`);
  writeFileSync(
    dv,
    `apiVersion: cdi.kubevirt.io/v1beta1\nkind: DataVolume\nmetadata:\n  name: private\nspec:\n  source:\n    registry:\n      url: "docker://${registry.host}/private/disk:v1"\n      secretRef: registry-secret\n  storage:\n    resources:\n      requests:\n        storage: 32Mi\n`,
  );
  writeFileSync(secret, `apiVersion: v1\nkind: Secret\nmetadata:\n  name: registry-secret\nstringData:\n  accessKeyId: ${user}\n  secretKey: ${pass}\n`);
  return { dv, secret };
}

describe('registry with bearer-token auth', () => {
  it('pulls with the secretRef credentials through the token service', async () => {
    const { dv, secret } = files('puller', 'pull-secret');
    const target = join(work, 'ok');
    mkdirSync(target);
    const r = await runCli(['import', '-f', dv, '--secret-file', secret, '--insecure-registry', registry.host, '--target', target]);
    expect(r.stderr).not.toMatch(/error /);
    expect(r.code).toBe(0);
    expect(imagesIdentical(images.qcow2, join(target, 'disk.img'), 'qcow2').output).toContain('Images are identical');
  });

  it('wrong credentials are SOURCE_AUTH_FAILED', async () => {
    const { dv, secret } = files('puller', 'wrong-secret');
    const target = join(work, 'denied');
    mkdirSync(target);
    const r = await runCli(['import', '-f', dv, '--secret-file', secret, '--insecure-registry', registry.host, '--target', target]);
    expect(r.stderr).toContain('error SOURCE_AUTH_FAILED');
    expect(r.stderr).not.toContain('wrong-secret');
    expect(r.code).toBe(1);
  });
});
