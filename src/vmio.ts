// vm-import-operator's vocabulary, in one place, so dashboards and controllers
// built for it read the pod, the batch report and the check report unchanged
// (reference: kubevirt/vm-import-operator virtualmachineimport_controller.go).
// The pipeline speaks in neutral (phase, fraction) events; this module names them.
import type { Finding, VmCheckResult } from './checks/evaluate.js';

export type ConditionType = 'Valid' | 'MappingRulesVerified' | 'Processing' | 'Succeeded';

export type ProcessingReason = 'Pending' | 'CreatingTargetVM' | 'CopyingDisks' | 'ConvertingGuest' | 'ProcessingCompleted' | 'ProcessingFailed';
export type SucceededReason = 'ValidationFailed' | 'DataVolumeCreationFailed' | 'GuestConversionFailed' | 'VMNotFound' | 'VMCreationFailed' | 'VirtualMachineReady';
export type ValidReason =
  | 'ValidationCompleted'
  | 'ValidationReportedWarnings'
  | 'SecretNotFound'
  | 'ResourceMappingNotFound'
  | 'UnreachableProvider'
  | 'SourceVMNotFound'
  | 'InvalidTargetVMName'
  | 'IncompleteMappingRules';

export interface Condition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

/** The phases of one conversion, in order. */
export type Phase =
  'Pending' | 'Validating' | 'CreatingTargetVM' | 'CopyingDisks' | 'ConvertingGuest' | 'RenamingNics' | 'WritingManifests' | 'Succeeded' | 'Failed' | 'Interrupted';

export const PHASES: Phase[] = [
  'Pending',
  'Validating',
  'CreatingTargetVM',
  'CopyingDisks',
  'ConvertingGuest',
  'RenamingNics',
  'WritingManifests',
  'Succeeded',
  'Failed',
  'Interrupted',
];

/**
 * The `vmimport.v2v.kubevirt.io/progress` value: 0 start, 5 creating the VM,
 * 10 + 65 % of the disk copy, 70 converting, 90 finishing, 100 done.
 */
export function importProgress(phase: Phase, diskFraction = 0): number {
  switch (phase) {
    case 'Pending':
    case 'Validating':
      return 0;
    case 'CreatingTargetVM':
      return 5;
    case 'CopyingDisks':
      return Math.min(75, Math.floor(10 + Math.max(0, Math.min(1, diskFraction)) * 65));
    case 'ConvertingGuest':
    case 'RenamingNics':
      return 70;
    case 'WritingManifests':
      return 90;
    case 'Succeeded':
      return 100;
    case 'Failed':
    case 'Interrupted':
      return 0;
  }
}

export function processingCondition(phase: Phase, message: string, now = new Date()): Condition {
  const at = now.toISOString();
  const reason: ProcessingReason =
    phase === 'CopyingDisks'
      ? 'CopyingDisks'
      : phase === 'ConvertingGuest' || phase === 'RenamingNics'
        ? 'ConvertingGuest'
        : phase === 'CreatingTargetVM' || phase === 'WritingManifests'
          ? 'CreatingTargetVM'
          : phase === 'Succeeded'
            ? 'ProcessingCompleted'
            : phase === 'Failed'
              ? 'ProcessingFailed'
              : 'Pending';
  const status = phase === 'Succeeded' || phase === 'Failed' ? 'False' : 'True';
  return { type: 'Processing', status, reason, message, lastTransitionTime: at };
}

export function succeededCondition(outcome: { ok: true } | { ok: false; reason: SucceededReason }, message: string, now = new Date()): Condition {
  return {
    type: 'Succeeded',
    status: outcome.ok ? 'True' : 'False',
    reason: outcome.ok ? 'VirtualMachineReady' : outcome.reason,
    message,
    lastTransitionTime: now.toISOString(),
  };
}

/** Errors that make the import invalid before anything is copied, as VMIO's `Valid` reasons. */
const INVALID_BECAUSE: Record<string, ValidReason> = {
  SECRET_UNREADABLE: 'SecretNotFound',
  SECRET_NOT_FOUND: 'SecretNotFound',
  MAPPING_NOT_FOUND: 'ResourceMappingNotFound',
  RESOURCE_MAPPING_NOT_FOUND: 'ResourceMappingNotFound',
  SOURCE_UNREACHABLE: 'UnreachableProvider',
  SOURCE_TLS_UNTRUSTED: 'UnreachableProvider',
  SOURCE_AUTH_FAILED: 'UnreachableProvider',
  SOURCE_NO_CREDENTIALS: 'UnreachableProvider',
  VM_NOT_FOUND: 'SourceVMNotFound',
  VM_AMBIGUOUS: 'SourceVMNotFound',
  TARGET_NAME_INVALID: 'InvalidTargetVMName',
};

/** The step a failure belongs to, by the error code's prefix, as VMIO's `Succeeded` reason. */
function failedStep(code: string): SucceededReason {
  if (code.startsWith('CONVERSION_') || code.startsWith('NIC_') || code === 'BOOT_CHECK_FAILED') return 'GuestConversionFailed';
  if (code.startsWith('MANIFEST_')) return 'VMCreationFailed';
  if (code.startsWith('CONFIG_') || code === 'VM_BLOCKED') return 'ValidationFailed';
  return 'DataVolumeCreationFailed';
}

/**
 * A failed import as VMIO writes it: an invalid import (a missing secret or
 * mapping, an unreachable provider, an unknown VM, a bad target name) is
 * `Valid` False with its reason and `Succeeded` False `ValidationFailed`; a
 * failure later is `Succeeded` False with the step that failed.
 */
export function failureConditions(code: string, message: string, now = new Date()): Condition[] {
  const at = now.toISOString();
  const invalid = INVALID_BECAUSE[code];
  if (invalid) {
    return [
      { type: 'Valid', status: 'False', reason: invalid, message, lastTransitionTime: at },
      { type: 'Succeeded', status: 'False', reason: 'ValidationFailed', message, lastTransitionTime: at },
    ];
  }
  return [{ type: 'Succeeded', status: 'False', reason: failedStep(code), message, lastTransitionTime: at }];
}

/** What the pipeline says it is doing, in its own words; `vmioPhase` names it for VMIO readers. */
export type PipelinePhase = 'validating' | 'copying' | 'converting' | 'verifying-boot' | 'writing-manifests' | 'done';

export function vmioPhase(phase: PipelinePhase): Phase {
  switch (phase) {
    case 'validating':
      return 'Validating';
    case 'copying':
      return 'CopyingDisks';
    case 'converting':
    case 'verifying-boot':
      return 'ConvertingGuest';
    case 'writing-manifests':
      return 'WritingManifests';
    case 'done':
      return 'Succeeded';
  }
}

/** A pipeline event as VMIO's phase and `progress` annotation value. */
export function vmioProgress(phase: PipelinePhase, fraction: number): { phase: Phase; progress: number } {
  const named = vmioPhase(phase);
  return { phase: named, progress: importProgress(named, fraction) };
}

// The check result as vm-import-operator's `Valid` and `MappingRulesVerified`
// conditions (reference §2.2, §B.4): mapping completeness goes to Valid, the VM
// rules to MappingRulesVerified. Critical blocks (status False), Warning is
// reported with status True, Information is log-only (not in the message).

export interface ValidationCondition {
  type: 'Valid' | 'MappingRulesVerified';
  status: 'True' | 'False';
  reason: ValidReason | 'MappingRulesVerificationFailed' | 'MappingRulesVerificationReportedWarnings' | 'MappingRulesVerificationCompleted';
  message: string;
}

function isMappingConcern(c: Finding): boolean {
  return c.id.startsWith('mapping.');
}

function join(concerns: Finding[]): string {
  return concerns.flatMap((c) => c.findings).join(', ');
}

export function importConditions(result: VmCheckResult): ValidationCondition[] {
  const mapping = result.concerns.filter(isMappingConcern);
  const rules = result.concerns.filter((c) => !isMappingConcern(c));
  const blockingMapping = mapping.filter((c) => c.category === 'Critical');
  const mappingWarnings = mapping.filter((c) => c.category === 'Warning');
  const valid: ValidationCondition =
    blockingMapping.length > 0
      ? { type: 'Valid', status: 'False', reason: 'IncompleteMappingRules', message: join(blockingMapping) }
      : mappingWarnings.length > 0
        ? { type: 'Valid', status: 'True', reason: 'ValidationReportedWarnings', message: join(mappingWarnings) }
        : { type: 'Valid', status: 'True', reason: 'ValidationCompleted', message: 'Validation completed successfully' };
  const blocking = rules.filter((c) => c.category === 'Critical');
  const warnings = rules.filter((c) => c.category === 'Warning');
  const verified: ValidationCondition =
    blocking.length > 0
      ? { type: 'MappingRulesVerified', status: 'False', reason: 'MappingRulesVerificationFailed', message: join([...blocking, ...warnings]) }
      : warnings.length > 0
        ? { type: 'MappingRulesVerified', status: 'True', reason: 'MappingRulesVerificationReportedWarnings', message: join(warnings) }
        : { type: 'MappingRulesVerified', status: 'True', reason: 'MappingRulesVerificationCompleted', message: 'All mapping rules checks passed' };
  return [valid, verified];
}
