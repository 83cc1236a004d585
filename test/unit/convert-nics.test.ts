import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Nic } from '../../src/model.js';
import { orderNics, planNicRenames, udevRules, UDEV_RULES_PATH, type GuestFile, type NicPlan } from '../../src/convert/nics.js';
import { guestNic, guestVm } from '../guest/guest.js';
import { REPO } from '../helpers/peers.js';

const guestFile = (path: string): GuestFile => ({ path, content: readFileSync(`${REPO}test/guest/files${path}`, 'utf8') });

/** The network files test/guest/build-guest.sh puts in the guest, as the executor reads them. */
const GUEST_FILES: GuestFile[] = [
  guestFile('/etc/NetworkManager/system-connections/vmnic1.nmconnection'),
  guestFile('/etc/netplan/50-vmware.yaml'),
  guestFile('/etc/network/interfaces'),
  guestFile('/etc/sysconfig/network-scripts/ifcfg-vmnic0'),
];

/** What the guest looks like after a plan is applied (what the executor does with guestfish). */
function apply(files: GuestFile[], plan: NicPlan): GuestFile[] {
  const out = new Map(files.map((f) => [f.path, f.content]));
  for (const edit of plan.edits) {
    out.delete(edit.path);
    out.set(edit.renameTo ?? edit.path, edit.content);
  }
  return [...out].map(([path, content]) => ({ path, content })).sort((a, b) => a.path.localeCompare(b.path));
}

const nic = (mac: string, pciSlot?: number): Nic => ({ mac, model: 'vmxnet3', network: { name: 'n' }, ...(pciSlot !== undefined ? { pciSlot } : {}) });

describe('NIC order', () => {
  it('orders by PCI slot, NICs without a slot last, ties by MAC', () => {
    const ordered = orderNics([nic('00:50:56:00:00:09'), nic('00:50:56:00:00:02', 224), nic('00:50:56:00:00:01'), nic('00:50:56:00:00:03', 160)]);
    expect(ordered.map((n) => n.mac)).toEqual(['00:50:56:00:00:03', '00:50:56:00:00:02', '00:50:56:00:00:01', '00:50:56:00:00:09']);
  });
});

describe("NIC renaming plan on the test guest's files (eth)", () => {
  const plan = planNicRenames(GUEST_FILES, guestVm().nics, 'eth');
  const after = apply(GUEST_FILES, plan);
  const file = (path: string): string => after.find((f) => f.path === path)?.content ?? `<${path} missing>`;

  it('assigns ethN by PCI slot and ties each guest name by MAC or ens<slot>', () => {
    expect(plan.assignments.map((a) => [a.guestNames, a.name])).toEqual([
      [['vmnic0'], 'eth0'],
      [['ens192'], 'eth1'],
      [['vmnic1'], 'eth2'],
      [['ens224'], 'eth3'],
    ]);
    expect(plan.skipped).toEqual([]);
  });

  it('ifcfg-vmnic0 → ifcfg-eth0 with NAME and DEVICE rewritten, HWADDR kept', () => {
    const ifcfg = file('/etc/sysconfig/network-scripts/ifcfg-eth0');
    expect(ifcfg).toMatch(/^NAME=eth0$/m);
    expect(ifcfg).toMatch(/^DEVICE=eth0$/m);
    expect(ifcfg).toMatch(/^HWADDR=00:50:56:aa:00:01$/m);
    expect(after.some((f) => f.path.endsWith('ifcfg-vmnic0'))).toBe(false);
  });

  it('NetworkManager keyfile: interface-name and id rewritten, file renamed, MAC kept', () => {
    const keyfile = file('/etc/NetworkManager/system-connections/eth2.nmconnection');
    expect(keyfile).toMatch(/^interface-name=eth2$/m);
    expect(keyfile).toMatch(/^id=eth2$/m);
    expect(keyfile).toMatch(/^mac-address=00:50:56:AA:00:02$/m);
  });

  it('netplan: set-name rewritten, match.macaddress kept, comments kept', () => {
    const netplan = file('/etc/netplan/50-vmware.yaml');
    expect(netplan).toContain('set-name: eth3');
    expect(netplan).toContain('macaddress: "00:50:56:aa:00:03"');
    expect(netplan).toContain('# netplan config pinning');
  });

  it('ifupdown: allow-hotplug and iface stanza follow the rename, lo untouched', () => {
    const interfaces = file('/etc/network/interfaces');
    expect(interfaces).toContain('allow-hotplug eth1\niface eth1 inet dhcp');
    expect(interfaces).toContain('iface lo inet loopback');
    expect(interfaces).not.toMatch(/^[^#]*ens192/m);
  });

  it('writes a udev rule pinning every MAC to its ethN', () => {
    const rules = plan.edits.find((e) => e.path === UDEV_RULES_PATH);
    expect(rules).toMatchObject({ create: true, mode: 0o644 });
    expect(rules?.content).toBe(
      udevRules([
        { mac: '00:50:56:aa:00:01', name: 'eth0' },
        { mac: '00:50:56:aa:00:04', name: 'eth1' },
        { mac: '00:50:56:aa:00:02', name: 'eth2' },
        { mac: '00:50:56:aa:00:03', name: 'eth3' },
      ]),
    );
    expect(rules?.content).toContain('ATTR{address}=="00:50:56:aa:00:01", ATTR{type}=="1", NAME="eth0"');
  });

  it('is idempotent: planning again on the result changes nothing', () => {
    const again = planNicRenames(after, guestVm().nics, 'eth');
    expect(again.edits).toEqual([]);
    expect(again.skipped).toEqual([]);
  });
});

describe('NIC naming keep: files untouched, MACs pinned to the names the guest uses', () => {
  it('pins only the NICs the guest names', () => {
    const vm = guestVm({ nics: [guestNic('vmnic0'), guestNic('vmnic1'), nic('00:50:56:ff:ff:ff', 300)] });
    const plan = planNicRenames(GUEST_FILES, vm.nics, 'keep');
    expect(plan.edits.map((e) => e.path)).toEqual([UDEV_RULES_PATH]);
    expect(plan.edits[0]!.content).toBe(
      udevRules([
        { mac: '00:50:56:aa:00:01', name: 'vmnic0' },
        { mac: '00:50:56:aa:00:02', name: 'vmnic1' },
      ]),
    );
    const after = apply(GUEST_FILES, plan);
    expect(planNicRenames(after, vm.nics, 'keep').edits).toEqual([]);
  });
});

describe('NIC renaming edge cases', () => {
  const cases: { name: string; files: GuestFile[]; nics: Nic[]; expectEdits: string[]; expectSkipped: string[] }[] = [
    {
      name: 'a single-NIC VM renames only what ties to it; the rest is reported, untouched',
      files: GUEST_FILES,
      nics: [guestNic('vmnic0')],
      expectEdits: ['/etc/sysconfig/network-scripts/ifcfg-vmnic0', UDEV_RULES_PATH],
      expectSkipped: ['vmnic1', 'ens224', 'ens192'],
    },
    {
      name: 'quoted ifcfg values and a DEVICE that differs from the file name',
      files: [{ path: '/etc/sysconfig/network-scripts/ifcfg-System_ens160', content: 'NAME="System ens160"\nDEVICE="ens160"\nHWADDR="00:50:56:AA:BB:CC"\n' }],
      nics: [nic('00:50:56:aa:bb:cc', 160)],
      expectEdits: ['/etc/sysconfig/network-scripts/ifcfg-System_ens160', UDEV_RULES_PATH],
      expectSkipped: [],
    },
    {
      name: 'a target file that exists already is not overwritten',
      files: [
        { path: '/etc/sysconfig/network-scripts/ifcfg-vmnic0', content: 'DEVICE=vmnic0\nHWADDR=00:50:56:aa:00:01\n' },
        { path: '/etc/sysconfig/network-scripts/ifcfg-eth0', content: 'DEVICE=eth0\n' },
      ],
      nics: [guestNic('vmnic0')],
      expectEdits: [UDEV_RULES_PATH],
      expectSkipped: ['ifcfg-vmnic0'],
    },
    {
      name: 'one name tied to two MACs is ambiguous and left alone',
      files: [
        { path: '/etc/sysconfig/network-scripts/ifcfg-vmnic0', content: 'DEVICE=vmnic0\nHWADDR=00:50:56:aa:00:01\n' },
        { path: '/etc/NetworkManager/system-connections/x.nmconnection', content: '[connection]\ninterface-name=vmnic0\n[ethernet]\nmac-address=00:50:56:aa:00:02\n' },
      ],
      nics: [guestNic('vmnic0'), guestNic('vmnic1')],
      expectEdits: [UDEV_RULES_PATH],
      expectSkipped: ['vmnic0', 'vmnic0'],
    },
    {
      name: 'netplan without match: the id is the name; bridges follow the renamed id',
      files: [
        { path: '/etc/netplan/01.yaml', content: 'network:\n  ethernets:\n    ens192:\n      dhcp4: false\n  bridges:\n    br0:\n      interfaces: [ens192]\n      dhcp4: true\n' },
      ],
      nics: [nic('00:50:56:00:00:01', 192)],
      expectEdits: ['/etc/netplan/01.yaml', UDEV_RULES_PATH],
      expectSkipped: [],
    },
  ];
  it.each(cases)('$name', ({ files, nics, expectEdits, expectSkipped }) => {
    const plan = planNicRenames(files, nics, 'eth');
    expect(plan.edits.map((e) => e.path).sort()).toEqual([...expectEdits].sort());
    expect(plan.skipped.map((s) => s.name).sort()).toEqual([...expectSkipped].sort());
    expect(planNicRenames(apply(files, plan), nics, 'eth').edits).toEqual([]);
  });

  it('quoted ifcfg: NAME keeps its prefix and quotes', () => {
    const plan = planNicRenames(
      [{ path: '/etc/sysconfig/network-scripts/ifcfg-System_ens160', content: 'NAME="System ens160"\nDEVICE="ens160"\nHWADDR="00:50:56:AA:BB:CC"\n' }],
      [nic('00:50:56:aa:bb:cc', 160)],
      'eth',
    );
    expect(plan.edits[0]).toMatchObject({ content: 'NAME="System eth0"\nDEVICE="eth0"\nHWADDR="00:50:56:AA:BB:CC"\n' });
    expect(plan.edits[0]!.renameTo).toBeUndefined();
  });

  it('netplan bridge: the bridge member list names the new id', () => {
    const plan = planNicRenames(
      [{ path: '/etc/netplan/01.yaml', content: 'network:\n  ethernets:\n    ens192:\n      dhcp4: false\n  bridges:\n    br0:\n      interfaces: [ens192]\n      dhcp4: true\n' }],
      [nic('00:50:56:00:00:01', 192)],
      'eth',
    );
    expect(plan.edits[0]!.content).toBe('network:\n  ethernets:\n    eth0:\n      dhcp4: false\n  bridges:\n    br0:\n      interfaces: [ eth0 ]\n      dhcp4: true\n');
  });

  it('an existing udev rules file with other content is replaced and reported', () => {
    const plan = planNicRenames([{ path: UDEV_RULES_PATH, content: 'SUBSYSTEM=="net", ATTR{address}=="00:50:56:aa:00:01", NAME="eth5"\n' }], [guestNic('vmnic0')], 'eth');
    expect(plan.edits).toEqual([expect.objectContaining({ path: UDEV_RULES_PATH, create: false, changes: ['00:50:56:aa:00:01 → eth0'] })]);
  });
});
