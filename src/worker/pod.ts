import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InterruptedError, V2vError, describe } from '../errors.js';
import type { Logger } from '../log.js';
import { ExitCode } from '../model.js';
import { runConversion, type PipelineDeps } from '../pipeline/convert-vm.js';
import type { ConversionJob } from '../pipeline/job.js';
import type { PodPaths } from '../pipeline/job-file.js';
import { failureConditions, importConditions, processingCondition, succeededCondition, vmioProgress, importProgress, type Condition, type Phase } from '../vmio.js';
import { WorkerMetrics } from './metrics.js';
import { startWorkerServers, type WorkerResults } from './server.js';

export interface PodOptions {
  /** Reads the job file and the mounted Secret: a bad one is reported like any other failure. */
  loadJob(): Promise<ConversionJob>;
  paths: Pick<PodPaths, 'terminationLog'>;
  ports: { metrics: number; results: number };
  deps: PipelineDeps;
  log: Logger;
  /** After success, keep serving /vm, /inspection, /status this long (or until SIGTERM) for a controller to collect. */
  lingerMs?: number;
}

function lingerUntil(signal: AbortSignal, ms: number): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

/** How a pod run ended: its exit code, and the error that ended it (for the front end to print like any other). */
export interface PodOutcome {
  code: number;
  error?: unknown;
}

/**
 * The conversion pod (SPEC §4.5): serves metrics and the results API while
 * the pipeline checks, copies and converts one VM, and leaves a one-line
 * summary in the termination log.
 */
export async function runPod(o: PodOptions): Promise<PodOutcome> {
  const { signal } = o.deps;
  const metrics = new WorkerMetrics();
  const results: WorkerResults = { status: { phase: 'Pending', progress: 0, conditions: [], disks: [] }, warnings: [] };
  const setPhase = (phase: Phase, message: string, progress = importProgress(phase)) => {
    results.status.phase = phase;
    results.status.progress = progress;
    const processing = processingCondition(phase, message);
    results.status.conditions = [...results.status.conditions.filter((c) => c.type !== 'Processing'), processing];
    metrics.setPhase(phase, progress);
    o.log.info({ event: 'phase', phase, progress }, message);
  };
  const servers = await startWorkerServers(metrics, () => results, { metricsPort: o.ports.metrics, resultsPort: o.ports.results });
  o.log.info({ metricsPort: servers.metricsPort, resultsPort: servers.resultsPort }, 'serving metrics and results');
  let vmRef = 'the job';
  let summary: string;
  let code: number;
  let error: unknown;
  try {
    setPhase('Validating', 'reading the job and the source');
    const job = await o.loadJob();
    vmRef = job.vm;
    const outcome = await runConversion(job, o.deps, {
      checked: ({ vm, check }) => {
        results.status.conditions.push(...importConditions(check).map((c): Condition => ({ ...c, lastTransitionTime: new Date().toISOString() })));
        results.warnings.push(...check.concerns.filter((c) => c.category !== 'Critical').map((c) => `${c.id}: ${c.label}`));
        results.status.disks = vm.disks.map((d, index) => ({ index, bytesDone: 0, bytesTotal: d.capacityBytes }));
      },
      phase: (phase, fraction, message) => {
        const named = vmioProgress(phase, fraction);
        setPhase(named.phase, message, named.progress);
      },
      diskProgress: (index, p) => {
        const row = results.status.disks[index];
        if (row) {
          row.bytesDone = p.bytesDone;
          if (p.bytesTotal) row.bytesTotal = p.bytesTotal;
        }
        metrics.diskProgress(index, p.bytesDone, p.bytesTotal ?? row?.bytesTotal ?? 0);
      },
      conversion: (e) => o.log.info({ event: 'conversion', ...e }, 'conversion progress'),
    });
    const { vm } = outcome.prepared;
    if (outcome.status === 'blocked') {
      const ids = outcome.prepared.check.concerns.filter((c) => c.category === 'Critical').map((c) => c.id);
      results.status.conditions.push(succeededCondition({ ok: false, reason: 'ValidationFailed' }, ids.join(', ')));
      setPhase('Failed', `validation failed: ${ids.join(', ')}`, 0);
      summary = `blocked ${vm.name}: ${ids.join(', ')}`;
      code = ExitCode.critical;
    } else {
      const { result } = outcome;
      results.vm = result.virtualMachine;
      results.status.targetVmName = result.targetVmName;
      results.status.dataVolumes = result.claims.map((name) => ({ name }));
      results.inspection = result.conversion ? { os: result.conversion.os, nics: result.conversion.nics } : undefined;
      results.warnings.push(...result.warnings);
      const noted = result.warnings.length ? `; ${result.warnings.length} warning(s): ${result.warnings.join('; ')}` : '';
      results.status.conditions.push(succeededCondition({ ok: true }, `Import successful${noted}`));
      setPhase('Succeeded', `${vm.name} converted`);
      summary = `succeeded ${vm.name}: ${result.disks.length} disk(s), ${result.disks.reduce((n, d) => n + d.bytesCopied, 0)} bytes copied`;
      code = ExitCode.ok;
    }
  } catch (e) {
    const err = e instanceof V2vError ? e : undefined;
    const interrupted = e instanceof InterruptedError || signal.aborted;
    const errorCode = interrupted ? 'INTERRUPTED' : (err?.code ?? 'INTERNAL');
    metrics.error(errorCode);
    results.status.error = { code: errorCode, message: describe(e), ...(err?.hint ? { hint: err.hint } : {}) };
    if (!interrupted) {
      const failed = failureConditions(errorCode, describe(e));
      results.status.conditions = [...results.status.conditions.filter((c) => !failed.some((f) => f.type === c.type)), ...failed];
    }
    setPhase(interrupted ? 'Interrupted' : 'Failed', describe(e), 0);
    summary = `${interrupted ? 'interrupted' : 'failed'} ${vmRef}: ${errorCode}: ${results.status.error.message}`;
    code = interrupted ? ExitCode.interrupted : (err?.exitCode ?? ExitCode.failure);
    error = e;
  }
  try {
    await writeTermination(o.paths.terminationLog, summary);
    // A controller collects the outcome, success or failure, before the pod goes away.
    if (code !== ExitCode.interrupted) await lingerUntil(signal, o.lingerMs ?? 0);
  } finally {
    await servers.close();
  }
  return { code, ...(error !== undefined ? { error } : {}) };
}

async function writeTermination(path: string, line: string): Promise<void> {
  // Kubernetes shows at most 4096 bytes of it.
  await writeFile(path, `${line.slice(0, 4000)}\n`).catch(() => undefined);
}

export const podPathsUnder = (root: string): PodPaths => ({
  job: join(root, 'etc/v2v/job.yaml'),
  secretDir: join(root, 'etc/secret'),
  disksDir: join(root, 'mnt/disks'),
  blockPrefix: join(root, 'dev/block'),
  terminationLog: join(root, 'dev/termination-log'),
});
