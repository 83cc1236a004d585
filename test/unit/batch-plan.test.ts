import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { batchPlanJsonSchema, loadBatchPlan } from '../../src/batch/plan.js';
import { REPO } from '../helpers/peers.js';

describe('batch plan', () => {
  it('the shipped JSON Schema matches the parser', () => {
    expect(JSON.parse(readFileSync(`${REPO}schemas/batch-plan.schema.json`, 'utf8'))).toEqual(batchPlanJsonSchema());
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
