// What a source serves or leaves out: an engine that omits a field a check needs (one VM per field, and
// one missing them all), an engine without /networkfilters, SSO tokens that serve fewer requests than run
// at once or none at all, and a certificate the CA verifies but issued for another name (oVirt, vSphere,
// an HTTPS image).
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { CheckReport } from '../../../src/checks/report.js';
import { makePki } from '../../helpers/certs.js';
import { startImageServer } from '../../helpers/image-server.js';
import { OMISSIONS, addOmissionVms, buildVm, defaultInventory, startOvirtFake, type OvirtFakeOptions } from '../../helpers/ovirt.js';
import { startVcsim } from '../../helpers/vcsim.js';
import type { HostileCase, HostileContext } from '../harness.js';

/** A fake engine whose password is the case's secret, and a sources file for it. */
async function engine(ctx: HostileContext, options: OvirtFakeOptions = {}): Promise<{ sources: string }> {
  const fake = await startOvirtFake({ ...options, password: ctx.secret });
  ctx.defer(() => fake.stop());
  const sources = join(ctx.inputs, 'sources.yaml');
  writeFileSync(sources, stringify({ sources: [{ name: 'rhv', type: 'ovirt', url: fake.url, username: fake.username, passwordFile: ctx.secretPath, caFile: fake.pki.caCert }] }));
  return { sources };
}

/** The `hint:` lines of stderr (what the user is told to do). */
function hints(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => /^\s*hint:/.test(l))
    .join('\n');
}

const EVERY_OMISSION = 'vm-omits-everything';

function inventoryCount(stdout: string, want: number): void {
  const { vms } = JSON.parse(stdout) as { vms: unknown[] };
  if (vms.length !== want) throw new Error(`the inventory lists ${vms.length} VMs, the engine has ${want}`);
}

export const sourceCases: HostileCase[] = [
  {
    id: 'source.ovirt-omitted-fields',
    item: '10',
    what: 'an engine that leaves out, one VM at a time and all on one VM, each field an oVirt check needs',
    setup: async (ctx) => {
      const inventory = defaultInventory();
      const names = addOmissionVms(inventory).map((o) => o.name);
      const by = (where: string) => OMISSIONS.filter((o) => o.where === where).map((o) => o.element);
      inventory.vms.push(
        buildVm(
          {
            name: EVERY_OMISSION,
            omit: by('vm'),
            disks: [{ omit: [...by('disk'), ...by('disk_attachment')] }],
            nics: [{ omit: by('nic') }],
          },
          inventory,
        ),
      );
      const { sources } = await engine(ctx, { inventory });
      return { args: ['check', '--sources', sources, '--source', 'rhv', ...[...names, EVERY_OMISSION].flatMap((n) => ['--vm', n]), '-o', 'json'] };
    },
    expect: {
      // A VM without a status or a disk without a size is refused by name; every other omission is a Warning.
      exit: 3,
      check: (result) => {
        const report = JSON.parse(result.stdout) as CheckReport;
        const problems: string[] = [];
        const vm = (name: string) => report.vms.find((v) => v.name === name);
        const says = (name: string, omission: (typeof OMISSIONS)[number]) => {
          const concerns = vm(name)?.concerns.filter((c) => c.id === omission.rule) ?? [];
          const expected = omission.category;
          if (!concerns.some((c) => c.category === expected && c.assessment.includes(omission.element))) {
            problems.push(`${name}: no ${expected} ${omission.rule} naming ${omission.element} (${JSON.stringify(concerns)})`);
          }
        };
        for (const omission of OMISSIONS) {
          const name = `vm-omits-${omission.where}-${omission.element}`.replace(/_/g, '-');
          says(name, omission);
          says(EVERY_OMISSION, omission);
          const valid = vm(name)?.valid;
          if (valid !== (omission.category === 'Warning')) problems.push(`${name} is ${valid ? '' : 'not '}valid`);
        }
        if (problems.length) throw new Error(problems.join('\n'));
      },
    },
  },
  {
    id: 'source.ovirt-no-networkfilters',
    item: '10',
    what: 'an engine older than 4.2, with no /networkfilters (404)',
    setup: async (ctx) => {
      const { sources } = await engine(ctx, { missingCollections: ['networkfilters'] });
      return { args: ['inventory', '--sources', sources, '--source', 'rhv', '-o', 'json'] };
    },
    expect: {
      exit: 0,
      stderr: /did not serve \/networkfilters \(HTTP 404\)/,
      check: (result) => inventoryCount(result.stdout, defaultInventory().vms.length + 1),
    },
  },
  {
    id: 'source.ovirt-sso-short-tokens',
    item: '11',
    what: 'SSO tokens that serve three requests while the inventory sends seven at once',
    setup: async (ctx) => {
      const { sources } = await engine(ctx, { tokenMaxUses: 3 });
      return { args: ['inventory', '--sources', sources, '--source', 'rhv', '-o', 'json'] };
    },
    expect: { exit: 0, check: (result) => inventoryCount(result.stdout, defaultInventory().vms.length + 1) },
  },
  {
    id: 'source.ovirt-sso-token-refused',
    item: '11',
    what: 'an engine whose API refuses every token its SSO issues for the right password',
    setup: async (ctx) => {
      const { sources } = await engine(ctx, { tokenMaxUses: 0 });
      return { args: ['inventory', '--sources', sources, '--source', 'rhv'] };
    },
    expect: {
      code: 'SOURCE_AUTH_FAILED',
      exit: 1,
      stderr: /SSO accepted the credentials/,
      check: (result) => {
        if (/password/i.test(hints(result.stderr))) throw new Error(`the hint blames the password: ${hints(result.stderr)}`);
      },
    },
  },
  {
    id: 'source.ovirt-tls-other-name',
    item: '11',
    what: 'an engine whose certificate the caFile verifies, issued for engine.example.com, reached as 127.0.0.1',
    setup: async (ctx) => {
      const { sources } = await engine(ctx, { pki: makePki('engine-other-name', ['DNS:engine.example.com']) });
      return { args: ['inventory', '--sources', sources, '--source', 'rhv'] };
    },
    expect: {
      code: 'SOURCE_TLS_UNTRUSTED',
      exit: 1,
      stderr: /issued for engine\.example\.com, not 127\.0\.0\.1/,
      check: (result) => {
        if (/caFile/.test(hints(result.stderr))) throw new Error(`the hint asks for caFile: ${hints(result.stderr)}`);
      },
    },
  },
  {
    id: 'source.vsphere-tls-other-name',
    item: '11',
    what: 'a vCenter whose certificate the caFile verifies, issued for vcenter.example.com, reached as 127.0.0.1',
    setup: async (ctx) => {
      const pki = makePki('vcenter-other-name', ['DNS:vcenter.example.com']);
      const vcsim = await startVcsim({ vm: 1, password: ctx.secret, tlsCert: pki.serverCert, tlsKey: pki.serverKey });
      ctx.defer(() => vcsim.stop());
      const sources = join(ctx.inputs, 'sources.yaml');
      writeFileSync(sources, stringify({ sources: [{ name: 'vc', type: 'vsphere', url: vcsim.url, username: vcsim.username, passwordFile: ctx.secretPath, caFile: pki.caCert }] }));
      return { args: ['inventory', '--sources', sources, '--source', 'vc'] };
    },
    expect: {
      code: 'SOURCE_TLS_UNTRUSTED',
      exit: 1,
      stderr: /issued for vcenter\.example\.com, not 127\.0\.0\.1/,
      check: (result) => {
        if (/caFile/.test(hints(result.stderr))) throw new Error(`the hint asks for caFile: ${hints(result.stderr)}`);
      },
    },
  },
  {
    id: 'source.import-tls-other-name',
    item: '11',
    what: 'an HTTPS image server whose certificate --ca verifies, issued for images.example.com, reached as 127.0.0.1',
    setup: async (ctx) => {
      const pki = makePki('images-other-name', ['DNS:images.example.com']);
      const www = join(ctx.inputs, 'www');
      mkdirSync(www);
      writeFileSync(join(www, 'disk.raw'), Buffer.alloc(1 << 20));
      const server = await startImageServer({ root: www, tls: { cert: pki.serverCert, key: pki.serverKey } });
      ctx.defer(() => server.close());
      return { args: ['import', '--url', `${server.url}/disk.raw`, '--ca', pki.caCert, '--target', ctx.target, '--size', '16Mi'] };
    },
    expect: {
      code: 'SOURCE_TLS_UNTRUSTED',
      exit: 1,
      stderr: /issued for images\.example\.com, not 127\.0\.0\.1/,
      check: (result) => {
        if (/--ca\b/.test(hints(result.stderr))) throw new Error(`the hint asks for --ca: ${hints(result.stderr)}`);
      },
    },
  },
];
