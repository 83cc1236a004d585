import type { Disk, Nic, SourceVm } from '../model.js';
import { defaultAccessMode, filesystemOverhead, pvcRequestBytes, sourceDiskBytes, type OverheadTable } from './sizing.js';
import { networkType, type AccessMode, type Mappings, type NetworkMapping, type StorageMapping, type VolumeMode } from './resource-mapping.js';

export interface NicPlan {
  nic: Nic;
  index: number;
  /** How a mapping's `source.name` names this NIC's network: `network/vnic-profile` (oVirt) or the network name. */
  sourceLabel: string;
  mapping?: NetworkMapping;
  type?: 'pod' | 'multus';
}

export interface DiskPlan {
  disk: Disk;
  index: number;
  /** The datastore / storage domain a storage mapping names. */
  sourceLabel: string;
  mappedBy?: 'disk' | 'storage';
  storageClass?: string;
  volumeMode: VolumeMode;
  accessMode: AccessMode;
  requestBytes: number;
}

export interface VmPlan {
  nics: NicPlan[];
  disks: DiskPlan[];
}

export function nicSourceLabel(vm: SourceVm, nic: Nic): string {
  const profile = nic.ovirt?.vnicProfile?.name;
  return vm.source.type === 'ovirt' && profile ? `${nic.network.name}/${profile}` : nic.network.name;
}

function matchesNetwork(vm: SourceVm, nic: Nic, m: NetworkMapping): boolean {
  const { id, name } = m.source;
  if (id !== undefined && (id === nic.network.id || id === nic.ovirt?.vnicProfile?.id)) return true;
  if (name === undefined) return false;
  if (name === nicSourceLabel(vm, nic)) return true;
  // A bare network name also matches on oVirt when it carries no profile part.
  return !name.includes('/') && name === nic.network.name;
}

function matchesDatastore(disk: Disk, m: StorageMapping): boolean {
  if (!disk.datastore) return false;
  return (m.source.id !== undefined && m.source.id === disk.datastore.id) || (m.source.name !== undefined && m.source.name === disk.datastore.name);
}

function matchesDisk(disk: Disk, m: StorageMapping): boolean {
  return (m.source.id !== undefined && m.source.id === disk.key) || (m.source.name !== undefined && m.source.name === disk.name);
}

/**
 * Applies the network, storage and disk maps to one VM: which target each NIC
 * and disk goes to, with access mode, volume mode and PVC size. A disk map
 * wins over the storage map of its datastore. Without mappings every NIC and
 * disk stays unmapped (the storage class is then the cluster default).
 */
export function planVm(vm: SourceVm, mappings: Mappings | undefined, overhead?: OverheadTable): VmPlan {
  const nics = vm.nics.map((nic, index): NicPlan => {
    const mapping = mappings?.networkMappings.find((m) => matchesNetwork(vm, nic, m));
    return { nic, index, sourceLabel: nicSourceLabel(vm, nic), ...(mapping ? { mapping, type: networkType(mapping) } : {}) };
  });
  const disks = vm.disks.map((disk, index): DiskPlan => {
    const byDisk = mappings?.diskMappings.find((m) => matchesDisk(disk, m));
    const byStorage = byDisk ? undefined : mappings?.storageMappings.find((m) => matchesDatastore(disk, m));
    const mapping = byDisk ?? byStorage;
    const volumeMode = mapping?.volumeMode ?? 'Filesystem';
    const storageClass = mapping?.target.name;
    return {
      disk,
      index,
      sourceLabel: disk.datastore?.name ?? '',
      ...(byDisk ? { mappedBy: 'disk' as const } : byStorage ? { mappedBy: 'storage' as const } : {}),
      ...(storageClass !== undefined ? { storageClass } : {}),
      volumeMode,
      accessMode: defaultAccessMode(vm, disk, mapping?.accessMode),
      requestBytes: pvcRequestBytes(sourceDiskBytes(disk), volumeMode, filesystemOverhead(overhead, storageClass)),
    };
  });
  return { nics, disks };
}
