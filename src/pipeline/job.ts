import type { SourceConfig } from '../config/sources.js';
import { DEFAULT_OS_MAP, overrideOsMap, type OsMap } from '../mapping/os-map.js';
import type { Mappings } from '../mapping/resource-mapping.js';
import type { SourceType } from '../model.js';
import { mappingsFromObjects } from '../objects/import-job.js';
import { loadSeedObjects, osMapFromConfigMap } from '../objects/seed-objects.js';
import type { DiskOpenOptions } from '../source.js';

/**
 * One VM to convert, as every front end describes it: `convert` from its
 * flags, `batch` from a plan entry, the pod from its job file. Whatever a user
 * can say about a conversion is a field here, so each front end gets it.
 */
export interface ConversionJob {
  source: SourceConfig;
  /** VM name, id, or name@cluster. */
  vm: string;
  mappings?: Mappings;
  osMap: OsMap;
  /** `<targetDir>/disk<N>/disk.img` unless disk N has a block device; manifests in `<targetDir>/manifests/`. */
  targetDir: string;
  blockDevices?: readonly (string | undefined)[];
  /** How long a block device may take to appear (a kubelet attaching it); default: it must be there. */
  blockDeviceWaitMs?: number;
  /** The VirtualMachine: its name, namespace, start, and the PVC each disk lands in (default `<name>-disk<N>`). */
  manifest: { name?: string; namespace?: string; startVm: boolean; claimNames?: readonly string[] };
  nicNaming: 'eth' | 'keep';
  /** false: copy only (the guest already runs on KVM, or is converted elsewhere). */
  guestConversion: boolean;
  vddk?: DiskOpenOptions['vddk'];
  /** Boot the converted disks and prove the first NIC comes up before calling the target complete. */
  verifyBoot?: boolean;
  /** Disks an earlier, interrupted run finished (batch resume). */
  disksDone?: readonly number[];
}

/** A ResourceMapping file, for a source of this type. */
export async function readMappingFile(path: string, type: SourceType): Promise<Mappings> {
  return mappingsFromObjects(await loadSeedObjects([path]), type, path);
}

/** The OS map: the defaults, overridden key by key by the ConfigMaps in `path` (the seed's format). */
export async function readOsMapFile(path: string | undefined): Promise<OsMap> {
  let osMap = DEFAULT_OS_MAP;
  if (path) for (const cm of (await loadSeedObjects([path])).configMaps) osMap = overrideOsMap(osMap, osMapFromConfigMap(cm));
  return osMap;
}
