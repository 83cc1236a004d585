import type { Controller, Disk, Nic, OvirtDiskFacts, OvirtFacts, OvirtNicFacts, Snapshot, SourceVm, VsphereFacts } from '../../src/model.js';

/** A disk change; `ovirt` facts merge into the disk's own. */
export type DiskPatch = Partial<Omit<Disk, 'ovirt'>> & { ovirt?: Partial<OvirtDiskFacts> };
/** A NIC change; `ovirt` facts merge into the NIC's own. */
export type NicPatch = Partial<Omit<Nic, 'ovirt'>> & { ovirt?: Partial<OvirtNicFacts> };

// In-memory SourceVm builders: a clean VM that passes every rule, plus one
// method per fact a rule reads. Each call returns the builder, `build()` a copy.

const GiB = 1024 ** 3;

export class VmBuilder {
  private constructor(private vm: SourceVm) {}

  /** A powered-off RHEL 8 VM: one SCSI disk on LocalDS_0, one vmxnet3 NIC on VM Network. */
  static vsphere(name = 'web-01'): VmBuilder {
    const source: VsphereFacts = {
      type: 'vsphere',
      moref: 'vm-42',
      uuid: '4223a5b2-0000-0000-0000-000000000042',
      instanceUuid: '5023a5b2-0000-0000-0000-000000000042',
      cluster: { id: 'domain-c7', name: 'DC0_C0' },
      changeTrackingEnabled: true,
      devices: [],
      tpm: false,
    };
    const controller: Controller = { key: '1000', bus: 'scsi', model: 'ParaVirtualSCSIController', busNumber: 0, sharing: 'noSharing' };
    return new VmBuilder({
      id: 'vm-42',
      name,
      isTemplate: false,
      powerState: 'off',
      os: { sourceId: 'rhel8_64Guest', name: 'Red Hat Enterprise Linux 8 (64-bit)' },
      cpu: { sockets: 2, coresPerSocket: 2 },
      memoryMiB: 4096,
      firmware: 'bios',
      secureBoot: false,
      controllers: [controller],
      disks: [
        {
          key: '2000',
          name: 'Hard disk 1',
          capacityBytes: 20 * GiB,
          controller: { bus: 'scsi', model: 'ParaVirtualSCSIController', key: '1000' },
          unitNumber: 0,
          file: `[LocalDS_0] ${name}/${name}.vmdk`,
          datastore: { id: 'datastore-11', name: 'LocalDS_0' },
          mode: 'persistent',
          shared: false,
          thin: true,
          format: 'vmdk',
        },
      ],
      nics: [
        {
          key: '4000',
          name: 'Network adapter 1',
          mac: '00:50:56:aa:bb:01',
          model: 'vmxnet3',
          network: { id: 'network-7', name: 'VM Network', kind: 'Network' },
          connected: true,
          pciSlot: 160,
        },
      ],
      snapshots: [],
      source,
    });
  }

  /** A down RHEL 8 VM: one virtio_scsi image disk on domain "data", one virtio NIC on ovirtmgmt/ovirtmgmt. */
  static ovirt(name = 'db-01'): VmBuilder {
    const source: OvirtFacts = {
      type: 'ovirt',
      status: 'down',
      cluster: { id: 'c-1', name: 'Default' },
      origin: 'ovirt',
      usbEnabled: false,
      watchdogs: [],
      hostDevices: [],
      hasIllegalImages: false,
      migratable: false,
    };
    return new VmBuilder({
      id: '80554327-0569-496b-bdeb-fcbbf52b827b',
      name,
      isTemplate: false,
      powerState: 'off',
      os: { sourceId: 'rhel_8x64', name: 'rhel_8x64' },
      cpu: { sockets: 1, coresPerSocket: 2 },
      memoryMiB: 2048,
      firmware: 'bios',
      secureBoot: false,
      controllers: [],
      disks: [
        {
          key: '8181ecc1-5db8-4193-9c92-3ddab3be7b05',
          name: `${name}_Disk1`,
          capacityBytes: 10 * GiB,
          controller: { bus: 'scsi', model: 'virtio_scsi' },
          datastore: { id: 'sd-1', name: 'data' },
          shared: false,
          status: 'ok',
          bootable: true,
          readOnly: false,
          format: 'cow',
          ovirt: { interface: 'virtio_scsi', storageType: 'image', usesScsiReservation: false, sgio: 'disabled', provisionedBytes: 10 * GiB, sparse: true },
        },
      ],
      nics: [
        {
          key: 'nic-1',
          name: 'nic1',
          mac: '56:6f:05:0f:00:01',
          model: 'virtio',
          network: { id: 'net-1', name: 'ovirtmgmt' },
          ovirt: { plugged: true, vnicProfile: { id: 'vp-1', name: 'ovirtmgmt' } },
        },
      ],
      snapshots: [{ id: 'snap-active', name: 'Active VM', type: 'active', status: 'ok' }],
      source,
    });
  }

  private get vs(): VsphereFacts {
    if (this.vm.source.type !== 'vsphere') throw new Error('not a vSphere VM');
    return this.vm.source;
  }
  private get ov(): OvirtFacts {
    if (this.vm.source.type !== 'ovirt') throw new Error('not an oVirt VM');
    return this.vm.source;
  }

  with(patch: Partial<SourceVm>): this {
    Object.assign(this.vm, patch);
    return this;
  }
  power(state: SourceVm['powerState']): this {
    this.vm.powerState = state;
    return this;
  }
  guest(sourceId: string, name = sourceId): this {
    this.vm.os = { sourceId, name };
    return this;
  }
  efi(secureBoot = false): this {
    this.vm.firmware = 'efi';
    this.vm.secureBoot = secureBoot;
    return this;
  }
  template(): this {
    this.vm.isTemplate = true;
    return this;
  }
  snapshot(s: Partial<Snapshot> = {}): this {
    this.vm.snapshots.push({ id: `snap-${this.vm.snapshots.length}`, name: `snapshot ${this.vm.snapshots.length}`, ...s });
    return this;
  }
  /** Changes the first disk (or the one at `index`). */
  disk(patch: DiskPatch, index = 0): this {
    const d = this.vm.disks[index]!;
    const { ovirt, ...rest } = patch;
    this.vm.disks[index] = { ...d, ...rest, ...(d.ovirt ? { ovirt: { ...d.ovirt, ...ovirt } } : {}) };
    return this;
  }
  /** Adds a disk like the first one with a new key. */
  addDisk(patch: Partial<Disk> = {}): this {
    const first = this.vm.disks[0]!;
    const n = this.vm.disks.length;
    this.vm.disks.push({ ...structuredClone(first), key: `${first.key}-${n}`, name: `${first.name ?? 'disk'} ${n + 1}`, unitNumber: n, bootable: false, ...patch });
    return this;
  }
  nic(patch: NicPatch, index = 0): this {
    const n = this.vm.nics[index]!;
    const { ovirt, ...rest } = patch;
    this.vm.nics[index] = { ...n, ...rest, ...(n.ovirt ? { ovirt: { ...n.ovirt, ...ovirt } } : {}) };
    return this;
  }
  addNic(patch: Partial<Nic> = {}): this {
    const first = this.vm.nics[0]!;
    const n = this.vm.nics.length;
    this.vm.nics.push({ ...structuredClone(first), key: `${first.key}-${n}`, name: `nic${n + 1}`, mac: first.mac.replace(/..$/, (n + 1).toString(16).padStart(2, '0')), ...patch });
    return this;
  }
  vsphere(patch: Partial<VsphereFacts>): this {
    Object.assign(this.vs, patch);
    return this;
  }
  device(kind: string): this {
    this.vs.devices = [...this.vs.devices, kind].sort();
    if (kind === 'VirtualTPM') this.vs.tpm = true;
    return this;
  }
  ovirt(patch: Partial<OvirtFacts>): this {
    Object.assign(this.ov, patch);
    return this;
  }
  build(): SourceVm {
    return structuredClone(this.vm);
  }
}
