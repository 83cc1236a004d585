// What test/guest/build-guest.sh puts in the Debian test guest, for tests (and
// the end-to-end pipeline) that build a matching SourceVm.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Nic, SourceVm } from '../../src/model.js';
import { REPO } from '../helpers/peers.js';

/** The guest's NICs as its files name them, with the MAC or PCI slot that ties each to a VM NIC. */
export const GUEST_NICS = {
  /** /etc/sysconfig/network-scripts/ifcfg-vmnic0 as the seed shows it: NAME and DEVICE vmnic0, no HWADDR (tied as the first NIC). */
  vmnic0: { mac: '00:50:56:aa:00:01', pciSlot: 160 },
  /** ifupdown stanza in /etc/network/interfaces (no MAC: tied by PCI slot 192). */
  ens192: { mac: '00:50:56:aa:00:04', pciSlot: 192 },
  /** NetworkManager keyfile vmnic1.nmconnection with mac-address (upper case). */
  vmnic1: { mac: '00:50:56:aa:00:02', pciSlot: 193 },
  /** netplan 50-vmware.yaml, match.macaddress + set-name. */
  ens224: { mac: '00:50:56:aa:00:03', pciSlot: 224 },
} as const;

export function guestNic(name: keyof typeof GUEST_NICS): Nic {
  const { mac, pciSlot } = GUEST_NICS[name];
  return { mac, pciSlot, model: 'vmxnet3', network: { name: 'VM Network' } };
}

/** A vSphere-shaped SourceVm for the guest disk(s): SCSI disk, BIOS, the four NICs. */
export function guestVm(overrides: Partial<SourceVm> = {}): SourceVm {
  return {
    id: 'vm-42',
    name: 'debian-guest',
    isTemplate: false,
    powerState: 'off',
    os: { sourceId: 'debian12_64Guest', name: 'Debian GNU/Linux 12 (64-bit)' },
    cpu: { sockets: 1, coresPerSocket: 1 },
    memoryMiB: 1024,
    firmware: 'bios',
    secureBoot: false,
    disks: [
      {
        key: '2000',
        capacityBytes: 700 * 1024 * 1024,
        controller: { bus: 'scsi', model: 'ParaVirtualSCSIController', key: '1000' },
        unitNumber: 0,
        shared: false,
      },
    ],
    controllers: [{ key: '1000', bus: 'scsi', model: 'ParaVirtualSCSIController', busNumber: 0 }],
    nics: [guestNic('vmnic0'), guestNic('ens192'), guestNic('vmnic1'), guestNic('ens224')],
    snapshots: [],
    source: { type: 'vsphere', moref: 'vm-42', changeTrackingEnabled: false, devices: [], tpm: false },
    ...overrides,
  };
}

/**
 * The built guest images (scripts/setup.sh runs the builder). Building here
 * when missing keeps a fresh checkout working; it takes ~2.5 min once.
 */
export function guestImages(): { debian: string; noRoot: string } {
  // V2V_GUEST_DIR: where the images are (default .cache/guest, which CI caches).
  const dir = process.env['V2V_GUEST_DIR'] ?? `${REPO}.cache/guest`;
  execFileSync('bash', [`${REPO}test/guest/build-guest.sh`, dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const debian = `${dir}/debian-guest.img`;
  const noRoot = `${dir}/noroot-guest.img`;
  if (!existsSync(debian) || !existsSync(noRoot)) throw new Error(`test guest images missing in ${dir} after build-guest.sh`);
  return { debian, noRoot };
}
