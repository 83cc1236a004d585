import { bool, int, items, obj, str, type ApiNode } from './tree.js';

// Typed readers for the oVirt API types v2v reads (ovirt-engine-api-model:
// Vm, DiskAttachment, Disk, Nic, VnicProfile, Network, StorageDomain,
// Cluster, DataCenter, Snapshot, Watchdog, HostDevice, ImageTransfer).

export interface Link {
  id: string;
  href?: string;
  name?: string;
}

export interface Property {
  name: string;
  value: string;
}

export interface Disk {
  id: string;
  name?: string;
  alias?: string;
  format?: string;
  provisionedSize?: number;
  actualSize?: number;
  totalSize?: number;
  storageType?: string;
  status?: string;
  sgio?: string;
  shareable: boolean;
  sparse?: boolean;
  backup?: string;
  storageDomains: Link[];
  /** For `storage_type: lun`, the size of the first logical unit. */
  lunSize?: number;
}

export interface DiskAttachment {
  id: string;
  interface?: string;
  bootable: boolean;
  readOnly: boolean;
  usesScsiReservation?: boolean;
  passDiscard?: boolean;
  logicalName?: string;
  active?: boolean;
  /** The disk, complete when followed, a link otherwise. */
  disk: Disk | Link;
}

export interface VnicProfile {
  id: string;
  name?: string;
  network?: Link;
  portMirroring: boolean;
  networkFilter?: Link;
  qos?: Link;
  passThrough?: string;
  customProperties: Property[];
}

export interface Nic {
  id: string;
  name?: string;
  interface?: string;
  mac?: string;
  plugged: boolean;
  linked?: boolean;
  vnicProfile?: VnicProfile | Link;
  /** Addresses the guest agent reports on this NIC: the engine puts its reported devices inline. */
  reportedIps?: string[];
}

export interface Network {
  id: string;
  name?: string;
  dataCenter?: Link;
  vlan?: number;
}

export interface NetworkFilter {
  id: string;
  name?: string;
}

export interface StorageDomain {
  id: string;
  name?: string;
  type?: string;
  storageType?: string;
}

export interface Cluster {
  id: string;
  name?: string;
  biosType?: string;
  dataCenter?: Link;
}

export interface DataCenter {
  id: string;
  name?: string;
}

export interface Snapshot {
  id: string;
  description?: string;
  date?: string;
  snapshotType?: string;
  snapshotStatus?: string;
  persistMemorystate?: boolean;
}

export interface Watchdog {
  id: string;
  model?: string;
  action?: string;
}

export interface HostDevice {
  id: string;
  name?: string;
  capability?: string;
  mdevType?: string;
  product?: string;
  vendor?: string;
}

export interface Vm {
  id: string;
  name: string;
  description?: string;
  status?: string;
  cluster?: Link;
  osType?: string;
  guestDistribution?: string;
  guestVersion?: string;
  cpu: { sockets: number; cores: number; threads: number };
  memory: number;
  biosType?: string;
  usbEnabled?: boolean;
  placementAffinity?: string;
  ioThreads?: number;
  numaTuneMode?: string;
  origin?: string;
  hasIllegalImages?: boolean;
  stateless?: boolean;
  customProperties: Property[];
  /** Present only when followed. */
  diskAttachments?: DiskAttachment[];
  nics?: Nic[];
  snapshots?: Snapshot[];
  watchdogs?: Watchdog[];
  hostDevices?: HostDevice[];
}

export type TransferPhase =
  | 'initializing'
  | 'transferring'
  | 'paused_system'
  | 'paused_user'
  | 'resuming'
  | 'cancelled'
  | 'cancelled_system'
  | 'cancelled_user'
  | 'finalizing_success'
  | 'finalizing_failure'
  | 'finalizing_cleanup'
  | 'finished_success'
  | 'finished_failure'
  | 'finished_cleanup'
  | 'unknown';

export interface ImageTransfer {
  id: string;
  phase: TransferPhase | string;
  transferUrl?: string;
  proxyUrl?: string;
  inactivityTimeout?: number;
  direction?: string;
  format?: string;
  disk?: Link;
}

export function readLink(n: ApiNode | undefined): Link | undefined {
  const id = str(n, 'id');
  if (!n || !id) return undefined;
  const href = str(n, 'href');
  const name = str(n, 'name');
  return { id, ...(href ? { href } : {}), ...(name ? { name } : {}) };
}

/** A followed reference carries more than id/href/link. */
export function isExpanded(n: ApiNode | undefined): boolean {
  return !!n && Object.keys(n).some((k) => k !== 'id' && k !== 'href' && k !== 'link');
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function properties(n: ApiNode | undefined, container: string, item: string): Property[] {
  return items(n, container, item).map((p) => ({ name: str(p, 'name') ?? '', value: str(p, 'value') ?? '' }));
}

export function readDisk(n: ApiNode): Disk {
  const lun = items(n, 'lun_storage.logical_units', 'logical_unit')[0];
  return {
    id: str(n, 'id') ?? '',
    ...opt('name', str(n, 'name')),
    ...opt('alias', str(n, 'alias')),
    ...opt('format', str(n, 'format')),
    ...opt('provisionedSize', int(n, 'provisioned_size')),
    ...opt('actualSize', int(n, 'actual_size')),
    ...opt('totalSize', int(n, 'total_size')),
    ...opt('storageType', str(n, 'storage_type')),
    ...opt('status', str(n, 'status')),
    ...opt('sgio', str(n, 'sgio')),
    shareable: bool(n, 'shareable') ?? false,
    ...opt('sparse', bool(n, 'sparse')),
    ...opt('backup', str(n, 'backup')),
    storageDomains: items(n, 'storage_domains', 'storage_domain')
      .map(readLink)
      .filter((l): l is Link => !!l),
    ...opt('lunSize', int(lun, 'size')),
  };
}

export function readDiskAttachment(n: ApiNode): DiskAttachment {
  const diskNode = obj(n, 'disk');
  return {
    id: str(n, 'id') ?? '',
    ...opt('interface', str(n, 'interface')),
    bootable: bool(n, 'bootable') ?? false,
    readOnly: bool(n, 'read_only') ?? false,
    ...opt('usesScsiReservation', bool(n, 'uses_scsi_reservation')),
    ...opt('passDiscard', bool(n, 'pass_discard')),
    ...opt('logicalName', str(n, 'logical_name')),
    ...opt('active', bool(n, 'active')),
    disk: diskNode && isExpanded(diskNode) ? readDisk(diskNode) : (readLink(diskNode) ?? { id: '' }),
  };
}

export function readVnicProfile(n: ApiNode): VnicProfile {
  return {
    id: str(n, 'id') ?? '',
    ...opt('name', str(n, 'name')),
    ...opt('network', readLink(obj(n, 'network'))),
    portMirroring: bool(n, 'port_mirroring') ?? false,
    ...opt('networkFilter', readLink(obj(n, 'network_filter'))),
    ...opt('qos', readLink(obj(n, 'qos'))),
    ...opt('passThrough', str(n, 'pass_through.mode')),
    customProperties: properties(n, 'custom_properties', 'custom_property'),
  };
}

export function readNic(n: ApiNode): Nic {
  const profile = obj(n, 'vnic_profile');
  return {
    id: str(n, 'id') ?? '',
    ...opt('name', str(n, 'name')),
    ...opt('interface', str(n, 'interface')),
    ...opt('mac', str(n, 'mac.address')),
    plugged: bool(n, 'plugged') ?? true,
    ...opt('linked', bool(n, 'linked')),
    ...opt('vnicProfile', profile && isExpanded(profile) ? readVnicProfile(profile) : readLink(profile)),
    ...opt('reportedIps', reportedIps(n)),
  };
}

/** `reported_devices` of type network: the guest agent's view of this NIC, its `ips` among it. */
function reportedIps(n: ApiNode): string[] | undefined {
  const ips = items(n, 'reported_devices', 'reported_device')
    .filter((d) => (str(d, 'type') ?? 'network') === 'network')
    .flatMap((d) => items(d, 'ips', 'ip').map((ip) => str(ip, 'address')))
    .filter((a): a is string => !!a);
  return ips.length ? [...new Set(ips)] : undefined;
}

export function readNetwork(n: ApiNode): Network {
  return { id: str(n, 'id') ?? '', ...opt('name', str(n, 'name')), ...opt('dataCenter', readLink(obj(n, 'data_center'))), ...opt('vlan', int(n, 'vlan.id')) };
}

export function readNetworkFilter(n: ApiNode): NetworkFilter {
  return { id: str(n, 'id') ?? '', ...opt('name', str(n, 'name')) };
}

export function readStorageDomain(n: ApiNode): StorageDomain {
  return { id: str(n, 'id') ?? '', ...opt('name', str(n, 'name')), ...opt('type', str(n, 'type')), ...opt('storageType', str(n, 'storage.type')) };
}

export function readCluster(n: ApiNode): Cluster {
  return { id: str(n, 'id') ?? '', ...opt('name', str(n, 'name')), ...opt('biosType', str(n, 'bios_type')), ...opt('dataCenter', readLink(obj(n, 'data_center'))) };
}

export function readDataCenter(n: ApiNode): DataCenter {
  return { id: str(n, 'id') ?? '', ...opt('name', str(n, 'name')) };
}

export function readSnapshot(n: ApiNode): Snapshot {
  return {
    id: str(n, 'id') ?? '',
    ...opt('description', str(n, 'description')),
    ...opt('date', str(n, 'date')),
    ...opt('snapshotType', str(n, 'snapshot_type')),
    ...opt('snapshotStatus', str(n, 'snapshot_status')),
    ...opt('persistMemorystate', bool(n, 'persist_memorystate')),
  };
}

export function readWatchdog(n: ApiNode): Watchdog {
  return { id: str(n, 'id') ?? '', ...opt('model', str(n, 'model')), ...opt('action', str(n, 'action')) };
}

export function readHostDevice(n: ApiNode): HostDevice {
  return {
    id: str(n, 'id') ?? '',
    ...opt('name', str(n, 'name')),
    ...opt('capability', str(n, 'capability')),
    ...opt('mdevType', str(items(n, 'm_dev_types', 'm_dev_type')[0], 'name')),
    ...opt('product', str(n, 'product.name')),
    ...opt('vendor', str(n, 'vendor.name')),
  };
}

function followed<T>(n: ApiNode, container: string, item: string, read: (n: ApiNode) => T): T[] | undefined {
  return n[container] === undefined ? undefined : items(n, container, item).map(read);
}

export function readVm(n: ApiNode): Vm {
  const diskAttachments = followed(n, 'disk_attachments', 'disk_attachment', readDiskAttachment);
  const nics = followed(n, 'nics', 'nic', readNic);
  const snapshots = followed(n, 'snapshots', 'snapshot', readSnapshot);
  const watchdogs = followed(n, 'watchdogs', 'watchdog', readWatchdog);
  const hostDevices = followed(n, 'host_devices', 'host_device', readHostDevice);
  return {
    id: str(n, 'id') ?? '',
    name: str(n, 'name') ?? '',
    ...opt('description', str(n, 'description')),
    ...opt('status', str(n, 'status')),
    ...opt('cluster', readLink(obj(n, 'cluster'))),
    ...opt('osType', str(n, 'os.type')),
    ...opt('guestDistribution', str(n, 'guest_operating_system.distribution')),
    ...opt('guestVersion', str(n, 'guest_operating_system.version.full_version')),
    cpu: { sockets: int(n, 'cpu.topology.sockets') ?? 1, cores: int(n, 'cpu.topology.cores') ?? 1, threads: int(n, 'cpu.topology.threads') ?? 1 },
    memory: int(n, 'memory') ?? 0,
    ...opt('biosType', str(n, 'bios.type')),
    ...opt('usbEnabled', bool(n, 'usb.enabled')),
    ...opt('placementAffinity', str(n, 'placement_policy.affinity')),
    ...opt('ioThreads', int(n, 'io.threads')),
    ...opt('numaTuneMode', str(n, 'numa_tune_mode')),
    ...opt('origin', str(n, 'origin')),
    ...opt('hasIllegalImages', bool(n, 'has_illegal_images')),
    ...opt('stateless', bool(n, 'stateless')),
    customProperties: properties(n, 'custom_properties', 'custom_property'),
    ...opt('diskAttachments', diskAttachments),
    ...opt('nics', nics),
    ...opt('snapshots', snapshots),
    ...opt('watchdogs', watchdogs),
    ...opt('hostDevices', hostDevices),
  };
}

export function readImageTransfer(n: ApiNode): ImageTransfer {
  return {
    id: str(n, 'id') ?? '',
    phase: str(n, 'phase') ?? 'unknown',
    ...opt('transferUrl', str(n, 'transfer_url') || undefined),
    ...opt('proxyUrl', str(n, 'proxy_url') || undefined),
    ...opt('inactivityTimeout', int(n, 'inactivity_timeout')),
    ...opt('direction', str(n, 'direction')),
    ...opt('format', str(n, 'format')),
    ...opt('disk', readLink(obj(n, 'disk'))),
  };
}
