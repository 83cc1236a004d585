import { checkVm, type VmCheckResult } from '../checks/evaluate.js';
import { DEFAULT_OS_MAP, resolveOs, type OsMap } from '../mapping/os-map.js';
import { planVm, type VmPlan } from '../mapping/resolve.js';
import type { Mappings } from '../mapping/resource-mapping.js';
import type { SourceVm } from '../model.js';
import { selectVm, type SourceProvider } from '../source.js';

export interface PreparedVm {
  vm: SourceVm;
  plan: VmPlan;
  check: VmCheckResult;
  osinfo?: string;
}

/** The VM a conversion is about, its mapping plan and its dry-run check: the gate before any byte moves. */
export async function prepareVm(provider: SourceProvider, ref: string, mappings: Mappings | undefined, osMap: OsMap = DEFAULT_OS_MAP): Promise<PreparedVm> {
  const vm = selectVm(await provider.listVms(), ref);
  const plan = planVm(vm, mappings);
  const osinfo = resolveOs(vm, osMap)?.osinfo;
  return { vm, plan, check: checkVm(vm, mappings ? plan : undefined), ...(osinfo ? { osinfo } : {}) };
}
