import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { V2vError } from '../../src/errors.js';
import type { Nic } from '../../src/model.js';
import {
  assertNicPlanConsistent,
  checkNicPlan,
  NETWORK_CONFIG_GLOBS,
  orderNics,
  planNicRenames,
  udevRules,
  UDEV_RULES_PATH,
  type GuestFile,
  type NicPlan,
} from '../../src/convert/nics.js';
import { guestNic, guestVm } from '../guest/guest.js';
import { guestTree, nic, NIC_FIXTURES } from '../helpers/nic-fixtures.js';
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

describe('NIC order', () => {
  it('orders as the guest enumerates: slot 1184 (ens161) comes right after 160, before 192', () => {
    expect(orderNics([nic('00:50:56:00:00:01', 192), nic('00:50:56:00:00:02', 1184), nic('00:50:56:00:00:03', 160)]).map((n) => n.pciSlot)).toEqual([160, 1184, 192]);
  });

  it('orders by PCI slot, NICs without a slot last, ties by MAC', () => {
    const ordered = orderNics([nic('00:50:56:00:00:09'), nic('00:50:56:00:00:02', 224), nic('00:50:56:00:00:01'), nic('00:50:56:00:00:03', 160)]);
    expect(ordered.map((n) => n.mac)).toEqual(['00:50:56:00:00:03', '00:50:56:00:00:02', '00:50:56:00:00:01', '00:50:56:00:00:09']);
  });
});

describe("NIC renaming plan on the test guest's files (eth)", () => {
  const plan = planNicRenames(GUEST_FILES, guestVm().nics, 'eth');
  const after = apply(GUEST_FILES, plan);
  const file = (path: string): string => after.find((f) => f.path === path)?.content ?? `<${path} missing>`;

  it('assigns ethN in source order and ties each guest name by MAC or ens<slot>', () => {
    expect(plan.assignments.map((a) => [a.guestNames, a.name])).toEqual([
      [['vmnic0'], 'eth0'],
      [['ens192'], 'eth1'],
      [['vmnic1'], 'eth2'],
      [['ens224'], 'eth3'],
    ]);
    expect(plan.skipped).toEqual([]);
  });

  it("the seed's ifcfg-vmnic0 (no HWADDR) → ifcfg-eth0 with NAME and DEVICE rewritten, no MAC invented", () => {
    const ifcfg = file('/etc/sysconfig/network-scripts/ifcfg-eth0');
    expect(ifcfg).toMatch(/^NAME=eth0$/m);
    expect(ifcfg).toMatch(/^DEVICE=eth0$/m);
    expect(ifcfg).not.toMatch(/HWADDR/);
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
    // ens192 (no MAC, no NIC in slot 192) is one name for two unnamed NICs: it names neither.
    const vm = guestVm({ nics: [guestNic('vmnic0'), guestNic('vmnic1'), nic('00:50:56:ff:ff:fe', 300), nic('00:50:56:ff:ff:ff', 301)] });
    const plan = planNicRenames(GUEST_FILES, vm.nics, 'keep');
    expect(plan.edits.map((e) => e.path)).toEqual([UDEV_RULES_PATH]);
    expect(plan.assignments.map((a) => a.pinned)).toEqual([true, true, false, false]);
    expect(skippedOf(plan)).toEqual([
      ['ens224', '/etc/netplan/50-vmware.yaml'],
      ['ens192', '/etc/network/interfaces'],
    ]);
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
      // vmnic0 (NIC 0) and the slot-less ens192 are both the one NIC; the MACs of vmnic1 and ens224 are other NICs'.
      name: 'a single-NIC VM renames every name that is its NIC; names with other MACs are reported, untouched',
      files: GUEST_FILES,
      nics: [guestNic('vmnic0')],
      expectEdits: ['/etc/sysconfig/network-scripts/ifcfg-vmnic0', '/etc/network/interfaces', UDEV_RULES_PATH],
      expectSkipped: ['vmnic1', 'ens224'],
    },
    {
      name: 'quoted ifcfg values and a DEVICE that differs from the file name',
      files: [{ path: '/etc/sysconfig/network-scripts/ifcfg-System_ens160', content: 'NAME="System ens160"\nDEVICE="ens160"\nHWADDR="00:50:56:AA:BB:CC"\n' }],
      nics: [nic('00:50:56:aa:bb:cc', 160)],
      expectEdits: ['/etc/sysconfig/network-scripts/ifcfg-System_ens160', UDEV_RULES_PATH],
      expectSkipped: [],
    },
    {
      // Both files are this NIC's (by MAC, by eth0 = NIC 0) and they disagree: pinning either name contradicts the other file.
      name: 'a target file that exists already is not overwritten, and the NIC it would name is not pinned',
      files: [
        { path: '/etc/sysconfig/network-scripts/ifcfg-vmnic0', content: 'DEVICE=vmnic0\nHWADDR=00:50:56:aa:00:01\n' },
        { path: '/etc/sysconfig/network-scripts/ifcfg-eth0', content: 'DEVICE=eth0\n' },
      ],
      nics: [guestNic('vmnic0')],
      expectEdits: [],
      expectSkipped: ['vmnic0', 'eth0'],
    },
    {
      // Each file names one of the NICs' MACs as vmnic0: a rule pinning either MAC to ethN would contradict it.
      name: 'one name tied to two MACs is ambiguous: left alone, and neither MAC is pinned',
      files: [
        { path: '/etc/sysconfig/network-scripts/ifcfg-vmnic0', content: 'DEVICE=vmnic0\nHWADDR=00:50:56:aa:00:01\n' },
        { path: '/etc/NetworkManager/system-connections/x.nmconnection', content: '[connection]\ninterface-name=vmnic0\n[ethernet]\nmac-address=00:50:56:aa:00:02\n' },
      ],
      nics: [guestNic('vmnic0'), guestNic('vmnic1')],
      expectEdits: [],
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

  it('netplan bridge: the bridge member list names the new id, in place', () => {
    const plan = planNicRenames(
      [{ path: '/etc/netplan/01.yaml', content: 'network:\n  ethernets:\n    ens192:\n      dhcp4: false\n  bridges:\n    br0:\n      interfaces: [ens192]\n      dhcp4: true\n' }],
      [nic('00:50:56:00:00:01', 192)],
      'eth',
    );
    expect(plan.edits[0]!.content).toBe('network:\n  ethernets:\n    eth0:\n      dhcp4: false\n  bridges:\n    br0:\n      interfaces: [eth0]\n      dhcp4: true\n');
  });

  it('an existing udev rules file with other content is replaced and reported', () => {
    const plan = planNicRenames([{ path: UDEV_RULES_PATH, content: 'SUBSYSTEM=="net", ATTR{address}=="00:50:56:aa:00:01", NAME="eth5"\n' }], [guestNic('vmnic0')], 'eth');
    expect(plan.edits).toEqual([expect.objectContaining({ path: UDEV_RULES_PATH, create: false, changes: ['00:50:56:aa:00:01 → eth0'] })]);
  });
});

// ------------------------------------------------------------------ layouts

const FIXTURES = NIC_FIXTURES;

const pinsOf = (plan: NicPlan): string[][] => plan.assignments.filter((a) => a.pinned).map((a) => [a.mac, a.name]);
const skippedOf = (plan: NicPlan): string[][] => plan.skipped.map((s) => [s.name, s.path]);

const NS = '/etc/sysconfig/network-scripts';
const MAC1 = '00:50:56:b1:00:01';
const MAC2 = '00:50:56:b1:00:02';

/**
 * Each layout's guest files as the real world writes them (test/fixtures/nics/<layout>/guest), and every
 * file after the plan is applied (…/converted, the udev rule included).
 */
const LAYOUTS: { layout: string; what: string; nics: Nic[]; pins: string[][]; skipped: string[][] }[] = [
  {
    layout: 'seed-ifcfg-vmnic0',
    what: "the OpenShift document's ifcfg-vmnic0 (NAME, DEVICE, no HWADDR) becomes its ifcfg-eth0 with NAME=eth0 DEVICE=eth0",
    nics: [nic(MAC1, 160)],
    pins: [[MAC1, 'eth0']],
    skipped: [],
  },
  {
    layout: 'seed-bare-vmnic',
    what: "bare vmnic0 and vmnic1 files (the document's `mv vmnic0 ifcfg-eth0`) become ifcfg-eth0 and ifcfg-eth1",
    nics: [nic(MAC1, 160), nic(MAC2, 192)],
    pins: [
      [MAC1, 'eth0'],
      [MAC2, 'eth1'],
    ],
    skipped: [],
  },
  {
    layout: 'debian-allow-hotplug',
    what: "Debian's installer default (allow-hotplug ens192, iface ens192 inet dhcp) on a NIC without a PCI slot: the only name of the only NIC",
    nics: [nic(MAC1)],
    pins: [[MAC1, 'eth0']],
    skipped: [],
  },
  {
    layout: 'vcsim-no-pci-slot',
    what: "RHEL 8 anaconda's ifcfg-ens192 (no HWADDR) on a NIC as vcsim reports it, without a PCI slot",
    nics: [nic(MAC1)],
    pins: [[MAC1, 'eth0']],
    skipped: [],
  },
  {
    layout: 'two-nics-no-macs',
    what: 'two NICs without PCI slots, ifcfg-ens192 and ifcfg-ens224 without MACs: the names in slot order to the NICs in source order',
    nics: [nic(MAC1), nic(MAC2)],
    pins: [
      [MAC1, 'eth0'],
      [MAC2, 'eth1'],
    ],
    skipped: [],
  },
  {
    layout: 'bond-ifcfg',
    what: 'a RHEL bond0 over ens192 and ens224 (MASTER=bond0): the members follow their NICs, bond0 stays',
    nics: [nic(MAC1, 192), nic(MAC2, 224)],
    pins: [
      [MAC1, 'eth0'],
      [MAC2, 'eth1'],
    ],
    skipped: [],
  },
  {
    layout: 'bond-ifupdown',
    what: 'a Debian bond0 with bond-slaves ens192 ens224 on NICs without slots: bond-slaves and bond-primary follow',
    nics: [nic(MAC1), nic(MAC2)],
    pins: [
      [MAC1, 'eth0'],
      [MAC2, 'eth1'],
    ],
    skipped: [],
  },
  {
    layout: 'rhel9-keyfile',
    what: 'a RHEL 9 keyfile with interface-name and no MAC, static [ipv4]: renamed, its addresses kept',
    nics: [nic(MAC1, 192)],
    pins: [[MAC1, 'eth0']],
    skipped: [],
  },
  {
    layout: 'netplan-match-name',
    what: 'Ubuntu netplan with match: name: ens192 and static addresses, routes, nameservers: renamed in place',
    nics: [nic(MAC1, 192)],
    pins: [[MAC1, 'eth0']],
    skipped: [],
  },
  {
    layout: 'static-ifcfg-routes',
    what: 'a static ifcfg-ens192 with route-ens192 and route6-ens192: the route files follow, every setting kept',
    nics: [nic(MAC1, 192)],
    pins: [[MAC1, 'eth0']],
    skipped: [],
  },
  {
    layout: 'unrelated-ifcfg-eth1',
    what: "RHEL 6's ifcfg-eth1 (and udev rule) for a NIC the VM no longer has: left alone, reported, not pinned",
    nics: [nic('00:50:56:8a:12:34', 160)],
    pins: [['00:50:56:8a:12:34', 'eth0']],
    skipped: [['eth1', `${NS}/ifcfg-eth1`]],
  },
];

describe('NIC renaming on real-world layouts (eth)', () => {
  it.each(LAYOUTS)('$layout: $what', ({ layout, nics, pins, skipped }) => {
    const files = guestTree(join(FIXTURES, layout, 'guest'));
    const plan = planNicRenames(files, nics, 'eth');
    expect(apply(files, plan)).toEqual(guestTree(join(FIXTURES, layout, 'converted')));
    expect(pinsOf(plan)).toEqual(pins);
    expect(skippedOf(plan)).toEqual(skipped);
    expect(checkNicPlan(files, plan)).toEqual([]);
    expect(planNicRenames(apply(files, plan), nics, 'eth').edits).toEqual([]);
  });

  it.each(['static-ifcfg-routes', 'rhel9-keyfile', 'netplan-match-name'])('%s: the static settings are the same bytes under the new name', (layout) => {
    const before = guestTree(join(FIXTURES, layout, 'guest'));
    const after = guestTree(join(FIXTURES, layout, 'converted')).filter((f) => f.path !== UDEV_RULES_PATH);
    const undo = (f: GuestFile): GuestFile => ({ path: f.path.replaceAll('eth0', 'ens192'), content: f.content.replaceAll('eth0', 'ens192') });
    expect(after.map(undo).sort((a, b) => a.path.localeCompare(b.path))).toEqual(before);
  });

  it('the reason of an unrelated name says which NIC it is', () => {
    const plan = planNicRenames(guestTree(join(FIXTURES, 'unrelated-ifcfg-eth1', 'guest')), [nic('00:50:56:8a:12:34', 160)], 'eth');
    expect(plan.skipped[0]?.reason).toBe("MAC 00:50:56:8a:56:78 is not one of the VM's NICs");
  });

  it("'keep' pins the Debian NIC to ens192 and touches no configuration file", () => {
    const files = guestTree(join(FIXTURES, 'debian-allow-hotplug', 'guest'));
    const plan = planNicRenames(files, [nic(MAC1)], 'keep');
    expect(plan.edits.map((e) => e.path)).toEqual([UDEV_RULES_PATH]);
    expect(pinsOf(plan)).toEqual([[MAC1, 'ens192']]);
  });
});

// ------------------------------------------------------------ rules, limits

const file = (path: string, content: string): GuestFile => ({ path, content });
const IFCFG = (name: string, extra = ''): GuestFile => file(`${NS}/ifcfg-${name}`, `TYPE=Ethernet\nBOOTPROTO=dhcp\nNAME=${name}\nDEVICE=${name}\nONBOOT=yes\n${extra}`);

describe('NIC renaming rules', () => {
  it('vmnicN and ethN name the N-th NIC in source order, which also numbers the targets (not PCI order)', () => {
    // Source order lists the NIC in slot 224 first.
    const nics = [nic(MAC2, 224), nic(MAC1, 192)];
    const byNumber = planNicRenames([IFCFG('vmnic0'), IFCFG('vmnic1')], nics, 'eth');
    expect(byNumber.assignments.map((a) => [a.mac, a.guestNames, a.name])).toEqual([
      [MAC2, ['vmnic0'], 'eth0'],
      [MAC1, ['vmnic1'], 'eth1'],
    ]);
    const bySlot = planNicRenames([IFCFG('ens192'), IFCFG('ens224')], nics, 'eth');
    expect(bySlot.assignments.map((a) => [a.mac, a.guestNames, a.name])).toEqual([
      [MAC2, ['ens224'], 'eth0'],
      [MAC1, ['ens192'], 'eth1'],
    ]);
  });

  it('ens<N> is tied by the slot the guest sees: the fifth vmxnet3 in slot 1184 is ens161', () => {
    const nics = [nic(MAC1, 160), nic(MAC2, 1184)];
    const plan = planNicRenames([IFCFG('ens160'), IFCFG('ens161'), IFCFG('ens999')], nics, 'eth');
    expect(plan.assignments.map((a) => a.guestNames)).toEqual([['ens160'], ['ens161']]);
    expect(skippedOf(plan)).toEqual([['ens999', `${NS}/ifcfg-ens999`]]);
  });

  it('a slot no NIC has does not decide: with as many names as NICs, the names pair up in order', () => {
    // The NIC was re-added in another slot; its old configuration is the only one the VM has.
    const plan = planNicRenames([IFCFG('ens192')], [nic(MAC1, 224)], 'eth');
    expect(plan.assignments.map((a) => [a.guestNames, a.name])).toEqual([[['ens192'], 'eth0']]);
    // Two names no slot ties, for two NICs: the guest enumerates slot 1184 (ens161) before slot 192.
    const two = planNicRenames([IFCFG('ens300'), IFCFG('ens170')], [nic(MAC2, 192), nic(MAC1, 1184)], 'eth');
    expect(two.assignments.map((a) => [a.mac, a.guestNames])).toEqual([
      [MAC2, ['ens300']],
      [MAC1, ['ens170']],
    ]);
  });

  it('enp<bus>s<slot> is tied by the PCI slot VMware gives that bus (enp11s0 = slot 192)', () => {
    const plan = planNicRenames([file('/etc/network/interfaces', 'auto enp11s0\niface enp11s0 inet dhcp\n')], [nic(MAC1, 160), nic(MAC2, 192)], 'eth');
    expect(plan.assignments.map((a) => a.guestNames)).toEqual([[], ['enp11s0']]);
    expect(apply([file('/etc/network/interfaces', 'auto enp11s0\niface enp11s0 inet dhcp\n')], plan)[0]?.content).toBe('auto eth1\niface eth1 inet dhcp\n');
  });

  it('an ifcfg-eth1 without MAC on a one-NIC VM is NIC 2, which the VM no longer has: left alone, not pinned', () => {
    const plan = planNicRenames([IFCFG('eth0'), IFCFG('eth1')], [nic(MAC1)], 'eth');
    expect(plan.edits.map((e) => e.path)).toEqual([UDEV_RULES_PATH]);
    expect(pinsOf(plan)).toEqual([[MAC1, 'eth0']]);
    expect(plan.skipped).toEqual([{ name: 'eth1', path: `${NS}/ifcfg-eth1`, reason: 'eth1 is NIC 2 in source order and the VM has 1: a NIC it no longer has' }]);
  });

  it("a one-NIC VM is the NIC of every open name: the seed's ifcfg-vmnic0 and a Debian ens192 stanza both become eth0", () => {
    const seed = file(`${NS}/ifcfg-vmnic0`, 'TYPE=Ethernet\nBOOTPROTO=dhcp\nNAME=vmnic0\nDEVICE=vmnic0\nONBOOT=yes\n');
    const debian = file('/etc/network/interfaces', 'auto lo\niface lo inet loopback\n\nallow-hotplug ens192\niface ens192 inet dhcp\n');
    // A keyfile for a MAC the VM does not have stays someone else's.
    const other = file(
      '/etc/NetworkManager/system-connections/vmnic1.nmconnection',
      `[connection]\nid=vmnic1\ntype=ethernet\ninterface-name=vmnic1\n\n[ethernet]\nmac-address=${MAC2}\n`,
    );
    const plan = planNicRenames([seed, debian, other], [nic(MAC1)], 'eth');
    const after = apply([seed, debian, other], plan);
    expect(after.find((f) => f.path === `${NS}/ifcfg-eth0`)?.content).toMatch(/^DEVICE=eth0$/m);
    expect(after.find((f) => f.path === '/etc/network/interfaces')?.content).toContain('allow-hotplug eth0\niface eth0 inet dhcp\n');
    expect(pinsOf(plan)).toEqual([[MAC1, 'eth0']]);
    expect(plan.skipped.map((s) => s.name)).toEqual(['vmnic1']);
    expect(checkNicPlan([seed, debian, other], plan)).toEqual([]);
  });

  it("a NIC no file configures (NetworkManager's default DHCP connection) is pinned to its ethN", () => {
    const plan = planNicRenames([], [nic(MAC1), nic(MAC2)], 'eth');
    expect(plan.edits).toEqual([
      expect.objectContaining({
        path: UDEV_RULES_PATH,
        content: udevRules([
          { mac: MAC1, name: 'eth0' },
          { mac: MAC2, name: 'eth1' },
        ]),
      }),
    ]);
  });

  it('a name that ties to no NIC keeps the NICs nothing configures unpinned: it may be theirs', () => {
    // The issue's Debian guest, with a second NIC: one configured name for two slot-less NICs cannot be placed.
    const files = guestTree(join(FIXTURES, 'debian-allow-hotplug', 'guest'));
    const plan = planNicRenames(files, [nic(MAC1), nic(MAC2)], 'eth');
    expect(plan.edits).toEqual([]);
    expect(plan.assignments.map((a) => a.pinned)).toEqual([false, false]);
    expect(plan.skipped).toEqual([
      {
        name: 'ens192',
        path: '/etc/network/interfaces',
        reason: `no MAC, NIC number or PCI slot ties this name to one of the VM's NICs, and the configured names do not pair up with the NICs; it may configure ${MAC1}, ${MAC2}, so no udev rule pins them`,
      },
    ]);
  });

  it('when the new name is taken by a file for another MAC, the NIC keeps its guest name, pinned to it', () => {
    const files = [...guestTree(join(FIXTURES, 'debian-allow-hotplug', 'guest')), IFCFG('eth0', 'HWADDR=00:50:56:ff:00:09\n')];
    const plan = planNicRenames(files, [nic(MAC1)], 'eth');
    expect(plan.edits.map((e) => e.path)).toEqual([UDEV_RULES_PATH]);
    expect(pinsOf(plan)).toEqual([[MAC1, 'ens192']]);
    expect(skippedOf(plan)).toEqual([
      ['eth0', `${NS}/ifcfg-eth0`],
      ['ens192', '/etc/network/interfaces'],
    ]);
    expect(planNicRenames(apply(files, plan), [nic(MAC1)], 'eth').edits).toEqual([]);
    expect(plan.skipped[1]?.reason).toBe(`${NS}/ifcfg-eth0 configures eth0 for MAC 00:50:56:ff:00:09; NIC ${MAC1} keeps the name ens192 (pinned to it) instead of eth0`);
  });

  it('an ifcfg VLAN follows its parent: file name, DEVICE and PHYSDEV', () => {
    const vlan = file(`${NS}/ifcfg-ens192.100`, 'VLAN=yes\nTYPE=Vlan\nPHYSDEV=ens192\nDEVICE=ens192.100\nBOOTPROTO=none\nIPADDR=10.100.0.5\nPREFIX=24\nONBOOT=yes\n');
    const files = [IFCFG('ens192'), vlan];
    const plan = planNicRenames(files, [nic(MAC1, 192)], 'eth');
    expect(apply(files, plan).find((f) => f.path === `${NS}/ifcfg-eth0.100`)?.content).toBe(
      'VLAN=yes\nTYPE=Vlan\nPHYSDEV=eth0\nDEVICE=eth0.100\nBOOTPROTO=none\nIPADDR=10.100.0.5\nPREFIX=24\nONBOOT=yes\n',
    );
    expect(plan.skipped).toEqual([]);
  });

  it('an ifupdown VLAN and bridge follow their member; the bridge and lo stay', () => {
    const interfaces = file(
      '/etc/network/interfaces',
      'auto lo\niface lo inet loopback\n\nauto ens192.20\niface ens192.20 inet manual\n\nauto br0\niface br0 inet dhcp\n\tbridge_ports ens192.20\n',
    );
    const plan = planNicRenames([interfaces], [nic(MAC1)], 'eth');
    expect(apply([interfaces], plan)[0]?.content).toBe(
      'auto lo\niface lo inet loopback\n\nauto eth0.20\niface eth0.20 inet manual\n\nauto br0\niface br0 inet dhcp\n\tbridge_ports eth0.20\n',
    );
    expect(plan.skipped).toEqual([]);
  });

  it('backup copies beside ifcfg files (ifcfg-ens192.bak) are not configuration', () => {
    const backup = file(`${NS}/ifcfg-ens192.bak`, 'DEVICE=ens192\nHWADDR=00:50:56:ff:00:09\n');
    const plan = planNicRenames([IFCFG('ens192'), backup], [nic(MAC1, 192)], 'eth');
    expect(plan.edits.map((e) => e.renameTo ?? e.path)).toEqual([`${NS}/ifcfg-eth0`, UDEV_RULES_PATH]);
  });

  it("the executor's globs read bare interface-named files and route files, not the initscripts beside them", () => {
    const globRe = (glob: string): RegExp =>
      new RegExp(
        `^${glob
          .replace(/[.+^${}()|\\]/g, '\\$&')
          .replace(/\*/g, '[^/]*')
          .replace(/\?/g, '[^/]')}$`,
      );
    const read = (name: string): boolean => NETWORK_CONFIG_GLOBS.some((g) => globRe(g).test(`${NS}/${name}`));
    const config = ['ifcfg-ens192', 'ifcfg-lo', 'vmnic0', 'eth0', 'ens192', 'enp11s0', 'route-ens192', 'route6-ens192', 'rule-ens192'];
    const scripts = ['ifup', 'ifup-eth', 'ifdown-eth', 'ifup-aliases', 'init.ipv6-global', 'network-functions', 'network-functions-ipv6', 'ifdown-post'];
    expect(config.filter(read)).toEqual(config);
    expect(scripts.filter(read)).toEqual([]);
  });
});

// ---------------------------------------------------------------- invariant

describe('NIC plan invariant', () => {
  const debian = guestTree(join(FIXTURES, 'debian-allow-hotplug', 'guest'));
  /** What the planner wrote before the issue was fixed: eth0 pinned, /etc/network/interfaces still on ens192. */
  const issue16Plan: NicPlan = {
    naming: 'eth',
    assignments: [{ mac: MAC1, guestNames: [], name: 'eth0' }],
    edits: [{ path: UDEV_RULES_PATH, content: udevRules([{ mac: MAC1, name: 'eth0' }]), create: true, mode: 0o644, changes: [] }],
    skipped: [{ name: 'ens192', path: '/etc/network/interfaces', reason: "no MAC or PCI slot ties this name to one of the VM's NICs" }],
  };

  it('fails the plan that pins eth0 while the files bring up ens192', () => {
    expect(checkNicPlan(debian, issue16Plan)).toEqual([`the udev rule pins ${MAC1} to eth0, which no file configures, while ens192 may configure that NIC`]);
    expect(() => assertNicPlanConsistent(debian, issue16Plan)).toThrow(V2vError);
    try {
      assertNicPlanConsistent(debian, issue16Plan);
    } catch (error) {
      expect(error).toMatchObject({ code: 'NIC_PLAN_INCONSISTENT', details: { problems: [expect.stringContaining('no file configures')] } });
    }
  });

  it('fails a rename the udev rule does not follow, and a name changed without being tied', () => {
    const plan = planNicRenames(debian, [nic(MAC1)], 'eth');
    const pinnedElsewhere: NicPlan = {
      ...plan,
      assignments: [{ ...plan.assignments[0]!, name: 'eth7' }],
      edits: plan.edits.map((e) => (e.path === UDEV_RULES_PATH ? { ...e, content: udevRules([{ mac: MAC1, name: 'eth7' }]) } : e)),
    };
    expect(checkNicPlan(debian, pinnedElsewhere)).toEqual([`the udev rule pins ${MAC1} to eth7, which no file configures, while ens192 may configure that NIC`]);
    const untied: NicPlan = { ...plan, assignments: [{ ...plan.assignments[0]!, guestNames: [] }] };
    expect(checkNicPlan(debian, untied)).toEqual(['ens192 belongs to no NIC, so it must be left as it is and reported']);
  });

  it('holds for every plan the planner makes on the test guest', () => {
    expect(checkNicPlan(GUEST_FILES, planNicRenames(GUEST_FILES, guestVm().nics, 'eth'))).toEqual([]);
    expect(checkNicPlan(GUEST_FILES, planNicRenames(GUEST_FILES, guestVm().nics, 'keep'))).toEqual([]);
  });
});

describe('NIC plan invariant on generated layouts', () => {
  // A fixed-seed generator: layouts mixing formats, MACs (the VM's and others), stale names and slots.
  let seed = 16;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pick = <T>(items: T[]): T => items[next(items.length)]!;
  const MACS = [MAC1, MAC2, '00:50:56:b1:00:03', '00:50:56:ff:00:09'];
  const NAMES = ['eth0', 'eth1', 'vmnic0', 'vmnic1', 'ens192', 'ens224', 'ens161', 'enp11s0', 'lan0'];
  const generated = (i: number): GuestFile => {
    const name = pick(NAMES);
    const mac = next(3) === 0 ? pick(MACS) : undefined;
    switch (next(6)) {
      case 0:
        return file(`${NS}/ifcfg-${name}`, `DEVICE=${name}\nNAME=${name}\n${mac ? `HWADDR=${mac}\n` : ''}`);
      case 1:
        return file(`${NS}/${pick(['vmnic0', 'eth0'])}`, `DEVICE=${name}\n`);
      case 2:
        return file(
          `/etc/NetworkManager/system-connections/${name}.nmconnection`,
          `[connection]\nid=${name}\ntype=ethernet\ninterface-name=${name}\n${mac ? `[ethernet]\nmac-address=${mac}\n` : ''}`,
        );
      case 3:
        return file(`/etc/network/interfaces.d/${i}`, `allow-hotplug ${name}\niface ${name} inet dhcp\n`);
      case 4:
        return file(
          `/etc/netplan/${i}.yaml`,
          `network:\n  ethernets:\n    ${name}:\n${mac ? `      match:\n        macaddress: "${mac}"\n      set-name: ${name}\n` : ''}      dhcp4: true\n`,
        );
      default:
        return file(`${NS}/route-${name}`, `10.0.0.0/8 via 10.1.1.1 dev ${name}\n`);
    }
  };

  it('the planner never makes a plan its check refuses, and a second plan changes nothing', () => {
    for (let round = 0; round < 400; round++) {
      const files = [...new Map(Array.from({ length: 1 + next(4) }, (_, i) => generated(i)).map((f) => [f.path, f])).values()];
      const nics = Array.from({ length: 1 + next(3) }, (_, i) => nic(MACS[i]!, next(2) ? pick([160, 192, 224, 1184]) : undefined));
      const naming = next(2) ? 'eth' : 'keep';
      const plan = planNicRenames(files, nics, naming);
      expect(planNicRenames(apply(files, plan), nics, naming).edits, JSON.stringify({ files, nics, naming })).toEqual([]);
    }
  });
});
