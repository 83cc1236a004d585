// Applies a NIC plan inside the guest in the same appliance launch that read
// the files (see guestfish.ts), and reports every file changed.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Nic } from '../model.js';
import { listDevices, probeLinuxRoot, type DeviceListing, type FoundGuest } from './guest-probe.js';
import { GuestfishSession, type GuestfishDrive } from './guestfish.js';
import { NETWORK_CONFIG_GLOBS, planNicRenames, type GuestFile, type NicAssignment, type NicNaming, type SkippedName } from './nics.js';

export interface GuestOs {
  root: string;
  type: string;
  distro: string;
  productName: string;
  majorVersion: number;
  minorVersion: number;
  osinfo: string;
  hostname: string;
}

export interface ChangedFile {
  path: string;
  renamedTo?: string;
  created: boolean;
  changes: string[];
}

export interface NicRenameReport {
  naming: NicNaming;
  /** Nothing needed changing (a second run, or nothing to do). */
  unchanged: boolean;
  changed: ChangedFile[];
  assignments: NicAssignment[];
  skipped: SkippedName[];
  /** Set when the whole step was skipped (not Linux, no OS found). */
  notApplied?: string;
}

export interface Mount {
  mountpoint: string;
  device: string;
}

/**
 * Mounts the guest's filesystems, parents first. Read-only until something
 * must be written, so that a run with nothing to change leaves the disk
 * byte-identical (a read-write ext4 mount alone rewrites the superblock).
 */
export async function mountAll(fish: GuestfishSession, mounts: Mount[], readOnly: boolean): Promise<void> {
  // A leading '-' keeps the server alive when one filesystem does not mount (swap listed in fstab, …).
  await fish.batch([['umount-all'], ...mounts.map(({ mountpoint, device }) => [readOnly ? '-mount-ro' : '-mount', device, mountpoint])]);
}

/** libguestfs's inspection: the OS and where its filesystems mount; undefined when there is none. */
export async function inspectOs(fish: GuestfishSession): Promise<FoundGuest | undefined> {
  const roots = await fish.lines('inspect-os');
  const root = roots[0];
  if (!root) return undefined;
  const fields = ['type', 'distro', 'product-name', 'major-version', 'minor-version', 'osinfo', 'hostname'];
  const values = (await fish.batch(fields.map((f) => [`inspect-get-${f}`, root]))).split('\n');
  const value = (f: string): string => values[fields.indexOf(f)]?.trim() ?? '';
  const os: GuestOs = {
    root,
    type: value('type'),
    distro: value('distro'),
    productName: value('product-name'),
    majorVersion: Number(value('major-version')),
    minorVersion: Number(value('minor-version')),
    osinfo: value('osinfo'),
    hostname: value('hostname'),
  };
  const mounts = (await fish.lines('inspect-get-mountpoints', root))
    .map((line) => /^(\S+): (\S+)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ mountpoint: m[1]!, device: m[2]! }))
    .sort((a, b) => a.mountpoint.length - b.mountpoint.length);
  return { os, mounts };
}

/** The guest's OS: the cheap probe (guest-probe.ts) first, inspect-os when it cannot tell. */
export async function findGuest(fish: GuestfishSession, listing: DeviceListing): Promise<FoundGuest | undefined> {
  return (await probeLinuxRoot(fish, listing)) ?? (await inspectOs(fish));
}

/** Finds the OS and mounts its filesystems read-only; undefined when there is none. */
export async function inspectAndMount(fish: GuestfishSession): Promise<FoundGuest | undefined> {
  const guest = await findGuest(fish, await listDevices(fish));
  if (guest) await mountAll(fish, guest.mounts, true);
  return guest;
}

/** The files byte for byte (`download`; guestfish's `cat` appends a newline). */
async function readNetworkFiles(fish: GuestfishSession, staging: string): Promise<GuestFile[]> {
  const globbed = await fish.batch(NETWORK_CONFIG_GLOBS.map((pattern) => ['glob-expand', pattern]));
  const paths = [...new Set(globbed.split('\n').filter((l) => l.startsWith('/')))].sort();
  const kinds = (await fish.batch(paths.map((path) => ['is-file', path]))).split('\n');
  const regular = paths.filter((_, i) => kinds[i]?.trim() === 'true');
  const locals = regular.map((_, i) => join(staging, `read-${i}`));
  await fish.batch(regular.map((path, i) => ['download', path, locals[i]!]));
  return Promise.all(regular.map(async (path, i) => ({ path, content: await readFile(locals[i]!, 'utf8') })));
}

/** The report when the step does not apply to the guest at all. */
export function notApplied(naming: NicNaming, why: string): NicRenameReport {
  return { naming, unchanged: true, changed: [], assignments: [], skipped: [], notApplied: why };
}

/** Plans against the mounted guest and applies the plan; the session stays open. */
export async function renameNicsInSession(fish: GuestfishSession, guest: { os: GuestOs; mounts: Mount[] }, nics: Nic[], naming: NicNaming): Promise<NicRenameReport> {
  const { os } = guest;
  if (os.type !== 'linux') {
    return notApplied(naming, `${os.type} guest: NIC names are not configured in files`);
  }
  const staging = await mkdtemp(join(tmpdir(), 'v2v-nics-'));
  try {
    const plan = planNicRenames(await readNetworkFiles(fish, staging), nics, naming);
    if (plan.edits.length) await mountAll(fish, guest.mounts, false);
    const writes: string[][] = [];
    for (const [i, edit] of plan.edits.entries()) {
      const target = edit.renameTo ?? edit.path;
      if (edit.renameTo) writes.push(['mv', edit.path, edit.renameTo]);
      if (edit.create) writes.push(['mkdir-p', target.slice(0, target.lastIndexOf('/'))]);
      const local = join(staging, `write-${i}`);
      await writeFile(local, edit.content);
      // upload keeps the mode of an existing file (keyfiles must stay 0600).
      writes.push(['upload', local, target]);
      if (edit.create) writes.push(['chmod', `0${(edit.mode ?? 0o644).toString(8)}`, target]);
    }
    await fish.batch(writes);
    if (plan.edits.length && (await fish.run('is-file', '/etc/selinux/config')).trim() === 'true') {
      // New and rewritten files need their SELinux labels; the guest relabels on next boot.
      await fish.run('touch', '/.autorelabel');
    }
    return {
      naming,
      unchanged: plan.edits.length === 0,
      changed: plan.edits.map((e) => ({ path: e.path, ...(e.renameTo ? { renamedTo: e.renameTo } : {}), created: e.create, changes: e.changes })),
      assignments: plan.assignments,
      skipped: plan.skipped,
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

export const NO_OS = 'no operating system found on the disks';

/**
 * One appliance launch: inspect, mount, read the network files, plan, write.
 * Used on its own (`v2v` on already converted disks) and by convertGuest on
 * the overlays.
 */
export async function renameGuestNics(options: {
  drives: GuestfishDrive[];
  nics: Nic[];
  naming: NicNaming;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}): Promise<{ os: GuestOs | undefined; report: NicRenameReport }> {
  const fish = await GuestfishSession.start(options.drives, options.env, options.signal);
  const onAbort = (): void => fish.kill();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const guest = await inspectAndMount(fish);
    const os = guest?.os;
    const report = guest
      ? await renameNicsInSession(fish, guest, options.nics, options.naming)
      : notApplied(options.naming, NO_OS);
    await fish.close();
    return { os, report };
  } catch (error) {
    fish.kill();
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
