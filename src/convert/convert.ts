// Converts copied disks in place with virt-v2v-in-place, safely: virt-v2v
// writes only to a qcow2 overlay per disk, committed into the disk only when
// it succeeded. The NIC appliance boots while virt-v2v runs and writes to
// overlays of its own (early-nics.ts). Every commit saves what it overwrites
// first, so a failure or a cancellation at any step leaves the disks
// byte-identical to how the copy left them.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InterruptedError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SourceVm } from '../model.js';
import { detectAcceleration } from './accel.js';
import { inPlaceArgv, libguestfsEnv, overlayCommitArgv, overlayCreateArgv } from './argv.js';
import { buildDomainXml, type DiskImageFormat } from './domain-xml.js';
import { classifyConversionFailure, ConversionError } from './errors.js';
import { CommitUndo, overlayRanges } from './commit-undo.js';
import { EarlyNicSession } from './early-nics.js';
import type { GuestOs } from './guest-probe.js';
import { renameGuestNics, type NicRenameReport } from './nics-apply.js';
import type { NicNaming } from './nics.js';
import { ProgressParser, type ConversionProgress } from './progress.js';
import { runTool } from './run-tool.js';

export interface ConvertDisk {
  /** The copied disk (file or block device); it is only written at commit. */
  path: string;
  format: DiskImageFormat;
  block?: boolean;
}

export type ConvertStep = 'preparing' | 'converting' | 'renaming-nics' | 'committing' | 'done';

export type ConvertEvent = { kind: 'step'; step: ConvertStep } | ConversionProgress;

export interface ConvertGuestOptions {
  vm: SourceVm;
  /** The copied disks, in the order of `vm.disks`. */
  disks: ConvertDisk[];
  nicNaming?: NicNaming;
  signal?: AbortSignal;
  onProgress?: (event: ConvertEvent) => void;
  /**
   * Checks the generated domain XML before virt-v2v reads it. The seam for the
   * libvirt binding (virDomainDefineXML on a test:///default connection);
   * omitted, virt-v2v's own parser is the only check.
   */
  validateDomainXml?: (xml: string) => void | Promise<void>;
  /** Where the overlays and the domain XML live while converting (default: the OS temp dir). */
  workDir?: string;
  env: Readonly<NodeJS.ProcessEnv>;
  logger?: Logger;
  /** virt-v2v -v -x (very large output). */
  verbose?: boolean;
}

export interface ConversionReport {
  os: GuestOs | undefined;
  nics: NicRenameReport;
  /** virt-v2v's warnings, as printed. */
  warnings: string[];
  acceleration: { forceTcg: boolean; reason: string };
  seconds: { virtV2v: number; nics: number; commit: number; total: number };
}

function overlayPath(dir: string, index: number): string {
  return join(dir, `disk${index}.overlay.qcow2`);
}

function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new InterruptedError(`conversion cancelled ${what}; the disks are unchanged`);
}

/** Commits each overlay into its base disk, saving first what the commit overwrites. */
async function commitOverlays(pairs: { overlay: string; base: string }[], undo: CommitUndo[], work: string, env: NodeJS.ProcessEnv, logger?: Logger): Promise<void> {
  for (const { overlay, base } of pairs) {
    const saved = await CommitUndo.save(base, await overlayRanges(overlay, env), join(work, `undo-${undo.length}.bin`));
    undo.push(saved);
    const committed = await runTool('qemu-img', overlayCommitArgv(overlay), { env });
    if (committed.code !== 0) {
      throw new ConversionError('CONVERSION_COMMIT_FAILED', `writing the converted guest into ${base} failed: ${committed.output.trim()}`, {
        hint: 'check the target has room and is writable',
        details: { disk: base },
      });
    }
    logger?.info({ disk: base, overlay, undoBytes: saved.bytes }, 'overlay committed; what it overwrote is kept until the conversion ends');
  }
}

/** Puts the disks back as the copy left them; if even that fails, says the disks must be copied again. */
async function restore(undo: CommitUndo[], failure: unknown): Promise<void> {
  for (const saved of [...undo].reverse()) {
    try {
      await saved.restore();
    } catch (error) {
      throw new ConversionError('CONVERSION_COMMIT_FAILED', `the conversion failed and ${saved.base} could not be put back: ${(error as Error).message}`, {
        hint: 'the disk is partly converted and must be copied again from the source',
        details: { disk: saved.base },
        cause: failure,
      });
    }
  }
}

export async function convertGuest(options: ConvertGuestOptions): Promise<ConversionReport> {
  const { vm, signal } = options;
  const emit = options.onProgress ?? ((): void => undefined);
  const started = performance.now();
  if (options.disks.length === 0) throw new ConversionError('CONVERSION_FAILED', `VM ${vm.name} has no disks to convert`);
  const disks = options.disks.map((d) => ({ ...d, path: resolve(d.path) }));
  throwIfAborted(signal, 'before it started');

  emit({ kind: 'step', step: 'preparing' });
  const acceleration = await detectAcceleration(options.env);
  const env = libguestfsEnv(options.env, acceleration);
  options.logger?.info({ acceleration }, `libguestfs acceleration: ${acceleration.forceTcg ? 'TCG' : 'KVM'} (${acceleration.reason})`);

  const parent = options.workDir ?? tmpdir();
  await mkdir(parent, { recursive: true });
  const work = await mkdtemp(join(parent, 'v2v-convert-'));
  // What the commits overwrote, newest last: put back if anything fails. The files live in `work`.
  const undo: CommitUndo[] = [];
  try {
    const overlays = disks.map((_, i) => overlayPath(work, i));
    for (const [i, disk] of disks.entries()) {
      const created = await runTool('qemu-img', overlayCreateArgv(disk, overlays[i]!), { env });
      if (created.code !== 0) {
        throw new ConversionError('CONVERSION_FAILED', `could not create the overlay for ${disk.path}: ${created.output.trim()}`, {
          hint: 'check the disk exists and is readable',
        });
      }
    }
    const xml = buildDomainXml(
      vm,
      overlays.map((path, i) => ({ path, format: 'qcow2', ...(vm.disks[i]?.controller.bus ? { bus: vm.disks[i].controller.bus } : {}) })),
    );
    await options.validateDomainXml?.(xml);
    const domainXml = join(work, 'domain.xml');
    await writeFile(domainXml, xml);

    // The NIC appliance boots and inspects while virt-v2v runs (early-nics.ts).
    const early = disks.every((d) => d.format === 'raw')
      ? EarlyNicSession.begin({ bases: disks.map((d) => d.path), workDir: work, env, ...(signal ? { signal } : {}) })
      : undefined;
    try {
      // --- virt-v2v-in-place on the overlays
      throwIfAborted(signal, 'before virt-v2v ran');
      emit({ kind: 'step', step: 'converting' });
      const warnings: string[] = [];
      const parser = new ProgressParser((event) => {
        if (event.kind === 'warning') warnings.push(event.message);
        options.logger?.debug({ event }, 'virt-v2v progress');
        emit(event);
      });
      const v2vStarted = performance.now();
      const result = await runTool('virt-v2v-in-place', inPlaceArgv({ domainXml, verbose: options.verbose ?? false }), {
        env,
        onOutput: (chunk) => {
          parser.push(chunk);
          options.logger?.debug({ tool: 'virt-v2v-in-place', output: chunk }, 'virt-v2v output');
        },
        ...(signal ? { signal } : {}),
      });
      parser.flush();
      const v2vSeconds = (performance.now() - v2vStarted) / 1000;
      if (result.aborted) throw new InterruptedError('conversion cancelled while virt-v2v ran; the disks are unchanged');
      if (result.code !== 0) throw classifyConversionFailure('virt-v2v-in-place', result, result.output);
      options.logger?.info({ seconds: v2vSeconds, warnings }, 'virt-v2v-in-place finished');

      // --- NIC names
      throwIfAborted(signal, 'before the NICs were renamed');
      emit({ kind: 'step', step: 'renaming-nics' });
      const nicsStarted = performance.now();
      const readiness = early ? await early.ready() : ({ ok: false, reason: 'a disk is not raw' } as const);
      let renamed: Awaited<ReturnType<typeof renameGuestNics>>;
      let commitSeconds = 0;
      throwIfAborted(signal, 'before the disks were written');
      if (readiness.ok) {
        // virt-v2v's work goes into the disks now, so that the waiting appliance sees it; undone on failure.
        const commitStarted = performance.now();
        await commitOverlays(
          overlays.map((overlay, i) => ({ overlay, base: disks[i]!.path })),
          undo,
          work,
          env,
          options.logger,
        );
        commitSeconds += (performance.now() - commitStarted) / 1000;
        renamed = await early!.rename(vm.nics, options.nicNaming ?? 'eth');
      } else {
        options.logger?.info({ reason: readiness.reason }, 'NIC renaming in its own appliance launch after virt-v2v');
        renamed = await renameGuestNics({
          drives: overlays.map((path) => ({ path, format: 'qcow2' })),
          nics: vm.nics,
          naming: options.nicNaming ?? 'eth',
          env,
          ...(signal ? { signal } : {}),
        });
      }
      const nicsSeconds = (performance.now() - nicsStarted) / 1000 - commitSeconds;
      throwIfAborted(signal, 'before the disks were written');

      // --- commit: the last writes into the disks
      emit({ kind: 'step', step: 'committing' });
      const commitStarted = performance.now();
      const last = readiness.ok ? await early!.finish() : overlays.map((overlay, i) => ({ overlay, base: disks[i]!.path }));
      await commitOverlays(last, undo, work, env, options.logger);
      commitSeconds += (performance.now() - commitStarted) / 1000;
      emit({ kind: 'step', step: 'done' });
      return {
        os: renamed.os,
        nics: renamed.report,
        warnings,
        acceleration,
        seconds: { virtV2v: v2vSeconds, nics: nicsSeconds, commit: commitSeconds, total: (performance.now() - started) / 1000 },
      };
    } finally {
      await early?.discard();
    }
  } catch (error) {
    await restore(undo, error);
    if (signal?.aborted && !(error instanceof InterruptedError)) {
      throw new InterruptedError('conversion cancelled; the disks are unchanged', { cause: error });
    }
    throw error;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
