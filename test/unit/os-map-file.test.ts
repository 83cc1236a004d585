// The OS map file as the seed writes it: the OS ConfigMap alone, or with
// vm-import-controller-config pointing at it (osConfigMap.name / .namespace).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readOsMapFile } from '../../src/pipeline/job.js';

const work = mkdtempSync(join(tmpdir(), 'v2v-osmap-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const osConfigMap = (name: string, namespace: string, template: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\ndata:\n  osinfo2common: |\n    "other_linux": "${template}"\n`;
const controllerConfig = (name: string, namespace: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vm-import-controller-config\n  namespace: openshift-cnv\ndata:\n  osConfigMap.name: ${name}\n  osConfigMap.namespace: ${namespace}\n`;

function file(name: string, ...docs: string[]): string {
  const path = join(work, name);
  writeFileSync(path, docs.join('---\n'));
  return path;
}

describe('the OS map file', () => {
  it("takes the seed's os-configmap alone", async () => {
    expect((await readOsMapFile(file('alone.yaml', osConfigMap('os-configmap', 'default', 'fedora31')))).osinfo2common['other_linux']).toBe('fedora31');
  });

  it('follows vm-import-controller-config to the ConfigMap it names, and ignores the others', async () => {
    const path = file('pointed.yaml', controllerConfig('os-configmap', 'default'), osConfigMap('other', 'default', 'centos8'), osConfigMap('os-configmap', 'default', 'fedora32'));
    expect((await readOsMapFile(path)).osinfo2common['other_linux']).toBe('fedora32');
  });

  it('names the ConfigMap the pointer names when the file lacks it', async () => {
    const path = file('dangling.yaml', controllerConfig('os-configmap', 'tenant-a'), osConfigMap('os-configmap', 'default', 'fedora32'));
    await expect(readOsMapFile(path)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('tenant-a/os-configmap') });
  });
});
