import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VsphereSource } from '../../adapters/vsphere/index.js';
import type { VimClient } from '../../adapters/vsphere/client.js';
import type { MoRef } from '../../adapters/vsphere/xml.js';
import { selectSource } from '../../src/config/sources.js';
import type { SourceVm } from '../../src/model.js';
import { runCli } from '../helpers/cli.js';
import { startVcsim, type Vcsim } from '../helpers/vcsim.js';

const SATA_DISK_SPEC =
  '<spec>' +
  '<deviceChange><operation>add</operation><device xsi:type="VirtualAHCIController"><key>-100</key><busNumber>0</busNumber></device></deviceChange>' +
  '<deviceChange><operation>add</operation><fileOperation>create</fileOperation><device xsi:type="VirtualDisk"><key>-101</key>' +
  '<backing xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName></fileName><diskMode>persistent</diskMode><thinProvisioned>true</thinProvisioned></backing>' +
  '<controllerKey>-100</controllerKey><unitNumber>0</unitNumber><capacityInKB>2097152</capacityInKB></device></deviceChange>' +
  '</spec>';

async function task(client: VimClient, method: string, vm: MoRef, args = ''): Promise<void> {
  const t = await client.invoke(method, vm, args);
  await client.waitForTask(t as MoRef);
}

describe('inventory follows changes made through vim25 (vcsim)', () => {
  let vcsim: Vcsim;
  let client: VimClient;
  let sources: string;
  const inventory = async (): Promise<SourceVm[]> => {
    const res = await runCli(['inventory', '--sources', sources, '--source', 'vc', '-o', 'json']);
    expect(res.code, res.stderr).toBe(0);
    return (JSON.parse(res.stdout) as { vms: SourceVm[] }).vms;
  };

  beforeAll(async () => {
    vcsim = await startVcsim({ cluster: 1, host: 2, standaloneHost: 1, vm: 5 });
    client = await vcsim.client();
    sources = await vcsim.sourcesFile();
  });
  afterAll(async () => {
    await client?.logout();
    await vcsim?.stop();
  });

  it('a disk added on a new AHCI controller shows bus "sata"', async () => {
    const before = await inventory();
    const target = before.find((vm) => vm.name === 'DC0_C0_RP0_VM1')!;
    await task(client, 'ReconfigVM_Task', { type: 'VirtualMachine', value: target.id }, SATA_DISK_SPEC);
    const after = (await inventory()).find((vm) => vm.id === target.id)!;
    expect(after.disks).toHaveLength(target.disks.length + 1);
    const sata = after.disks.find((d) => d.controller.bus === 'sata');
    expect(sata).toMatchObject({ capacityBytes: 2 * 1024 ** 3, controller: { bus: 'sata', model: 'VirtualAHCIController' } });
    expect(after.controllers.some((c) => c.bus === 'sata')).toBe(true);
    // The other VMs are untouched.
    expect(before.filter((vm) => vm.id !== target.id).every((vm) => vm.disks.every((d) => d.controller.bus !== 'sata'))).toBe(true);
  });

  it('power operations show as off / suspended / on', async () => {
    const vms = await inventory();
    const [a, b] = vms.filter((vm) => vm.name.startsWith('DC0_H0_'));
    await task(client, 'PowerOffVM_Task', { type: 'VirtualMachine', value: a!.id });
    await task(client, 'SuspendVM_Task', { type: 'VirtualMachine', value: b!.id });
    const after = await inventory();
    expect(after.find((vm) => vm.id === a!.id)?.powerState).toBe('off');
    expect(after.find((vm) => vm.id === b!.id)?.powerState).toBe('suspended');
    expect(after.filter((vm) => vm.powerState === 'on')).toHaveLength(vms.length - 2);
  });

  it('reads pages of maxObjects: round trips grow with pages, not with VMs', async () => {
    const config = await selectSource(sources, 'vc');
    const counts: number[] = [];
    for (const pageSize of [4, 1000]) {
      const source = await VsphereSource.open(config, { pageSize });
      const before = source.stats().roundTrips;
      const vms = await source.listVms();
      counts.push(source.stats().roundTrips - before);
      expect(vms).toHaveLength(10);
      await source.close();
    }
    // 10 VMs + datastores, networks, hosts and compute resources ≈ 20 objects:
    // CreateContainerView + pages + DestroyView.
    const [small, large] = counts as [number, number];
    expect(large).toBe(3);
    expect(small).toBeGreaterThanOrEqual(2 + Math.ceil(18 / 4));
    expect(small).toBeLessThanOrEqual(2 + Math.ceil(30 / 4));
  });
});
