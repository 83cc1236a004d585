import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { evaluateSelection } from '../../src/cli/commands/check.js';
import { parseOverheads } from '../../src/cli/commands/plan.js';
import { validateSelectionArgs } from '../../src/cli/vm-selection.js';
import { renderReport } from '../../src/checks/report.js';
import type { SourceConfig } from '../../src/config/sources.js';
import { UsageError } from '../../src/errors.js';
import { DEFAULT_OS_MAP } from '../../src/mapping/os-map.js';
import { normalizeMappings } from '../../src/mapping/resource-mapping.js';
import { REPO } from '../helpers/peers.js';
import { VmBuilder } from '../helpers/vm-builder.js';

const validateReport = new Ajv({ allErrors: true }).compile(JSON.parse(readFileSync(`${REPO}schemas/check-report.schema.json`, 'utf8')) as object);
const source: SourceConfig = { name: 'rhv', type: 'ovirt', url: 'https://engine.example.com/ovirt-engine/api', username: 'admin@internal', baseDir: '/' };

describe('the check report (pure part of v2v check)', () => {
  const mappings = normalizeMappings({
    networkMappings: [{ source: { name: 'ovirtmgmt/ovirtmgmt' }, target: { name: 'pod' }, type: 'pod' }],
    storageMappings: [{ source: { name: 'data' }, target: { name: 'nfs' } }],
  });
  const report = evaluateSelection({
    items: [
      { vm: VmBuilder.ovirt('clean').build(), source, mappings, osMap: DEFAULT_OS_MAP },
      { vm: VmBuilder.ovirt('usb').ovirt({ usbEnabled: true, ioThreads: 2 }).build(), source, mappings, osMap: DEFAULT_OS_MAP, importName: 'vm-import' },
    ],
    mappingEvaluated: true,
  });

  it('follows its JSON Schema', () => {
    expect(validateReport(report), JSON.stringify(validateReport.errors)).toBe(true);
    expect(report.summary).toEqual({ vms: 2, valid: 1, invalid: 1, Critical: 1, Warning: 1, Information: 0 });
  });

  it('renders concerns grouped by VM and severity, with hints', () => {
    expect(renderReport(report)).toBe(
      [
        'clean (80554327-0569-496b-bdeb-fcbbf52b827b, off) — VALID',
        '  no concerns',
        'usb (80554327-0569-496b-bdeb-fcbbf52b827b, off) — NOT VALID [VirtualMachineImport vm-import]',
        '  Critical:',
        '    ovirt.usb.enabled: USB enabled',
        '      VM has USB enabled',
        '      hint: disable USB support on the VM in RHV',
        '  Warning:',
        '    ovirt.iothreads.configured: IO threads configured',
        '      VM specifies IO Threads: 2',
        '      hint: configure dedicated IO threads on the KubeVirt VM if needed',
        '',
        '2 VMs checked: 1 valid, 1 not valid (1 critical, 1 warning, 0 information concerns)',
        '',
      ].join('\n'),
    );
  });
});

describe('command-line checks before any I/O', () => {
  it.each([
    [{ sources: 's.yaml', source: 'vc' }, /either --vm REF… or --all/],
    [{ sources: 's.yaml', source: 'vc', all: true, vm: ['a'] }, /either --vm REF… or --all/],
    [{ source: 'vc', all: true }, /--sources FILE --source NAME/],
    [{ filename: ['o.yaml'], all: true }, /does not combine with --all/],
  ])('%j is a usage error', (args, message) => {
    expect(() => validateSelectionArgs(args)).toThrow(UsageError);
    expect(() => validateSelectionArgs(args)).toThrow(message);
  });

  it('accepts both forms', () => {
    expect(() => validateSelectionArgs({ sources: 's', source: 'vc', vm: ['a', 'b'] })).not.toThrow();
    expect(() => validateSelectionArgs({ filename: ['o.yaml'] })).not.toThrow();
  });

  it('parses filesystem overheads', () => {
    expect(parseOverheads(['0.1', 'ceph=0', 'nfs=.07'])).toEqual({ default: 0.1, byStorageClass: { ceph: 0, nfs: 0.07 } });
    expect(() => parseOverheads(['1.5'])).toThrow(UsageError);
    expect(() => parseOverheads(['ceph=abc'])).toThrow(/expected a fraction/);
  });
});

describe('--target-storage-class', () => {
  it('gives the known classes and their free space to the rules', async () => {
    const { parseTargetStorageClasses, parseSize } = await import('../../src/cli/target-facts.js');
    expect(parseTargetStorageClasses(['standard=500Gi', 'nfs'])).toEqual({ storageClasses: ['standard', 'nfs'], freeBytes: { standard: 500 * 1024 ** 3 } });
    expect(parseTargetStorageClasses(undefined)).toBeUndefined();
    expect(parseSize('1.5Ti')).toBe(1.5 * 1024 ** 4);
    expect(parseSize('10G')).toBe(1e10);
    expect(() => parseTargetStorageClasses(['standard=lots'])).toThrow(UsageError);
    const mappings = normalizeMappings({
      networkMappings: [{ source: { name: 'ovirtmgmt/ovirtmgmt' }, target: { name: 'pod' }, type: 'pod' }],
      storageMappings: [{ source: { name: 'data' }, target: { name: 'nfs' } }],
    });
    const selection = { items: [{ vm: VmBuilder.ovirt().build(), source, mappings, osMap: DEFAULT_OS_MAP }], mappingEvaluated: true };
    const ids = (specs: string[]) => evaluateSelection(selection, parseTargetStorageClasses(specs)).vms[0]!.concerns.map((c) => c.id);
    expect(ids(['standard'])).toEqual(['mapping.storage.class.missing']);
    expect(ids(['nfs=5Gi'])).toEqual(['target.capacity.insufficient']);
    expect(ids(['nfs=50Gi'])).toEqual([]);
  });
});
