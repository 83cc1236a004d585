import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { insecureSourceWarnings, loadSources, readCaBundle, readPassword, selectSource } from '../../src/config/sources.js';
import { ConfigError } from '../../src/errors.js';
import { ExitCode } from '../../src/model.js';
import { redact } from '../../src/redact.js';

const dir = mkdtempSync(join(tmpdir(), 'v2v-sources-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function failure(p: Promise<unknown>): Promise<ConfigError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ConfigError);
  return e as ConfigError;
}

const good = `sources:
  - name: vc1
    type: vsphere
    url: https://vcenter.example.com/sdk
    username: administrator@vsphere.local
    passwordFile: vc1.password
    thumbprint: "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD"
    datacenter: DC0
  - name: rhv
    type: ovirt
    url: https://engine.example.com/ovirt-engine/api
    username: admin@internal
    passwordEnv: RHV_PASSWORD
    caFile: /etc/v2v/rhv-ca.pem
`;

describe('sources file', () => {
  it('reads the SPEC §4.2 example and resolves passwords from file or env, relative to the file', async () => {
    const path = file('good.yaml', good);
    file('vc1.password', 'S3cret-vc1\n');
    const sources = await loadSources(path);
    expect(sources.map((s) => [s.name, s.type])).toEqual([
      ['vc1', 'vsphere'],
      ['rhv', 'ovirt'],
    ]);
    expect(await readPassword(sources[0]!, {})).toBe('S3cret-vc1');
    expect(await readPassword(sources[1]!, { RHV_PASSWORD: 'env-Secret' })).toBe('env-Secret');
    expect(redact('login with S3cret-vc1 failed')).toBe('login with [REDACTED] failed');
  });

  it.each([
    ['an unknown field', good.replace('    datacenter: DC0\n', '    datacentre: DC0\n'), 8, 'sources[0].datacentre: unknown field "datacentre"'],
    ['a bad URL', good.replace('https://vcenter.example.com/sdk', 'vcenter.example.com'), 4, 'sources[0].url'],
    ['a wrong type', good.replace('type: ovirt', 'type: hyperv'), 10, 'sources[1].type'],
    ['a short thumbprint', good.replace('"AA:BB:CC', '"CC'), 7, 'sources[0].thumbprint'],
    ['no password source', good.replace('    passwordEnv: RHV_PASSWORD\n', ''), 9, 'sources[1].passwordFile: exactly one of passwordFile or passwordEnv'],
    ['broken YAML', good.replace('    username: admin@internal', '   username: [admin'), 12, 'invalid YAML'],
    ['a cleartext vCenter URL', good.replace('https://vcenter', 'http://vcenter'), 4, 'sources[0].url: http:// would send the password in cleartext'],
    ['a cleartext engine URL', good.replace('https://engine', 'http://engine'), 11, 'sources[1].url: http:// would send the password in cleartext'],
  ])('rejects %s naming file:line and the field (exit 2)', async (_what, text, line, fragment) => {
    const path = file(`bad-${line}.yaml`, text);
    const e = await failure(loadSources(path));
    expect(e.exitCode).toBe(ExitCode.usage);
    expect(e.message).toContain(`${path}:${line}:`);
    expect(e.message).toContain(fragment);
  });

  it('takes an http:// URL only when the source says allowInsecureHttp, and warns of it and of insecureSkipVerify', async () => {
    const path = file('http.yaml', good.replace('https://vcenter.example.com/sdk', 'http://vcenter.example.com/sdk\n    allowInsecureHttp: true'));
    const [vc1, rhv] = await loadSources(path);
    expect(vc1!.url).toBe('http://vcenter.example.com/sdk');
    expect(insecureSourceWarnings(vc1!)).toEqual(['source "vc1": the password travels in cleartext over http:// (allowInsecureHttp)']);
    expect(insecureSourceWarnings(rhv!)).toEqual([]);
    expect(insecureSourceWarnings({ ...rhv!, insecureSkipVerify: true })).toEqual(['source "rhv": TLS verification is off (insecureSkipVerify); the server is not authenticated']);
  });

  it('refuses an inline password without echoing it', async () => {
    const path = file('inline.yaml', good.replace('    passwordFile: vc1.password\n', '    password: hunter2-inline\n'));
    const e = await failure(loadSources(path));
    expect(e.code).toBe('CONFIG_INLINE_SECRET');
    expect(e.message).toContain(`${path}:6:`);
    expect(JSON.stringify(e.toJSON())).not.toContain('hunter2-inline');
  });

  it('names the configured sources when --source is wrong', async () => {
    const e = await failure(selectSource(file('good2.yaml', good), 'vc2'));
    expect(e.code).toBe('SOURCE_NOT_CONFIGURED');
    expect(e.hint).toContain('vc1, rhv');
  });

  it("takes a CA bundle as PEM or as the seed's ConfigMap with key ca.pem", async () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    expect(await readCaBundle(file('ca.pem', pem))).toBe(pem);
    const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tls-certs\ndata:\n  ca.pem: |\n${pem
      .split('\n')
      .filter(Boolean)
      .map((l) => `    ${l}`)
      .join('\n')}\n`;
    expect(await readCaBundle(file('ca-cm.yaml', cm))).toBe(pem);
    expect((await failure(readCaBundle(file('junk.txt', 'hello')))).code).toBe('CONFIG_INVALID');
  });
});
