// The cheap root probe (src/convert/guest-probe.ts) on real disk layouts made
// with libguestfs: a root on LVM beside swap, a PV and a data filesystem; and
// a disk with two roots, which the probe must leave to inspect-os. The LVM
// root is XFS, as RHEL's is (libguestfs-xfs puts mkfs.xfs in the appliance).
// Three appliance launches (~12 s each under TCG).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDevices, probeLinuxRoot } from '../../src/convert/guest-probe.js';
import { GuestfishSession } from '../../src/convert/guestfish.js';

const MINUTES = 60_000;
const env = { ...process.env, LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' };

const RHEL_RELEASE = 'NAME="Red Hat Enterprise Linux"\nID="rhel"\nVERSION_ID="8.6"\nPRETTY_NAME="Red Hat Enterprise Linux 8.6 (Ootpa)"\n';

/** guestfish commands that make a minimal Linux root at the mounted / (what the probe and inspect-os look at). */
const rootFiles = (hostname: string): string =>
  [
    'mkdir-p /etc',
    'mkdir-p /bin',
    `write /etc/fstab "/dev/vg0/root / xfs defaults 0 0\\n"`,
    `write /etc/os-release "${RHEL_RELEASE.replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
    `write /etc/hostname "${hostname}\\n"`,
  ].join('\n');

let work: string;
let lvmDisk: string;
let twoRoots: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'v2v-probe-test-'));
  lvmDisk = join(work, 'lvm.img');
  twoRoots = join(work, 'two-roots.img');
  // Sparse; XFS wants 300 MB at least.
  execFileSync('truncate', ['-s', '512M', lvmDisk]);
  execFileSync('truncate', ['-s', '256M', twoRoots]);
  // /dev/sda: swap, a data ext4 with no /etc, and an LVM PV holding the xfs root.
  // /dev/sdb: two ext4 filesystems that both look like roots.
  const script = `
run
part-init /dev/sda mbr
part-add /dev/sda p 2048 65535
part-add /dev/sda p 65536 131071
part-add /dev/sda p 131072 -2048
mkswap /dev/sda1
mkfs ext4 /dev/sda2
pvcreate /dev/sda3
vgcreate vg0 /dev/sda3
lvcreate root vg0 320
mkfs xfs /dev/vg0/root
mount /dev/sda2 /
write /notes.txt "data only"
umount-all
mount /dev/vg0/root /
${rootFiles('lvm-guest')}
umount-all
part-init /dev/sdb mbr
part-add /dev/sdb p 2048 131071
part-add /dev/sdb p 131072 -2048
mkfs ext4 /dev/sdb1
mkfs ext4 /dev/sdb2
mount /dev/sdb1 /
${rootFiles('first')}
umount-all
mount /dev/sdb2 /
${rootFiles('second')}
umount-all
`;
  execFileSync('guestfish', ['-a', lvmDisk, '-a', twoRoots], { input: script, env, stdio: ['pipe', 'ignore', 'inherit'] });
}, 5 * MINUTES);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** The probe's answer, and libguestfs's inspect-os roots on the same disk to hold it against. */
async function probe(disk: string): Promise<{ found: Awaited<ReturnType<typeof probeLinuxRoot>>; inspectOsRoots: string[] }> {
  const fish = await GuestfishSession.start([{ path: disk, format: 'raw' }], env);
  try {
    const found = await probeLinuxRoot(fish, await listDevices(fish));
    return { found, inspectOsRoots: await fish.lines('inspect-os') };
  } finally {
    await fish.close();
  }
}

describe('probeLinuxRoot', () => {
  it(
    'finds the root on an LV among swap, a PV and a data filesystem, names it from os-release, and agrees with inspect-os',
    async () => {
      const { found, inspectOsRoots } = await probe(lvmDisk);
      expect(found).toEqual({
        os: {
          root: '/dev/vg0/root',
          type: 'linux',
          distro: 'rhel',
          productName: 'Red Hat Enterprise Linux 8.6 (Ootpa)',
          majorVersion: 8,
          minorVersion: 6,
          osinfo: 'rhel8.6',
          hostname: 'lvm-guest',
        },
        mounts: [{ mountpoint: '/', device: '/dev/vg0/root' }],
      });
      expect(inspectOsRoots).toEqual(['/dev/vg0/root']);
    },
    5 * MINUTES,
  );

  it(
    'leaves a disk with two roots to inspect-os',
    async () => {
      const { found, inspectOsRoots } = await probe(twoRoots);
      expect(inspectOsRoots).toEqual(['/dev/sda1', '/dev/sda2']);
      expect(found).toBeUndefined();
    },
    5 * MINUTES,
  );
});
