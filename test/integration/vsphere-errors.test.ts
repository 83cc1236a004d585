import { createServer } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceVm } from '../../src/model.js';
import { sha1Thumbprint } from '../../src/net/tls.js';
import { makePki, type TestPki } from '../helpers/certs.js';
import { runCli } from '../helpers/cli.js';
import { startVcsim, type Vcsim } from '../helpers/vcsim.js';

function thumbprintOf(pemFile: string): string {
  return sha1Thumbprint(new X509Certificate(readFileSync(pemFile)).raw);
}

describe('vSphere source failures, named', () => {
  let vcsim: Vcsim;
  let pki: TestPki;
  let otherCa: TestPki;

  beforeAll(async () => {
    pki = makePki('vcsim');
    otherCa = makePki('someone-else');
    vcsim = await startVcsim({ vm: 1, tlsCert: pki.serverCert, tlsKey: pki.serverKey });
  });
  afterAll(async () => vcsim?.stop());

  it('verifies TLS against caFile and lists VMs', async () => {
    const sources = await vcsim.sourcesFile({ caFile: pki.caCert }, 'trusted');
    const res = await runCli(['inventory', '--sources', sources, '--source', 'trusted', '-o', 'json']);
    expect(res.code, res.stderr).toBe(0);
    expect((JSON.parse(res.stdout) as { vms: SourceVm[] }).vms.length).toBeGreaterThan(0);
  });

  it('a CA mismatch is SOURCE_TLS_UNTRUSTED with the presented thumbprint in the hint (exit 1)', async () => {
    const sources = await vcsim.sourcesFile({ caFile: otherCa.caCert }, 'mismatch');
    const res = await runCli(['inventory', '--sources', sources, '--source', 'mismatch']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('error SOURCE_TLS_UNTRUSTED');
    expect(res.stderr).toContain(thumbprintOf(pki.serverCert));
  });

  it('TLS is verified by default: no caFile and no insecureSkipVerify is untrusted', async () => {
    const sources = await vcsim.sourcesFile({}, 'default');
    const res = await runCli(['inventory', '--sources', sources, '--source', 'default']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('error SOURCE_TLS_UNTRUSTED');
  });

  it('a wrong password is SOURCE_AUTH_FAILED (exit 1) and the password is not echoed', async () => {
    const sources = await vcsim.sourcesFile({ caFile: pki.caCert }, 'wrongpw');
    const pwFile = sources.replace(/sources-wrongpw\.yaml$/, 'wrong-password');
    writeFileSync(pwFile, 'Wr0ng-Password-42\n');
    writeFileSync(sources, readFileSync(sources, 'utf8').replace(/passwordFile: .*/, `passwordFile: ${JSON.stringify(pwFile)}`));
    const res = await runCli(['inventory', '--sources', sources, '--source', 'wrongpw']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('error SOURCE_AUTH_FAILED');
    expect(res.stderr + res.stdout).not.toContain('Wr0ng-Password-42');
  });

  it('an unreachable host is SOURCE_UNREACHABLE (exit 1)', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const sources = await vcsim.sourcesFile({ url: `https://127.0.0.1:${port}/sdk`, insecureSkipVerify: true }, 'down');
    const res = await runCli(['inventory', '--sources', sources, '--source', 'down']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('error SOURCE_UNREACHABLE');
  });

  it('a bad sources file is exit 2 naming file:line', async () => {
    const sources = await vcsim.sourcesFile({ insecureSkipVerify: 'yes' }, 'badfile');
    const res = await runCli(['inventory', '--sources', sources, '--source', 'badfile']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(new RegExp(`error CONFIG_INVALID: ${sources.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: sources\\[0\\]\\.insecureSkipVerify`));
  });

  it('an unknown option is a usage error (exit 2)', async () => {
    const res = await runCli(['inventory', '--sources', 'x.yaml', '--source', 'vc', '-o', 'xml']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('Allowed choices are table, json, yaml');
  });
});
