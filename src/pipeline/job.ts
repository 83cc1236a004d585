import { ConfigError, isV2vError } from '../errors.js';
import type { SourceConfig } from '../config/sources.js';
import type { VmCustomization } from '../manifests/customization.js';
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
  manifest: { name?: string; namespace?: string; startVm: boolean; claimNames?: readonly string[]; customize?: VmCustomization };
  nicNaming: 'eth' | 'keep';
  /** false: copy only (the guest already runs on KVM, or is converted elsewhere). */
  guestConversion: boolean;
  /** vSphere: how disks are read (default `auto`). */
  transport?: DiskOpenOptions['transport'];
  vddk?: DiskOpenOptions['vddk'];
  /** Boot the converted disks and prove the first NIC comes up before calling the target complete. */
  verifyBoot?: boolean;
  /** Disks an earlier, interrupted run finished (batch resume). */
  disksDone?: readonly number[];
}

/** A ResourceMapping file, for a source of this type. */
export async function readMappingFile(path: string, type: SourceType): Promise<Mappings> {
  const objects = await loadSeedObjects([path]).catch((e: unknown) => {
    if (isV2vError(e) && e.code === 'CONFIG_NOT_FOUND') {
      throw new ConfigError('MAPPING_NOT_FOUND', `the ResourceMapping file ${path} cannot be read`, { hint: 'check the mapping path (a mounted ConfigMap in a pod)', cause: e });
    }
    throw e;
  });
  return mappingsFromObjects(objects, type, path);
}

/** The OS map: the defaults, overridden key by key by the ConfigMaps in `path` (the seed's format). */
export async function readOsMapFile(path: string | undefined): Promise<OsMap> {
  let osMap = DEFAULT_OS_MAP;
  if (!path) return osMap;
  const { configMaps } = await loadSeedObjects([path]);
  // The seed points vm-import-controller-config at the OS ConfigMap (osConfigMap.name / .namespace): honour the pointer when the file has one.
  const pointer = configMaps.find((cm) => cm.value.data['osConfigMap.name'] !== undefined)?.value.data;
  const name = pointer?.['osConfigMap.name'];
  const namespace = pointer?.['osConfigMap.namespace'];
  const tables = pointer
    ? configMaps.filter((cm) => cm.value.metadata.name === name && (namespace === undefined || (cm.value.metadata.namespace ?? namespace) === namespace))
    : configMaps;
  if (pointer && !tables.length) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `${path}: vm-import-controller-config names the OS ConfigMap ${namespace ? `${namespace}/` : ''}${name}, which the file does not hold`,
      {
        hint: 'put that ConfigMap (guestos2common / osinfo2common) in the same file, or point osConfigMap.name at one that is there',
      },
    );
  }
  for (const cm of tables) osMap = overrideOsMap(osMap, osMapFromConfigMap(cm));
  return osMap;
}
