// Whether the guest keeps its network identity: the addresses the source
// reports for each NIC (VMware Tools' guest.net, the oVirt guest agent's
// reported devices) against what the guest's files configure. A static
// address the files hold moves with the files; anything else (DHCP, a
// configuration v2v does not read) is kept only if the target network hands
// the MAC the same address, which the user must arrange. Pure: files and
// NICs in, warnings out.
import { isIPv4, isIPv6 } from 'node:net';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Nic } from '../model.js';
import { ifcfgDevice, iniSection, interfaceBase, normalizeMac, readConfig, shellVars, type GuestFile, type NicAssignment } from './nics.js';

/** What one file configures for one interface: its static addresses and whether it asks DHCP. */
export interface Addressing {
  /** The interface (a physical name, or a bond/bridge/VLAN the addresses sit on); undefined when the file binds to no name. */
  name: string | undefined;
  path: string;
  addresses: string[];
  dhcp: boolean;
}

/** An address in one canonical spelling (IPv6 compressed, lower case), without its prefix; undefined when it is none. */
export function canonicalAddress(text: string): string | undefined {
  const address = text
    .trim()
    .replace(/^["']|["']$/g, '')
    .split('/')[0]!
    .trim();
  if (isIPv4(address)) return address;
  if (isIPv6(address)) return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  return undefined;
}

/** Link-local addresses are the kernel's own on every link: never configured, never kept. */
const isLinkLocal = (address: string): boolean => address.startsWith('169.254.') || /^fe[89ab][0-9a-f]:/.test(address);

const addresses = (values: (string | undefined)[]): string[] => values.map((v) => (v === undefined ? undefined : canonicalAddress(v))).filter((a) => a !== undefined);

function ifcfgAddressing(file: GuestFile): Addressing[] {
  const vars = shellVars(file.content);
  const bootproto = (vars.get('BOOTPROTO') ?? '').toLowerCase();
  const v4 = [...vars].filter(([k]) => /^IPADDR\d*$/.test(k)).map(([, v]) => v);
  const v6 = [vars.get('IPV6ADDR'), ...(vars.get('IPV6ADDR_SECONDARIES') ?? '').split(/\s+/)];
  return [{ name: interfaceBase(ifcfgDevice(file, vars)), path: file.path, addresses: addresses([...v4, ...v6]), dhcp: bootproto === 'dhcp' || bootproto === 'bootp' }];
}

function keyfileAddressing(file: GuestFile): Addressing[] {
  const name = iniSection(file.content, 'connection').find(([k]) => k === 'interface-name')?.[1];
  const found: string[] = [];
  let dhcp = false;
  for (const family of ['ipv4', 'ipv6']) {
    const section = iniSection(file.content, family);
    // `address1=10.0.0.5/24,10.0.0.1` (address, gateway), `addresses=10.0.0.5/24;10.0.0.6/24;`
    for (const [key, value] of section) if (/^address(es)?\d*$/.test(key)) found.push(...value.split(';').map((entry) => entry.split(',')[0]!));
    if (family === 'ipv4' && section.some(([k, v]) => k === 'method' && v === 'auto')) dhcp = true;
  }
  return [{ name: name === undefined ? undefined : interfaceBase(name), path: file.path, addresses: addresses(found), dhcp }];
}

const NETPLAN_GROUPS = ['ethernets', 'bonds', 'bridges', 'vlans'];

function netplanAddressing(file: GuestFile): Addressing[] {
  const doc = parseDocument(file.content);
  if (doc.errors.length) return [];
  const out: Addressing[] = [];
  for (const group of NETPLAN_GROUPS) {
    const node = doc.getIn(['network', group], true);
    if (!isMap(node)) continue;
    for (const pair of node.items) {
      if (!isMap(pair.value)) continue;
      const entry = pair.value;
      const id = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const match = entry.get('match', true);
      const setName = entry.get('set-name');
      const matchName = isMap(match) ? match.get('name') : undefined;
      const name = typeof setName === 'string' ? setName : typeof matchName === 'string' ? matchName : isMap(match) ? undefined : id;
      const list = entry.get('addresses', true);
      // `- 10.0.0.5/24` or `- 10.0.0.5/24: { label: … }`
      const found = isSeq(list)
        ? list.items.map((item) =>
            isScalar(item) ? String(item.value) : isMap(item) && item.items[0] ? String((item.items[0].key as { value?: unknown }).value ?? item.items[0].key) : '',
          )
        : [];
      const dhcp4 = entry.get('dhcp4');
      out.push({
        name: name === undefined ? undefined : interfaceBase(name),
        path: file.path,
        addresses: addresses(found),
        dhcp: dhcp4 === true || dhcp4 === 'yes' || dhcp4 === 'true',
      });
    }
  }
  return out;
}

function ifupdownAddressing(file: GuestFile): Addressing[] {
  const out: Addressing[] = [];
  let stanza: Addressing | undefined;
  for (const line of file.content.split('\n')) {
    const [keyword, ...args] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!keyword) continue;
    if (keyword === 'iface') {
      stanza = { name: args[0] === undefined ? undefined : interfaceBase(args[0]), path: file.path, addresses: [], dhcp: args[1] === 'inet' && args[2] === 'dhcp' };
      out.push(stanza);
    } else if (keyword === 'auto' || keyword.startsWith('allow-') || keyword === 'mapping' || keyword === 'source' || keyword === 'source-directory') {
      stanza = undefined;
    } else if (stanza && keyword === 'address' && args[0]) {
      stanza.addresses.push(...addresses([args[0]]));
    }
  }
  return out;
}

/** What every file configures, interface by interface. */
export function configuredAddressing(files: GuestFile[]): Addressing[] {
  return files.flatMap((file) => readConfig(file, { ifcfg: ifcfgAddressing, keyfile: keyfileAddressing, netplan: netplanAddressing, ifupdown: ifupdownAddressing }, []));
}

const list = (items: string[]): string => items.join(', ');

/**
 * Where the addresses the source reports for each NIC differ from what the
 * guest's files configure, one warning per NIC and kind of difference:
 * - an address the guest has now that no file configures statically (DHCP,
 *   or a configuration v2v does not read): the target must give the MAC the
 *   same address, or the VM's address changes;
 * - a static address the files configure for the NIC's own names that the
 *   guest does not have now: after the move it comes up with the file's.
 * Global IPv6 addresses count only when some file configures IPv6 statically
 * (else they come from router advertisements, which move with the network).
 * `assignments` are the plan's, in the order of `nics`.
 */
export function addressWarnings(files: GuestFile[], nics: Nic[], assignments: NicAssignment[]): string[] {
  const configured = configuredAddressing(files);
  const staticAnywhere = new Set(configured.flatMap((c) => c.addresses));
  const staticIpv6 = [...staticAnywhere].some((a) => a.includes(':'));
  const warnings: string[] = [];
  nics.forEach((nic, i) => {
    const reported = [...new Set(addresses(nic.guestIps ?? []))].filter((a) => !isLinkLocal(a));
    if (!reported.length) return;
    const mac = normalizeMac(nic.mac);
    const assignment = assignments[i];
    const names = new Set([...(assignment?.guestNames ?? []), ...(assignment ? [assignment.name] : [])]);
    const own = configured.filter((c) => c.name !== undefined && names.has(c.name));
    const label = `NIC ${mac}${assignment ? ` (${assignment.name}${assignment.guestNames.length && !assignment.guestNames.includes(assignment.name) ? `, was ${list(assignment.guestNames)}` : ''})` : ''}`;

    const unkept = reported.filter((a) => (a.includes('.') || staticIpv6) && !staticAnywhere.has(a));
    if (unkept.length) {
      const dhcpFiles = own.filter((c) => c.dhcp).map((c) => c.path);
      const source = dhcpFiles.length ? `${list([...new Set(dhcpFiles)])} takes the address from DHCP` : 'it came from DHCP or from a configuration v2v does not read';
      warnings.push(
        `${label}: the source reports ${list(unkept)} on this NIC but no network file configures ${unkept.length > 1 ? 'them' : 'it'} statically; ${source}: give MAC ${mac} the same address on the target network (a DHCP reservation), or the VM's address changes`,
      );
    }
    const families = new Set(reported.map((a) => a.includes(':')));
    const stale = own.flatMap((c) => c.addresses.filter((a) => families.has(a.includes(':')) && !reported.includes(a)).map((a) => ({ address: a, path: c.path })));
    if (stale.length) {
      const paths = [...new Set(stale.map((s) => s.path))];
      warnings.push(
        `${label}: ${list(paths)} configure${paths.length > 1 ? '' : 's'} ${list(stale.map((s) => s.address))} but the source reports ${list(reported)} on this NIC: after the move the guest comes up with the configured address, not the one it has now`,
      );
    }
  });
  return warnings;
}
