// Applies a NIC plan inside the guest in the same appliance launch that read
// the files (see guestfish.ts), and reports every file changed.
import type { Nic } from '../model.js';
import { listDevices, probeLinuxRoot, sectioned, type DeviceListing, type FoundGuest, type GuestOs, type Mount } from './guest-probe.js';
import { ConversionError } from './errors.js';
import { addressWarnings } from './nic-addresses.js';
import { GuestfishSession, type GuestfishDrive } from './guestfish.js';
import { NETWORK_CONFIG_GLOBS, planNicRenames, type GuestFile, type NicAssignment, type NicNaming, type SkippedName } from './nics.js';

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
  /** Where the addresses the source reports differ from what the files configure (nic-addresses.ts). */
  addressWarnings: string[];
  /** Set when the whole step was skipped (not Linux, no OS found). */
  notApplied?: string;
}

/**
 * The commands that mount the guest's filesystems, parents first. Read-only
 * until something must be written, so that a run with nothing to change leaves
 * the disk byte-identical (a read-write ext4 mount alone rewrites the superblock).
 */
function mountCommands(mounts: Mount[], readOnly: boolean): string[][] {
  // A leading '-' keeps the server alive when one filesystem does not mount (swap listed in fstab, …).
  return [['umount-all'], ...mounts.map(({ mountpoint, device }) => [readOnly ? '-mount-ro' : '-mount', device, mountpoint])];
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

/** The most a network file may hold: one `pread` reads it (libguestfs's messages stop at 4 MiB). */
const NETWORK_FILE_MAX = 1 << 20;

/**
 * Mounts the guest read-only and reads its network files byte for byte, in
 * two round trips: the globs, then each match's kind and content (`pread`;
 * `cat` and `download` cost ~0.1 s a file under TCG). `before` runs first in
 * the same batch. Also says whether the guest uses SELinux.
 */
async function readNetworkFiles(fish: GuestfishSession, mounts: Mount[], before: string[][]): Promise<{ files: GuestFile[]; selinux: boolean }> {
  const first = sectioned([
    { key: 'mount', commands: [...before, ...mountCommands(mounts, true)] },
    ...NETWORK_CONFIG_GLOBS.map((pattern, i) => ({ key: `glob ${i}`, commands: [['glob-expand', pattern]] })),
    { key: 'selinux', commands: [['is-file', '/etc/selinux/config']] },
  ]);
  const found = first.split(await fish.batch(first.commands));
  const paths = [...new Set(NETWORK_CONFIG_GLOBS.flatMap((_, i) => (found.get(`glob ${i}`) ?? '').split('\n').filter((l) => l.startsWith('/'))))].sort();
  const second = sectioned(
    paths.flatMap((path, i) => [
      {
        key: `${i} kind`,
        commands: [
          ['is-file', path],
          ['-filesize', path],
        ],
      },
      { key: `${i} content`, commands: [['-pread', path, String(NETWORK_FILE_MAX), '0']] },
    ]),
  );
  const read = second.split(await fish.batch(second.commands));
  const files: GuestFile[] = [];
  for (const [i, path] of paths.entries()) {
    const [regular, size] = (read.get(`${i} kind`) ?? '').split('\n');
    // Symlinks are left alone: writing through one would edit a file somewhere else.
    if (regular?.trim() !== 'true') continue;
    if (Number(size) > NETWORK_FILE_MAX) {
      throw new ConversionError('NIC_RENAME_FAILED', `${path} in the guest is ${size} bytes, too large to be a network configuration file`, {
        hint: 'network configuration files are a few KiB: check what this one holds in the source VM',
        details: { path, bytes: Number(size) },
      });
    }
    files.push({ path, content: read.get(`${i} content`) ?? '' });
  }
  return { files, selinux: found.get('selinux')?.trim() === 'true' };
}

/** The report when the step does not apply to the guest at all. */
export function notApplied(naming: NicNaming, why: string): NicRenameReport {
  return { naming, unchanged: true, changed: [], assignments: [], skipped: [], addressWarnings: [], notApplied: why };
}

/**
 * Mounts the guest, plans against its network files and applies the plan; the
 * session stays open. `before` runs in the first batch (the early appliance
 * drops its stale caches there).
 */
export async function renameNicsInSession(fish: GuestfishSession, guest: FoundGuest, nics: Nic[], naming: NicNaming, before: string[][] = []): Promise<NicRenameReport> {
  const { os } = guest;
  if (os.type !== 'linux') {
    return notApplied(naming, `${os.type} guest: NIC names are not configured in files`);
  }
  const { files, selinux } = await readNetworkFiles(fish, guest.mounts, before);
  const plan = planNicRenames(files, nics, naming);
  if (plan.edits.length) {
    const writes: string[][] = mountCommands(guest.mounts, false);
    for (const edit of plan.edits) {
      const target = edit.renameTo ?? edit.path;
      if (edit.renameTo) writes.push(['mv', edit.path, edit.renameTo]);
      if (edit.create) writes.push(['mkdir-p', target.slice(0, target.lastIndexOf('/'))]);
      // write keeps the mode of an existing file (keyfiles must stay 0600).
      writes.push(['write', target, edit.content]);
      if (edit.create) writes.push(['chmod', `0${(edit.mode ?? 0o644).toString(8)}`, target]);
    }
    // New and rewritten files need their SELinux labels; the guest relabels on next boot.
    if (selinux) writes.push(['touch', '/.autorelabel']);
    await fish.batch(writes);
  }
  return {
    naming,
    unchanged: plan.edits.length === 0,
    changed: plan.edits.map((e) => ({ path: e.path, ...(e.renameTo ? { renamedTo: e.renameTo } : {}), created: e.create, changes: e.changes })),
    assignments: plan.assignments,
    skipped: plan.skipped,
    addressWarnings: addressWarnings(files, nics, plan.assignments),
  };
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
    const guest = await findGuest(fish, await listDevices(fish));
    const os = guest?.os;
    const report = guest ? await renameNicsInSession(fish, guest, options.nics, options.naming) : notApplied(options.naming, NO_OS);
    await fish.close();
    return { os, report };
  } catch (error) {
    fish.kill();
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
