import { openSource } from '../../adapters/index.js';
import { selectSource, type SourceConfig } from '../config/sources.js';
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { DEFAULT_OS_MAP, overrideOsMap, type OsMap } from '../mapping/os-map.js';
import type { Mappings } from '../mapping/resource-mapping.js';
import type { SourceVm } from '../model.js';
import { importJob, mappingsFromObjects } from '../objects/import-job.js';
import { loadSeedObjects, osMapFromConfigMap } from '../objects/seed-objects.js';
import { selectVm, type SourceProvider } from '../source.js';

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
    if (extra.length) throw new UsageError('USAGE', `-f takes the VirtualMachineImport, ResourceMapping, Secret and ConfigMap objects; it does not combine with --${extra.join(', --')}`, { hint: 'use either -f OBJECTS.yaml… or --sources FILE --source NAME (--vm REF… | --all)' });
    return;
  }
  if (!a.sources || !a.source) throw new UsageError('USAGE', 'name the source: --sources FILE --source NAME (or give the seed objects with -f)', { hint: 'v2v check --sources sources.yaml --source vc1 --all' });
  if (!a.all === !a.vm?.length) throw new UsageError('USAGE', 'select VMs with either --vm REF… or --all', { hint: 'v2v check … --vm web-01 --vm db-02, or … --all' });
}

async function listVms(source: SourceProvider, log: Logger): Promise<SourceVm[]> {
  const started = performance.now();
  const vms = await source.listVms();
  log.info({ source: source.name, vms: vms.length, roundTrips: source.stats().roundTrips, ms: Math.round(performance.now() - started) }, 'inventory read');
  return vms;
}

export async function gatherSelection(a: SelectionArgs, log: Logger): Promise<Selection> {
  validateSelectionArgs(a);
  if (a.filename?.length) return gatherFromObjects(a.filename, log);

  const config = await selectSource(a.sources!, a.source!);
  let mappings: Mappings | undefined;
  if (a.mapping) mappings = mappingsFromObjects(await loadSeedObjects([a.mapping]), config.type, a.mapping);
  let osMap = DEFAULT_OS_MAP;
  if (a.osMap) for (const cm of (await loadSeedObjects([a.osMap])).configMaps) osMap = overrideOsMap(osMap, osMapFromConfigMap(cm));

  const source = await openSource(config);
  try {
    const vms = await listVms(source, log);
    const picked = a.all ? vms : a.vm!.map((ref) => selectVm(vms, ref));
    return { items: picked.map((vm) => ({ vm, source: config, ...(mappings ? { mappings } : {}), osMap })), mappingEvaluated: mappings !== undefined };
  } finally {
    await source.close();
  }
}

async function gatherFromObjects(files: string[], log: Logger): Promise<Selection> {
  const objects = await loadSeedObjects(files);
  if (objects.imports.length === 0) {
    throw new UsageError('USAGE', `no VirtualMachineImport in ${files.join(', ')}`, { hint: 'pass the VirtualMachineImport YAML (and its Secret / ResourceMapping) with -f' });
  }
  const jobs = objects.imports.map((vmi) => importJob(objects, vmi));
  const items: SelectedVm[] = [];
  // One connection and one inventory per provider Secret, however many imports use it.
  const bySecret = new Map<string, typeof jobs>();
  for (const job of jobs) bySecret.set(`${job.source.type}:${job.source.name}:${job.source.url}`, [...(bySecret.get(`${job.source.type}:${job.source.name}:${job.source.url}`) ?? []), job]);
  for (const group of bySecret.values()) {
    const source = await openSource(group[0]!.source);
    try {
      const vms = await listVms(source, log);
      for (const job of group) {
        items.push({
          vm: selectVm(vms, job.vmRef),
          source: job.source,
          ...(job.mappings ? { mappings: job.mappings } : {}),
          osMap: job.osMap,
          importName: job.importName,
          namespace: job.namespace,
          ...(job.targetVmName ? { targetVmName: job.targetVmName } : {}),
          startVm: job.startVm,
        });
      }
    } finally {
      await source.close();
    }
  }
  return { items, mappingEvaluated: items.every((i) => i.mappings !== undefined) };
}
