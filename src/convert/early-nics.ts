// Boots the NIC-renaming appliance while virt-v2v runs, so that its launch
// and inspection (15 s under TCG, a few under KVM) are off the critical path.
//
// The appliance cannot be given virt-v2v's overlays: qemu locks them and
// caches their metadata. It gets its own qcow2 overlay per disk instead,
// whose backing file is a live, read-only NBD view of the raw base disk
// (nbdkit's file plugin reads the file on every request). While virt-v2v
// works in its overlays the base does not change, so the appliance inspects
// a consistent guest. Once virt-v2v has succeeded, its overlays are committed
// into the base (with an undo, see commit-undo.ts); the appliance drops its
// block caches and sees the converted guest through the same view. Its own
// edits land in its overlays, which are committed last.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Nic } from '../model.js';
import { liveViewArgv, nbdOverlayCreateArgv, overlayRebaseArgv } from './argv.js';
import { overlayRanges } from './commit-undo.js';
import { ConversionError } from './errors.js';
import { GuestfishSession } from './guestfish.js';
import { allDevices, listDevices, type FoundGuest, type GuestOs } from './guest-probe.js';
import { findGuest, notApplied, NO_OS, renameNicsInSession, type NicRenameReport } from './nics-apply.js';
import type { NicNaming } from './nics.js';
import { runTool } from './run-tool.js';

interface View {
  base: string;
  overlay: string;
  nbdkit: ChildProcess;
}

interface Booted {
  fish: GuestfishSession;
  guest: FoundGuest | undefined;
  /** Every block device the appliance sees: disks, partitions, LVs, md. */
  devices: string[];
}

export type Readiness = { ok: true } | { ok: false; reason: string };

export class EarlyNicSession {
  private readonly views: View[] = [];
  private booted: Promise<Booted>;
  private fish: GuestfishSession | undefined;
  private sockets: string | undefined;
  /** Aborts a boot still in progress (the caller's signal, or discard()). */
  private readonly stop = new AbortController();
  private readonly signal: AbortSignal;

  private constructor(
    private readonly bases: string[],
    private readonly workDir: string,
    private readonly env: NodeJS.ProcessEnv,
    signal: AbortSignal | undefined,
  ) {
    this.signal = signal ? AbortSignal.any([signal, this.stop.signal]) : this.stop.signal;
    this.signal.addEventListener('abort', () => this.fish?.kill(), { once: true });
    this.booted = this.boot();
    // Failures surface through ready(); until then nobody is waiting.
    this.booted.catch(() => undefined);
  }

  /** Starts booting at once; nothing waits for it until `ready()`. */
  static begin(options: { bases: string[]; workDir: string; env: NodeJS.ProcessEnv; signal?: AbortSignal }): EarlyNicSession {
    return new EarlyNicSession(options.bases, options.workDir, options.env, options.signal);
  }

  private async boot(): Promise<Booted> {
    // Unix socket paths are limited to 107 bytes; the target directory can be deep.
    this.sockets = await mkdtemp(join(tmpdir(), 'v2v-view-'));
    for (const [i, base] of this.bases.entries()) {
      const socket = join(this.sockets, `disk${i}.sock`);
      const nbdkit = await startLiveView(base, socket, join(this.sockets, `disk${i}.pid`), join(this.sockets, `disk${i}.log`));
      const overlay = join(this.workDir, `disk${i}.nics.qcow2`);
      this.views.push({ base, overlay, nbdkit });
      const created = await runTool('qemu-img', nbdOverlayCreateArgv(socket, overlay), { env: this.env });
      if (created.code !== 0) throw new Error(`qemu-img create over the live view failed: ${created.output.trim()}`);
    }
    if (this.signal.aborted) throw new Error('stopped');
    this.fish = await GuestfishSession.start(
      this.views.map((v) => ({ path: v.overlay, format: 'qcow2' })),
      this.env,
      this.signal,
      { background: true },
    );
    // Listed once, at boot (lvs alone is 0.3 s under TCG): virt-v2v edits files, never partitions or LVs.
    const listing = await listDevices(this.fish);
    const guest = await findGuest(this.fish, listing);
    // Leave nothing mounted, and everything written reached the overlays.
    await this.fish.batch([['umount-all'], ['sync']]);
    return { fish: this.fish, guest, devices: allDevices(listing) };
  }

  /**
   * Whether the switch can happen: the appliance booted and inspected, and
   * wrote nothing to its overlays (a journal replay on a dirty filesystem
   * would have, and those blocks would hide virt-v2v's). Otherwise the
   * caller renames the NICs the ordinary way.
   */
  async ready(): Promise<Readiness> {
    let booted: Booted;
    try {
      booted = await this.booted;
    } catch (error) {
      return { ok: false, reason: `the early appliance did not start: ${(error as Error).message}` };
    }
    if (!booted.guest) return { ok: true };
    for (const view of this.views) {
      const written = await overlayRanges(view.overlay, this.env).catch((e: unknown) => e as Error);
      if (written instanceof Error) return { ok: false, reason: written.message };
      if (written.length) return { ok: false, reason: `inspection wrote to ${view.base} (a journal replayed?)` };
    }
    return { ok: true };
  }

  /** After the base disks hold the converted guest: drop stale caches, mount, rename. */
  async rename(nics: Nic[], naming: NicNaming): Promise<{ os: GuestOs | undefined; report: NicRenameReport }> {
    const { fish, guest, devices } = await this.booted;
    if (!guest) return { os: undefined, report: notApplied(naming, NO_OS) };
    // What the appliance read before virt-v2v's commit is stale now.
    const flush = devices.map((d) => ['blockdev-flushbufs', d]);
    return { os: guest.os, report: await renameNicsInSession(fish, guest, nics, naming, flush) };
  }

  /**
   * Stops the appliance and the views and points each overlay at its base
   * disk: what is left is an ordinary overlay per disk, to commit.
   */
  async finish(): Promise<{ overlay: string; base: string }[]> {
    await this.fish?.close();
    await this.stopViews();
    for (const view of this.views) {
      const result = await runTool('qemu-img', overlayRebaseArgv(view.overlay, { path: view.base, format: 'raw' }), { env: this.env });
      if (result.code !== 0) throw new ConversionError('NIC_RENAME_FAILED', `qemu-img rebase of ${view.overlay} failed: ${result.output.trim()}`);
    }
    return this.views.map(({ base, overlay }) => ({ base, overlay }));
  }

  /** Stops everything and deletes the overlays; safe to call more than once, and mid-boot. */
  async discard(): Promise<void> {
    this.stop.abort();
    await this.booted.catch(() => undefined);
    this.fish?.kill();
    await this.stopViews();
    await Promise.all(this.views.map((v) => rm(v.overlay, { force: true })));
    if (this.sockets) await rm(this.sockets, { recursive: true, force: true });
  }

  private async stopViews(): Promise<void> {
    await Promise.all(this.views.map((v) => stopProcess(v.nbdkit)));
  }
}

/** nbdkit writes its pid file once it accepts connections. */
async function startLiveView(base: string, socket: string, pidFile: string, log: string): Promise<ChildProcess> {
  const logFd = openSync(log, 'a');
  const child = spawn('nbdkit', liveViewArgv({ path: base, socket, pidFile }), { stdio: ['ignore', 'ignore', logFd] });
  closeSync(logFd);
  const exited = new Promise<string>((resolve) => {
    child.once('error', (e) => resolve(e.message));
    child.once('exit', (code) => resolve(`exit ${String(code)}`));
  });
  const deadline = Date.now() + 30_000;
  while (!existsSync(pidFile)) {
    const early = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(r, 20, undefined))]);
    if (early !== undefined || Date.now() > deadline) {
      child.kill('SIGKILL');
      const why = (await readFile(log, 'utf8').catch(() => '')).trim() || early || 'not ready after 30 s';
      throw new Error(`nbdkit could not serve ${base}: ${why}`);
    }
  }
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
