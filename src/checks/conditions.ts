import type { Finding, VmCheckResult } from './evaluate.js';

// The check result as vm-import-operator's `Valid` and `MappingRulesVerified`
// conditions (reference §2.2, §B.4): mapping completeness goes to Valid, the VM
// rules to MappingRulesVerified. Critical blocks (status False), Warning is
// reported with status True, Information is log-only (not in the message).

export interface Condition {
  type: 'Valid' | 'MappingRulesVerified';
  status: 'True' | 'False';
  reason: string;
  message: string;
}

function isMappingConcern(c: Finding): boolean {
  return c.id.startsWith('mapping.');
}

function join(concerns: Finding[]): string {
  return concerns.flatMap((c) => c.findings).join(', ');
}

export function importConditions(result: VmCheckResult): Condition[] {
  const mapping = result.concerns.filter(isMappingConcern);
  const rules = result.concerns.filter((c) => !isMappingConcern(c));
  const blockingMapping = mapping.filter((c) => c.category === 'Critical');
  const valid: Condition =
    blockingMapping.length > 0
      ? { type: 'Valid', status: 'False', reason: 'IncompleteMappingRules', message: join(blockingMapping) }
      : { type: 'Valid', status: 'True', reason: 'ValidationCompleted', message: 'Validation completed successfully' };
  const blocking = rules.filter((c) => c.category === 'Critical');
  const warnings = rules.filter((c) => c.category === 'Warning');
  const verified: Condition =
    blocking.length > 0
      ? { type: 'MappingRulesVerified', status: 'False', reason: 'MappingRulesVerificationFailed', message: join([...blocking, ...warnings]) }
      : warnings.length > 0
        ? { type: 'MappingRulesVerified', status: 'True', reason: 'MappingRulesVerificationReportedWarnings', message: join(warnings) }
        : { type: 'MappingRulesVerified', status: 'True', reason: 'MappingRulesVerificationCompleted', message: 'All mapping rules checks passed' };
  return [valid, verified];
}
