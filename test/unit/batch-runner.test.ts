import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBatch, type BatchVm, type BatchWork } from '../../src/batch/runner.js';
import { StateStore } from '../../src/batch/state.js';
import { V2vError } from '../../src/errors.js';
import type { Concern } from '../../src/model.js';

const critical: Concern = { id: 'vmware.power_state.on', category: 'Critical', label: 'VM is running', assessment: 'powered on', hint: 'power it off' };
const vms: BatchVm[] = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => ({ key: `vc/${n}`, source: 'vc', ref: n }));

/** Work that records what it did: two disks per VM, VMs "e" and "f" blocked, "c" failing on demand. */
function recordingWork(options: { failC?: boolean; stopAfterCopies?: { count: number; abort: AbortController } } = {}) {
  const copied: string[] = [];
  const work: BatchWork = {
    async check(vm) {
      return vm.ref === 'e' || vm.ref === 'f' ? [critical] : [];
    },
    async convert(vm, ctx) {
      for (const disk of [0, 1]) {
        if (ctx.disksDone.includes(disk)) continue;
        if (ctx.signal.aborted) throw new Error('aborted');
        copied.push(`${vm.ref}/${disk}`);
        await ctx.markDiskDone(disk, 100);
        if (options.stopAfterCopies && copied.length === options.stopAfterCopies.count) options.stopAfterCopies.abort.abort();
      }
      if (options.failC && vm.ref === 'c') throw new V2vError('CONVERSION_FAILED', 'virt-v2v failed');
      return { warnings: vm.ref === 'b' ? ['NIC name "ens224" in /etc/network/interfaces left unchanged: no NIC'] : [] };
    },
  };
  return { work, copied };
}

describe('batch runner', () => {
  it('converts the valid VMs, reports the blocked ones with their concern ids, exit 3', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'v2v-batch-')), 'state.json');
    const { work, copied } = recordingWork();
    const report = await runBatch(vms, work, await StateStore.load(path, 'plan-1'), { concurrency: 2 });
    expect(report.totals).toMatchObject({ succeeded: 4, blocked: 2, failed: 0 });
    expect(report.vms.filter((v) => v.phase === 'blocked').map((v) => [v.key, v.concerns.map((c) => c.id)])).toEqual([
      ['vc/e', ['vmware.power_state.on']],
      ['vc/f', ['vmware.power_state.on']],
    ]);
    expect(report.exitCode).toBe(3);
    expect(copied).toHaveLength(8);
    expect(JSON.parse(readFileSync(path, 'utf8')).vms['vc/a'].phase).toBe('succeeded');
    // What a conversion warned about stays in the state and reaches the report.
    expect(report.vms.find((v) => v.key === 'vc/b')?.warnings).toEqual(['NIC name "ens224" in /etc/network/interfaces left unchanged: no NIC']);
    expect(report.vms.find((v) => v.key === 'vc/a')?.warnings).toEqual([]);
  });

  it('a failing VM fails alone (exit 1)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'v2v-batch-')), 'state.json');
    const report = await runBatch(vms.slice(0, 4), recordingWork({ failC: true }).work, await StateStore.load(path, 'p'), { concurrency: 2 });
    expect(report.vms.map((v) => v.phase)).toEqual(['succeeded', 'succeeded', 'failed', 'succeeded']);
    expect(report.vms[2]?.error).toEqual({ code: 'CONVERSION_FAILED', message: 'virt-v2v failed' });
    expect(report.exitCode).toBe(1);
  });

  it('a VM that failed is tried again on the next run; its last error and its attempts are kept until it succeeds', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'v2v-batch-')), 'state.json');
    const run = async (failC: boolean) => (await runBatch(vms.slice(0, 3), recordingWork({ failC }).work, await StateStore.load(path, 'p'), { concurrency: 2 })).vms[2]!;
    expect(await run(true)).toMatchObject({ phase: 'failed', attempts: 1, error: { code: 'CONVERSION_FAILED' } });
    expect(await run(true)).toMatchObject({ phase: 'failed', attempts: 2, error: { code: 'CONVERSION_FAILED' } });
    const third = await run(false);
    expect(third).toMatchObject({ phase: 'succeeded', attempts: 3 });
    expect(third.error).toBeUndefined();
    expect(JSON.parse(readFileSync(path, 'utf8')).vms['vc/c']).toMatchObject({ phase: 'succeeded', attempts: 3 });
  });

  it('refuses a state file it cannot read back, naming it, and leaves it as it was', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'v2v-batch-')), 'state.json');
    writeFileSync(path, '{"version": 1, "planHash": "p", "vms": {"vc/a": {"phase": "done"}}}');
    await expect(StateStore.load(path, 'p')).rejects.toMatchObject({ code: 'STATE_INVALID', exitCode: 2, message: expect.stringContaining(path) });
    expect(readFileSync(path, 'utf8')).toContain('"done"');
  });

  it('an interrupted run resumes from the state file without redoing disks or VMs', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'v2v-batch-')), 'state.json');
    const abort = new AbortController();
    const first = recordingWork({ stopAfterCopies: { count: 3, abort } });
    const r1 = await runBatch(vms, first.work, await StateStore.load(path, 'plan'), { concurrency: 1, signal: abort.signal });
    expect(r1.interrupted).toBe(true);
    expect(r1.exitCode).toBe(4);
    // A new process: only the file carries over.
    const second = recordingWork();
    const r2 = await runBatch(vms, second.work, await StateStore.load(path, 'plan'), { concurrency: 2 });
    expect(r2.totals).toMatchObject({ succeeded: 4, blocked: 2 });
    expect([...first.copied, ...second.copied].sort()).toEqual(['a/0', 'a/1', 'b/0', 'b/1', 'c/0', 'c/1', 'd/0', 'd/1']);
  });

  it('a state file of another plan is not reused', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'v2v-batch-')), 'state.json');
    await runBatch(vms.slice(0, 1), recordingWork().work, await StateStore.load(path, 'plan-A'), { concurrency: 1 });
    const again = recordingWork();
    await runBatch(vms.slice(0, 1), again.work, await StateStore.load(path, 'plan-B'), { concurrency: 1 });
    expect(again.copied).toEqual(['a/0', 'a/1']);
  });
});
