// Property-based fuzzing of every file v2v reads from a user: the sources
// file, the batch plan, a ResourceMapping, the OS map, the pod's job file and
// a DataVolume. Thousands of generated inputs (mutations of a valid document,
// YAML token soup, arbitrary text); each must load or end in a named error a
// user can act on (exit 2), never INTERNAL, a TypeError or a hang.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBatchPlan } from '../../src/batch/plan.js';
import { loadSources } from '../../src/config/sources.js';
import { loadImportObjects, planFromDataVolume } from '../../src/copy/datavolume.js';
import { isV2vError } from '../../src/errors.js';
import { ExitCode } from '../../src/model.js';
import { loadPodJob } from '../../src/pipeline/job-file.js';
import { readMappingFile, readOsMapFile } from '../../src/pipeline/job.js';

const work = mkdtempSync(join(tmpdir(), 'v2v-fuzz-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
writeFileSync(join(work, 'vc.password'), 'pw\n');

const SOURCES = {
  sources: [
    {
      name: 'vc',
      type: 'vsphere',
      url: 'https://vcenter.example.com/sdk',
      username: 'administrator@vsphere.local',
      passwordFile: 'vc.password',
      thumbprint: 'AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD',
    },
    { name: 'rhv', type: 'ovirt', url: 'https://engine.example.com/ovirt-engine/api', username: 'admin@internal', passwordEnv: 'RHV_PASSWORD', insecureSkipVerify: true },
  ],
};
writeFileSync(join(work, 'sources.yaml'), stringify(SOURCES));

const MAPPING = {
  apiVersion: 'v2v.kubevirt.io/v1alpha1',
  kind: 'ResourceMapping',
  metadata: { name: 'm', namespace: 'default' },
  spec: {
    ovirt: {
      networkMappings: [{ source: { name: 'ovirtmgmt/ovirtmgmt' }, target: { name: 'pod' }, type: 'pod' }],
      storageMappings: [{ source: { name: 'data' }, target: { name: 'ceph-rbd' }, volumeMode: 'Block' }],
    },
  },
};
writeFileSync(join(work, 'mapping.yaml'), stringify(MAPPING));

const PLAN = {
  apiVersion: 'v2v.kubevirt.io/v1alpha1',
  kind: 'BatchPlan',
  sourcesFile: 'sources.yaml',
  defaults: { source: 'vc', mapping: 'mapping.yaml', targetDir: join(work, 'out'), targetNamespace: 'migrated', concurrency: 2, nicNaming: 'eth' },
  vms: [{ vm: 'web-01' }, { vm: 'db-01@prod', targetName: 'db-01', startVm: true }],
};

const OS_MAP = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'os-map', namespace: 'default' },
  data: { guestos2common: 'rhel8_64Guest: rhel8.4\n', osinfo2common: 'rhel_8x64: rhel8.4\n' },
};

const JOB = {
  source: { name: 'vc', type: 'vsphere', url: 'https://vcenter.example.com/sdk', datacenter: 'DC0' },
  vm: 'web-01',
  mapping: join(work, 'mapping.yaml'),
  targetName: 'web-01',
  nicNaming: 'eth',
  verifyBoot: false,
  disks: [{ volumeMode: 'Filesystem', claimName: 'web-01-disk0' }],
};

const DATA_VOLUME = {
  apiVersion: 'cdi.kubevirt.io/v1beta1',
  kind: 'DataVolume',
  metadata: { name: 'dv' },
  spec: {
    source: { http: { url: 'https://images.example.com/disk.qcow2', extraHeaders: ['X-Trace: 1'] } },
    storage: { volumeMode: 'Filesystem', resources: { requests: { storage: '10Gi' } } },
  },
};

/** Hostile scalar values: path tricks, huge and odd numbers, schemes, control characters. */
const oddScalar = fc.oneof(
  fc.constantFrom('', '..', '.', '/', '../../etc/passwd', 'a/b', '\0', 'http://x', 'file:///etc/shadow', '-1', '1e400', '0x10', 'null', '~', '*', '%s%n', 'é'.repeat(300)),
  fc.constantFrom(0, -1, 1e300, -0, 65, 1000, 2 ** 53, 0.5, true, false, null),
  fc.string(),
  fc.jsonValue({ maxDepth: 2 }),
);

/** A document like `seed`: keys dropped or added, values replaced, lists shortened or repeated. */
function mutant(seed: unknown, depth = 0): fc.Arbitrary<unknown> {
  if (depth > 6) return fc.constant(seed);
  if (Array.isArray(seed)) {
    const items = fc.tuple(...seed.map((s) => mutant(s, depth + 1))).chain((xs) => fc.oneof(fc.constant(xs), fc.subarray(xs), fc.constant([...xs, ...xs])));
    return fc.oneof({ weight: 5, arbitrary: items }, { weight: 1, arbitrary: oddScalar });
  }
  if (seed !== null && typeof seed === 'object') {
    const fields = Object.fromEntries(Object.entries(seed).map(([k, v]) => [k, mutant(v, depth + 1)]));
    const record = fc
      .tuple(fc.record(fields, { requiredKeys: [] }), fc.dictionary(fc.string({ maxLength: 8 }), oddScalar, { maxKeys: 2 }))
      .map(([kept, extra]) => ({ ...kept, ...extra }));
    const complete = fc.record(fields);
    return fc.oneof({ weight: 4, arbitrary: complete }, { weight: 2, arbitrary: record }, { weight: 1, arbitrary: oddScalar });
  }
  return fc.oneof({ weight: 6, arbitrary: fc.constant(seed) }, { weight: 1, arbitrary: oddScalar });
}

const YAML_TOKENS = [
  'a:',
  'b: 1',
  ' ',
  '  ',
  '\n',
  '- ',
  '{',
  '}',
  '[',
  ']',
  ',',
  '&x ',
  '*x',
  '!!binary ',
  '!!str ',
  '<<: *x',
  '"',
  "'",
  '#',
  '---\n',
  '...\n',
  ': ',
  '|\n',
  '>-\n',
  '? ',
  '\t',
  'apiVersion: v1',
  'kind: ',
  'sources:',
  'vms:',
  '%YAML 1.2\n',
];
const soup = fc.array(fc.constantFrom(...YAML_TOKENS), { maxLength: 40 }).map((t) => t.join(''));

/** A billion-laughs document: aliases that expand exponentially. */
const laughs = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n${Array.from(
  { length: 8 },
  (_, i) =>
    `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
      .fill(`*${String.fromCharCode(97 + i)}`)
      .join(',')}]`,
).join('\n')}\n`;

function inputs(seed: unknown, multiDoc = false): fc.Arbitrary<string> {
  const docs = multiDoc ? mutant(seed).map((d) => `${stringify(d)}---\n${stringify(seed)}`) : mutant(seed).map((d) => stringify(d));
  return fc.oneof(
    { weight: 6, arbitrary: docs },
    { weight: 2, arbitrary: soup },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.constant(laughs) },
  );
}

const LOADERS: { what: string; seed: unknown; multiDoc?: boolean; load: (file: string) => Promise<unknown> }[] = [
  { what: 'sources file', seed: SOURCES, load: loadSources },
  { what: 'batch plan', seed: PLAN, load: loadBatchPlan },
  { what: 'ResourceMapping', seed: MAPPING, multiDoc: true, load: (f) => readMappingFile(f, 'ovirt') },
  { what: 'OS map ConfigMap', seed: OS_MAP, load: readOsMapFile },
  { what: 'pod job file', seed: JOB, load: loadPodJob },
  { what: 'DataVolume', seed: DATA_VOLUME, multiDoc: true, load: async (f) => planFromDataVolume(await loadImportObjects([f])) },
];

const RUNS = 1000;

describe('every loader ends generated input in a valid result or a named input error', () => {
  for (const { what, seed, multiDoc, load } of LOADERS) {
    it(`${what}: ${RUNS} generated documents`, { timeout: 120_000 }, async () => {
      const file = join(work, `${what.replace(/\W+/g, '-')}.yaml`);
      const outcomes = { loaded: 0, refused: 0 };
      await fc.assert(
        fc.asyncProperty(inputs(seed, multiDoc), async (text) => {
          writeFileSync(file, text);
          try {
            await load(file);
            outcomes.loaded++;
          } catch (error) {
            if (!isV2vError(error) || error.code === 'INTERNAL' || error.exitCode !== ExitCode.usage) throw error;
            outcomes.refused++;
          }
        }),
        { numRuns: RUNS },
      );
      // The generator reaches both sides: valid documents load, broken ones are refused.
      expect(outcomes.loaded).toBeGreaterThan(0);
      expect(outcomes.refused).toBeGreaterThan(0);
    });
  }
});
