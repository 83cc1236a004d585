import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckReport } from '../../src/checks/report.js';
import { fetchPresentedCertificate } from '../../src/net/tls.js';
import { runCli } from '../helpers/cli.js';
import { validateObject } from '../helpers/openapi.js';
import { REPO } from '../helpers/peers.js';
import { startVcsim, type Vcsim } from '../helpers/vcsim.js';
import { addDisk, addNic, addSataDisk, createSnapshot, findVm, powerOn, setGuestId } from '../helpers/vsphere-ops.js';

// 1 DC, 1 cluster with 1 host, 5 VMs, all powered off at start. Arranged:
// VM0 powered on, VM1 gets a SATA disk, VM2 stays clean, VM3 gets a second NIC,
// VM4 gets an NVMe disk, a snapshot and a RHEL 7 guest id (this vcsim knows no rhel8 id).
const reportSchema = JSON.parse(readFileSync(`${REPO}schemas/check-report.schema.json`, 'utf8')) as object;
const validateReport = new Ajv({ allErrors: true }).compile(reportSchema);

function resourceMapping(networks: { name: string; type: 'pod' | 'multus'; target?: string }[], datastores = ['LocalDS_0']): string {
  return [
    'apiVersion: v2v.kubevirt.io/v1alpha1',
    'kind: ResourceMapping',
    'metadata:',
    '  name: vcsim-mapping',
    '  namespace: default',
    'spec:',
    '  vmware:',
    '    networkMappings:',
    ...networks.flatMap((n) => ['      - source:', `          name: ${n.name}`, '        target:', `          name: ${n.target ?? 'pod'}`, `        type: ${n.type}`]),
    '    storageMappings:',
    ...datastores.flatMap((d) => ['      - source:', `          name: ${d}`, '        target:', '          name: standard']),
    '',
  ].join('\n');
}

describe('v2v check and plan against vcsim', () => {
  let vcsim: Vcsim;
  let sources: string;
  let dir: string;
  let mapping: string;

  beforeAll(async () => {
    vcsim = await startVcsim({ dc: 1, cluster: 1, host: 1, standaloneHost: 0, vm: 5, autostart: false });
    sources = await vcsim.sourcesFile();
    dir = await mkdtemp(join(tmpdir(), 'v2v-check-'));
    const client = await vcsim.client();
    try {
      await powerOn(client, await findVm(client, 'DC0_C0_RP0_VM0'));
      await addSataDisk(client, await findVm(client, 'DC0_C0_RP0_VM1'));
      await addNic(client, await findVm(client, 'DC0_C0_RP0_VM3'), 'VM Network');
      const vm4 = await findVm(client, 'DC0_C0_RP0_VM4');
      await addDisk(client, vm4, 'VirtualNVMEController');
      await createSnapshot(client, vm4);
      await setGuestId(client, vm4, 'rhel7_64Guest');
    } finally {
      await client.logout();
    }
    mapping = join(dir, 'mapping.yaml');
    await writeFile(mapping, resourceMapping([{ name: 'DC0_DVPG0', type: 'pod' }]));
  });
  afterAll(async () => vcsim?.stop());

  async function check(args: string[]): Promise<{ code: number | null; report: CheckReport; stderr: string }> {
    const res = await runCli(['check', '--sources', sources, '--source', 'vc', ...args, '-o', 'json']);
    expect(res.stdout, res.stderr).not.toBe('');
    const report = JSON.parse(res.stdout) as CheckReport;
    expect(validateReport(report), JSON.stringify(validateReport.errors)).toBe(true);
    return { code: res.code, report, stderr: res.stderr };
  }

  const ids = (r: CheckReport, vm = 0) => r.vms[vm]!.concerns.map((c) => c.id);

  it('flags a powered-on VM with vmware.power_state.on and exits 3', async () => {
    const { code, report } = await check(['--vm', 'DC0_C0_RP0_VM0', '--mapping', mapping]);
    expect(code).toBe(3);
    expect(ids(report)).toContain('vmware.power_state.on');
    expect(report.vms[0]).toMatchObject({ name: 'DC0_C0_RP0_VM0', powerState: 'on', valid: false });
    expect(report.vms[0]!.conditions[1]).toMatchObject({ type: 'MappingRulesVerified', status: 'False', reason: 'MappingRulesVerificationFailed' });
  });

  it('flags a disk on a SATA controller with vmware.disk.controller.sata', async () => {
    const { code, report } = await check(['--vm', 'DC0_C0_RP0_VM1', '--mapping', mapping]);
    expect(code).toBe(3);
    expect(ids(report)).toContain('vmware.disk.controller.sata');
    expect(report.vms[0]!.concerns.find((c) => c.id === 'vmware.disk.controller.sata')!.assessment).toContain('VirtualAHCIController');
  });

  it('passes a powered-off VM with SCSI/IDE disks and mapped network and storage: valid, exit 0', async () => {
    const { code, report } = await check(['--vm', 'DC0_C0_RP0_VM2', '--mapping', mapping]);
    expect(code, JSON.stringify(report.vms[0]!.concerns)).toBe(0);
    expect(report.mappingEvaluated).toBe(true);
    expect(report.vms[0]!.valid).toBe(true);
    expect(report.vms[0]!.concerns.filter((c) => c.category === 'Critical')).toEqual([]);
    expect(report.vms[0]!.conditions[0]).toEqual({ type: 'Valid', status: 'True', reason: 'ValidationCompleted', message: 'Validation completed successfully' });
  });

  it('says mapping rules were not evaluated without --mapping', async () => {
    const { code, report } = await check(['--vm', 'DC0_C0_RP0_VM3']);
    expect(code).toBe(0);
    expect(report.mappingEvaluated).toBe(false);
    expect(report.notes.join(' ')).toMatch(/mapping rules were not evaluated/);
  });

  it('finds an unmapped network, and two networks on the pod network', async () => {
    const unmapped = await check(['--vm', 'DC0_C0_RP0_VM3', '--mapping', mapping]);
    expect(unmapped.code).toBe(3);
    expect(ids(unmapped.report)).toContain('mapping.network.unmapped');
    expect(unmapped.report.vms[0]!.conditions[0]).toMatchObject({ type: 'Valid', status: 'False', reason: 'IncompleteMappingRules' });
    const twoPods = join(dir, 'two-pods.yaml');
    await writeFile(
      twoPods,
      resourceMapping([
        { name: 'DC0_DVPG0', type: 'pod' },
        { name: 'VM Network', type: 'pod' },
      ]),
    );
    const multiple = await check(['--vm', 'DC0_C0_RP0_VM3', '--mapping', twoPods]);
    expect(multiple.code).toBe(3);
    expect(ids(multiple.report)).toContain('mapping.network.multiple_pod');
    expect(ids(multiple.report)).not.toContain('mapping.network.unmapped');
  });

  it('finds unmapped storage', async () => {
    const noStorage = join(dir, 'no-storage.yaml');
    await writeFile(noStorage, resourceMapping([{ name: 'DC0_DVPG0', type: 'pod' }], ['OtherDS']));
    const { code, report } = await check(['--vm', 'DC0_C0_RP0_VM2', '--mapping', noStorage]);
    expect(code).toBe(3);
    expect(ids(report)).toContain('mapping.storage.unmapped');
  });

  it('flags an NVMe disk, reports the snapshot, and accepts the RHEL 7 guest', async () => {
    const { code, report } = await check(['--vm', 'DC0_C0_RP0_VM4', '--mapping', mapping]);
    expect(code).toBe(3);
    expect(ids(report)).toEqual(expect.arrayContaining(['vmware.disk.controller.unsupported', 'vmware.snapshot.detected']));
    expect(ids(report)).not.toContain('vmware.os.unsupported');
    expect(report.vms[0]!.concerns.find((c) => c.id === 'vmware.disk.controller.unsupported')!.assessment).toContain('VirtualNVMEController');
  });

  it('checks every VM with --all and prints a human report grouped by severity', async () => {
    const { report } = await check(['--all', '--mapping', mapping]);
    expect(report.summary).toMatchObject({ vms: 5, valid: 1, invalid: 4 });
    const human = await runCli(['check', '--sources', sources, '--source', 'vc', '--all', '--mapping', mapping]);
    expect(human.code).toBe(3);
    expect(human.stdout).toMatch(
      /DC0_C0_RP0_VM0 \(vm-\d+, on\) — NOT VALID\n {2}Critical:\n {4}vmware\.power_state\.on: VM is not powered off\n {6}the VM is powered on\n {6}hint: shut the guest down/,
    );
    expect(human.stdout).toMatch(/5 VMs checked: 1 valid, 4 not valid/);
  });

  it('refuses a bad command line with exit 2', async () => {
    expect((await runCli(['check', '--sources', sources, '--source', 'vc'])).code).toBe(2);
    expect((await runCli(['check', '--sources', sources, '--source', 'vc', '--all', '--vm', 'x'])).code).toBe(2);
    const notFound = await runCli(['check', '--sources', sources, '--source', 'vc', '--vm', 'nope']);
    expect(notFound.code).toBe(1);
    expect(notFound.stderr).toContain('VM_NOT_FOUND');
  });

  describe('check -f with VirtualMachineImport + ResourceMapping + Secret (VMware form)', () => {
    async function objects(vmName: string, thumbprint: string, extra = '', targetVmName = 'vm-example'): Promise<string> {
      const url = new URL(vcsim.url);
      const file = join(dir, `objects-${vmName}-${thumbprint.slice(0, 2)}-${targetVmName}.yaml`);
      await writeFile(
        file,
        [
          'apiVersion: v1',
          'kind: Secret',
          'metadata:',
          '  name: vmw-credentials',
          '  namespace: default',
          'type: Opaque',
          'stringData:',
          '  vmware: |',
          `    apiUrl: "${url.origin}/sdk"`,
          `    username: "${vcsim.username}"`,
          `    password: "${vcsim.password}"`,
          `    thumbprint: "${thumbprint}"`,
          '---',
          resourceMapping([{ name: 'DC0_DVPG0', type: 'pod' }]).replace('name: vcsim-mapping', 'name: resourcemapping-example'),
          '---',
          'apiVersion: v2v.kubevirt.io/v1beta1',
          'kind: VirtualMachineImport',
          'metadata:',
          '  name: vm-import',
          '  namespace: default',
          'spec:',
          '  providerCredentialsSecret:',
          '    name: vmw-credentials',
          '    namespace: default',
          '  resourceMapping:',
          '    name: resourcemapping-example',
          '    namespace: default',
          `  targetVmName: ${targetVmName}`,
          '  startVm: true',
          '  source:',
          '    vmware:',
          '      vm:',
          `        name: ${vmName}`,
          extra,
        ].join('\n'),
      );
      return file;
    }

    it('reads the VM through the Secret (thumbprint pinned) and checks it: valid, exit 0', async () => {
      const url = new URL(vcsim.url);
      const { thumbprint } = await fetchPresentedCertificate(url.hostname, Number(url.port));
      const res = await runCli(['check', '-f', await objects('DC0_C0_RP0_VM2', thumbprint), '-o', 'json', '--log-level', 'debug']);
      expect(res.code, res.stderr).toBe(0);
      const report = JSON.parse(res.stdout) as CheckReport;
      expect(validateReport(report)).toBe(true);
      expect(report.vms[0]).toMatchObject({ name: 'DC0_C0_RP0_VM2', valid: true, importName: 'vm-import', source: 'vmw-credentials' });
      expect(res.stdout + res.stderr).not.toContain(vcsim.password);
    });

    it('plans the VM of a VirtualMachineImport: targetVmName, startVm, namespace, mapped storage class', async () => {
      const url = new URL(vcsim.url);
      const { thumbprint } = await fetchPresentedCertificate(url.hostname, Number(url.port));
      const res = await runCli(['plan', '-f', await objects('DC0_C0_RP0_VM2', thumbprint)]);
      expect(res.code, res.stderr).toBe(0);
      const [vm, pvc] = parseAllDocuments(res.stdout).map(
        (d) =>
          d.toJS() as {
            kind: string;
            metadata: { name: string; namespace: string };
            spec: { runStrategy: string; storageClassName: string; template: { spec: { volumes: { persistentVolumeClaim: { claimName: string } }[] } } };
          },
      );
      expect(vm!.metadata).toMatchObject({ name: 'vm-example', namespace: 'default' });
      expect(vm!.spec.runStrategy).toBe('Always');
      // The VM boots the claim v2v fills, and the claim carries the mapped storage class.
      expect(pvc).toMatchObject({ kind: 'PersistentVolumeClaim', metadata: { name: 'vm-example-disk0', namespace: 'default' }, spec: { storageClassName: 'standard' } });
      expect(vm!.spec.template.spec.volumes[0]!.persistentVolumeClaim.claimName).toBe('vm-example-disk0');
      expect(validateObject(vm)).toEqual([]);
    });

    it('refuses a targetVmName that is not an RFC 1123 label, as vm-import-operator does (InvalidTargetVMName), in plan and convert', async () => {
      const url = new URL(vcsim.url);
      const { thumbprint } = await fetchPresentedCertificate(url.hostname, Number(url.port));
      const file = await objects('DC0_C0_RP0_VM2', thumbprint, '', 'vm_example');
      for (const args of [
        ['plan', '-f', file],
        ['convert', '-f', file, '--target', join(dir, 'refused')],
      ]) {
        const res = await runCli(args);
        expect(res.code, res.stderr).toBe(2);
        expect(res.stderr).toContain('error TARGET_NAME_INVALID: the target VM name "vm_example" is not an RFC 1123 label');
      }
      expect(existsSync(join(dir, 'refused', 'disk0'))).toBe(false);
    });

    it('convert -f takes the source, the VM, the mapping and the target from the objects: the powered-on VM is refused before any copy (exit 3)', async () => {
      const url = new URL(vcsim.url);
      const { thumbprint } = await fetchPresentedCertificate(url.hostname, Number(url.port));
      const target = join(dir, 'vmi-running');
      const res = await runCli(['convert', '-f', await objects('DC0_C0_RP0_VM0', thumbprint), '--target', target]);
      expect(res.code, res.stderr).toBe(3);
      expect(res.stderr).toContain('vmware.power_state.on');
      expect(existsSync(join(target, 'disk0'))).toBe(false);
      const mixed = await runCli(['convert', '-f', await objects('DC0_C0_RP0_VM0', thumbprint), '--vm', 'x', '--target', target]);
      expect(mixed.code).toBe(2);
      expect(mixed.stderr).toContain('-f names the VM and its source');
    });

    it('flags the powered-on VM named by a VirtualMachineImport, exit 3', async () => {
      const url = new URL(vcsim.url);
      const { thumbprint } = await fetchPresentedCertificate(url.hostname, Number(url.port));
      const res = await runCli(['check', '-f', await objects('DC0_C0_RP0_VM0', thumbprint), '-o', 'json']);
      expect(res.code).toBe(3);
      expect((JSON.parse(res.stdout) as CheckReport).vms[0]!.concerns.map((c) => c.id)).toContain('vmware.power_state.on');
    });

    it('refuses a server whose certificate does not match the Secret thumbprint', async () => {
      const res = await runCli(['check', '-f', await objects('DC0_C0_RP0_VM2', 'AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD'), '--log-level', 'debug']);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain('SOURCE_TLS_UNTRUSTED');
      expect(res.stderr).not.toContain(vcsim.password);
    });

    it('names file:line and the path of an unknown field, exit 2', async () => {
      const file = await objects('DC0_C0_RP0_VM2', 'AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD', '        folder: x\n');
      const res = await runCli(['check', '-f', file]);
      expect(res.code).toBe(2);
      const line = (await readFile(file, 'utf8')).split('\n').findIndex((l) => l.includes('folder: x')) + 1;
      expect(res.stderr).toContain(`${file}:${line}:`);
      expect(res.stderr).toContain('spec.source.vmware.vm.folder: unknown field "folder"');
    });
  });

  describe('v2v plan', () => {
    it('emits VirtualMachines that pass the KubeVirt OpenAPI schema (PVCs v2v fills, and CDI vddk volumes)', async () => {
      for (const copy of ['v2v', 'cdi']) {
        const res = await runCli([
          'plan',
          '--sources',
          sources,
          '--source',
          'vc',
          '--vm',
          'DC0_C0_RP0_VM2',
          '--vm',
          'DC0_C0_RP0_VM3',
          '--mapping',
          mapping,
          '--namespace',
          'imports',
          '--copy',
          copy,
        ]);
        // VM3 has an unmapped NIC: the plan is emitted, the Critical concern is reported, exit 3.
        expect(res.code, res.stderr).toBe(3);
        expect(res.stderr).toMatch(/critical dc0-c0-rp0-vm3: mapping\.network\.unmapped/);
        const docs = parseAllDocuments(res.stdout).map(
          (d) =>
            d.toJS() as {
              kind: string;
              metadata: { name: string };
              spec: { dataVolumeTemplates?: { spec: { source: Record<string, unknown> } }[]; template: { spec: { volumes: Record<string, { claimName?: string }>[] } } };
            },
        );
        const vms = docs.filter((d) => d.kind === 'VirtualMachine');
        expect(vms.map((d) => d.metadata.name)).toEqual(['dc0-c0-rp0-vm2', 'dc0-c0-rp0-vm3']);
        for (const d of vms) expect(validateObject(d)).toEqual([]);
        if (copy === 'v2v') {
          // Every claim a VM boots is in the output, and nothing else.
          const booted = vms.flatMap((vm) => vm.spec.template.spec.volumes.map((v) => v['persistentVolumeClaim']?.claimName));
          expect(docs.filter((d) => d.kind === 'PersistentVolumeClaim').map((d) => d.metadata.name)).toEqual(booted);
          expect(vms[0]!.spec.dataVolumeTemplates).toBeUndefined();
        } else {
          expect(Object.keys(vms[0]!.spec.dataVolumeTemplates![0]!.spec.source)).toEqual(['vddk']);
        }
      }
    });

    it("labels the VM for the common template of its guest (OS map), and honours a user's OS map ConfigMap", async () => {
      const plan = async (extra: string[]) => {
        const res = await runCli(['plan', '--sources', sources, '--source', 'vc', '--vm', 'DC0_C0_RP0_VM4', '-o', 'json', ...extra]);
        return (JSON.parse(res.stdout) as { items: { metadata: { labels: Record<string, string> } }[] }).items[0]!.metadata.labels;
      };
      expect(await plan([])).toMatchObject({ 'os.template.kubevirt.io/rhel7.7': 'true' });
      const osMap = join(dir, 'os-map.yaml');
      await writeFile(osMap, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: os-configmap\n  namespace: default\ndata:\n  osinfo2common: |\n    "rhel7_64Guest": "rhel7.9"\n');
      const labels = await plan(['--os-map', osMap]);
      expect(labels).toMatchObject({ 'os.template.kubevirt.io/rhel7.9': 'true' });
      expect(labels).not.toHaveProperty(['os.template.kubevirt.io/rhel7.7']);
    });

    it('writes one file per VM with --output-dir, exit 0 for a clean VM', async () => {
      const out = join(dir, 'plan');
      const res = await runCli(['plan', '--sources', sources, '--source', 'vc', '--vm', 'DC0_C0_RP0_VM2', '--mapping', mapping, '--output-dir', out, '-o', 'json']);
      expect(res.code, res.stderr).toBe(0);
      expect(await readdir(out)).toEqual(['dc0-c0-rp0-vm2.json']);
      // A List kubectl applies as it is: the VM and the claim it boots.
      const list = JSON.parse(await readFile(join(out, 'dc0-c0-rp0-vm2.json'), 'utf8')) as { kind: string; items: { kind: string }[] };
      expect([list.kind, ...list.items.map((i) => i.kind)]).toEqual(['List', 'VirtualMachine', 'PersistentVolumeClaim']);
      for (const item of list.items) expect(validateObject(item)).toEqual([]);
      expect(res.stderr).toMatch(/warning dc0-c0-rp0-vm2: the name "DC0_C0_RP0_VM2" is not an RFC 1123 label/);
    });
  });
});
