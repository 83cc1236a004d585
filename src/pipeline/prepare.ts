import { checkVm, type VmCheckResult } from '../checks/evaluate.js';
import { resolveOs } from '../mapping/os-map.js';
import { planVm, type VmPlan } from '../mapping/resolve.js';
import type { SourceVm } from '../model.js';
import { selectVm } from '../source.js';
import type { ConversionJob } from './job.js';
import type { SourcePool } from './source-pool.js';

export interface PreparedVm {
  vm: SourceVm;
  plan: VmPlan;
  check: VmCheckResult;
  osinfo?: string;
}

/** The VM a job is about, its mapping plan and its dry-run check: the gate before any byte moves. */
export async function prepareVm(job: Pick<ConversionJob, 'source' | 'vm' | 'mappings' | 'osMap'>, sources: SourcePool): Promise<PreparedVm> {
  const vm = selectVm(await sources.inventory(job.source), job.vm);
  const plan = planVm(vm, job.mappings);
  const osinfo = resolveOs(vm, job.osMap)?.osinfo;
  return { vm, plan, check: checkVm(vm, job.mappings ? plan : undefined), ...(osinfo ? { osinfo } : {}) };
}
