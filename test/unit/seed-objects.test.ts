import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { resolveOs } from '../../src/mapping/os-map.js';
import { importJob, mappingsFromObjects } from '../../src/objects/import-job.js';
import { loadSeedObjects } from '../../src/objects/seed-objects.js';
import { readPassword } from '../../src/config/sources.js';
import { redact } from '../../src/redact.js';
import { REPO } from '../helpers/peers.js';
import { VmBuilder } from '../helpers/vm-builder.js';

const SEED = `${REPO}test/data/seed/ovirt-import.yaml`;

async function tempFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'v2v-objects-'));
  const file = join(dir, 'objects.yaml');
  await writeFile(file, text);
  return file;
}

async function failure(files: string[]): Promise<ConfigError> {
  try {
    const objects = await loadSeedObjects(files);
    for (const vmi of objects.imports) importJob(objects, vmi);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe("the seed's objects (RHV example, placeholders filled)", () => {
  it('become a source, a VM reference, merged mappings and an OS map', async () => {
    const objects = await loadSeedObjects([SEED]);
    expect(objects.imports).toHaveLength(1);
    const job = importJob(objects, objects.imports[0]!);
    expect(job).toMatchObject({ importName: 'vm-import', namespace: 'default', vmRef: '80554327-0569-496b-bdeb-fcbbf52b827b', targetVmName: 'vm_example', startVm: true });
    expect(job.source).toMatchObject({ name: 'rhv-credentials', type: 'ovirt', url: 'https://engine.example.com/ovirt-engine/api', username: 'ocpadmin@internal' });
    expect(job.source.ca).toContain('-----BEGIN CERTIFICATE-----');
    // The inline mapping for "data" wins over the ResourceMapping's (the seed's precedence).
    expect(job.mappings!.storageMappings).toEqual([{ source: { name: 'data' }, target: { name: 'nfs' }, accessMode: 'ReadWriteMany' }]);
    expect(job.mappings!.diskMappings).toHaveLength(1);
    expect(job.mappings!.networkMappings).toHaveLength(1);
    // The seed's ConfigMap example: other_linux → fedora31.
    expect(resolveOs(VmBuilder.ovirt().guest('other_linux').build(), job.osMap)?.osinfo).toBe('fedora31');
  });

  it('keeps the Secret password in memory only, registered for redaction', async () => {
    const objects = await loadSeedObjects([SEED]);
    const job = importJob(objects, objects.imports[0]!);
    expect(await readPassword(job.source, {})).toBe('seed-Passw0rd');
    expect(redact('login with seed-Passw0rd failed')).toBe('login with [REDACTED] failed');
  });

  it('reads a ResourceMapping file for --mapping by source type', async () => {
    const objects = await loadSeedObjects([SEED]);
    expect(mappingsFromObjects(objects, 'ovirt', SEED).storageMappings[0]!.target.name).toBe('ocs-storagecluster-ceph-rbd');
    expect(() => mappingsFromObjects(objects, 'vsphere', SEED)).toThrow(/has no spec.vmware section/);
  });

  it('reads a VMware Secret from base64 data as well as stringData', async () => {
    const inner =
      'apiUrl: https://vc.example.com/sdk\nusername: administrator@vsphere.local\npassword: vmw-Secret-99\nthumbprint: "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD"\n';
    const file = await tempFile(
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: vmw\ntype: Opaque\ndata:\n  vmware: ${Buffer.from(inner).toString('base64')}\n---\n` +
        'apiVersion: v2v.kubevirt.io/v1beta1\nkind: VirtualMachineImport\nmetadata:\n  name: imp\nspec:\n  providerCredentialsSecret:\n    name: vmw\n  source:\n    vmware:\n      vm:\n        name: web-01\n',
    );
    const objects = await loadSeedObjects([file]);
    const job = importJob(objects, objects.imports[0]!);
    expect(job.source).toMatchObject({
      type: 'vsphere',
      url: 'https://vc.example.com/sdk',
      thumbprint: 'AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD',
      pinThumbprint: true,
    });
    expect(job.vmRef).toBe('web-01');
    expect(job.mappings).toBeUndefined();
  });
});

describe('bad objects', () => {
  it('names file:line and the path of an unknown field', async () => {
    const text = (await readFile(SEED, 'utf8')).replace('        id: 80554327-0569-496b-bdeb-fcbbf52b827b', '        id: 80554327-0569-496b-bdeb-fcbbf52b827b\n        uuid: nope');
    const file = await tempFile(text);
    const e = await failure([file]);
    expect(e.code).toBe('CONFIG_INVALID');
    const line = text.split('\n').findIndex((l) => l.includes('uuid: nope')) + 1;
    expect(e.message).toContain(`${file}:${line}:`);
    expect(e.message).toContain('spec.source.ovirt.vm.uuid: unknown field "uuid"');
  });

  it('names an unknown field inside the provider Secret without echoing the password', async () => {
    const text = (await readFile(SEED, 'utf8')).replace('    username: ocpadmin@internal', '    username: ocpadmin@internal\n    token: abc');
    const e = await failure([await tempFile(text)]);
    expect(e.message).toMatch(/stringData\.ovirt\.token: unknown field "token"/);
    expect(e.message).not.toContain('seed-Passw0rd');
  });

  it('refuses a bad enum in a mapping, with its path', async () => {
    const text = (await readFile(SEED, 'utf8')).replace('accessMode: ReadWriteMany', 'accessMode: ReadWriteAll');
    const e = await failure([await tempFile(text)]);
    expect(e.message).toMatch(/spec\.source\.ovirt\.mappings\.storageMappings\[0\]\.accessMode/);
  });

  it('refuses an unsupported kind', async () => {
    const e = await failure([await tempFile('apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n')]);
    expect(e.message).toMatch(/:2:\d+: kind: unsupported kind "Pod"/);
  });

  it('says which reference is missing: the Secret, or the ResourceMapping', async () => {
    const text = await readFile(SEED, 'utf8');
    const docs = text.split('\n---\n');
    expect((await failure([await tempFile(docs.slice(1).join('\n---\n'))])).code).toBe('SECRET_NOT_FOUND');
    expect((await failure([await tempFile([docs[0], docs[2], docs[3]].join('\n---\n'))])).code).toBe('RESOURCE_MAPPING_NOT_FOUND');
  });
});
