// The addresses the source reports for each NIC against what the guest's
// files configure, on the real-world layouts of test/fixtures/nics.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addressWarnings, canonicalAddress, configuredAddressing } from '../../src/convert/nic-addresses.js';
import { planNicRenames, type GuestFile } from '../../src/convert/nics.js';
import type { Nic } from '../../src/model.js';
import { guestTree, nic, NIC_FIXTURES } from '../helpers/nic-fixtures.js';

const MAC1 = '00:50:56:b1:00:01';
const MAC2 = '00:50:56:b1:00:02';

function warningsFor(files: GuestFile[], nics: Nic[]): string[] {
  return addressWarnings(files, nics, planNicRenames(files, nics, 'eth').assignments);
}

const layout = (name: string): GuestFile[] => guestTree(join(NIC_FIXTURES, name, 'guest'));

describe('guest addresses the source reports against the static configuration the files keep', () => {
  const cases: { what: string; files: GuestFile[]; nics: Nic[]; expected: RegExp[] }[] = [
    {
      what: 'static ifcfg with IPv4 and IPv6, reported as configured (and the link-local address every link has): nothing to say',
      files: layout('static-ifcfg-routes'),
      nics: [nic(MAC1, 192, ['192.168.50.10', '2001:db8:50::10', 'fe80::250:56ff:feb1:1'])],
      expected: [],
    },
    {
      what: 'static ifcfg whose running address differs: the reported one is not kept, and the configured one comes back',
      files: layout('static-ifcfg-routes'),
      nics: [nic(MAC1, 192, ['192.168.50.99'])],
      expected: [
        /^NIC 00:50:56:b1:00:01 \(eth0, was ens192\): the source reports 192\.168\.50\.99 on this NIC but no network file configures it statically; it came from DHCP or from a configuration v2v does not read: give MAC 00:50:56:b1:00:01 the same address/,
        /^NIC 00:50:56:b1:00:01 \(eth0, was ens192\): \/etc\/sysconfig\/network-scripts\/ifcfg-ens192 configures 192\.168\.50\.10 but the source reports 192\.168\.50\.99 on this NIC: after the move the guest comes up with the configured address/,
      ],
    },
    {
      what: "Debian's `iface ens192 inet dhcp`: the address lives in the DHCP server, so a reservation must keep it",
      files: layout('debian-allow-hotplug'),
      nics: [nic(MAC1, undefined, ['192.168.122.50'])],
      expected: [
        /^NIC 00:50:56:b1:00:01 \(eth0, was ens192\): the source reports 192\.168\.122\.50 .*; \/etc\/network\/interfaces takes the address from DHCP: give MAC 00:50:56:b1:00:01 the same address on the target network \(a DHCP reservation\)/,
      ],
    },
    {
      what: "the seed's ifcfg-vmnic0 (NAME and DEVICE only) with an address VMware Tools reports: nothing v2v reads configures it",
      files: layout('seed-ifcfg-vmnic0'),
      nics: [nic(MAC1, 160, ['10.0.0.5'])],
      expected: [/^NIC 00:50:56:b1:00:01 \(eth0, was vmnic0\): the source reports 10\.0\.0\.5 .* it came from DHCP or from a configuration v2v does not read/],
    },
    {
      what: 'a RHEL 9 keyfile (static IPv4, IPv6 method=auto): the SLAAC address is not a static one to keep',
      files: layout('rhel9-keyfile'),
      nics: [nic(MAC1, 192, ['10.8.0.25', '2001:db8:8::250:56ff:feb1:1'])],
      expected: [],
    },
    {
      what: 'netplan with match: name and addresses, as reported',
      files: layout('netplan-match-name'),
      nics: [nic(MAC1, 192, ['10.9.0.40'])],
      expected: [],
    },
    {
      what: 'a bond over two NICs: its address is reported on the primary member, and the bond keeps it',
      files: layout('bond-ifupdown'),
      nics: [nic(MAC1, undefined, ['192.168.60.10']), nic(MAC2)],
      expected: [],
    },
    {
      what: 'a source that reports nothing (tools not running, no guest agent): nothing to compare',
      files: layout('static-ifcfg-routes'),
      nics: [nic(MAC1, 192)],
      expected: [],
    },
    {
      what: 'two NICs, the second reporting an address no file configures: only that NIC is named',
      files: layout('two-nics-no-macs'),
      nics: [nic(MAC1, undefined, []), nic(MAC2, undefined, ['172.16.5.9'])],
      expected: [/^NIC 00:50:56:b1:00:02 \(eth1, was ens224\): the source reports 172\.16\.5\.9 /],
    },
  ];
  it.each(cases)('$what', ({ files, nics, expected }) => {
    const warnings = warningsFor(files, nics);
    expect(warnings).toHaveLength(expected.length);
    expected.forEach((pattern, i) => expect(warnings[i]).toMatch(pattern));
  });
});

describe('static addresses as each configuration writes them', () => {
  it.each<[string, GuestFile, string[], boolean]>([
    [
      'ifcfg with IPADDR0/IPADDR1 and IPv6 secondaries',
      {
        path: '/etc/sysconfig/network-scripts/ifcfg-eth0',
        content: 'DEVICE=eth0\nBOOTPROTO=none\nIPADDR0=10.1.0.5\nPREFIX0=24\nIPADDR1="10.1.0.6"\nIPV6ADDR_SECONDARIES="2001:db8::6/64 2001:db8::7/64"\n',
      },
      ['10.1.0.5', '10.1.0.6', '2001:db8::6', '2001:db8::7'],
      false,
    ],
    [
      'a keyfile with the older addresses= list and address1 with its gateway',
      {
        path: '/etc/NetworkManager/system-connections/a.nmconnection',
        content: '[connection]\ninterface-name=ens192\n[ipv4]\nmethod=manual\naddresses=10.2.0.5/24;10.2.0.6/24;\naddress1=10.2.0.7/24,10.2.0.1\n',
      },
      ['10.2.0.5', '10.2.0.6', '10.2.0.7'],
      false,
    ],
    [
      'netplan addresses with a label (map form) and dhcp4',
      {
        path: '/etc/netplan/01.yaml',
        content: 'network:\n  version: 2\n  ethernets:\n    ens192:\n      dhcp4: true\n      addresses:\n        - 10.3.0.5/24:\n            label: ens192:web\n',
      },
      ['10.3.0.5'],
      true,
    ],
    [
      'ifupdown address with a separate netmask, IPv6 written long',
      {
        path: '/etc/network/interfaces',
        content: 'iface ens192 inet static\n  address 10.4.0.5\n  netmask 255.255.255.0\niface ens192 inet6 static\n  address 2001:0db8:0000:0000:0000:0000:0000:0005/64\n',
      },
      ['10.4.0.5', '2001:db8::5'],
      false,
    ],
  ])('%s', (_what, file, addresses, dhcp) => {
    const found = configuredAddressing([file]);
    expect(found.flatMap((f) => f.addresses)).toEqual(addresses);
    expect(found.some((f) => f.dhcp)).toBe(dhcp);
  });

  it('compares addresses in one spelling: IPv6 compressed and lower case, no prefix, garbage dropped', () => {
    expect(canonicalAddress('2001:DB8:0:0::10/64')).toBe('2001:db8::10');
    expect(canonicalAddress(' "10.0.0.1/8" ')).toBe('10.0.0.1');
    expect(canonicalAddress('eth0')).toBeUndefined();
  });
});
