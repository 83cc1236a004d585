import type { DiskSource } from './copy/source.js';
import { V2vError } from './errors.js';
import type { Logger } from './log.js';
import type { Disk, SourceType, SourceVm } from './model.js';

/**
 * How a vSphere disk is read: `vddk` (libvixDiskLib), `datastore` (ranged
 * HTTPS GETs of the flat extent from `/folder`), or `auto`: VDDK when its
 * library is there, the datastore otherwise. Sources without a choice ignore it.
 */
export const DISK_TRANSPORTS = ['vddk', 'datastore', 'auto'] as const;
export type DiskTransport = (typeof DISK_TRANSPORTS)[number];

/** How a disk reader is opened; each adapter takes what applies to it. */
export interface DiskOpenOptions {
  /** Aborts an open that waits on the source (an oVirt transfer still initializing is cancelled). */
  signal?: AbortSignal;
  /** vSphere: which reader (default `auto`). */
  transport?: DiskTransport;
  /** Where an adapter says which reader it chose and why. */
  log?: Logger;
  /** vSphere: the VDDK library and how it connects. */
  vddk?: { libraryDir: string; configFile?: string; transports?: readonly string[]; snapshotMoref?: string };
}

/** What every source adapter offers the core. */
export interface SourceProvider {
  readonly type: SourceType;
  readonly name: string;
  /** Every VM and template, fully described; `signal` stops waiting for the source. */
  listVms(options?: { signal?: AbortSignal }): Promise<SourceVm[]>;
  /** A reader of one of the VM's disks, for the copy engine. */
  openDisk(vm: SourceVm, disk: Disk, options: DiskOpenOptions): Promise<DiskSource>;
  /** What the source could not tell (read after listVms): the run goes on, and the user is told. */
  readonly warnings?: readonly string[];
  /** Request counters for benchmarks and tests. */
  stats(): { roundTrips: number };
  close(): Promise<void>;
}

export class SelectionError extends V2vError {}

function clusterOf(vm: SourceVm): string | undefined {
  return vm.source.cluster?.name;
}

function describeVm(vm: SourceVm): string {
  const cluster = clusterOf(vm);
  return `${vm.name}${cluster ? `@${cluster}` : ''} (id ${vm.id})`;
}

/**
 * Resolves a REF (SPEC §4.1): an id (moref, oVirt id), a vSphere instance or
 * BIOS UUID, a name, or `name@cluster`. Ids win over names; a name that
 * matches more than one VM is an error, never a guess.
 */
export function selectVm(vms: SourceVm[], ref: string): SourceVm {
  const byId = vms.filter((vm) => vm.id === ref || (vm.source.type === 'vsphere' && (vm.source.instanceUuid === ref || vm.source.uuid === ref)));
  if (byId.length === 1) return byId[0]!;
  let matches = vms.filter((vm) => vm.name === ref);
  const at = ref.lastIndexOf('@');
  if (matches.length === 0 && at > 0) {
    const name = ref.slice(0, at);
    const cluster = ref.slice(at + 1);
    matches = vms.filter((vm) => vm.name === name && clusterOf(vm) === cluster);
  }
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new SelectionError('VM_AMBIGUOUS', `"${ref}" names ${matches.length} VMs: ${matches.map(describeVm).join(', ')}`, {
      hint: 'name the VM by id, or as name@cluster',
      details: { candidates: matches.map((vm) => ({ id: vm.id, name: vm.name, cluster: clusterOf(vm) })) },
    });
  }
  throw new SelectionError('VM_NOT_FOUND', `no VM or template "${ref}" on this source`, {
    hint: 'run `v2v inventory` to see the names and ids on this source',
  });
}
