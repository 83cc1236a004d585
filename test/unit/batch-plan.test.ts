import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchPlanJsonSchema, loadBatchPlan } from '../../src/batch/plan.js';
import { REPO } from '../helpers/peers.js';

describe('batch plan', () => {
  it('the shipped JSON Schema matches the parser', () => {
    expect(JSON.parse(readFileSync(`${REPO}schemas/batch-plan.schema.json`, 'utf8'))).toEqual(batchPlanJsonSchema());
  });

  it.each([
    ['a targetName that climbs out of targetDir', ['  - vm: web', '    targetName: ".."'], /plan\.yaml:6:\d+: vms\[0\]\.targetName: a single directory name/],
    ['a targetName with a slash', ['  - vm: web', '    targetName: a/b'], /plan\.yaml:6:\d+: vms\[0\]\.targetName: a single directory name/],
    [
      'two VMs with one targetName',
      ['  - vm: web-01', '    targetName: web', '  - vm: web-02', '    targetName: web'],
      /plan\.yaml:8:\d+: vms\[1\]\.targetName: shares its directory "web" .*\(vms\[0\]\.targetName at \S+plan\.yaml:6\)/,
    ],
    [
      'two targetNames of one Kubernetes name',
      ['  - vm: a', '    targetName: Web', '  - vm: b', '    targetName: web'],
      /vms\[1\]\.targetName: names the same Kubernetes VirtualMachine "web"/,
    ],
  ])('refuses %s when the plan is loaded, naming file:line', async (_what, vms, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'v2v-plan-'));
    const file = join(dir, 'plan.yaml');
    writeFileSync(
      file,
      ['sources:', '  - { name: vc, type: vsphere, url: "https://vc.example.com/sdk", username: u, passwordEnv: P }', 'defaults: { targetDir: out }', 'vms:', ...vms, ''].join(
        '\n',
      ),
    );
    await expect(loadBatchPlan(file)).rejects.toMatchObject({ code: 'CONFIG_INVALID', exitCode: 2, message: expect.stringMatching(message) });
  });

  it('resolves the example: sources file, defaults and per-VM overrides', async () => {
    const plan = await loadBatchPlan(`${REPO}examples/batch-plan.yaml`);
    expect(plan.sources.map((s) => s.name)).toEqual(['vc1']);
    expect(plan.concurrency).toBe(2);
    expect(plan.vms.map((v) => [v.key, v.targetDir, v.startVm])).toEqual([
      ['vc1/web-01', '/var/lib/v2v/out/web-01', false],
      ['vc1/web-02', '/var/lib/v2v/out/web-02', false],
      ['vc1/db-01@prod-cluster', '/var/lib/v2v/out/db-01', true],
    ]);
    expect(plan.vms[0]?.mapping).toBe(`${REPO}examples/mapping.yaml`);
  });
});
