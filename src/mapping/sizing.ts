import type { Disk, SourceVm } from '../model.js';
import type { AccessMode, VolumeMode } from './resource-mapping.js';

export const MiB = 1024 * 1024;
/** CDI's default filesystem overhead (5.5 %). */
export const DEFAULT_FILESYSTEM_OVERHEAD = 0.055;

export interface OverheadTable {
  /** Fraction in [0, 1); CDI's global default when absent. */
  default?: number;
  byStorageClass?: Record<string, number>;
}

export function filesystemOverhead(table: OverheadTable | undefined, storageClass: string | undefined): number {
  const byClass = storageClass !== undefined ? table?.byStorageClass?.[storageClass] : undefined;
  return byClass ?? table?.default ?? DEFAULT_FILESYSTEM_OVERHEAD;
}

/**
 * The PVC request for a disk (vm-import-operator's sizing): the capacity rounded
 * up to 1 MiB, and on a Filesystem volume divided by (1 − overhead) so the image
 * file fits beside the filesystem's own metadata. Integer arithmetic in parts
 * per million keeps the result exact for any disk size.
 */
export function pvcRequestBytes(capacityBytes: number, volumeMode: VolumeMode, overhead: number): number {
  if (!(overhead >= 0 && overhead < 1)) throw new RangeError(`filesystem overhead ${overhead} is not in [0, 1)`);
  const rounded = BigInt(Math.ceil(Math.max(0, capacityBytes) / MiB)) * BigInt(MiB);
  if (volumeMode === 'Block') return Number(rounded);
  const ppm = BigInt(Math.round(overhead * 1_000_000));
  const denominator = 1_000_000n - ppm;
  return Number((rounded * 1_000_000n + denominator - 1n) / denominator);
}

/** Bytes a disk really needs on the source side: oVirt reports provisioned and actual sizes; the larger wins. */
export function sourceDiskBytes(disk: Disk): number {
  return Math.max(disk.capacityBytes, disk.ovirt?.provisionedBytes ?? 0);
}

/**
 * The seed's access-mode defaults. oVirt: the mapping's mode; else a VM whose
 * migration mode allows live migration needs ReadWriteMany; a read-only disk
 * ReadOnlyMany; anything else ReadWriteOnce. vSphere: the mapping's mode or
 * ReadWriteOnce.
 */
export function defaultAccessMode(vm: SourceVm, disk: Disk, mapped: AccessMode | undefined): AccessMode {
  if (mapped) return mapped;
  if (vm.source.type === 'ovirt') {
    const migratable = vm.source.migratable ?? /^migratable$/.test(vm.source.placementAffinity ?? '');
    if (migratable) return 'ReadWriteMany';
    if (disk.readOnly) return 'ReadOnlyMany';
  }
  return 'ReadWriteOnce';
}
