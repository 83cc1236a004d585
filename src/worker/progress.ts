// vm-import-operator's vocabulary, so dashboards built for it read v2v unchanged
// (reference: kubevirt/vm-import-operator virtualmachineimport_controller.go).

export type ConditionType = 'Valid' | 'MappingRulesVerified' | 'Processing' | 'Succeeded';

export type ProcessingReason = 'Pending' | 'CreatingTargetVM' | 'CopyingDisks' | 'ConvertingGuest' | 'ProcessingCompleted' | 'ProcessingFailed';
export type SucceededReason = 'ValidationFailed' | 'DataVolumeCreationFailed' | 'GuestConversionFailed' | 'VMNotFound' | 'VMCreationFailed' | 'VirtualMachineReady';

export interface Condition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

/** The phases of one conversion, in order. */
export type Phase = 'Pending' | 'Validating' | 'CreatingTargetVM' | 'CopyingDisks' | 'ConvertingGuest' | 'RenamingNics' | 'WritingManifests' | 'Succeeded' | 'Failed' | 'Interrupted';

export const PHASES: Phase[] = ['Pending', 'Validating', 'CreatingTargetVM', 'CopyingDisks', 'ConvertingGuest', 'RenamingNics', 'WritingManifests', 'Succeeded', 'Failed', 'Interrupted'];

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
    phase === 'CopyingDisks' ? 'CopyingDisks'
    : phase === 'ConvertingGuest' || phase === 'RenamingNics' ? 'ConvertingGuest'
    : phase === 'CreatingTargetVM' || phase === 'WritingManifests' ? 'CreatingTargetVM'
    : phase === 'Succeeded' ? 'ProcessingCompleted'
    : phase === 'Failed' ? 'ProcessingFailed'
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
