import { createHash } from 'node:crypto';

// The fake engine's inventory, written in the documented JSON shape of the
// oVirt API (ovirt-engine-api-model types Vm, DiskAttachment, Disk, Nic,
// VnicProfile, Network, StorageDomain, Cluster, DataCenter, Snapshot,
// Watchdog, HostDevice). References are `{ id }`; the renderer adds `href`,
// `link`s and the XML form. Nothing here is shaped after our client.

export type Scalar = string | number | boolean;
export interface Entity {
  id: string;
  [field: string]: unknown;
}

export interface FakeVm {
  vm: Entity;
  diskattachments: Entity[];
  nics: Entity[];
  snapshots: Entity[];
  watchdogs: Entity[];
  hostdevices: Entity[];
}

export interface FakeInventory {
  datacenters: Entity[];
  networkfilters: Entity[];
  clusters: Entity[];
  networks: Entity[];
  vnicprofiles: Entity[];
  storagedomains: Entity[];
  disks: Entity[];
  vms: FakeVm[];
  /** Templates share the VM shape (VmBase); only disk attachments, NICs and watchdogs are sub-collections. */
  templates: FakeVm[];
}

/** A stable UUID from a name, so fixtures and tests agree on ids. */
export function uid(name: string): string {
  const h = createHash('sha1').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export const IDS = {
  dcDefault: uid('dc:Default'),
  dc2: uid('dc:dc2'),
  clusterDefault: uid('cluster:Default'),
  cluster2: uid('cluster:Cluster2'),
  netMgmt: uid('net:ovirtmgmt'),
  netVm: uid('net:vm-net'),
  net2: uid('net:net2'),
  profileMgmt: uid('profile:ovirtmgmt'),
  profileVm: uid('profile:vm-net'),
  profileMirror: uid('profile:vm-net-mirror'),
  profileFiltered: uid('profile:vm-net-filtered'),
  profile2: uid('profile:net2'),
  sdData: uid('sd:data'),
  sdData2: uid('sd:data2'),
  filterVdsm: uid('filter:vdsm-no-mac-spoofing'),
  qosGold: uid('qos:gold'),
};

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

interface VmSpec {
  name: string;
  cluster?: 'Default' | 'Cluster2';
  status?: string;
  os?: string;
  memoryMiB?: number;
  topology?: { sockets: number; cores: number; threads: number };
  bios?: string;
  usb?: boolean;
  affinity?: string;
  ioThreads?: number;
  numaTuneMode?: string;
  origin?: string;
  hasIllegalImages?: boolean;
  guest?: { distribution: string; version: string };
  customProperties?: Record<string, string>;
  disks?: DiskSpec[];
  nics?: NicSpec[];
  snapshots?: { description: string; type?: string; status?: string }[];
  watchdogs?: { model: string; action: string }[];
  hostDevices?: Entity[];
  /** VM elements this engine leaves out (e.g. `usb`, `origin`, `has_illegal_images`), as an older or partial engine writes the VM. */
  omit?: string[];
}

interface DiskSpec {
  id?: string;
  alias?: string;
  sizeGiB?: number;
  sizeBytes?: number;
  interface?: string;
  bootable?: boolean;
  readOnly?: boolean;
  scsiReservation?: boolean;
  passDiscard?: boolean;
  logicalName?: string;
  format?: string;
  storageType?: string;
  status?: string;
  sgio?: string;
  shareable?: boolean;
  backup?: string;
  sparse?: boolean;
  storageDomain?: string;
  /** Elements left out of the disk attachment or the disk (e.g. `interface`, `uses_scsi_reservation`, `storage_type`). */
  omit?: string[];
}

interface NicSpec {
  name?: string;
  interface?: string;
  mac?: string;
  plugged?: boolean;
  linked?: boolean;
  profile?: string | null;
  /** What the guest agent reports on this NIC (the engine's reported devices). */
  reportedIps?: string[];
  /** NIC elements left out (e.g. `interface`). */
  omit?: string[];
}

let macCounter = 0;

export function buildVm(spec: VmSpec, inv: FakeInventory): FakeVm {
  const vmId = uid(`vm:${spec.name}:${spec.cluster ?? 'Default'}`);
  const clusterId = spec.cluster === 'Cluster2' ? IDS.cluster2 : IDS.clusterDefault;
  const vm: Entity = {
    id: vmId,
    name: spec.name,
    description: '',
    status: spec.status ?? 'down',
    origin: spec.origin ?? 'ovirt',
    type: 'server',
    memory: (spec.memoryMiB ?? 2048) * MiB,
    memory_policy: { guaranteed: (spec.memoryMiB ?? 2048) * MiB, max: (spec.memoryMiB ?? 2048) * 4 * MiB, ballooning: true },
    cpu: { architecture: 'x86_64', topology: spec.topology ?? { sockets: 2, cores: 1, threads: 1 } },
    bios: { type: spec.bios ?? 'q35_sea_bios', boot_menu: { enabled: false } },
    os: { type: spec.os ?? 'rhel_8x64', boot: { devices: { device: ['hd'] } } },
    usb: spec.usb ? { enabled: true, type: 'native' } : { enabled: false },
    io: { threads: spec.ioThreads ?? 0 },
    // The engine reports `interleave` for every VM that has no NUMA tuning of its own.
    numa_tune_mode: spec.numaTuneMode ?? 'interleave',
    placement_policy: { affinity: spec.affinity ?? 'user_migratable' },
    has_illegal_images: spec.hasIllegalImages ?? false,
    stateless: false,
    high_availability: { enabled: false, priority: 0 },
    display: { type: 'vnc', monitors: 1 },
    creation_time: '2026-01-15T10:00:00.000+00:00',
    cluster: { id: clusterId },
    template: { id: '00000000-0000-0000-0000-000000000000' },
    ...(spec.guest
      ? {
          guest_operating_system: {
            architecture: 'x86_64',
            distribution: spec.guest.distribution,
            family: 'Linux',
            version: { full_version: spec.guest.version, major: Number(spec.guest.version.split('.')[0]) },
          },
        }
      : {}),
    ...(spec.customProperties ? { custom_properties: { custom_property: Object.entries(spec.customProperties).map(([name, value]) => ({ name, value })) } } : {}),
  };
  const diskattachments: Entity[] = [];
  (spec.disks ?? [{}]).forEach((d, i) => {
    const diskId = d.id ?? uid(`disk:${spec.name}:${spec.cluster ?? 'Default'}:${i}`);
    const storageType = d.storageType ?? 'image';
    const size = d.sizeBytes ?? (d.sizeGiB ?? 10) * GiB;
    const disk: Entity = {
      id: diskId,
      name: d.alias ?? `${spec.name}_Disk${i + 1}`,
      alias: d.alias ?? `${spec.name}_Disk${i + 1}`,
      description: '',
      content_type: 'data',
      format: d.format ?? 'raw',
      shareable: d.shareable ?? false,
      status: d.status ?? 'ok',
      storage_type: storageType,
      wipe_after_delete: false,
      propagate_errors: false,
      ...(d.sgio ? { sgio: d.sgio } : {}),
      ...(d.backup ? { backup: d.backup } : { backup: 'none' }),
    };
    if (storageType === 'lun') {
      Object.assign(disk, {
        lun_storage: {
          type: 'iscsi',
          logical_units: {
            logical_unit: [
              {
                id: `36001405${diskId.replace(/-/g, '').slice(0, 24)}`,
                address: '192.0.2.10',
                port: 3260,
                target: 'iqn.2026-01.example:storage',
                size,
                vendor_id: 'LIO-ORG',
                product_id: 'block1',
              },
            ],
          },
        },
      });
    } else {
      Object.assign(disk, {
        provisioned_size: size,
        actual_size: Math.min(size, 2 * GiB),
        total_size: Math.min(size, 2 * GiB),
        sparse: d.sparse ?? true,
        storage_domains: { storage_domain: [{ id: d.storageDomain ?? IDS.sdData }] },
      });
    }
    const attachment: Entity = {
      id: diskId,
      active: true,
      bootable: d.bootable ?? i === 0,
      interface: d.interface ?? 'virtio_scsi',
      pass_discard: d.passDiscard ?? false,
      read_only: d.readOnly ?? false,
      uses_scsi_reservation: d.scsiReservation ?? false,
      ...(d.logicalName ? { logical_name: d.logicalName } : {}),
      disk: { id: diskId },
      vm: { id: vmId },
    };
    omit(disk, d.omit);
    omit(attachment, d.omit);
    inv.disks.push(disk);
    diskattachments.push(attachment);
  });
  const nics: Entity[] = (spec.nics ?? [{}]).map((n, i) => {
    macCounter++;
    const profile = n.profile === undefined ? IDS.profileVm : n.profile;
    const id = uid(`nic:${spec.name}:${spec.cluster ?? 'Default'}:${i}`);
    const mac = n.mac ?? `56:6f:1a:00:${(macCounter >> 8).toString(16).padStart(2, '0')}:${(macCounter & 0xff).toString(16).padStart(2, '0')}`;
    // The engine puts the guest agent's view of a NIC inline (BackendNicHelper.addReportedDevices), matched by MAC.
    const reported = n.reportedIps
      ? {
          reported_devices: {
            reported_device: [
              {
                id: uid(`reported:${id}`),
                description: 'guest reported data',
                ips: { ip: n.reportedIps.map((address) => ({ address, version: address.includes(':') ? 'v6' : 'v4' })) },
                mac: { address: mac },
                name: `eth${i}`,
                type: 'network',
                vm: { id: vmId },
              },
            ],
          },
        }
      : {};
    return omit(
      {
        id,
        name: n.name ?? `nic${i + 1}`,
        interface: n.interface ?? 'virtio',
        linked: n.linked ?? true,
        plugged: n.plugged ?? true,
        mac: { address: mac },
        ...(profile ? { vnic_profile: { id: profile } } : {}),
        ...reported,
        vm: { id: vmId },
      },
      n.omit,
    );
  });
  const snapshots: Entity[] = [
    // Every VM has its `active` snapshot (the current state); real snapshots come on top.
    {
      id: uid(`snap:${vmId}:active`),
      description: 'Active VM',
      snapshot_type: 'active',
      snapshot_status: 'ok',
      date: '2026-01-15T10:00:00.000+00:00',
      persist_memorystate: false,
      vm: { id: vmId },
    },
    ...(spec.snapshots ?? []).map((s, i) => ({
      id: uid(`snap:${vmId}:${i}`),
      description: s.description,
      snapshot_type: s.type ?? 'regular',
      snapshot_status: s.status ?? 'ok',
      date: '2026-01-20T08:30:00.000+00:00',
      persist_memorystate: false,
      vm: { id: vmId },
    })),
  ];
  const watchdogs: Entity[] = (spec.watchdogs ?? []).map((w, i) => ({ id: uid(`wd:${vmId}:${i}`), model: w.model, action: w.action, vm: { id: vmId } }));
  omit(vm, spec.omit);
  return { vm, diskattachments, nics, snapshots, watchdogs, hostdevices: spec.hostDevices ?? [] };
}

/** Leaves `fields` out of `entity`: the engine writes no element for a value it does not have. */
function omit(entity: Entity, fields: string[] | undefined): Entity {
  for (const field of fields ?? []) delete entity[field];
  return entity;
}

/** A template: a VM shape without run-time state, `status` ok | locked | illegal. */
export function buildTemplate(spec: VmSpec, inv: FakeInventory): FakeVm {
  const t = buildVm(spec, inv);
  const id = uid(`template:${spec.name}`);
  const { status: _status, origin: _origin, has_illegal_images: _h, numa_tune_mode: _n, guest_operating_system: _g, template: _t, ...base } = t.vm;
  const template: Entity = { ...base, id, status: 'ok', version: { version_name: 'base', version_number: 1, base_template: { id } } };
  for (const item of [...t.diskattachments, ...t.nics]) {
    delete item['vm'];
    item['template'] = { id };
  }
  return { vm: template, diskattachments: t.diskattachments, nics: t.nics, snapshots: [], watchdogs: [], hostdevices: [] };
}

/** Every engine has the `Blank` template (id all zeros), the root of all others. */
function blankTemplate(): FakeVm {
  const id = '00000000-0000-0000-0000-000000000000';
  return {
    vm: {
      id,
      name: 'Blank',
      description: 'Blank template',
      status: 'ok',
      memory: 1024 * MiB,
      cpu: { topology: { sockets: 1, cores: 1, threads: 1 } },
      os: { type: 'other' },
      bios: { type: 'cluster_default' },
      usb: { enabled: false },
      version: { version_name: 'base version', version_number: 1, base_template: { id } },
    },
    diskattachments: [],
    nics: [],
    snapshots: [],
    watchdogs: [],
    hostdevices: [],
  };
}

function baseInventory(): FakeInventory {
  return {
    datacenters: [
      { id: IDS.dcDefault, name: 'Default', description: 'The default Data Center', local: false, status: 'up', storage_format: 'v5', version: { major: 4, minor: 7 } },
      { id: IDS.dc2, name: 'dc2', description: '', local: false, status: 'up', storage_format: 'v5', version: { major: 4, minor: 7 } },
    ],
    clusters: [
      {
        id: IDS.clusterDefault,
        name: 'Default',
        description: 'The default server cluster',
        bios_type: 'q35_sea_bios',
        cpu: { architecture: 'x86_64', type: 'Secure Intel Cascadelake Server Family' },
        version: { major: 4, minor: 7 },
        data_center: { id: IDS.dcDefault },
      },
      {
        id: IDS.cluster2,
        name: 'Cluster2',
        description: '',
        bios_type: 'q35_ovmf',
        cpu: { architecture: 'x86_64', type: 'Intel Skylake Server Family' },
        version: { major: 4, minor: 7 },
        data_center: { id: IDS.dc2 },
      },
    ],
    networks: [
      { id: IDS.netMgmt, name: 'ovirtmgmt', description: 'Management Network', mtu: 0, stp: false, usages: { usage: ['vm'] }, data_center: { id: IDS.dcDefault } },
      { id: IDS.netVm, name: 'vm-net', description: '', mtu: 0, stp: false, vlan: { id: 100 }, usages: { usage: ['vm'] }, data_center: { id: IDS.dcDefault } },
      { id: IDS.net2, name: 'net2', description: '', mtu: 0, stp: false, usages: { usage: ['vm'] }, data_center: { id: IDS.dc2 } },
    ],
    vnicprofiles: [
      { id: IDS.profileMgmt, name: 'ovirtmgmt', pass_through: { mode: 'disabled' }, port_mirroring: false, network: { id: IDS.netMgmt } },
      { id: IDS.profileVm, name: 'vm-net', pass_through: { mode: 'disabled' }, port_mirroring: false, network: { id: IDS.netVm } },
      { id: IDS.profileMirror, name: 'vm-net-mirror', pass_through: { mode: 'disabled' }, port_mirroring: true, network: { id: IDS.netVm } },
      {
        id: IDS.profileFiltered,
        name: 'vm-net-filtered',
        pass_through: { mode: 'disabled' },
        port_mirroring: false,
        network: { id: IDS.netVm },
        network_filter: { id: IDS.filterVdsm },
        qos: { id: IDS.qosGold },
        custom_properties: { custom_property: [{ name: 'SecurityGroups', value: 'web' }] },
      },
      { id: IDS.profile2, name: 'net2', pass_through: { mode: 'disabled' }, port_mirroring: false, network: { id: IDS.net2 } },
    ],
    networkfilters: [
      { id: IDS.filterVdsm, name: 'vdsm-no-mac-spoofing', version: { major: 3, minor: 0, build: -1, revision: -1 } },
      { id: uid('filter:clean-traffic'), name: 'clean-traffic', version: { major: 4, minor: 0, build: -1, revision: -1 } },
    ],
    storagedomains: [
      {
        id: IDS.sdData,
        name: 'data',
        type: 'data',
        master: true,
        status: 'active',
        storage: { type: 'nfs', address: '192.0.2.20', path: '/exports/data' },
        storage_format: 'v5',
        available: 900 * GiB,
        used: 100 * GiB,
      },
      { id: IDS.sdData2, name: 'data2', type: 'data', master: false, status: 'active', storage: { type: 'iscsi' }, storage_format: 'v5', available: 400 * GiB, used: 100 * GiB },
    ],
    disks: [],
    vms: [],
    templates: [],
  };
}

/** The disk the download tests read: a 1 GiB raw image disk of `vm-clean-1`. */
export const DOWNLOAD_DISK_ID = uid('disk:download');

/**
 * The default fixture set: clean VMs, one VM per Critical oVirt rule, one per
 * Warning rule, and two VMs called `vm-dup` in different clusters. See README.md.
 */
export function defaultInventory(options: { extraCleanVms?: number } = {}): FakeInventory {
  const inv = baseInventory();
  const specs: VmSpec[] = [
    // Clean: powered off, virtio / virtio_scsi disks on an image storage domain, virtio NICs.
    {
      name: 'vm-clean-1',
      disks: [{ id: DOWNLOAD_DISK_ID, sizeGiB: 1, interface: 'virtio_scsi', bootable: true }],
      guest: { distribution: 'Red Hat Enterprise Linux', version: '8.6' },
    },
    {
      name: 'vm-clean-2',
      os: 'rhel_9x64',
      disks: [
        { interface: 'virtio', sizeGiB: 20 },
        { interface: 'virtio_scsi', sizeGiB: 5, storageDomain: IDS.sdData2 },
      ],
      nics: [{}, { profile: IDS.profileMgmt }],
    },
    {
      name: 'vm-clean-3',
      os: 'windows_2019x64',
      disks: [{ interface: 'sata', sizeGiB: 40 }],
      nics: [{ interface: 'e1000' }],
      memoryMiB: 4096,
      topology: { sockets: 1, cores: 4, threads: 2 },
    },
    { name: 'vm-clean-cluster2', cluster: 'Cluster2', bios: 'cluster_default', nics: [{ profile: IDS.profile2 }] },
    // One Critical rule each.
    { name: 'vm-nic-interface-unsupported', nics: [{ interface: 'spapr_vlan' }] },
    { name: 'vm-disk-interface-ide', disks: [{ interface: 'ide' }] },
    { name: 'vm-lun-disk', disks: [{}, { storageType: 'lun', interface: 'virtio_scsi', sizeGiB: 50, bootable: false }] },
    { name: 'vm-disk-storage-managed-block', disks: [{}, { storageType: 'managed_block_storage', sizeGiB: 8, bootable: false }] },
    { name: 'vm-disk-locked', disks: [{ status: 'locked' }] },
    { name: 'vm-disk-illegal', disks: [{ status: 'illegal' }] },
    { name: 'vm-scsi-reservation', disks: [{ interface: 'virtio_scsi', scsiReservation: true }] },
    { name: 'vm-sgio-unfiltered', disks: [{ interface: 'virtio_scsi', sgio: 'unfiltered' }] },
    {
      name: 'vm-vgpu',
      hostDevices: [
        {
          id: uid('hostdev:vgpu'),
          name: 'pci_0000_3b_00_0',
          capability: 'mdev',
          product: { id: '0x1eb8', name: 'TU104GL [Tesla T4]' },
          vendor: { id: '0x10de', name: 'NVIDIA Corporation' },
          m_dev_types: { m_dev_type: [{ name: 'nvidia-222', human_readable_name: 'GRID T4-1B', available_instances: 15 }] },
        },
      ],
    },
    { name: 'vm-illegal-snapshot', snapshots: [{ description: 'before-upgrade', status: 'illegal' }] },
    { name: 'vm-origin-kubevirt', origin: 'kubevirt' },
    { name: 'vm-usb-enabled', usb: true },
    { name: 'vm-watchdog-diag288', watchdogs: [{ model: 'diag288', action: 'reset' }] },
    { name: 'vm-status-invalid', status: 'image_locked' },
    { name: 'vm-illegal-images', hasIllegalImages: true },
    // One Warning rule each.
    { name: 'vm-iothreads', ioThreads: 4 },
    { name: 'vm-numa-tuned', numaTuneMode: 'strict' },
    { name: 'vm-placement-migratable', affinity: 'migratable' },
    { name: 'vm-nic-unplugged', nics: [{ plugged: false }] },
    { name: 'vm-nic-port-mirroring', nics: [{ profile: IDS.profileMirror }] },
    { name: 'vm-secure-boot', bios: 'q35_secure_boot' },
    { name: 'vm-shared-disk', disks: [{}, { shareable: true, interface: 'virtio_scsi', bootable: false, sizeGiB: 2 }] },
    // Informational facts in one place: guest agent, snapshot, watchdog i6300esb, NIC profile with filter/QoS/properties.
    {
      name: 'vm-running',
      status: 'up',
      guest: { distribution: 'CentOS Stream', version: '9' },
      snapshots: [{ description: 'nightly' }],
      watchdogs: [{ model: 'i6300esb', action: 'reset' }],
      nics: [{ profile: IDS.profileFiltered, reportedIps: ['10.35.1.17', 'fe80::546f:1aff:fe00:1'] }],
      disks: [{ logicalName: '/dev/sda', passDiscard: true, backup: 'incremental', format: 'cow' }],
    },
    // The same name in two clusters: a name alone is ambiguous, name + cluster is not.
    { name: 'vm-dup' },
    { name: 'vm-dup', cluster: 'Cluster2', nics: [{ profile: IDS.profile2 }] },
  ];
  for (let i = 0; i < (options.extraCleanVms ?? 0); i++) specs.push({ name: `vm-bulk-${String(i).padStart(4, '0')}` });
  for (const spec of specs) inv.vms.push(buildVm(spec, inv));
  inv.templates.push(blankTemplate(), buildTemplate({ name: 'tpl-rhel8', disks: [{ sizeGiB: 20 }] }, inv));
  return inv;
}

/**
 * Fields a check needs that an engine may leave out (an older engine, or one whose attachment or NIC has
 * no value), as `element` of `where` in the engine's own names, with the rule that needs it and what it
 * then says (a Warning that it could not decide, or Critical where nothing can be done without it).
 */
export const OMISSIONS = [
  { where: 'disk_attachment', element: 'interface', rule: 'ovirt.disk.interface_type.unsupported', category: 'Warning' },
  { where: 'disk_attachment', element: 'uses_scsi_reservation', rule: 'ovirt.disk.scsi_reservation.enabled', category: 'Warning' },
  { where: 'disk', element: 'storage_type', rule: 'ovirt.disk.storage_type.unsupported', category: 'Warning' },
  { where: 'disk', element: 'status', rule: 'ovirt.disk.illegal_or_locked_status', category: 'Warning' },
  { where: 'nic', element: 'interface', rule: 'ovirt.nic.interface_type.unsupported', category: 'Warning' },
  { where: 'vm', element: 'usb', rule: 'ovirt.usb.enabled', category: 'Warning' },
  { where: 'vm', element: 'origin', rule: 'ovirt.vm.origin.kubevirt', category: 'Warning' },
  { where: 'vm', element: 'has_illegal_images', rule: 'ovirt.disk.illegal_images', category: 'Warning' },
  // Without a status or a size the VM cannot move at all: refused by name, not a guess.
  { where: 'vm', element: 'status', rule: 'ovirt.vm.status_invalid', category: 'Critical' },
  { where: 'disk', element: 'provisioned_size', rule: 'ovirt.disk.capacity.invalid', category: 'Critical' },
] as const;

export type Omission = (typeof OMISSIONS)[number];

/** One VM per omission, `vm-omits-<where>-<element>`, otherwise clean; returns the VMs' names. */
export function addOmissionVms(inv: FakeInventory, omissions: readonly Omission[] = OMISSIONS): { name: string; omission: Omission }[] {
  return omissions.map((omission) => {
    const name = `vm-omits-${omission.where}-${omission.element}`.replace(/_/g, '-');
    const leftOut = [omission.element];
    const spec: VmSpec = omission.where === 'vm' ? { name, omit: leftOut } : omission.where === 'nic' ? { name, nics: [{ omit: leftOut }] } : { name, disks: [{ omit: leftOut }] };
    inv.vms.push(buildVm(spec, inv));
    return { name, omission };
  });
}
