import type { Category, Concern, PowerState } from '../model.js';
import { importConditions, type ValidationCondition as Condition } from '../vmio.js';
import type { VmCheckResult } from './evaluate.js';

// The check report of SPEC §4.4 (`v2v check -o json`); its JSON Schema is
// schemas/check-report.schema.json and a test holds the two together.

export const REPORT_API_VERSION = 'v2v.kubevirt.io/v1alpha1';

export interface VmReport {
  id: string;
  name: string;
  powerState: PowerState;
  valid: boolean;
  /** The source (sources-file entry, or provider Secret) the VM was read from. */
  source: string;
  /** The VirtualMachineImport that named the VM (`check -f`). */
  importName?: string;
  concerns: Concern[];
  /** vm-import-operator's Valid and MappingRulesVerified conditions for this result. */
  conditions: Condition[];
}

export interface CheckReport {
  apiVersion: typeof REPORT_API_VERSION;
  kind: 'CheckReport';
  /** False when no mapping was given: mapping rules were not evaluated. */
  mappingEvaluated: boolean;
  notes: string[];
  summary: { vms: number; valid: number; invalid: number } & Record<Category, number>;
  vms: VmReport[];
}

export interface CheckedVm {
  result: VmCheckResult;
  source: string;
  importName?: string;
}

export function buildReport(checked: CheckedVm[], mappingEvaluated: boolean): CheckReport {
  const vms = checked.map(({ result, source, importName }): VmReport => ({
    id: result.id,
    name: result.name,
    powerState: result.powerState,
    valid: result.valid,
    source,
    ...(importName ? { importName } : {}),
    concerns: result.concerns.map(({ id, category, label, assessment, hint }) => ({ id, category, label, assessment, hint })),
    conditions: importConditions(result),
  }));
  const count = (c: Category) => vms.reduce((n, vm) => n + vm.concerns.filter((x) => x.category === c).length, 0);
  const valid = vms.filter((v) => v.valid).length;
  return {
    apiVersion: REPORT_API_VERSION,
    kind: 'CheckReport',
    mappingEvaluated,
    notes: mappingEvaluated ? [] : ['no mapping given (--mapping FILE): network and storage mapping rules were not evaluated'],
    summary: { vms: vms.length, valid, invalid: vms.length - valid, Critical: count('Critical'), Warning: count('Warning'), Information: count('Information') },
    vms,
  };
}

/** Human output: one block per VM, concerns grouped by severity, each with its hint. */
export function renderReport(report: CheckReport): string {
  const lines: string[] = [];
  for (const vm of report.vms) {
    lines.push(`${vm.name} (${vm.id}, ${vm.powerState}) — ${vm.valid ? 'VALID' : 'NOT VALID'}${vm.importName ? ` [VirtualMachineImport ${vm.importName}]` : ''}`);
    for (const category of ['Critical', 'Warning', 'Information'] as const) {
      const concerns = vm.concerns.filter((c) => c.category === category);
      if (concerns.length === 0) continue;
      lines.push(`  ${category}:`);
      for (const c of concerns) {
        lines.push(`    ${c.id}: ${c.label}`);
        lines.push(`      ${c.assessment}`);
        lines.push(`      hint: ${c.hint}`);
      }
    }
    if (vm.concerns.length === 0) lines.push('  no concerns');
  }
  const s = report.summary;
  lines.push('');
  lines.push(
    `${s.vms} VM${s.vms === 1 ? '' : 's'} checked: ${s.valid} valid, ${s.invalid} not valid (${s.Critical} critical, ${s.Warning} warning, ${s.Information} information concerns)`,
  );
  for (const note of report.notes) lines.push(`note: ${note}`);
  return `${lines.join('\n')}\n`;
}
