import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OvirtSource } from '../../adapters/ovirt/index.js';
import type { SourceVm } from '../../src/model.js';
import { selectVm } from '../../src/source.js';
import { runCli } from '../helpers/cli.js';
import { checkVm } from '../../src/checks/evaluate.js';
import { IDS, addOmissionVms, buildVm, defaultInventory } from '../peers/ovirt/fixtures.js';
import { startOvirtFake, type OvirtFake } from '../peers/ovirt/server.js';

const FIXTURE_VMS = defaultInventory().vms.length;

async function connect(fake: OvirtFake, format: 'xml' | 'json', pageSize = 10): Promise<OvirtSource> {
  return OvirtSource.connect({ name: 'rhv', url: fake.url, username: fake.username, password: fake.password, ca: fake.pki.caPem }, { format, pageSize });
}

function byName(vms: SourceVm[], name: string): SourceVm {
  const found = vms.filter((vm) => vm.name === name);
  expect(found, name).toHaveLength(1);
  return found[0]!;
}

function ovirt(vm: SourceVm) {
  if (vm.source.type !== 'ovirt') throw new Error('not an oVirt VM');
  return vm.source;
}

describe('oVirt inventory against the fake engine', () => {
  let fake: OvirtFake;
  beforeAll(async () => {
    fake = await startOvirtFake();
  });
  afterAll(async () => fake?.stop());

  for (const format of ['xml', 'json'] as const) {
    it(`reads every VM with the facts the checks need (${format})`, async () => {
      const source = await connect(fake, format);
      const all = await source.listVms().finally(() => source.close());
      const vms = all.filter((vm) => !vm.isTemplate);
      expect(vms.length).toBe(FIXTURE_VMS);
      expect(vms.length).toBeGreaterThanOrEqual(10);
      // Templates follow the VMs, as on vSphere; the engine's Blank template is not listed.
      const templates = all.filter((vm) => vm.isTemplate);
      expect(templates.map((t) => t.name)).toEqual(['tpl-rhel8']);
      expect(templates[0]).toMatchObject({
        powerState: 'off',
        disks: [{ capacityBytes: 20 * 1024 ** 3, controller: { bus: 'scsi' } }],
        nics: [{ network: { name: 'vm-net' } }],
        source: { status: 'ok' },
      });

      const clean = byName(vms, 'vm-clean-1');
      expect(clean.powerState).toBe('off');
      expect(clean.os).toEqual({ sourceId: 'rhel_8x64', name: 'Red Hat Enterprise Linux 8.6' });
      expect(clean.cpu).toEqual({ sockets: 2, coresPerSocket: 1 });
      expect(clean.memoryMiB).toBe(2048);
      expect(clean.firmware).toBe('bios');
      expect(clean.disks).toHaveLength(1);
      expect(clean.disks[0]).toMatchObject({
        capacityBytes: 1024 ** 3,
        controller: { bus: 'scsi', model: 'virtio_scsi' },
        datastore: { name: 'data' },
        status: 'ok',
        format: 'raw',
        bootable: true,
        shared: false,
      });
      expect(clean.disks[0]!.ovirt).toMatchObject({ interface: 'virtio_scsi', storageType: 'image', usesScsiReservation: false });
      expect(clean.nics[0]).toMatchObject({ model: 'virtio', network: { name: 'vm-net' }, ovirt: { plugged: true, vnicProfile: { name: 'vm-net' }, portMirroring: false } });
      expect(ovirt(clean)).toMatchObject({
        status: 'down',
        cluster: { name: 'Default' },
        usbEnabled: false,
        hasIllegalImages: false,
        origin: 'ovirt',
        watchdogs: [],
        hostDevices: [],
        biosType: 'q35_sea_bios',
      });

      const threeCores = byName(vms, 'vm-clean-3');
      expect(threeCores.cpu).toEqual({ sockets: 1, coresPerSocket: 4 });
      expect(ovirt(threeCores).threadsPerCore).toBe(2);
      expect(threeCores.nics[0]!.model).toBe('e1000');
      expect(threeCores.disks[0]!.controller.bus).toBe('sata');

      // cluster_default is resolved through the VM's cluster (Cluster2: q35_ovmf).
      const c2 = byName(vms, 'vm-clean-cluster2');
      expect(ovirt(c2).biosType).toBe('q35_ovmf');
      expect(c2.firmware).toBe('efi');
      expect(c2.nics[0]!.network.name).toBe('net2');

      // One VM per Critical rule: the fact each rule reads.
      expect(byName(vms, 'vm-nic-interface-unsupported').nics[0]!.model).toBe('spapr_vlan');
      expect(byName(vms, 'vm-disk-interface-ide').disks[0]!.ovirt!.interface).toBe('ide');
      const lun = byName(vms, 'vm-lun-disk').disks[1]!;
      expect(lun).toMatchObject({ lun: true, capacityBytes: 50 * 1024 ** 3, ovirt: { storageType: 'lun' } });
      expect(byName(vms, 'vm-disk-storage-managed-block').disks[1]!.ovirt!.storageType).toBe('managed_block_storage');
      expect(byName(vms, 'vm-disk-locked').disks[0]!.status).toBe('locked');
      expect(byName(vms, 'vm-disk-illegal').disks[0]!.status).toBe('illegal');
      expect(byName(vms, 'vm-scsi-reservation').disks[0]!.ovirt!.usesScsiReservation).toBe(true);
      expect(byName(vms, 'vm-sgio-unfiltered').disks[0]!.ovirt!.sgio).toBe('unfiltered');
      expect(ovirt(byName(vms, 'vm-vgpu')).hostDevices).toEqual([{ name: 'pci_0000_3b_00_0', capability: 'mdev', mdevType: 'nvidia-222', vgpu: true }]);
      expect(byName(vms, 'vm-illegal-snapshot').snapshots.map((s) => s.status)).toEqual(['ok', 'illegal']);
      expect(ovirt(byName(vms, 'vm-origin-kubevirt')).origin).toBe('kubevirt');
      expect(ovirt(byName(vms, 'vm-usb-enabled')).usbEnabled).toBe(true);
      expect(ovirt(byName(vms, 'vm-watchdog-diag288')).watchdogs).toEqual([{ model: 'diag288', action: 'reset' }]);
      const invalid = byName(vms, 'vm-status-invalid');
      expect([ovirt(invalid).status, invalid.powerState]).toEqual(['image_locked', 'unknown']);
      expect(ovirt(byName(vms, 'vm-illegal-images')).hasIllegalImages).toBe(true);

      // One VM per Warning rule.
      expect(ovirt(byName(vms, 'vm-iothreads')).ioThreads).toBe(4);
      expect(ovirt(byName(vms, 'vm-numa-tuned')).numaTuneMode).toBe('strict');
      expect(ovirt(byName(vms, 'vm-placement-migratable'))).toMatchObject({ placementAffinity: 'migratable', migratable: true });
      expect(byName(vms, 'vm-nic-unplugged').nics[0]).toMatchObject({ connected: false, ovirt: { plugged: false } });
      expect(byName(vms, 'vm-nic-port-mirroring').nics[0]!.ovirt).toMatchObject({ portMirroring: true, vnicProfile: { name: 'vm-net-mirror' } });
      const sb = byName(vms, 'vm-secure-boot');
      expect([sb.firmware, sb.secureBoot, ovirt(sb).biosType]).toEqual(['efi', true, 'q35_secure_boot']);
      expect(byName(vms, 'vm-shared-disk').disks[1]!.shared).toBe(true);

      // Facts without a rule of their own.
      const running = byName(vms, 'vm-running');
      expect(running.powerState).toBe('on');
      expect(ovirt(running).guestAgent).toEqual({ distribution: 'CentOS Stream', version: '9' });
      expect(running.disks[0]!.ovirt).toMatchObject({ logicalName: '/dev/sda', passDiscard: true, backup: 'incremental' });
      expect(running.nics[0]!.ovirt).toMatchObject({ networkFilter: 'vdsm-no-mac-spoofing', qos: IDS.qosGold, customProperties: { SecurityGroups: 'web' } });
      // The guest agent's addresses, which the engine writes inline in the NIC (reported_devices): the NIC step compares them with the guest's files.
      expect(running.nics[0]!.guestIps).toEqual(['10.35.1.17', 'fe80::546f:1aff:fe00:1']);
      expect(byName(vms, 'vm-clean-1').nics[0]!.guestIps).toBeUndefined();
      expect(running.snapshots.map((s) => [s.type, s.name])).toEqual([
        ['active', 'Active VM'],
        ['regular', 'nightly'],
      ]);

      // Every oVirt VM fact is typed: the clean ones trip no oVirt rule's fact.
      for (const name of ['vm-clean-1', 'vm-clean-2', 'vm-clean-3', 'vm-clean-cluster2']) {
        const vm = byName(vms, name);
        const o = ovirt(vm);
        expect(vm.powerState).toBe('off');
        expect(o.usbEnabled || o.hasIllegalImages || o.hostDevices.length > 0 || o.watchdogs.length > 0).toBe(false);
        for (const d of vm.disks)
          expect([d.ovirt!.interface, d.ovirt!.storageType, d.status, d.shared]).toEqual([expect.stringMatching(/^(virtio|virtio_scsi|sata)$/), 'image', 'ok', false]);
        for (const n of vm.nics) expect(n.model).toMatch(/^(virtio|e1000|rtl8139)$/);
      }
    });
  }

  it('answers in the XML and JSON the engine documents (fixture shape check)', async () => {
    const agent = new Agent({ connect: { ca: fake.pki.caPem } });
    try {
      const sso = await request(fake.url.replace('/api', '/sso/oauth/token'), {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: 'password', scope: 'ovirt-app-api', username: fake.username, password: fake.password }).toString(),
      });
      const { access_token: token } = (await sso.body.json()) as { access_token: string };
      const id = fake.inventory.vms[0]!.vm.id;
      const get = async (accept: string, follow?: string) =>
        (await request(`${fake.url}/vms/${id}${follow ? `?follow=${follow}` : ''}`, { dispatcher: agent, headers: { accept, authorization: `Bearer ${token}` } })).body.text();
      // XML: id/href as attributes, links for sub-collections, followed lists as plural/singular elements.
      const xml = await get('application/xml');
      expect(xml).toMatch(new RegExp(`<vm href="/ovirt-engine/api/vms/${id}" id="${id}">`));
      expect(xml).toMatch(new RegExp(`<link href="/ovirt-engine/api/vms/${id}/diskattachments" rel="diskattachments"/>`));
      expect(xml).toMatch(/<memory>2147483648<\/memory>/);
      const followed = await get('application/xml', 'disk_attachments.disk');
      expect(followed).toMatch(
        /<disk_attachments><disk_attachment href="[^"]+" id="[^"]+"><active>true<\/active>.*<disk href="\/ovirt-engine\/api\/disks\/[^"]+" id="[^"]+"><name>/,
      );
      // JSON: the same names, every scalar a string, lists as {"<singular>": [...]}.
      const json = JSON.parse(await get('application/json', 'disk_attachments.disk')) as Record<string, unknown>;
      expect(json).toMatchObject({
        id,
        href: `/ovirt-engine/api/vms/${id}`,
        memory: '2147483648',
        disk_attachments: { disk_attachment: [{ bootable: 'true', disk: { format: 'raw' } }] },
      });
      expect((json['link'] as { rel: string }[]).map((l) => l.rel)).toEqual(expect.arrayContaining(['nics', 'snapshots']));
    } finally {
      await agent.close();
    }
  });

  it('selects a VM by name@cluster and by id, and names missing / ambiguous VMs', async () => {
    const source = await connect(fake, 'xml');
    try {
      const all = await source.listVms();
      const vm = selectVm(all, 'vm-dup@Cluster2');
      expect(ovirt(vm).cluster?.name).toBe('Cluster2');
      expect(vm.nics[0]!.network.name).toBe('net2');
      expect(selectVm(all, vm.id).name).toBe('vm-dup');
      expect(() => selectVm(all, '00000000-dead-beef-0000-000000000000')).toThrow(expect.objectContaining({ code: 'VM_NOT_FOUND' }));
      expect(() => selectVm(all, 'vm-dup@NoSuchCluster')).toThrow(expect.objectContaining({ code: 'VM_NOT_FOUND' }));
      expect(() => selectVm(all, 'VM-DUP@Cluster2')).toThrow(expect.objectContaining({ code: 'VM_NOT_FOUND' }));
      // A name alone matches one VM per cluster: ambiguous, never a guess.
      expect(() => selectVm(all, 'vm-dup')).toThrow(expect.objectContaining({ code: 'VM_AMBIGUOUS' }));
    } finally {
      await source.close();
    }
  });
});

describe('oVirt selection when the engine holds two VMs of one name in one cluster', () => {
  it('is VM_AMBIGUOUS', async () => {
    const inventory = defaultInventory();
    const twin = buildVm({ name: 'vm-twin' }, inventory);
    const other = buildVm({ name: 'vm-twin' }, inventory);
    other.vm.id = '11111111-2222-4333-8444-555555555555';
    inventory.vms.push(twin, other);
    const fake = await startOvirtFake({ inventory });
    const source = await connect(fake, 'json');
    try {
      const all = await source.listVms();
      expect(() => selectVm(all, 'vm-twin@Default')).toThrow(expect.objectContaining({ code: 'VM_AMBIGUOUS' }));
    } finally {
      await source.close();
      await fake.stop();
    }
  });
});

describe('oVirt inventory request count', () => {
  it('is O(VMs / page size), read from the fake engine log', async () => {
    const counts: { vms: number; requests: number }[] = [];
    for (const extra of [0, 71]) {
      const fake = await startOvirtFake({ extraCleanVms: extra });
      const source = await connect(fake, 'xml', 10);
      try {
        const vms = (await source.listVms()).filter((vm) => !vm.isTemplate);
        const requests = fake.apiRequests();
        const pages = requests.filter((r) => r.path.endsWith('/api/vms'));
        counts.push({ vms: vms.length, requests: requests.length });
        expect(vms.length).toBe(FIXTURE_VMS + extra);
        // One request per page of 10 (a last, short or empty, page ends the listing), one page of
        // templates, and 5 lookup lists.
        expect(pages.length).toBe(Math.floor(vms.length / 10) + 1);
        expect(requests.filter((r) => r.path.endsWith('/api/templates'))).toHaveLength(1);
        expect(requests.length).toBe(pages.length + 1 + 5);
        for (const p of pages) expect(p.query).toMatchObject({ max: '10', follow: 'disk_attachments.disk,nics.vnic_profile,snapshots,watchdogs,host_devices' });
        // No per-VM requests.
        expect(requests.filter((r) => /\/vms\/[^/]+/.test(r.path))).toHaveLength(0);
      } finally {
        await source.close();
        await fake.stop();
      }
    }
    expect(counts[1]!.vms).toBe(100);
    expect(counts[1]!.requests).toBe(17);
  });
});

describe('v2v inventory --source <ovirt>', () => {
  let fake: OvirtFake;
  beforeAll(async () => {
    fake = await startOvirtFake();
  });
  afterAll(async () => fake?.stop());

  it('prints the VMs in the same output shape as vSphere', async () => {
    const sources = await fake.sourcesFile();
    const res = await runCli(['inventory', '--sources', sources, '--source', 'rhv', '-o', 'json']);
    expect(res.code, res.stderr).toBe(0);
    const { vms } = JSON.parse(res.stdout) as { vms: SourceVm[] };
    expect(vms).toHaveLength(FIXTURE_VMS + 1);
    const vm = byName(vms, 'vm-clean-2');
    expect(Object.keys(vm).sort()).toEqual(
      ['controllers', 'cpu', 'disks', 'firmware', 'id', 'isTemplate', 'memoryMiB', 'name', 'nics', 'os', 'powerState', 'secureBoot', 'snapshots', 'source'].sort(),
    );
    expect(vm.disks.map((d) => d.controller.bus)).toEqual(['virtio', 'scsi']);

    const table = await runCli(['inventory', '--sources', sources, '--source', 'rhv']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^NAME\s+ID\s+POWER/);
    expect(table.stdout).toMatch(/vm-clean-2\s+\S+\s+off\s+rhel_9x64/);
    expect(table.stdout).toMatch(/tpl-rhel8 \(template\)/);
    // The password never reaches the output.
    expect(res.stdout + res.stderr + table.stdout + table.stderr).not.toContain(fake.password);
  });
});

describe('an engine that leaves things out', () => {
  it('keeps a field it did not write unknown, and the rule that needs it says it could not decide', async () => {
    const inventory = defaultInventory();
    const omitted = addOmissionVms(inventory);
    const fake = await startOvirtFake({ inventory });
    try {
      for (const format of ['xml', 'json'] as const) {
        const source = await connect(fake, format, 100);
        const vms = await source.listVms().finally(() => source.close());
        const noDiskInterface = byName(vms, 'vm-omits-disk-attachment-interface');
        expect(noDiskInterface.disks[0]!.controller).toEqual({});
        expect(noDiskInterface.disks[0]!.ovirt).not.toHaveProperty('interface');
        const noNicInterface = byName(vms, 'vm-omits-nic-interface');
        expect(noNicInterface.nics[0]).not.toHaveProperty('model');
        expect(ovirt(byName(vms, 'vm-omits-vm-usb'))).not.toHaveProperty('usbEnabled');
        for (const { name, omission } of omitted) {
          const concerns = checkVm(byName(vms, name), undefined).concerns.filter((c) => c.id === omission.rule);
          expect(concerns, `${name} (${format})`).toHaveLength(1);
          expect(concerns[0]!.category, name).toBe(omission.category);
          expect(concerns[0]!.assessment, name).toContain(omission.element);
        }
      }
    } finally {
      await fake.stop();
    }
  });

  it('an engine without /networkfilters still lists every VM, with a warning, and names a filter by its id', async () => {
    const fake = await startOvirtFake({ missingCollections: ['networkfilters'] });
    try {
      const source = await connect(fake, 'xml', 100);
      const vms = await source.listVms().finally(() => source.close());
      expect(vms.filter((vm) => !vm.isTemplate)).toHaveLength(FIXTURE_VMS);
      expect(source.warnings).toEqual([expect.stringMatching(/did not serve \/networkfilters \(HTTP 404\)/)]);
      expect(byName(vms, 'vm-running').nics[0]!.ovirt).toMatchObject({ networkFilter: IDS.filterVdsm });
    } finally {
      await fake.stop();
    }
  });

  it('an engine that serves no cluster leaves a cluster_default firmware unknown, and the secure boot rule says so', async () => {
    const fake = await startOvirtFake({ missingCollections: ['clusters'] });
    try {
      const source = await connect(fake, 'xml', 100);
      const vms = await source.listVms().finally(() => source.close());
      const vm = byName(vms, 'vm-clean-cluster2');
      expect(ovirt(vm).unreported).toContain('bios.type');
      const secureBoot = checkVm(vm, undefined).concerns.filter((c) => c.id === 'ovirt.secure_boot.detected');
      expect(secureBoot).toEqual([expect.objectContaining({ category: 'Warning', assessment: expect.stringContaining('bios.type') })]);
    } finally {
      await fake.stop();
    }
  });
});
