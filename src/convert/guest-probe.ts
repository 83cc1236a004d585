// Finds the guest's Linux root for the NIC step without libguestfs's
// inspect-os when one cheap look settles it. Under TCG inspect-os costs ~5 s
// of CPU (2.3 s of it loading augeas to read fstab), taken from the virt-v2v
// running beside the early appliance; the NIC files all live under /etc, on
// the root filesystem, so fstab is not needed. One batch mounts each
// candidate read-only and reads what names the OS; whatever that cannot
// settle (no root, several, no os-release) goes to inspect-os.
import type { GuestfishSession } from './guestfish.js';
import type { GuestOs, Mount } from './nics-apply.js';

/** The appliance's block devices, as its list commands print them. */
export interface DeviceListing {
  devices: string[];
  partitions: string[];
  lvs: string[];
  md: string[];
}

export interface FoundGuest {
  os: GuestOs;
  mounts: Mount[];
}

const MARK = '==v2v== ';

/** Commands with an `echo` before each group, so that its output can be told apart (see splitSections). */
export function sectionedBatch(sections: { key: string; commands: string[][] }[]): string[][] {
  return sections.flatMap(({ key, commands }) => [['echo', `${MARK}${key}`], ...commands]);
}

/** Each section's output by key; a failed '-' command prints nothing, so a section may be empty. */
export function splitSections(output: string): Map<string, string> {
  const sections = new Map<string, string>();
  let key: string | undefined;
  let lines: string[] = [];
  const close = (): void => {
    if (key !== undefined) sections.set(key, lines.join('\n'));
  };
  for (const line of output.split('\n')) {
    if (line.startsWith(MARK)) {
      close();
      key = line.slice(MARK.length);
      lines = [];
    } else lines.push(line);
  }
  close();
  return sections;
}

const devicesIn = (text: string | undefined): string[] => (text ?? '').split('\n').filter((l) => l.startsWith('/dev/'));

export async function listDevices(fish: GuestfishSession): Promise<DeviceListing> {
  const lists = { devices: 'list-devices', partitions: 'list-partitions', lvs: 'lvs', md: 'list-md-devices' } as const;
  const out = splitSections(await fish.batch(sectionedBatch(Object.entries(lists).map(([key, command]) => ({ key, commands: [[command]] })))));
  return { devices: devicesIn(out.get('devices')), partitions: devicesIn(out.get('partitions')), lvs: devicesIn(out.get('lvs')), md: devicesIn(out.get('md')) };
}

/** Every block device, whole disks first. */
export function allDevices(listing: DeviceListing): string[] {
  return [...new Set([...listing.devices, ...listing.partitions, ...listing.lvs, ...listing.md])];
}

/** Where a filesystem can be: partitions, LVs, md arrays, and whole disks that carry no partition table. */
export function filesystemCandidates(listing: DeviceListing): string[] {
  const unpartitioned = listing.devices.filter((disk) => !listing.partitions.some((p) => p.startsWith(disk)));
  return [...new Set([...listing.partitions, ...listing.lvs, ...listing.md, ...unpartitioned])];
}

/** os-release(5): KEY=value lines, values optionally quoted. */
export function parseOsRelease(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let value = m[2]!.trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\(["\\$`])/g, '$1');
    }
    fields[m[1]!] = value;
  }
  return fields;
}

/**
 * The OS as its os-release names it. `distro` is the os-release ID and
 * `osinfo` is ID + VERSION_ID, which is libosinfo's short id for Debian,
 * Ubuntu, RHEL and Fedora (libguestfs's own names differ for a few others).
 */
export function osFromRelease(root: string, release: string, hostname: string): GuestOs | undefined {
  const fields = parseOsRelease(release);
  const id = fields['ID'];
  if (!id) return undefined;
  const version = fields['VERSION_ID'] ?? '';
  const [major, minor] = version.split('.').map((n) => Number.parseInt(n, 10));
  return {
    root,
    type: 'linux',
    distro: id,
    productName: fields['PRETTY_NAME'] ?? fields['NAME'] ?? id,
    majorVersion: Number.isFinite(major) ? major! : 0,
    minorVersion: Number.isFinite(minor) ? minor! : 0,
    osinfo: `${id}${version}`,
    hostname: hostname.trim(),
  };
}

/**
 * Mounts each candidate read-only in turn and looks for a Linux root (/etc/fstab,
 * as inspect-os does) that names itself in /etc/os-release. Undefined unless
 * exactly one is found: the caller then asks inspect-os.
 */
export async function probeLinuxRoot(fish: GuestfishSession, listing: DeviceListing): Promise<FoundGuest | undefined> {
  const candidates = filesystemCandidates(listing);
  if (candidates.length === 0) return undefined;
  // '-': a candidate that does not mount (swap, a PV, no filesystem) only leaves its sections empty.
  const out = splitSections(
    await fish.batch([
      ...candidates.flatMap((device, i) => [
        ['-mount-ro', device, '/'],
        ...sectionedBatch([
          { key: `${i} fstab`, commands: [['-is-file', '/etc/fstab']] },
          { key: `${i} os-release`, commands: [['-cat', '/etc/os-release']] },
          { key: `${i} hostname`, commands: [['-cat', '/etc/hostname']] },
        ]),
        ['-umount-all'],
      ]),
      ['echo', `${MARK}end`],
    ]),
  );
  const roots = candidates.flatMap((device, i) => (out.get(`${i} fstab`)?.trim() === 'true' ? [{ device, i }] : []));
  if (roots.length !== 1) return undefined;
  const { device, i } = roots[0]!;
  const os = osFromRelease(device, out.get(`${i} os-release`) ?? '', out.get(`${i} hostname`) ?? '');
  return os ? { os, mounts: [{ mountpoint: '/', device }] } : undefined;
}
