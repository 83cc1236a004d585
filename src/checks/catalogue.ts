import type { Rule } from './types.js';
import { mappingRules } from './rules/mapping.js';
import { ovirtRules } from './rules/ovirt.js';
import { vsphereRules } from './rules/vsphere.js';

/** Every rule v2v checks, in report order. */
export const RULES: readonly Rule[] = [...vsphereRules, ...ovirtRules, ...mappingRules];

export function ruleById(id: string): Rule {
  const rule = RULES.find((r) => r.id === id);
  if (!rule) throw new Error(`no rule ${id}`);
  return rule;
}
