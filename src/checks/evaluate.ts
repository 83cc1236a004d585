import type { Category, Concern, PowerState, SourceVm } from '../model.js';
import type { VmPlan } from '../mapping/resolve.js';
import { RULES } from './catalogue.js';
import type { Rule, TargetFacts } from './types.js';

/** A concern with the specific findings kept apart, for conditions that join them. */
export interface Finding extends Concern {
  findings: string[];
}

export interface VmCheckResult {
  id: string;
  name: string;
  powerState: PowerState;
  valid: boolean;
  concerns: Finding[];
}

const ORDER: Record<Category, number> = { Critical: 0, Warning: 1, Information: 2 };

/**
 * Runs the catalogue on one VM. Pure: the same VM, plan and facts give the same
 * result. Mapping rules run only when a plan (from a mapping) is given.
 */
export function checkVm(vm: SourceVm, plan: VmPlan | undefined, target?: TargetFacts, rules: readonly Rule[] = RULES): VmCheckResult {
  const concerns: Finding[] = [];
  for (const rule of rules) {
    if (rule.appliesTo !== 'any' && rule.appliesTo !== vm.source.type) continue;
    if (rule.needsMapping && !plan) continue;
    const input = { vm, ...(plan ? { plan } : {}), ...(target ? { target } : {}) };
    const findings = rule.test(input);
    if (findings.length > 0) concerns.push({ id: rule.id, category: rule.category, label: rule.label, assessment: findings.join('; '), hint: rule.hint, findings });
    const unknown = rule.undecided?.(input) ?? [];
    if (unknown.length > 0) {
      concerns.push({
        id: rule.id,
        category: 'Warning',
        label: `${rule.label}: not decided`,
        assessment: unknown.join('; '),
        hint: `the source did not report what this check needs: check it on the source by hand (${rule.hint})`,
        findings: unknown,
      });
    }
  }
  concerns.sort((a, b) => ORDER[a.category] - ORDER[b.category]);
  return { id: vm.id, name: vm.name, powerState: vm.powerState, valid: !concerns.some((c) => c.category === 'Critical'), concerns };
}
