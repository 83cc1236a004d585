import PQueue from 'p-queue';
import { V2vError, describe } from '../errors.js';
import { ExitCode, type Concern } from '../model.js';
import type { StateStore, VmPhase } from './state.js';

/** One VM of a batch, as the plan resolved it. */
export interface BatchVm {
  /** Unique within the plan: `source/ref`. */
  key: string;
  source: string;
  ref: string;
}

export interface ConvertContext {
  /** Disk indexes already copied by an earlier, interrupted run. */
  disksDone: readonly number[];
  markDiskDone(index: number, bytes: number): Promise<void>;
  /** The VM moved on to another step (e.g. from copying to converting), at this VMIO progress. */
  markPhase(phase: VmPhase, progress: number): Promise<void>;
  signal: AbortSignal;
}

/** The work of one VM, injected: the CLI gives real checks and conversions; tests may give their own. */
export interface BatchWork<V extends BatchVm = BatchVm> {
  check(vm: V, signal: AbortSignal): Promise<Concern[]>;
  /** Converts one VM; what it returns is kept in the state and shown in the report. */
  convert(vm: V, ctx: ConvertContext): Promise<{ warnings: string[] }>;
}

export interface VmReport {
  key: string;
  phase: VmPhase;
  /** vm-import-operator's progress value: 100 once succeeded. */
  progress: number;
  durationMs?: number;
  bytesCopied: number;
  concerns: Concern[];
  /** What the conversion left for the user to look at (e.g. NIC names it could not tie). */
  warnings: string[];
  /** The error of the last attempt that failed, until one succeeds. */
  error?: { code: string; message: string };
  /** Runs that started work on this VM. */
  attempts: number;
}

export interface BatchReport {
  vms: VmReport[];
  totals: { succeeded: number; blocked: number; failed: number; pending: number; bytesCopied: number };
  interrupted: boolean;
  exitCode: ExitCode;
}

function errorInfo(e: unknown): { code: string; message: string } {
  return e instanceof V2vError ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: describe(e) };
}

/**
 * Checks every VM first (a blocked VM never stops the others), then converts
 * the valid ones with bounded concurrency. Every step is recorded in the state
 * store, so a run killed at any point resumes: finished VMs are skipped,
 * finished disks are not copied again, and VMs that failed are tried again.
 */
export async function runBatch<V extends BatchVm>(vms: V[], work: BatchWork<V>, store: StateStore, options: { concurrency: number; signal?: AbortSignal }): Promise<BatchReport> {
  const signal = options.signal ?? new AbortController().signal;
  const queue = new PQueue({ concurrency: Math.max(1, options.concurrency) });
  const open = vms.filter((vm) => store.vm(vm.key).phase !== 'succeeded');

  await queue.addAll(
    open.map((vm) => async () => {
      if (signal.aborted) return;
      try {
        const concerns = await work.check(vm, signal);
        const blocked = concerns.some((c) => c.category === 'Critical');
        await store.update(vm.key, (s) => {
          s.concerns = concerns;
          // A VM that was blocked or failed before is tried again once it passes; an interrupted one resumes where it stopped.
          s.phase = blocked ? 'blocked' : s.phase === 'blocked' || s.phase === 'failed' ? 'pending' : s.phase;
        });
      } catch (e) {
        if (signal.aborted) return;
        await store.update(vm.key, (s) => {
          s.phase = 'failed';
          s.error = errorInfo(e);
          s.attempts = (s.attempts ?? 0) + 1;
        });
      }
    }),
  );

  const convertible = open.filter((vm) => !['blocked', 'failed'].includes(store.vm(vm.key).phase));
  await queue.addAll(
    convertible.map((vm) => async () => {
      if (signal.aborted) return;
      const started = Date.now();
      await store.update(vm.key, (s) => {
        s.phase = 'copying';
        s.attempts = (s.attempts ?? 0) + 1;
        s.startedAt ??= new Date(started).toISOString();
      });
      try {
        const { warnings } = await work.convert(vm, {
          disksDone: [...store.vm(vm.key).disksDone],
          markDiskDone: (index, bytes) =>
            store.update(vm.key, (s) => {
              if (!s.disksDone.includes(index)) s.disksDone.push(index);
              s.bytesCopied += bytes;
            }),
          markPhase: (phase, progress) =>
            store.update(vm.key, (s) => {
              s.phase = phase;
              s.progress = progress;
            }),
          signal,
        });
        await store.update(vm.key, (s) => {
          s.phase = 'succeeded';
          delete s.error;
          s.warnings = warnings;
          s.finishedAt = new Date().toISOString();
          s.durationMs = (s.durationMs ?? 0) + (Date.now() - started);
        });
      } catch (e) {
        await store.update(vm.key, (s) => {
          s.durationMs = (s.durationMs ?? 0) + (Date.now() - started);
          // An interrupted VM stays resumable; anything else is a failure of that VM only.
          if (signal.aborted) s.phase = 'pending';
          else {
            s.phase = 'failed';
            s.error = errorInfo(e);
          }
        });
      }
    }),
  );
  await store.flush();
  return report(vms, store, signal.aborted);
}

export function report(vms: BatchVm[], store: StateStore, interrupted: boolean): BatchReport {
  const rows: VmReport[] = vms.map((vm) => {
    const s = store.vm(vm.key);
    return {
      key: vm.key,
      phase: s.phase,
      progress: s.phase === 'succeeded' ? 100 : (s.progress ?? 0),
      ...(s.durationMs !== undefined ? { durationMs: s.durationMs } : {}),
      bytesCopied: s.bytesCopied,
      concerns: s.concerns,
      warnings: s.warnings ?? [],
      ...(s.error ? { error: s.error } : {}),
      attempts: s.attempts ?? 0,
    };
  });
  const count = (p: VmPhase) => rows.filter((r) => r.phase === p).length;
  const totals = {
    succeeded: count('succeeded'),
    blocked: count('blocked'),
    failed: count('failed'),
    pending: rows.length - count('succeeded') - count('blocked') - count('failed'),
    bytesCopied: rows.reduce((n, r) => n + r.bytesCopied, 0),
  };
  const exitCode: ExitCode = interrupted ? ExitCode.interrupted : totals.failed > 0 ? ExitCode.failure : totals.blocked > 0 ? ExitCode.critical : ExitCode.ok;
  return { vms: rows, totals, interrupted, exitCode };
}
