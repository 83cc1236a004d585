import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OvirtSource } from '../../adapters/ovirt/index.js';
import { makePki } from '../helpers/certs.js';
import { runCli } from '../helpers/cli.js';
import { startOvirtFake, type OvirtFake, type OvirtFakeOptions } from '../peers/ovirt/server.js';

async function withFake<T>(options: OvirtFakeOptions, fn: (fake: OvirtFake) => Promise<T>): Promise<T> {
  const fake = await startOvirtFake(options);
  try {
    return await fn(fake);
  } finally {
    await fake.stop();
  }
}

function connect(fake: OvirtFake, overrides: { password?: string; ca?: string } = {}): Promise<OvirtSource> {
  return OvirtSource.connect({ name: 'rhv', url: fake.url, username: fake.username, password: overrides.password ?? fake.password, ca: overrides.ca ?? fake.pki.caPem });
}

const ssoRequests = (fake: OvirtFake) => fake.log.filter((r) => r.path === '/ovirt-engine/sso/oauth/token');

describe('oVirt authentication and TLS errors', () => {
  let fake: OvirtFake;
  beforeAll(async () => {
    fake = await startOvirtFake();
  });
  afterAll(async () => fake?.stop());

  it('a wrong password is SOURCE_AUTH_FAILED from SSO, and the password is not in the message', async () => {
    const err = await connect(fake, { password: 'not-the-password' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SOURCE_AUTH_FAILED', exitCode: 1 });
    expect((err as Error).message).toMatch(/admin@internal/);
    expect((err as Error).message).not.toContain('not-the-password');
  });

  it('the CLI names SOURCE_AUTH_FAILED with a hint', async () => {
    const sources = await fake.sourcesFile({ caFile: fake.pki.caCert, passwordEnv: 'RHV_PW', passwordFile: undefined }, 'rhv-env');
    const res = await runCli(['inventory', '--sources', sources, '--source', 'rhv-env'], { env: { RHV_PW: 'wrong-password-123' } });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/error SOURCE_AUTH_FAILED/);
    expect(res.stderr).toMatch(/hint: check the username/);
    expect(res.stderr).not.toContain('wrong-password-123');
  });

  it('a token that expires mid-run is renewed once, and the run goes on', async () => {
    const source = await connect(fake);
    try {
      await source.listVms();
      const before = ssoRequests(fake).length;
      fake.expireTokens();
      const vms = await source.listVms();
      expect(vms.length).toBeGreaterThan(10);
      // Five requests run at once and all see 401: one shared renewal, not five.
      expect(ssoRequests(fake).length - before).toBe(1);
      expect(fake.apiRequests().filter((r) => r.status === 401).length).toBeGreaterThan(0);
    } finally {
      await source.close();
    }
  });

  it('a CA that did not sign the engine certificate is SOURCE_TLS_UNTRUSTED with the presented thumbprint', async () => {
    const other = makePki('other-ca');
    const err = await connect(fake, { ca: other.caPem }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SOURCE_TLS_UNTRUSTED' });
    expect((err as { hint: string }).hint).toMatch(/thumbprint ([0-9A-F]{2}:){19}[0-9A-F]{2}/);
  });

  it('a certificate the CA verifies but issued for another name says so and names its names, instead of asking for caFile', async () => {
    await withFake({ pki: makePki('ovirt-other-name', ['DNS:engine.example.com', 'DNS:engine']) }, async (other) => {
      const err = (await connect(other, { ca: other.pki.caPem }).catch((e: unknown) => e)) as { code: string; hint: string };
      expect(err).toMatchObject({ code: 'SOURCE_TLS_UNTRUSTED' });
      expect(err.hint).toMatch(/verifies against the trusted CA, but it is issued for engine\.example\.com, engine, not 127\.0\.0\.1/);
      expect(err.hint).not.toMatch(/caFile/);
    });
  });

  it('a URL that is not the API is CONFIG_INVALID before any request', async () => {
    const err = await OvirtSource.connect({
      name: 'x',
      url: fake.url.replace('/ovirt-engine/api', '/'),
      username: 'admin@internal',
      password: 'x-password',
      ca: fake.pki.caPem,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', exitCode: 2 });
  });

  it('a closed port is SOURCE_UNREACHABLE', async () => {
    const err = await OvirtSource.connect({ name: 'x', url: 'https://127.0.0.1:1/ovirt-engine/api', username: 'admin@internal', password: 'x-password', ca: fake.pki.caPem }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'SOURCE_UNREACHABLE' });
  });
});

describe('oVirt token renewal limits', () => {
  it('an API that refuses every token SSO issues is SOURCE_AUTH_FAILED after a few shared renewals, and does not blame the password', async () => {
    await withFake({ tokenMaxUses: 0 }, async (fake) => {
      const source = await connect(fake);
      try {
        const err = (await source.listVms().catch((e: unknown) => e)) as { code: string; message: string; hint: string };
        expect(err).toMatchObject({ code: 'SOURCE_AUTH_FAILED', message: expect.stringMatching(/refused every SSO token/) });
        // SSO took the password every time: the hint looks at the API side.
        expect(err.hint).toMatch(/SSO accepted the credentials/);
        expect(err.hint).not.toMatch(/password/);
        // connect + three renewals, each shared by the seven requests listVms sends at once: bounded, not a loop.
        expect(ssoRequests(fake)).toHaveLength(4);
      } finally {
        await source.close();
      }
    });
  });

  it('tokens that live fewer requests than run at once: every refused request shares one renewal per token and goes on', async () => {
    // listVms sends seven requests at once; a token serves three, so four retry on the fresh token and one of them again.
    await withFake({ tokenMaxUses: 3 }, async (fake) => {
      const source = await connect(fake);
      try {
        expect((await source.listVms()).length).toBeGreaterThan(10);
        expect(ssoRequests(fake)).toHaveLength(3);
      } finally {
        await source.close();
      }
    });
  });

  it('tokens that live a few requests are renewed as often as needed', async () => {
    // Each token serves 8 requests (more than the 7 listVms sends at once); 3 VMs a page make 16 requests.
    await withFake({ tokenMaxUses: 8 }, async (fake) => {
      const source = await OvirtSource.connect({ name: 'rhv', url: fake.url, username: fake.username, password: fake.password, ca: fake.pki.caPem }, { pageSize: 3 });
      try {
        const vms = await source.listVms();
        expect(vms.length).toBeGreaterThan(10);
        expect(ssoRequests(fake).length).toBeGreaterThanOrEqual(2);
        expect(fake.apiRequests().filter((r) => r.status === 401).length).toBeGreaterThanOrEqual(1);
      } finally {
        await source.close();
      }
    });
  });

  it('an engine that ignores the page clause is SOURCE_API_ERROR, not an endless listing', async () => {
    await withFake({ ignorePage: true }, async (fake) => {
      const source = await OvirtSource.connect({ name: 'rhv', url: fake.url, username: fake.username, password: fake.password, ca: fake.pki.caPem }, { pageSize: 10 });
      try {
        await expect(source.listVms()).rejects.toMatchObject({ code: 'SOURCE_API_ERROR', message: expect.stringMatching(/repeats an earlier page/) });
      } finally {
        await source.close();
      }
    });
  });

  it('an engine without SSO is used with basic auth', async () => {
    await withFake({ sso: false }, async (fake) => {
      const source = await connect(fake);
      try {
        expect((await source.listVms()).length).toBeGreaterThan(10);
        expect(new Set(fake.apiRequests().map((r) => r.auth))).toEqual(new Set(['basic']));
      } finally {
        await source.close();
      }
      const wrong = await connect(fake, { password: 'wrong-password' });
      await expect(wrong.listVms()).rejects.toMatchObject({ code: 'SOURCE_AUTH_FAILED' });
      await wrong.close();
    });
  });
});
