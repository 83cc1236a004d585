import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckReport } from '../../src/checks/report.js';
import { runCli } from '../helpers/cli.js';
import { startOvirtFake, type OvirtFake } from '../peers/ovirt/server.js';

// One fixture VM per oVirt rule of SPEC §5 (test/peers/ovirt/README.md), checked through the CLI.
const EXPECTED: Record<string, string> = {
  'vm-nic-interface-unsupported': 'ovirt.nic.interface_type.unsupported',
  'vm-disk-interface-ide': 'ovirt.disk.interface_type.unsupported',
  'vm-lun-disk': 'ovirt.disk.storage_type.lun',
  'vm-disk-storage-managed-block': 'ovirt.disk.storage_type.unsupported',
  'vm-disk-locked': 'ovirt.disk.illegal_or_locked_status',
  'vm-disk-illegal': 'ovirt.disk.illegal_or_locked_status',
  'vm-scsi-reservation': 'ovirt.disk.scsi_reservation.enabled',
  'vm-sgio-unfiltered': 'ovirt.disk.sgio.enabled',
  'vm-vgpu': 'ovirt.host_devices.vgpu',
  'vm-illegal-snapshot': 'ovirt.snapshot.illegal',
  'vm-origin-kubevirt': 'ovirt.vm.origin.kubevirt',
  'vm-usb-enabled': 'ovirt.usb.enabled',
  'vm-watchdog-diag288': 'ovirt.watchdog.diag288',
  'vm-status-invalid': 'ovirt.vm.status_invalid',
  'vm-illegal-images': 'ovirt.disk.illegal_images',
};
const WARNINGS: Record<string, string> = {
  'vm-iothreads': 'ovirt.iothreads.configured',
  'vm-numa-tuned': 'ovirt.numa.tuning.detected',
  'vm-placement-migratable': 'ovirt.placement_policy.affinity_set',
  'vm-nic-unplugged': 'ovirt.nic.unplugged.detected',
  'vm-nic-port-mirroring': 'ovirt.nic.port_mirroring.detected',
  'vm-secure-boot': 'ovirt.secure_boot.detected',
  'vm-shared-disk': 'ovirt.disk.shared.detected',
};

const MAPPING = `apiVersion: v2v.kubevirt.io/v1alpha1
kind: ResourceMapping
metadata:
  name: rhv-mapping
  namespace: default
spec:
  ovirt:
    networkMappings:
      - source:
          name: vm-net/vm-net
        target:
          name: pod
        type: pod
      - source:
          name: vm-net/vm-net-mirror
        target:
          name: vm-net
          namespace: default
        type: multus
      - source:
          name: vm-net/vm-net-filtered
        target:
          name: vm-net
          namespace: default
        type: multus
      - source:
          name: ovirtmgmt/ovirtmgmt
        target:
          name: mgmt
          namespace: default
        type: multus
      - source:
          name: net2/net2
        target:
          name: net2
          namespace: default
        type: multus
    storageMappings:
      - source:
          name: data
        target:
          name: standard
      - source:
          name: data2
        target:
          name: fast
        volumeMode: Block
`;

describe('v2v check against the oVirt fake', () => {
  let fake: OvirtFake;
  let sources: string;
  let mapping: string;
  let report: CheckReport;
  let code: number | null;

  beforeAll(async () => {
    fake = await startOvirtFake();
    sources = await fake.sourcesFile();
    const dir = await mkdtemp(join(tmpdir(), 'v2v-check-ovirt-'));
    mapping = join(dir, 'mapping.yaml');
    await writeFile(mapping, MAPPING);
    const res = await runCli(['check', '--sources', sources, '--source', 'rhv', '--all', '--mapping', mapping, '-o', 'json']);
    expect(res.stdout, res.stderr).not.toBe('');
    code = res.code;
    report = JSON.parse(res.stdout) as CheckReport;
  });
  afterAll(async () => fake?.stop());

  const concernsOf = (name: string) => {
    const vm = report.vms.find((v) => v.name === name);
    expect(vm, `${name} is in the report`).toBeDefined();
    return vm!;
  };

  it.each(Object.entries(EXPECTED))('%s is flagged %s (Critical) and not valid', (name, id) => {
    const vm = concernsOf(name);
    expect(vm.concerns.filter((c) => c.category === 'Critical').map((c) => c.id)).toContain(id);
    expect(vm.valid).toBe(false);
  });

  it.each(Object.entries(WARNINGS))('%s carries the warning %s and stays valid', (name, id) => {
    const vm = concernsOf(name);
    expect(vm.concerns.filter((c) => c.category === 'Warning').map((c) => c.id)).toContain(id);
    expect(vm.valid).toBe(true);
  });

  it('clean VMs are valid with no Critical concern, and the run exits 3 for the others', () => {
    for (const name of ['vm-clean-1', 'vm-clean-2', 'vm-clean-3', 'vm-clean-cluster2']) {
      const vm = concernsOf(name);
      expect(
        vm.concerns.filter((c) => c.category === 'Critical'),
        name,
      ).toEqual([]);
      expect(vm.valid).toBe(true);
    }
    expect(code).toBe(3);
  });

  it('a single clean VM by name@cluster exits 0', async () => {
    const res = await runCli(['check', '--sources', sources, '--source', 'rhv', '--vm', 'vm-clean-1@Default', '--mapping', mapping]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain('vm-clean-1');
  });

  it("check -f with the seed's Secret + ResourceMapping + VirtualMachineImport reaches the fake", async () => {
    const clean = concernsOf('vm-clean-1');
    const ca = readFileSync(fake.pki.caCert, 'utf8');
    const objects = `apiVersion: v1
kind: Secret
metadata:
  name: rhv-credentials
  namespace: default
type: Opaque
stringData:
  ovirt: |
    apiUrl: ${fake.url}
    username: ${fake.username}
    password: ${fake.password}
    caCert: |
${ca
  .trim()
  .split('\n')
  .map((l) => `      ${l}`)
  .join('\n')}
---
${MAPPING}---
apiVersion: v2v.kubevirt.io/v1beta1
kind: VirtualMachineImport
metadata:
  name: vm-import
  namespace: default
spec:
  providerCredentialsSecret:
    name: rhv-credentials
    namespace: default
  resourceMapping:
    name: rhv-mapping
    namespace: default
  targetVmName: vm-clean-1
  startVm: false
  source:
    ovirt:
      vm:
        id: ${clean.id}
`;
    const dir = await mkdtemp(join(tmpdir(), 'v2v-check-ovirt-f-'));
    const file = join(dir, 'import.yaml');
    await writeFile(file, objects);
    const res = await runCli(['check', '-f', file, '-o', 'json']);
    expect(res.code, res.stderr).toBe(0);
    const r = JSON.parse(res.stdout) as CheckReport;
    expect(r.vms.map((v) => [v.name, v.valid])).toEqual([['vm-clean-1', true]]);
    expect(res.stdout + res.stderr).not.toContain(fake.password);
  });
});
