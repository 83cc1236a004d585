import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceVm } from '../../src/model.js';
import { runCli } from '../helpers/cli.js';
import { startVcsim, type Vcsim } from '../helpers/vcsim.js';
import { findVm, setReportedGuestIp } from '../helpers/vsphere-ops.js';

// 1 DC, 2 cluster hosts + 1 standalone host; 5 VMs per pool/host → 10 VMs.
describe('v2v inventory against vcsim (1 DC, 2 hosts, 10 VMs)', () => {
  let vcsim: Vcsim;
  let sources: string;

  beforeAll(async () => {
    vcsim = await startVcsim({ dc: 1, cluster: 1, host: 2, standaloneHost: 1, vm: 5, autostart: true });
    sources = await vcsim.sourcesFile();
  });
  afterAll(async () => vcsim?.stop());

  async function inventory(): Promise<SourceVm[]> {
    const res = await runCli(['inventory', '--sources', sources, '--source', 'vc', '-o', 'json']);
    expect(res.code, res.stderr).toBe(0);
    return (JSON.parse(res.stdout) as { vms: SourceVm[] }).vms;
  }

  it('lists every VM with power state, guest, buses and NICs', async () => {
    const vms = await inventory();
    expect(vms).toHaveLength(10);
    for (const vm of vms) {
      expect(vm.powerState).toBe('on');
      expect(vm.os.sourceId).toBe('otherGuest');
      expect(vm.disks.length).toBeGreaterThan(0);
      for (const d of vm.disks) expect(['scsi', 'ide']).toContain(d.controller.bus);
      expect(vm.nics[0]?.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      expect(vm.nics[0]?.network.name).toBe('DC0_DVPG0');
    }
    const clustered = vms.filter((vm) => vm.source.cluster?.name === 'DC0_C0');
    expect(clustered).toHaveLength(5);
  });

  it('carries the address VMware Tools reports on a NIC (guest.net), on that NIC only', async () => {
    const client = await vcsim.client();
    try {
      await setReportedGuestIp(client, await findVm(client, 'DC0_H0_VM1'), '192.168.77.21');
    } finally {
      await client.logout().catch(() => undefined);
    }
    const vms = await inventory();
    const vm = vms.find((v) => v.name === 'DC0_H0_VM1')!;
    expect(vm.nics[0]?.guestIps).toEqual(['192.168.77.21']);
    for (const other of vms.filter((v) => v.name !== 'DC0_H0_VM1')) expect(other.nics[0]?.guestIps).toBeUndefined();
  });
});
