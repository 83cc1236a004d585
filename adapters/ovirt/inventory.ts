import type { Bus, Controller, Disk as CoreDisk, Firmware, Nic as CoreNic, PowerState, Ref, Snapshot as CoreSnapshot, SourceVm } from '../../src/model.js';
import type { Cluster, Disk, DiskAttachment, Link, Network, NetworkFilter, Nic, StorageDomain, Vm, VnicProfile } from './types.js';

// Pure mapping from the oVirt API types to the core SourceVm. The lookup
// tables (clusters, vNIC profiles, networks, storage domains) are read once
// per inventory, so names cost O(1) requests, not O(VMs).

/** `follow=` for one VM with everything the mapping reads, in one request. */
export const VM_FOLLOW = 'disk_attachments.disk,nics.vnic_profile,snapshots,watchdogs,host_devices';
/** The same for a template (templates have no snapshots or host devices). */
export const TEMPLATE_FOLLOW = 'disk_attachments.disk,nics.vnic_profile,watchdogs';
/** The engine's `Blank` template: the root of every template, not something to move. */
export const BLANK_TEMPLATE_ID = '00000000-0000-0000-0000-000000000000';

export interface OvirtLookup {
  clusters: Map<string, Cluster>;
  vnicProfiles: Map<string, VnicProfile>;
  networks: Map<string, Network>;
  storageDomains: Map<string, StorageDomain>;
  /** Optional: without it, a profile's network filter is named by its id. */
  networkFilters?: Map<string, NetworkFilter>;
  /** Collections the engine could not serve (an older engine has no `networkfilters`): their maps are empty. */
  unavailable?: string[];
}

export function byId<T extends { id: string }>(list: T[]): Map<string, T> {
  return new Map(list.map((x) => [x.id, x]));
}

const POWER: Record<string, PowerState> = {
  down: 'off',
  up: 'on',
  powering_up: 'on',
  powering_down: 'on',
  reboot_in_progress: 'on',
  migrating: 'on',
  wait_for_launch: 'on',
  not_responding: 'on',
  paused: 'suspended',
  suspended: 'suspended',
  saving_state: 'suspended',
  restoring_state: 'suspended',
};

/** The engine's VmStatus, normalized; anything unknown (image_locked, unassigned, unknown) stays `unknown`. */
export function powerStateOf(status: string | undefined): PowerState {
  return (status && POWER[status]) || 'unknown';
}

const DISK_BUS: Record<string, Bus> = {
  virtio: 'virtio',
  virtio_scsi: 'scsi',
  spapr_vscsi: 'scsi',
  sata: 'sata',
  ide: 'ide',
};

/** The bus of a disk interface; none for an interface the engine did not report or v2v does not know. */
export function busOf(diskInterface: string | undefined): Bus | undefined {
  return diskInterface ? DISK_BUS[diskInterface] : undefined;
}

/** `cluster_default` (or no bios type) means the cluster's bios type. */
export function resolveBiosType(vmBiosType: string | undefined, cluster: Cluster | undefined): string | undefined {
  if (vmBiosType && vmBiosType !== 'cluster_default') return vmBiosType;
  return cluster?.biosType ?? vmBiosType;
}

export function firmwareOf(biosType: string | undefined): { firmware: Firmware; secureBoot: boolean } {
  return { firmware: biosType === 'q35_ovmf' || biosType === 'q35_secure_boot' ? 'efi' : 'bios', secureBoot: biosType === 'q35_secure_boot' };
}

function ref(link: Link | undefined, named?: { name?: string }): Ref | undefined {
  if (!link) return undefined;
  return { id: link.id, name: named?.name ?? link.name ?? link.id };
}

function isDisk(d: Disk | Link): d is Disk {
  return 'storageDomains' in d;
}

function isProfile(p: VnicProfile | Link): p is VnicProfile {
  return 'customProperties' in p;
}

function toDisk(att: DiskAttachment, lookup: OvirtLookup): CoreDisk {
  const disk: Disk = isDisk(att.disk) ? att.disk : { id: att.disk.id, shareable: false, storageDomains: [] };
  const domainLink = disk.storageDomains[0];
  const domain = domainLink ? ref(domainLink, lookup.storageDomains.get(domainLink.id)) : undefined;
  // What the engine did not report stays unknown: the checks say they could not decide, rather than pass.
  const storageType = disk.storageType;
  const capacity = storageType === 'lun' ? (disk.lunSize ?? disk.provisionedSize ?? 0) : (disk.provisionedSize ?? disk.lunSize ?? 0);
  const iface = att.interface;
  const bus = busOf(iface);
  return {
    key: disk.id,
    ...(disk.alias || disk.name ? { name: disk.alias ?? disk.name } : {}),
    capacityBytes: capacity,
    controller: iface ? { ...(bus ? { bus } : {}), model: iface, key: `ovirt:${iface}` } : {},
    ...(domain ? { datastore: domain } : {}),
    shared: disk.shareable,
    ...(storageType === 'lun' ? { lun: true } : {}),
    ...(disk.status ? { status: disk.status } : {}),
    ...(disk.sparse !== undefined ? { thin: disk.sparse } : {}),
    bootable: att.bootable,
    readOnly: att.readOnly,
    ...(disk.format ? { format: disk.format } : {}),
    ...(disk.actualSize !== undefined ? { allocatedBytes: disk.actualSize } : {}),
    ovirt: {
      ...(iface ? { interface: iface } : {}),
      ...(storageType ? { storageType } : {}),
      ...(att.usesScsiReservation !== undefined ? { usesScsiReservation: att.usesScsiReservation } : {}),
      ...(att.passDiscard !== undefined ? { passDiscard: att.passDiscard } : {}),
      ...(att.logicalName ? { logicalName: att.logicalName } : {}),
      ...(disk.sgio ? { sgio: disk.sgio } : {}),
      ...(disk.backup ? { backup: disk.backup } : {}),
      ...(disk.provisionedSize !== undefined ? { provisionedBytes: disk.provisionedSize } : {}),
      ...(disk.actualSize !== undefined ? { actualBytes: disk.actualSize } : {}),
      ...(disk.sparse !== undefined ? { sparse: disk.sparse } : {}),
      ...(att.active !== undefined ? { active: att.active } : {}),
      ...(disk.alias ? { alias: disk.alias } : {}),
    },
  };
}

function toNic(nic: Nic, lookup: OvirtLookup): CoreNic {
  const linked = nic.vnicProfile;
  // A followed profile is complete; a bare link is completed from the profiles list.
  const profile = linked ? (isProfile(linked) ? linked : lookup.vnicProfiles.get(linked.id)) : undefined;
  const network = profile?.network ? ref(profile.network, lookup.networks.get(profile.network.id)) : undefined;
  const iface = nic.interface;
  return {
    key: nic.id,
    ...(nic.name ? { name: nic.name } : {}),
    mac: (nic.mac ?? '').toLowerCase(),
    ...(nic.reportedIps ? { guestIps: nic.reportedIps } : {}),
    ...(iface ? { model: iface } : {}),
    // A NIC without a profile is unplugged from any network ("empty" profile).
    network: network ? { id: network.id, name: network.name, kind: 'network' } : { name: '', kind: 'none' },
    connected: nic.plugged && nic.linked !== false,
    ovirt: {
      ...(iface ? { interface: iface } : {}),
      plugged: nic.plugged,
      ...(nic.linked !== undefined ? { linked: nic.linked } : {}),
      ...(profile ? { vnicProfile: { id: profile.id, name: profile.name ?? profile.id } } : linked ? { vnicProfile: { id: linked.id, name: linked.id } } : {}),
      ...(profile ? { portMirroring: profile.portMirroring } : {}),
      ...(profile?.networkFilter ? { networkFilter: lookup.networkFilters?.get(profile.networkFilter.id)?.name ?? profile.networkFilter.name ?? profile.networkFilter.id } : {}),
      ...(profile?.qos ? { qos: profile.qos.name ?? profile.qos.id } : {}),
      ...(profile?.passThrough ? { passThrough: profile.passThrough } : {}),
      ...(profile && profile.customProperties.length ? { customProperties: Object.fromEntries(profile.customProperties.map((p) => [p.name, p.value])) } : {}),
    },
  };
}

function controllersOf(disks: CoreDisk[]): Controller[] {
  const seen = new Map<string, Controller>();
  for (const d of disks) {
    const { key, bus, model } = d.controller;
    if (key && bus && model && !seen.has(key)) seen.set(key, { key, bus, model });
  }
  return [...seen.values()];
}

/** A template as a SourceVm (`isTemplate`, never running); its `status` is the template's (ok | locked | illegal). */
export function templateToSourceVm(template: Vm, lookup: OvirtLookup): SourceVm {
  return { ...toSourceVm(template, lookup, 'template'), isTemplate: true, powerState: 'off' };
}

/** Collections `follow=` asks for, by kind: a template has no snapshots or host devices. */
const FOLLOWED = {
  vm: ['disk_attachments', 'nics', 'snapshots', 'watchdogs', 'host_devices'],
  template: ['disk_attachments', 'nics', 'watchdogs'],
} as const;

/** The engine's names of what it did not report for this VM (or template). */
function unreportedOf(vm: Vm, kind: 'vm' | 'template', biosType: string | undefined): string[] {
  const present: Record<(typeof FOLLOWED)['vm'][number], unknown> = {
    disk_attachments: vm.diskAttachments,
    nics: vm.nics,
    snapshots: vm.snapshots,
    watchdogs: vm.watchdogs,
    host_devices: vm.hostDevices,
  };
  const out: string[] = FOLLOWED[kind].filter((name) => present[name] === undefined);
  // cluster_default (or nothing) that the cluster does not resolve: the firmware is a guess.
  if (!biosType || biosType === 'cluster_default') out.push('bios.type');
  return out;
}

export function toSourceVm(vm: Vm, lookup: OvirtLookup, kind: 'vm' | 'template' = 'vm'): SourceVm {
  const cluster = vm.cluster ? lookup.clusters.get(vm.cluster.id) : undefined;
  const biosType = resolveBiosType(vm.biosType, cluster);
  const unreported = unreportedOf(vm, kind, biosType);
  const { firmware, secureBoot } = firmwareOf(biosType);
  const disks = (vm.diskAttachments ?? []).map((a) => toDisk(a, lookup));
  const customProperties = Object.fromEntries(vm.customProperties.map((p) => [p.name, p.value]));
  const hostDevices = (vm.hostDevices ?? []).map((h) => ({
    name: h.name ?? h.id,
    ...(h.capability ? { capability: h.capability } : {}),
    ...(h.mdevType ? { mdevType: h.mdevType } : {}),
    vgpu: h.capability === 'mdev' || !!h.mdevType,
  }));
  // Before mediated devices became host devices, a vGPU was the VM custom property `mdev_type`.
  if (customProperties['mdev_type']) hostDevices.push({ name: 'mdev_type', capability: 'mdev', mdevType: customProperties['mdev_type'], vgpu: true });
  const snapshots: CoreSnapshot[] = (vm.snapshots ?? []).map((s) => ({
    id: s.id,
    name: s.description ?? s.id,
    ...(s.description ? { description: s.description } : {}),
    ...(s.date ? { createdAt: s.date } : {}),
    ...(s.snapshotType ? { type: s.snapshotType } : {}),
    ...(s.snapshotStatus ? { status: s.snapshotStatus } : {}),
  }));
  const clusterRef = ref(vm.cluster, cluster);
  return {
    id: vm.id,
    name: vm.name,
    isTemplate: false,
    powerState: powerStateOf(vm.status),
    os: { sourceId: vm.osType ?? '', name: vm.guestDistribution ? `${vm.guestDistribution}${vm.guestVersion ? ` ${vm.guestVersion}` : ''}` : (vm.osType ?? '') },
    cpu: { sockets: vm.cpu.sockets, coresPerSocket: vm.cpu.cores },
    memoryMiB: Math.round(vm.memory / (1024 * 1024)),
    firmware,
    secureBoot,
    disks,
    controllers: controllersOf(disks),
    nics: (vm.nics ?? []).map((n) => toNic(n, lookup)),
    snapshots,
    source: {
      type: 'ovirt',
      // No status stays no status: the status rule refuses it by name rather than as a status called "unknown".
      status: vm.status ?? '',
      ...(clusterRef ? { cluster: clusterRef } : {}),
      ...(vm.guestDistribution || vm.guestVersion
        ? { guestAgent: { ...(vm.guestDistribution ? { distribution: vm.guestDistribution } : {}), ...(vm.guestVersion ? { version: vm.guestVersion } : {}) } }
        : {}),
      ...(vm.usbEnabled !== undefined ? { usbEnabled: vm.usbEnabled } : {}),
      ...(vm.placementAffinity ? { placementAffinity: vm.placementAffinity } : {}),
      ...(vm.ioThreads !== undefined ? { ioThreads: vm.ioThreads } : {}),
      ...(vm.numaTuneMode ? { numaTuneMode: vm.numaTuneMode } : {}),
      ...(vm.origin ? { origin: vm.origin } : {}),
      watchdogs: (vm.watchdogs ?? []).map((w) => ({ ...(w.model ? { model: w.model } : {}), ...(w.action ? { action: w.action } : {}) })),
      hostDevices,
      ...(vm.hasIllegalImages !== undefined ? { hasIllegalImages: vm.hasIllegalImages } : {}),
      ...(vm.placementAffinity ? { migratable: vm.placementAffinity === 'migratable' } : {}),
      ...(biosType ? { biosType } : {}),
      threadsPerCore: vm.cpu.threads,
      ...(vm.stateless !== undefined ? { stateless: vm.stateless } : {}),
      ...(vm.customProperties.length ? { customProperties } : {}),
      ...(unreported.length ? { unreported } : {}),
    },
  };
}
