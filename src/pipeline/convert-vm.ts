import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { writeFileAtomic } from '../batch/state.js';
import type { ConversionReport, ConvertEvent, ConvertGuestOptions } from '../convert/index.js';
import type { CopyOptions, CopyResult } from '../copy/engine.js';
import type { CopyProgress } from '../copy/progress.js';
import type { DiskSource } from '../copy/source.js';
import { InterruptedError } from '../errors.js';
import type { Logger } from '../log.js';
import { buildVirtualMachine, standaloneDataVolume, type VmManifestOptions } from '../manifests/virtual-machine.js';
import type { VmPlan } from '../mapping/resolve.js';
import type { Disk, SourceVm } from '../model.js';
import { importProgress, type Phase } from '../worker/progress.js';

// One VM end to end, after its checks passed: copy every disk into a
// PVC-shaped target, convert the guest in place, rename its NICs, write the
// KubeVirt objects, then mark the target complete. I/O is injected so the
// CLI, the pod and the batch runner share this one path.

export interface ConvertVmDeps {
  openDisk(vm: SourceVm, disk: Disk, index: number, signal: AbortSignal): Promise<DiskSource>;
  copyDisk(options: CopyOptions): Promise<CopyResult>;
  convertGuest(options: ConvertGuestOptions): Promise<ConversionReport>;
  validateDomainXml?: (xml: string) => void | Promise<void>;
  log: Logger;
}

export interface ConvertVmInput {
  vm: SourceVm;
  plan: VmPlan;
  /** `<dir>/disk<N>/disk.img` unless a block device is given for disk N; manifests in `<dir>/manifests/`. */
  dir: string;
  blockDevices?: (string | undefined)[];
  manifest: VmManifestOptions;
  nicNaming: 'eth' | 'keep';
  /** false: copy only — the guest already runs on KVM (e.g. an oVirt VM) or is converted elsewhere. */
  convertGuest?: boolean;
  signal: AbortSignal;
  /** Disks copied by an earlier run that was interrupted (batch resume). */
  disksDone?: readonly number[];
  onDiskDone?(index: number, bytes: number): Promise<void>;
  onPhase?(phase: Phase, progress: number, message: string): void;
  onDiskProgress?(index: number, p: CopyProgress): void;
  onConvertProgress?(event: ConvertEvent): void;
}

export interface ConvertVmResult {
  skipped: boolean;
  disks: { index: number; path: string; bytesCopied: number; resumed: boolean; skipped: boolean }[];
  conversion?: ConversionReport;
  manifests: string[];
  virtualMachine: unknown;
  warnings: string[];
}

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

export async function convertVm(input: ConvertVmInput, deps: ConvertVmDeps): Promise<ConvertVmResult> {
  const { vm, plan, dir, signal } = input;
  const phase = (p: Phase, message: string, fraction = 0) => input.onPhase?.(p, importProgress(p, fraction), message);
  const finished = await readComplete(dir, vm);
  if (finished) {
    deps.log.info({ vm: vm.name, dir }, 'target already complete; nothing to do');
    return finished;
  }
  await mkdir(dir, { recursive: true });

  phase('CopyingDisks', `copying ${vm.disks.length} disk(s)`);
  const total = vm.disks.reduce((n, d) => n + d.capacityBytes, 0) || 1;
  const doneBytes = new Map<number, number>();
  const disks: ConvertVmResult['disks'] = [];
  for (const [index, disk] of vm.disks.entries()) {
    if (signal.aborted) throw new InterruptedError('stopped before copying all disks; the copied ones are kept');
    const device = input.blockDevices?.[index];
    const path = device ?? join(dir, `disk${index}`, 'disk.img');
    if (input.disksDone?.includes(index) && existsSync(path) && !existsSync(`${path}.v2v-partial`)) {
      disks.push({ index, path, bytesCopied: 0, resumed: false, skipped: true });
      doneBytes.set(index, disk.capacityBytes);
      continue;
    }
    // Locally the target directory is ours to make; in a pod it is the mounted volume.
    if (!device) await mkdir(join(dir, `disk${index}`), { recursive: true });
    const source = await deps.openDisk(vm, disk, index, signal);
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
          input.onDiskProgress?.(index, p);
          phase('CopyingDisks', `copying disk ${index + 1}/${vm.disks.length}`, [...doneBytes.values()].reduce((a, b) => a + b, 0) / total);
        },
      });
      ok = true;
      disks.push({ index, path: result.path, bytesCopied: result.bytesCopied, resumed: result.resumedFrom > 0, skipped: false });
      await input.onDiskDone?.(index, result.bytesCopied);
    } finally {
      await source.close(ok);
    }
  }

  let conversion: ConversionReport | undefined;
  if (input.convertGuest !== false) {
    phase('ConvertingGuest', 'converting the guest with virt-v2v');
    conversion = await deps.convertGuest({
      vm,
      disks: disks.map((d) => ({ path: d.path, format: 'raw', ...(input.blockDevices?.[d.index] ? { block: true } : {}) })),
      nicNaming: input.nicNaming,
      signal,
      ...(input.onConvertProgress ? { onProgress: input.onConvertProgress } : {}),
      ...(deps.validateDomainXml ? { validateDomainXml: deps.validateDomainXml } : {}),
      workDir: dir,
      logger: deps.log,
    });
  }

  phase('WritingManifests', 'writing the KubeVirt objects');
  const built = buildVirtualMachine(vm, plan, input.manifest);
  const manifestsDir = join(dir, 'manifests');
  await mkdir(manifestsDir, { recursive: true });
  const files: string[] = [];
  const vmFile = join(manifestsDir, 'virtualmachine.yaml');
  await writeFile(vmFile, stringify(built.virtualMachine, { lineWidth: 0 }));
  files.push(vmFile);
  for (const t of built.virtualMachine.spec.dataVolumeTemplates ?? []) {
    const dvFile = join(manifestsDir, `datavolume-${t.metadata.name}.yaml`);
    await writeFile(dvFile, stringify(standaloneDataVolume(t, input.manifest.namespace), { lineWidth: 0 }));
    files.push(dvFile);
  }
  const result: ConvertVmResult = {
    skipped: false,
    disks,
    ...(conversion ? { conversion } : {}),
    manifests: files,
    virtualMachine: built.virtualMachine,
    warnings: [...built.warnings, ...(conversion?.warnings ?? [])],
  };
  // Written last and atomically: its presence is what "complete" means.
  await writeFileAtomic(completeMarkerPath(dir), `${JSON.stringify({ vmId: vm.id, vmName: vm.name, finishedAt: new Date().toISOString(), result }, null, 2)}\n`);
  phase('Succeeded', `${vm.name} converted`);
  return result;
}
