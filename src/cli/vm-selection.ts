import { selectSource, type SourceConfig } from '../config/sources.js';
import { UsageError } from '../errors.js';
import type { OsMap } from '../mapping/os-map.js';
import type { Mappings } from '../mapping/resource-mapping.js';
import type { SourceVm } from '../model.js';
import { importJob } from '../objects/import-job.js';
import { loadSeedObjects } from '../objects/seed-objects.js';
import { readMappingFile, readOsMapFile } from '../pipeline/job.js';
import type { SourcePool } from '../pipeline/source-pool.js';
import { selectVm } from '../source.js';

// The I/O edge shared by `check` and `plan`: turn the command line (either
// --sources/--source/--vm|--all, or -f with the seed's objects) into the VMs
// to look at, each with its mapping and OS map. Everything after this is pure.

export interface SelectionArgs {
  sources?: string;
  source?: string;
  vm?: string[];
  all?: boolean;
  mapping?: string;
  osMap?: string;
  filename?: string[];
}

export interface SelectedVm {
  vm: SourceVm;
  source: SourceConfig;
  mappings?: Mappings;
  osMap: OsMap;
  importName?: string;
  namespace?: string;
  targetVmName?: string;
  startVm?: boolean;
}

export interface Selection {
  items: SelectedVm[];
  mappingEvaluated: boolean;
}

/** Checks the argument combination before anything is read. */
export function validateSelectionArgs(a: SelectionArgs): void {
  if (a.filename?.length) {
    const extra = (['sources', 'source', 'vm', 'all', 'mapping'] as const).filter((k) => a[k] !== undefined && a[k] !== false);
    if (extra.length)
      throw new UsageError('USAGE', `-f takes the VirtualMachineImport, ResourceMapping, Secret and ConfigMap objects; it does not combine with --${extra.join(', --')}`, {
        hint: 'use either -f OBJECTS.yaml… or --sources FILE --source NAME (--vm REF… | --all)',
      });
    return;
  }
  if (!a.sources || !a.source)
    throw new UsageError('USAGE', 'name the source: --sources FILE --source NAME (or give the seed objects with -f)', {
      hint: 'v2v check --sources sources.yaml --source vc1 --all',
    });
  if (!a.all === !a.vm?.length) throw new UsageError('USAGE', 'select VMs with either --vm REF… or --all', { hint: 'v2v check … --vm web-01 --vm db-02, or … --all' });
}

export async function gatherSelection(a: SelectionArgs, sources: SourcePool): Promise<Selection> {
  validateSelectionArgs(a);
  if (a.filename?.length) return gatherFromObjects(a.filename, sources);

  const config = await selectSource(a.sources!, a.source!);
  const mappings = a.mapping ? await readMappingFile(a.mapping, config.type) : undefined;
  const osMap = await readOsMapFile(a.osMap);
  const vms = await sources.inventory(config);
  const picked = a.all ? vms : a.vm!.map((ref) => selectVm(vms, ref));
  return { items: picked.map((vm) => ({ vm, source: config, ...(mappings ? { mappings } : {}), osMap })), mappingEvaluated: mappings !== undefined };
}

async function gatherFromObjects(files: string[], sources: SourcePool): Promise<Selection> {
  const objects = await loadSeedObjects(files);
  if (objects.imports.length === 0) {
    throw new UsageError('USAGE', `no VirtualMachineImport in ${files.join(', ')}`, { hint: 'pass the VirtualMachineImport YAML (and its Secret / ResourceMapping) with -f' });
  }
  const items: SelectedVm[] = [];
  // The pool gives one connection and one inventory per provider Secret, however many imports use it.
  for (const job of objects.imports.map((vmi) => importJob(objects, vmi))) {
    items.push({
      vm: selectVm(await sources.inventory(job.source), job.vmRef),
      source: job.source,
      ...(job.mappings ? { mappings: job.mappings } : {}),
      osMap: job.osMap,
      importName: job.importName,
      namespace: job.namespace,
      ...(job.targetVmName ? { targetVmName: job.targetVmName } : {}),
      startVm: job.startVm,
    });
  }
  return { items, mappingEvaluated: items.every((i) => i.mappings !== undefined) };
}
