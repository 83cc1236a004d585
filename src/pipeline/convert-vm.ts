import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { writeFileAtomic } from '../atomic-file.js';
import type { ConversionReport, ConvertEvent, ConvertGuestOptions } from '../convert/index.js';
import type { BootCheckOptions, BootCheckResult } from '../convert/boot-check.js';
import { ConversionError } from '../convert/errors.js';
import type { NicRenameReport } from '../convert/nics-apply.js';
import type { CopyOptions, CopyResult } from '../copy/engine.js';
import type { CopyProgress } from '../copy/progress.js';
import { InterruptedError, V2vError } from '../errors.js';
import type { Logger } from '../log.js';
import { diskClaimName, requireKubeName } from '../manifests/name.js';
import { buildVirtualMachine, diskClaims } from '../manifests/virtual-machine.js';
import type { SourceVm } from '../model.js';
import type { PipelinePhase } from '../vmio.js';
import type { ConversionJob } from './job.js';
import { prepareVm, type PreparedVm } from './prepare.js';
import type { SourcePool } from './source-pool.js';

// One VM end to end, for every front end: find and check it, copy every disk
// into a PVC-shaped target, convert the guest in place, rename its NICs, write
// the KubeVirt objects, then mark the target complete. `convert`, `batch` and
// the pod differ only in the job they build and the reporter they pass.

export interface PipelineDeps {
  sources: SourcePool;
  copyDisk(options: CopyOptions): Promise<CopyResult>;
  convertGuest(options: ConvertGuestOptions): Promise<ConversionReport>;
  validateDomainXml?: (xml: string) => void | Promise<void>;
  /** The boot gate (`verifyBoot` jobs): boots the converted disks and proves the NIC comes up. */
  verifyBoot?(options: BootCheckOptions): Promise<BootCheckResult>;
  /** The environment virt-v2v and libguestfs run with. */
  env: Readonly<NodeJS.ProcessEnv>;
  log: Logger;
  /** Fired by the front end (SIGTERM, SIGINT): the run stops, state kept, with InterruptedError. */
  signal: AbortSignal;
}

/** What a front end hears while one VM moves; every method is optional. */
export interface ConversionReporter {
  /** The VM was found and checked; a Critical concern ends the run as `blocked` right after. */
  checked?(prepared: PreparedVm): void;
  phase?(phase: PipelinePhase, fraction: number, message: string): void;
  diskProgress?(index: number, progress: CopyProgress): void;
  /** Disk `index` is copied and flushed: a rerun need not copy it again. */
  diskDone?(index: number, bytes: number): Promise<void>;
  conversion?(event: ConvertEvent): void;
}

export interface ConvertVmResult {
  skipped: boolean;
  disks: { index: number; path: string; bytesCopied: number; resumed: boolean; skipped: boolean }[];
  conversion?: ConversionReport;
  bootCheck?: BootCheckResult;
  manifests: string[];
  virtualMachine: unknown;
  /** The VirtualMachine's name, and the claims it boots in disk order (VMIO's status.targetVmName and status.dataVolumes). */
  targetVmName: string;
  claims: string[];
  warnings: string[];
}

export type ConversionOutcome = { status: 'blocked'; prepared: PreparedVm } | { status: 'converted'; prepared: PreparedVm; result: ConvertVmResult };

const COMPLETE = '.v2v-complete.json';

export function completeMarkerPath(dir: string): string {
  return join(dir, COMPLETE);
}

/** A finished target for this VM: a second run does nothing. */
export async function readComplete(dir: string, vm: SourceVm): Promise<ConvertVmResult | undefined> {
  try {
    const done = JSON.parse(await readFile(completeMarkerPath(dir), 'utf8')) as { vmId: string; result: ConvertVmResult };
    return done.vmId === vm.id ? { ...done.result, skipped: true } : undefined;
  } catch {
    return undefined;
  }
}

export async function runConversion(job: ConversionJob, deps: PipelineDeps, reporter: ConversionReporter = {}): Promise<ConversionOutcome> {
  reporter.phase?.('validating', 0, 'reading the source and checking the VM');
  if (job.manifest.name !== undefined) requireKubeName(job.manifest.name);
  const prepared = await prepareVm(job, deps.sources);
  reporter.checked?.(prepared);
  if (!prepared.check.valid) return { status: 'blocked', prepared };
  return { status: 'converted', prepared, result: await convertVm(job, prepared, deps, reporter) };
}

async function convertVm(job: ConversionJob, prepared: PreparedVm, deps: PipelineDeps, reporter: ConversionReporter): Promise<ConvertVmResult> {
  const { vm, plan } = prepared;
  const { signal } = deps;
  const dir = job.targetDir;
  const phase = (p: PipelinePhase, message: string, fraction = 0) => reporter.phase?.(p, fraction, message);
  const finished = await readComplete(dir, vm);
  if (finished) {
    deps.log.info({ vm: vm.name, dir }, 'target already complete; nothing to do');
    phase('done', `${vm.name} was already converted`, 1);
    return finished;
  }
  await mkdir(dir, { recursive: true });
  for (const device of job.blockDevices ?? []) if (device) await waitForDevice(device, signal, job.blockDeviceWaitMs ?? 0, deps.log);
  const provider = await deps.sources.provider(job.source);

  phase('copying', `copying ${vm.disks.length} disk(s)`);
  const total = vm.disks.reduce((n, d) => n + d.capacityBytes, 0) || 1;
  const doneBytes = new Map<number, number>();
  const disks: ConvertVmResult['disks'] = [];
  for (const [index, disk] of vm.disks.entries()) {
    if (signal.aborted) throw new InterruptedError('stopped before copying all disks; the copied ones are kept');
    const device = job.blockDevices?.[index];
    const path = device ?? join(dir, `disk${index}`, 'disk.img');
    if (job.disksDone?.includes(index) && existsSync(path) && !existsSync(`${path}.v2v-partial`)) {
      disks.push({ index, path, bytesCopied: 0, resumed: false, skipped: true });
      doneBytes.set(index, disk.capacityBytes);
      continue;
    }
    // Locally the target directory is ours to make; in a pod it is the mounted volume.
    if (!device) await mkdir(join(dir, `disk${index}`), { recursive: true });
    const source = await provider.openDisk(vm, disk, { signal, log: deps.log, ...(job.transport ? { transport: job.transport } : {}), ...(job.vddk ? { vddk: job.vddk } : {}) });
    let ok = false;
    try {
      const result = await deps.copyDisk({
        source,
        target: device ? { kind: 'block', device, stateDir: dir } : { kind: 'filesystem', dir: join(dir, `disk${index}`) },
        signal,
        label: `disk${index}`,
        log: deps.log,
        onProgress: (p) => {
          doneBytes.set(index, p.bytesDone);
          reporter.diskProgress?.(index, p);
          phase('copying', `copying disk ${index + 1}/${vm.disks.length}`, [...doneBytes.values()].reduce((a, b) => a + b, 0) / total);
        },
      });
      ok = true;
      disks.push({ index, path: result.path, bytesCopied: result.bytesCopied, resumed: result.resumedFrom > 0, skipped: false });
      await reporter.diskDone?.(index, result.bytesCopied);
    } finally {
      // A failed or interrupted copy ends its reader too (an oVirt transfer is cancelled on the engine).
      await source.close(ok);
    }
  }

  let conversion: ConversionReport | undefined;
  if (job.guestConversion) {
    phase('converting', 'converting the guest with virt-v2v');
    conversion = await deps.convertGuest({
      vm,
      disks: disks.map((d) => ({ path: d.path, format: 'raw', ...(job.blockDevices?.[d.index] ? { block: true } : {}) })),
      nicNaming: job.nicNaming,
      signal,
      env: deps.env,
      ...(reporter.conversion ? { onProgress: reporter.conversion } : {}),
      ...(deps.validateDomainXml ? { validateDomainXml: deps.validateDomainXml } : {}),
      workDir: dir,
      logger: deps.log,
    });
  }

  let bootCheck: BootCheckResult | undefined;
  if (job.verifyBoot) {
    if (!deps.verifyBoot) throw new V2vError('BOOT_CHECK_UNAVAILABLE', 'this front end cannot run the boot gate', { hint: 'run without verifyBoot' });
    const nic = vm.nics[0];
    if (!nic) throw new ConversionError('BOOT_CHECK_FAILED', `VM ${vm.name} has no NIC whose bring-up the boot gate could watch`, { hint: 'run without the boot gate' });
    phase('verifying-boot', 'booting the converted guest to prove its NIC comes up');
    bootCheck = await deps.verifyBoot({
      disks: disks.map((d) => ({ path: d.path, format: 'raw' })),
      nic: { mac: nic.mac, model: 'virtio' },
      firmware: vm.firmware === 'efi' ? 'efi' : 'bios',
      env: deps.env,
      workDir: dir,
      signal,
      logger: deps.log,
    });
  }

  phase('writing-manifests', 'writing the KubeVirt objects');
  const manifest = { ...job.manifest, ...(prepared.osinfo ? { osinfo: prepared.osinfo } : {}) };
  const built = buildVirtualMachine(vm, plan, manifest);
  const claimNames = built.plan.disks.map((d) => job.manifest.claimNames?.[d.index] ?? diskClaimName(built.name, d.index));
  const manifestsDir = join(dir, 'manifests');
  await mkdir(manifestsDir, { recursive: true });
  const files: string[] = [];
  const vmFile = join(manifestsDir, 'virtualmachine.yaml');
  await writeFile(vmFile, stringify(built.virtualMachine, { lineWidth: 0 }));
  files.push(vmFile);
  // The claims the VM boots: disk<N>/disk.img goes into the PVC of the same index.
  for (const claim of diskClaims(built.plan, claimNames, { ...(manifest.namespace ? { namespace: manifest.namespace } : {}) })) {
    const claimFile = join(manifestsDir, `pvc-${claim.metadata.name}.yaml`);
    await writeFile(claimFile, stringify(claim, { lineWidth: 0 }));
    files.push(claimFile);
  }
  const result: ConvertVmResult = {
    skipped: false,
    disks,
    ...(conversion ? { conversion } : {}),
    ...(bootCheck ? { bootCheck } : {}),
    manifests: files,
    virtualMachine: built.virtualMachine,
    targetVmName: built.name,
    claims: claimNames,
    warnings: [...built.warnings, ...(conversion?.warnings ?? []), ...(conversion ? nicWarnings(conversion.nics) : [])],
  };
  // Written last and atomically: its presence is what "complete" means.
  await writeFileAtomic(completeMarkerPath(dir), `${JSON.stringify({ vmId: vm.id, vmName: vm.name, finishedAt: new Date().toISOString(), result }, null, 2)}\n`);
  phase('done', `${vm.name} converted`, 1);
  return result;
}

/** What the NIC step left alone, said so that a user can fix it before the VM boots without a network. */
export function nicWarnings(report: NicRenameReport): string[] {
  return [
    ...(report.notApplied ? [`NIC renaming not applied: ${report.notApplied}`] : []),
    ...report.skipped.map((s) => `NIC name "${s.name}" in ${s.path} left unchanged: ${s.reason}`),
    ...report.addressWarnings,
  ];
}

async function waitForDevice(path: string, signal: AbortSignal, timeoutMs: number, log: Logger): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 200; !existsSync(path); delay = Math.min(delay * 2, 5000)) {
    signal.throwIfAborted();
    if (Date.now() >= deadline) {
      throw new V2vError('TARGET_DEVICE_MISSING', `block device ${path} did not appear within ${Math.round(timeoutMs / 1000)} s`, {
        hint: 'check the PVC is bound and attached as volumeDevices',
      });
    }
    log.info({ device: path, retryMs: delay }, 'waiting for block device');
    await sleep(delay, undefined, { signal }).catch(() => signal.throwIfAborted());
  }
}
