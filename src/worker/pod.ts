import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DiskSource } from '../copy/source.js';
import { InterruptedError, V2vError, describe } from '../errors.js';
import type { Logger } from '../log.js';
import type { Mappings } from '../mapping/resource-mapping.js';
import { ExitCode, type Disk, type SourceVm } from '../model.js';
import type { ConvertVmDeps } from '../pipeline/convert-vm.js';
import { convertVm } from '../pipeline/convert-vm.js';
import { prepareVm } from '../pipeline/prepare.js';
import type { SourceProvider } from '../source.js';
import { importConditions } from '../checks/conditions.js';
import type { PodJob, PodPaths } from './job.js';
import { WorkerMetrics } from './metrics.js';
import { importProgress, processingCondition, succeededCondition, type Condition, type Phase } from './progress.js';
import { startWorkerServers, type WorkerResults } from './server.js';

export interface PodOptions {
  job: PodJob;
  paths: PodPaths;
  ports: { metrics: number; results: number };
  openProvider(): Promise<SourceProvider>;
  openDisk(provider: SourceProvider, vm: SourceVm, disk: Disk): Promise<DiskSource>;
  loadMappings(): Promise<Mappings | undefined>;
  deps: Omit<ConvertVmDeps, 'openDisk' | 'log'>;
  log: Logger;
  signal: AbortSignal;
  /** How long to wait for a block device to appear (the kubelet attaches it). */
  blockDeviceWaitMs?: number;
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

async function waitForDevice(path: string, signal: AbortSignal, timeoutMs: number, log: Logger): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 200; !existsSync(path); delay = Math.min(delay * 2, 5000)) {
    if (signal.aborted) throw new InterruptedError(`stopped while waiting for ${path}`);
    if (Date.now() > deadline) {
      throw new V2vError('TARGET_DEVICE_MISSING', `block device ${path} did not appear within ${Math.round(timeoutMs / 1000)} s`, { hint: 'check the PVC is bound and attached as volumeDevices' });
    }
    log.info({ device: path, retryMs: delay }, 'waiting for block device');
    await new Promise((r) => setTimeout(r, delay));
  }
}

/**
 * The conversion pod (SPEC §4.5): serves metrics and results while it checks,
 * copies and converts one VM, and leaves a one-line summary in the
 * termination log. Returns the exit code.
 */
export async function runPod(o: PodOptions): Promise<number> {
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
  let summary: string;
  let code: number;
  try {
    setPhase('Validating', 'reading the source and checking the VM');
    const provider = await o.openProvider();
    try {
      const mappings = await o.loadMappings();
      const prepared = await prepareVm(provider, o.job.vm, mappings);
      const { vm } = prepared;
      results.status.conditions.push(...importConditions(prepared.check).map((c): Condition => ({ ...c, lastTransitionTime: new Date().toISOString() })));
      results.warnings.push(...prepared.check.concerns.filter((c) => c.category !== 'Critical').map((c) => `${c.id}: ${c.label}`));
      if (!prepared.check.valid) {
        const ids = prepared.check.concerns.filter((c) => c.category === 'Critical').map((c) => c.id);
        results.status.conditions.push(succeededCondition({ ok: false, reason: 'ValidationFailed' }, ids.join(', ')));
        setPhase('Failed', `validation failed: ${ids.join(', ')}`, 0);
        await writeTermination(o.paths.terminationLog, `blocked ${vm.name}: ${ids.join(', ')}`);
        return ExitCode.critical;
      }
      const blockDevices = vm.disks.map((_, i) => (o.job.disks?.[i]?.volumeMode === 'Block' ? `${o.paths.blockPrefix}${i}` : undefined));
      for (const device of blockDevices) if (device) await waitForDevice(device, o.signal, o.blockDeviceWaitMs ?? 300_000, o.log);
      results.status.disks = vm.disks.map((d, index) => ({ index, bytesDone: 0, bytesTotal: d.capacityBytes }));
      const result = await convertVm(
        {
          vm,
          plan: prepared.plan,
          dir: o.paths.disksDir,
          blockDevices,
          manifest: {
            ...(o.job.targetName ? { name: o.job.targetName } : {}),
            ...(o.job.targetNamespace ? { namespace: o.job.targetNamespace } : {}),
            startVm: o.job.startVm,
            ...(prepared.osinfo ? { osinfo: prepared.osinfo } : {}),
          },
          nicNaming: o.job.nicNaming,
          signal: o.signal,
          onPhase: (phase, progress, message) => setPhase(phase, message, progress),
          onDiskProgress: (index, p) => {
            const row = results.status.disks[index];
            if (row) {
              row.bytesDone = p.bytesDone;
              if (p.bytesTotal) row.bytesTotal = p.bytesTotal;
            }
            metrics.diskProgress(index, p.bytesDone, p.bytesTotal ?? row?.bytesTotal ?? 0);
          },
          onConvertProgress: (e) => o.log.info({ event: 'conversion', ...e }, 'conversion progress'),
        },
        { ...o.deps, openDisk: (v, disk) => o.openDisk(provider, v, disk), log: o.log },
      );
      results.vm = result.virtualMachine;
      results.inspection = result.conversion ? { os: result.conversion.os, nics: result.conversion.nics } : undefined;
      results.warnings.push(...result.warnings);
      results.status.conditions.push(succeededCondition({ ok: true }, 'Import successful'));
      setPhase('Succeeded', `${vm.name} converted`);
      summary = `succeeded ${vm.name}: ${result.disks.length} disk(s), ${result.disks.reduce((n, d) => n + d.bytesCopied, 0)} bytes copied`;
      code = ExitCode.ok;
      await writeTermination(o.paths.terminationLog, summary);
      await lingerUntil(o.signal, o.lingerMs ?? 0);
    } finally {
      await provider.close().catch(() => undefined);
    }
  } catch (e) {
    const err = e instanceof V2vError ? e : undefined;
    const interrupted = e instanceof InterruptedError || o.signal.aborted;
    metrics.error(err?.code ?? (interrupted ? 'INTERRUPTED' : 'INTERNAL'));
    results.status.error = { code: interrupted ? 'INTERRUPTED' : (err?.code ?? 'INTERNAL'), message: describe(e), ...(err?.hint ? { hint: err.hint } : {}) };
    const reason = err?.code.startsWith('CONVERSION_') ? 'GuestConversionFailed' : err?.code === 'VM_NOT_FOUND' ? 'VMNotFound' : 'DataVolumeCreationFailed';
    if (!interrupted) results.status.conditions.push(succeededCondition({ ok: false, reason }, describe(e)));
    setPhase(interrupted ? 'Interrupted' : 'Failed', describe(e), 0);
    summary = `${interrupted ? 'interrupted' : 'failed'} ${o.job.vm}: ${results.status.error.code}: ${results.status.error.message}`;
    code = interrupted ? ExitCode.interrupted : (err?.exitCode ?? ExitCode.failure);
  } finally {
    await servers.close();
  }
  await writeTermination(o.paths.terminationLog, summary);
  return code;
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
