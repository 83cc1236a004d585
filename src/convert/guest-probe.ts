// Finds the guest's Linux root for the NIC step without libguestfs's
// inspect-os when one cheap look settles it. Under TCG inspect-os costs ~5 s
// of CPU (2.3 s of it loading augeas to read fstab), taken from the virt-v2v
// running beside the early appliance; the NIC files all live under /etc, on
// the root filesystem, so fstab is not needed. One batch mounts each
// candidate read-only and reads what names the OS; whatever that cannot
// settle (no root, several, no os-release) goes to inspect-os.
import { randomBytes } from 'node:crypto';
import type { GuestfishSession } from './guestfish.js';

/** The appliance's block devices, as its list commands print them. */
export interface DeviceListing {
  devices: string[];
  partitions: string[];
  lvs: string[];
  md: string[];
}

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

export interface Mount {
  mountpoint: string;
  device: string;
}

export interface FoundGuest {
  os: GuestOs;
  mounts: Mount[];
}

/**
 * Commands with an `echo` of a marker before each group, and how to cut
 * their output back into groups. A group's output is exactly what was printed
 * between its marker and the next (`pread` prints a file's bytes as they are,
 * a missing last newline included); a failed '-' command prints nothing, so a
 * group may be empty. The marker carries a random token, so that no file's
 * content can pass for one.
 */
export function sectioned(sections: { key: string; commands: string[][] }[]): { commands: string[][]; split(output: string): Map<string, string> } {
  const mark = `==v2v-${randomBytes(6).toString('hex')}== `;
  return {
    commands: [...sections.flatMap(({ key, commands }) => [['echo', `${mark}${key}`], ...commands]), ['echo', `${mark}`]],
    split(output) {
      const groups = new Map<string, string>();
      const parts = output.split(mark);
      for (const part of parts.slice(1, -1)) {
        const eol = part.indexOf('\n');
        groups.set(eol < 0 ? part : part.slice(0, eol), eol < 0 ? '' : part.slice(eol + 1));
      }
      return groups;
    },
  };
}

const devicesIn = (text: string | undefined): string[] => (text ?? '').split('\n').filter((l) => l.startsWith('/dev/'));

export async function listDevices(fish: GuestfishSession): Promise<DeviceListing> {
  const lists = { devices: 'list-devices', partitions: 'list-partitions', lvs: 'lvs', md: 'list-md-devices' } as const;
  const batch = sectioned(Object.entries(lists).map(([key, command]) => ({ key, commands: [[command]] })));
  const out = batch.split(await fish.batch(batch.commands));
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
  // '-': a candidate that does not mount (swap, a PV, no filesystem) only leaves its groups empty.
  const batch = sectioned(
    candidates.flatMap((device, i) => [
      { key: `${i} fstab`, commands: [['-umount-all'], ['-mount-ro', device, '/'], ['-is-file', '/etc/fstab']] },
      { key: `${i} os-release`, commands: [['-pread', '/etc/os-release', '65536', '0']] },
      { key: `${i} hostname`, commands: [['-pread', '/etc/hostname', '4096', '0']] },
    ]),
  );
  const out = batch.split(await fish.batch([...batch.commands, ['-umount-all']]));
  const roots = candidates.flatMap((device, i) => (out.get(`${i} fstab`)?.trim() === 'true' ? [{ device, i }] : []));
  if (roots.length !== 1) return undefined;
  const { device, i } = roots[0]!;
  const os = osFromRelease(device, out.get(`${i} os-release`) ?? '', out.get(`${i} hostname`) ?? '');
  return os ? { os, mounts: [{ mountpoint: '/', device }] } : undefined;
}
