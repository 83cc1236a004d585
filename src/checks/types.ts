import type { Category, SourceType, SourceVm } from '../model.js';
import type { VmPlan } from '../mapping/resolve.js';

/** Facts about the target that some rules need; every field optional (no cluster is required). */
export interface TargetFacts {
  /** Storage classes that exist; when given, a mapping to any other class is a concern. */
  storageClasses?: string[];
  /** Bytes free per storage class. */
  freeBytes?: Record<string, number>;
  /** Existing targets by disk key (a PVC or a file given with --target), in bytes. */
  targetBytes?: Record<string, number>;
}

export interface CheckInput {
  vm: SourceVm;
  /** Present only when a mapping was given: mapping rules are skipped without it. */
  plan?: VmPlan;
  target?: TargetFacts;
}

/**
 * One rule of the catalogue. `test` is pure and returns the specific findings
 * (one message per offending disk, NIC, …) or an empty list when the VM passes.
 */
export interface Rule {
  id: string;
  category: Category;
  /** Which VMs the rule applies to; `any` for mapping and target rules. */
  appliesTo: SourceType | 'any';
  /** Mapping rules run only when a mapping is given. */
  needsMapping?: boolean;
  label: string;
  /** What the finding means for the import, in general terms. */
  assessment: string;
  hint: string;
  test(input: CheckInput): string[];
  /**
   * What the rule could not decide because the source did not report a fact it needs, one message each
   * naming the missing field. Such a VM does not pass silently: it gets a Warning under the rule's id.
   */
  undecided?(input: CheckInput): string[];
}

export function when(condition: boolean, message: string): string[] {
  return condition ? [message] : [];
}
