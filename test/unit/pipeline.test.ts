import { describe, expect, it } from 'vitest';
import { nicWarnings } from '../../src/pipeline/convert-vm.js';
import { failureConditions, vmioProgress, type PipelinePhase } from '../../src/vmio.js';

describe('what the NIC step left alone reaches the user', () => {
  it('names each skipped name with its file and reason, and a step not applied', () => {
    const report = {
      naming: 'eth' as const,
      unchanged: false,
      changed: [],
      assignments: [],
      skipped: [{ name: 'ens192', path: '/etc/network/interfaces', reason: "no MAC or PCI slot ties this name to one of the VM's NICs" }],
      addressWarnings: [],
    };
    expect(nicWarnings(report)).toEqual([`NIC name "ens192" in /etc/network/interfaces left unchanged: no MAC or PCI slot ties this name to one of the VM's NICs`]);
    expect(nicWarnings({ ...report, skipped: [], notApplied: 'no Linux root found' })).toEqual(['NIC renaming not applied: no Linux root found']);
    expect(nicWarnings({ ...report, skipped: [] })).toEqual([]);
    expect(nicWarnings({ ...report, skipped: [], addressWarnings: ['NIC 00:50:56:b1:00:01 (eth0): the source reports 10.0.0.9 …'] })).toEqual([
      'NIC 00:50:56:b1:00:01 (eth0): the source reports 10.0.0.9 …',
    ]);
  });
});

describe("the pipeline's neutral phases in vm-import-operator's words", () => {
  it.each<[PipelinePhase, number, string, number]>([
    ['validating', 0, 'Validating', 0],
    ['copying', 0, 'CopyingDisks', 10],
    ['copying', 0.5, 'CopyingDisks', 42],
    ['copying', 1, 'CopyingDisks', 75],
    ['converting', 0, 'ConvertingGuest', 70],
    ['writing-manifests', 0, 'WritingManifests', 90],
    ['done', 1, 'Succeeded', 100],
  ])('%s at %d → %s %d', (phase, fraction, named, progress) => {
    expect(vmioProgress(phase, fraction)).toEqual({ phase: named, progress });
  });
});

describe("a failure in vm-import-operator's conditions", () => {
  it.each<[string, string | undefined, string]>([
    ['SECRET_UNREADABLE', 'SecretNotFound', 'ValidationFailed'],
    ['MAPPING_NOT_FOUND', 'ResourceMappingNotFound', 'ValidationFailed'],
    ['SOURCE_TLS_UNTRUSTED', 'UnreachableProvider', 'ValidationFailed'],
    ['VM_NOT_FOUND', 'SourceVMNotFound', 'ValidationFailed'],
    ['TARGET_NAME_INVALID', 'InvalidTargetVMName', 'ValidationFailed'],
    ['CONVERSION_FAILED', undefined, 'GuestConversionFailed'],
    ['BOOT_CHECK_FAILED', undefined, 'GuestConversionFailed'],
    ['COPY_STALLED', undefined, 'DataVolumeCreationFailed'],
    ['TARGET_WRITE_FAILED', undefined, 'DataVolumeCreationFailed'],
  ])('%s → Valid %s, Succeeded %s', (code, valid, succeeded) => {
    const conditions = failureConditions(code, 'what happened', new Date(0));
    expect(conditions.find((c) => c.type === 'Valid')?.reason).toBe(valid);
    expect(conditions.find((c) => c.type === 'Succeeded')).toMatchObject({ status: 'False', reason: succeeded, message: 'what happened' });
  });
});
