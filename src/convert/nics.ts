// NIC renaming inside the guest, planned as pure data: given the guest's
// network configuration files and the VM's NICs, which files to rename and
// rewrite so that the interfaces come up under stable names on KubeVirt, where
// the NICs become virtio and predictable names (ens192, …) change.
//
// 'eth': the N-th NIC in source order (vm.nics) becomes ethN: KubeVirt lists
//        the interfaces in that order, and it is the order the OpenShift
//        document numbers its files in (`mv vmnic0 ifcfg-eth0`, then
//        ifcfg-eth1, …). ifcfg (and its route files), NetworkManager keyfiles,
//        netplan and ifupdown follow; a udev rule pins each MAC to its ethN.
// 'keep': files are left alone; a udev rule pins each MAC to the name the guest
//        already uses for it (Forklift's approach).
//
// Which NIC a configured physical name belongs to, first rule that decides:
//   1. a MAC written in a file (ifcfg HWADDR, keyfile mac-address, netplan
//      match.macaddress); a MAC the VM does not have, or two MACs, is decisive
//      too: that name is someone else's;
//   2. vmnicN, ethN: the N-th NIC in source order (none: the name is a NIC
//      the VM no longer has);
//   3. ens<slot>, enp<bus>s<slot>: the NIC in that PCI slot, when it is known;
//   4. as many configured names as NICs: the names still untied, in the order
//      of their slots or numbers, to the NICs still untied (in PCI order when
//      every slot is known, else in source order);
//   5. a single-NIC VM: every name nothing places elsewhere is that NIC (a
//      guest carries the seed's ifcfg-vmnic0 and a Debian `ens192` stanza for
//      the same NIC, and no slot tells ens192 apart).
// A name no rule ties is left as it is and reported; while one may be theirs,
// the NICs no file configures get no udev rule either.
// Bonds, bridges and VLANs are not NICs: their members and parents are, and
// the references follow a rename. lo, tunnels, containers' devices are left alone.
//
// Every plan is checked (checkNicPlan) before anything is written: a udev rule
// names only interfaces the files bring up, and every configured name is
// either renamed to its pin or left unchanged and reported. When a rename
// cannot be made (its file name is taken, another file claims the name), the
// NIC keeps its guest name pinned, or stays unpinned with its names reported.
// Planning against the already-renamed files plans nothing: the executor is
// idempotent because the plan is.
import { isMap, isScalar, isSeq, parseDocument, type Document, type YAMLMap } from 'yaml';
import { ConversionError } from './errors.js';
import type { Nic } from '../model.js';

export type NicNaming = 'eth' | 'keep';

export const UDEV_RULES_PATH = '/etc/udev/rules.d/70-persistent-net.rules';

/** Where the executor looks for network configuration (guestfish globs). */
export const NETWORK_CONFIG_GLOBS = [
  '/etc/sysconfig/network-scripts/ifcfg-*',
  // A config file under its interface's bare name (the document's `mv vmnic0 ifcfg-eth0`). Interface-like
  // names only: the initscripts beside it (ifup-*, network-functions, …) are not configuration.
  '/etc/sysconfig/network-scripts/vmnic[0-9]*',
  '/etc/sysconfig/network-scripts/eth[0-9]*',
  '/etc/sysconfig/network-scripts/en[ops][0-9]*',
  // Routes and rules belong to their interface by file name.
  '/etc/sysconfig/network-scripts/route-*',
  '/etc/sysconfig/network-scripts/route6-*',
  '/etc/sysconfig/network-scripts/rule-*',
  '/etc/sysconfig/network-scripts/rule6-*',
  '/etc/sysconfig/network/ifcfg-*',
  '/etc/sysconfig/network/ifroute-*',
  '/etc/NetworkManager/system-connections/*',
  '/etc/netplan/*.yaml',
  '/etc/netplan/*.yml',
  '/etc/network/interfaces',
  '/etc/network/interfaces.d/*',
  UDEV_RULES_PATH,
];

export interface GuestFile {
  path: string;
  content: string;
}

export interface NicAssignment {
  mac: string;
  pciSlot?: number;
  /** Names the guest's files use for this NIC. */
  guestNames: string[];
  /** The name a udev rule pins it to; when `pinned` is false, the name it was planned for. */
  name: string;
  /** False when no udev rule pins this NIC (a pin would contradict the files; see `skipped`). */
  pinned?: boolean;
}

export interface FileEdit {
  path: string;
  /** Move the file here before writing `content`. */
  renameTo?: string;
  content: string;
  /** The file does not exist yet. */
  create: boolean;
  /** Permission bits for a created file. */
  mode?: number;
  /** Human-readable list of what changes. */
  changes: string[];
}

export interface SkippedName {
  /** The interface name, as the file writes it. */
  name: string;
  path: string;
  reason: string;
}

export interface NicPlan {
  naming: NicNaming;
  /** One per VM NIC, in source order. */
  assignments: NicAssignment[];
  edits: FileEdit[];
  skipped: SkippedName[];
}

export function normalizeMac(mac: string): string {
  return mac
    .trim()
    .replace(/^["']|["']$/g, '')
    .toLowerCase()
    .replace(/-/g, ':');
}

/**
 * The slot number VMware's ACPI tables give the guest for persistent slot
 * `slot`, which is what ens<N> shows: the function bits are added to the slot
 * rather than kept above it (slot 1184, function 1 of the port at 160, is ens161).
 */
const vmwareAcpiSlot = (slot: number): number => (slot & 0x3ff) + (slot >> 10);

/** VM NICs in the order the guest's PCI bus enumerates them (by the slot the guest sees), then by MAC; NICs without a slot last. */
export function orderNics<T extends { mac: string; pciSlot?: number }>(nics: T[]): T[] {
  return [...nics].sort((a, b) => {
    const sa = a.pciSlot === undefined ? Number.MAX_SAFE_INTEGER : vmwareAcpiSlot(a.pciSlot);
    const sb = b.pciSlot === undefined ? Number.MAX_SAFE_INTEGER : vmwareAcpiSlot(b.pciSlot);
    return sa !== sb ? sa - sb : normalizeMac(a.mac).localeCompare(normalizeMac(b.mac));
  });
}

/** What the planner needs of a VM NIC. */
type NicFacts = Pick<Nic, 'mac' | 'pciSlot'>;

// ---------------------------------------------------------------- parsing

/** A physical interface name a file configures: brings it up, or names it as a bond member or VLAN parent. */
interface ConfiguredName {
  name: string;
  path: string;
  mac?: string;
}

/** What one file says: the physical names it configures, the virtual devices it declares. */
interface FileFacts {
  configured: ConfiguredName[];
  virtual: string[];
}

const NO_FACTS: FileFacts = { configured: [], virtual: [] };

const basename = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
const dirname = (path: string): string => path.slice(0, path.lastIndexOf('/'));

/** `ens192.100` (VLAN) and `ens192:1` (alias) are carried by `ens192`. */
export const interfaceBase = (name: string): string => name.split(/[.:]/)[0]!;

/** Devices that are never a VM NIC, whatever the files say about them. */
const VIRTUAL_NAME = /^(lo$|bond|br|team|virbr|vlan|docker|veth|tun|tap|vnet|wg|dummy|macvlan|macvtap|ipvlan|vxlan|ovs|ib\d)/;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const GLOB = /[*?[]/;

function unquote(value: string): string {
  const v = value.trim();
  return /^(".*"|'.*')$/.test(v) ? v.slice(1, -1) : v;
}

export function shellVars(content: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of content.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) vars.set(m[1]!, unquote(m[2]!));
  }
  return vars;
}

/** Every `key=value` of one keyfile section, in order. */
export function iniSection(content: string, section: string): [string, string][] {
  const out: [string, string][] = [];
  let current = '';
  for (const line of content.split('\n')) {
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (header) current = header[1]!;
    else if (current === section) {
      const kv = /^\s*([^=#;]+?)\s*=\s*(.*?)\s*$/.exec(line);
      if (kv) out.push([kv[1]!, kv[2]!]);
    }
  }
  return out;
}

const iniValue = (content: string, section: string, key: string): string | undefined => iniSection(content, section).find(([k]) => k === key)?.[1];

type FileKind = 'ifcfg' | 'route' | 'keyfile' | 'netplan' | 'ifupdown' | 'udev' | 'other';

/** Backup copies initscripts skip (ifcfg-eth0.bak, …): not configuration. */
const INITSCRIPTS_IGNORED = /(~|\.bak|\.old|\.orig|\.rpmnew|\.rpmorig|\.rpmsave|\.swp)$/;
const IFCFG_FILE = /^\/etc\/sysconfig\/network(-scripts)?\/ifcfg-[^/]+$/;
/** Must match what NETWORK_CONFIG_GLOBS reads under its bare name. */
const BARE_IFCFG_FILE = /^\/etc\/sysconfig\/network-scripts\/(vmnic\d|eth\d|en[ops]\d)[^/]*$/;
const ROUTE_FILE = /^(\/etc\/sysconfig\/network-scripts\/(?:route6?|rule6?)-|\/etc\/sysconfig\/network\/ifroute-)([^/]+)$/;

function kindOf(file: GuestFile): FileKind {
  const { path } = file;
  if (path === UDEV_RULES_PATH) return 'udev';
  if (path.startsWith('/etc/sysconfig/') && INITSCRIPTS_IGNORED.test(path)) return 'other';
  if (IFCFG_FILE.test(path)) return path.endsWith('/ifcfg-lo') ? 'other' : 'ifcfg';
  // A bare-named file is an interface's config only when it reads like one.
  if (BARE_IFCFG_FILE.test(path)) return /^\s*(DEVICE|NAME)=/m.test(file.content) ? 'ifcfg' : 'other';
  if (ROUTE_FILE.test(path)) return 'route';
  if (path.startsWith('/etc/NetworkManager/system-connections/')) return 'keyfile';
  if (/^\/etc\/netplan\/.+\.ya?ml$/.test(path)) return 'netplan';
  if (path === '/etc/network/interfaces' || path.startsWith('/etc/network/interfaces.d/')) return 'ifupdown';
  return 'other';
}

const isBareIfcfg = (path: string): boolean => !basename(path).startsWith('ifcfg-');

export function ifcfgDevice(file: GuestFile, vars: Map<string, string>): string {
  const fileName = basename(file.path);
  return vars.get('DEVICE') || (fileName.startsWith('ifcfg-') ? fileName.slice('ifcfg-'.length) : fileName);
}

const IFCFG_VIRTUAL_TYPES = new Set(['bond', 'bridge', 'team', 'ovsbridge', 'ovsbond', 'ovsintport', 'ipip', 'gre', 'tun', 'tap']);

function ifcfgFacts(file: GuestFile): FileFacts {
  const vars = shellVars(file.content);
  const device = ifcfgDevice(file, vars);
  const type = (vars.get('TYPE') ?? '').toLowerCase();
  const deviceType = (vars.get('DEVICETYPE') ?? '').toLowerCase();
  if (vars.get('VLAN') === 'yes' || type === 'vlan') {
    const parent = vars.get('PHYSDEV') || (device.includes('.') ? interfaceBase(device) : undefined);
    return { configured: parent ? [{ name: parent, path: file.path }] : [], virtual: [device] };
  }
  if (IFCFG_VIRTUAL_TYPES.has(type) || IFCFG_VIRTUAL_TYPES.has(deviceType) || vars.get('BONDING_MASTER') === 'yes') return { configured: [], virtual: [device] };
  // Wireless, InfiniBand: not something a VM NIC becomes.
  if (type && type !== 'ethernet') return NO_FACTS;
  const hw = vars.get('HWADDR');
  return { configured: [{ name: interfaceBase(device), path: file.path, ...(hw ? { mac: normalizeMac(hw) } : {}) }], virtual: [] };
}

const KEYFILE_ETHERNET_TYPES = new Set(['ethernet', '802-3-ethernet']);
const KEYFILE_VIRTUAL_TYPES = new Set(['bond', 'bridge', 'team', 'vlan', 'macvlan', 'vxlan', 'tun', 'ip-tunnel', 'ovs-bridge', 'ovs-port', 'ovs-interface', 'dummy', 'loopback']);

function keyfileFacts(file: GuestFile): FileFacts {
  // NetworkManager reads a keyfile without a type as ethernet when it has an [ethernet] section; so do we without one.
  const type = iniValue(file.content, 'connection', 'type') ?? 'ethernet';
  const name = iniValue(file.content, 'connection', 'interface-name');
  if (type === 'vlan') {
    // The parent is an interface name or a connection's UUID.
    const parent = iniValue(file.content, 'vlan', 'parent');
    const parentName = parent && !UUID.test(parent) ? parent : name?.includes('.') ? interfaceBase(name) : undefined;
    return { configured: parentName ? [{ name: parentName, path: file.path }] : [], virtual: name ? [name] : [] };
  }
  if (KEYFILE_ETHERNET_TYPES.has(type)) {
    const mac = iniValue(file.content, 'ethernet', 'mac-address') ?? iniValue(file.content, '802-3-ethernet', 'mac-address');
    // Without interface-name the connection applies to whatever name the NIC has.
    return name ? { configured: [{ name: interfaceBase(name), path: file.path, ...(mac ? { mac: normalizeMac(mac) } : {}) }], virtual: [] } : NO_FACTS;
  }
  return { configured: [], virtual: name && KEYFILE_VIRTUAL_TYPES.has(type) ? [name] : [] };
}

function netplanEthernets(doc: Document): YAMLMap | undefined {
  const node = doc.getIn(['network', 'ethernets'], true);
  return isMap(node) ? node : undefined;
}

/** netplan ethernets entry → the interface name it configures and its MAC match. */
function netplanEntries(doc: Document): { id: string; name: string; mac?: string; entry: YAMLMap }[] {
  const ethernets = netplanEthernets(doc);
  if (!ethernets) return [];
  const out: { id: string; name: string; mac?: string; entry: YAMLMap }[] = [];
  for (const pair of ethernets.items) {
    const id = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    if (!isMap(pair.value)) continue;
    const entry = pair.value;
    const match = entry.get('match', true);
    const mac = isMap(match) ? match.get('macaddress') : undefined;
    const matchName = isMap(match) ? match.get('name') : undefined;
    const setName = entry.get('set-name');
    const name = typeof setName === 'string' ? setName : typeof matchName === 'string' ? matchName : isMap(match) ? undefined : id;
    // A pattern (`name: en*`) is no one interface's name.
    if (name && !GLOB.test(name)) out.push({ id, name, entry, ...(typeof mac === 'string' ? { mac: normalizeMac(mac) } : {}) });
  }
  return out;
}

const NETPLAN_VIRTUAL_GROUPS = ['bonds', 'bridges', 'vlans', 'tunnels', 'vrfs'];

function netplanFacts(file: GuestFile): FileFacts {
  const doc = parseDocument(file.content);
  if (doc.errors.length) return NO_FACTS;
  const virtual = NETPLAN_VIRTUAL_GROUPS.flatMap((group) => {
    const node = doc.getIn(['network', group], true);
    return isMap(node) ? node.items.map((pair) => (isScalar(pair.key) ? String(pair.key.value) : String(pair.key))) : [];
  });
  return { configured: netplanEntries(doc).map((e) => ({ name: interfaceBase(e.name), path: file.path, ...(e.mac ? { mac: e.mac } : {}) })), virtual };
}

/** Options that make an ifupdown stanza a bond, bridge or VLAN. */
const IFUPDOWN_VIRTUAL_OPTIONS = new Set([
  'bond-slaves',
  'bond_slaves',
  'bond-mode',
  'bond_mode',
  'slaves',
  'bridge_ports',
  'bridge-ports',
  'vlan-raw-device',
  'vlan_raw_device',
  'ovs_type',
]);
/** Options whose values are the interfaces a bond, bridge or VLAN is built on. */
const IFUPDOWN_MEMBER_OPTIONS = new Set([
  'bond-slaves',
  'bond_slaves',
  'slaves',
  'bridge_ports',
  'bridge-ports',
  'vlan-raw-device',
  'vlan_raw_device',
  'bond-primary',
  'bond_primary',
]);

function ifupdownFacts(file: GuestFile): FileFacts {
  const configured: ConfiguredName[] = [];
  const virtual: string[] = [];
  const add = (name: string): void => {
    if (name.includes('.')) virtual.push(name);
    configured.push({ name: interfaceBase(name), path: file.path });
  };
  let stanza: string | undefined;
  for (const line of file.content.split('\n')) {
    const [keyword, ...args] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!keyword) continue;
    if (keyword === 'iface') {
      stanza = args[0];
      if (stanza) add(stanza);
    } else if (keyword === 'auto' || keyword.startsWith('allow-')) {
      args.forEach(add);
    } else if (keyword === 'mapping' || keyword === 'source' || keyword === 'source-directory') {
      stanza = undefined;
    } else if (stanza) {
      if (IFUPDOWN_VIRTUAL_OPTIONS.has(keyword)) virtual.push(stanza);
      // `bridge_ports regex eth.*` and `bond-slaves none` name no interface.
      if (IFUPDOWN_MEMBER_OPTIONS.has(keyword) && args[0] !== 'regex') args.filter((a) => a !== 'none' && a !== 'all' && !GLOB.test(a)).forEach(add);
    }
  }
  return { configured, virtual };
}

/** The configuration formats, each read by its own reader; `none` for every other file. */
export type ConfigReaders<T> = Record<'ifcfg' | 'keyfile' | 'netplan' | 'ifupdown', (file: GuestFile) => T>;

export function readConfig<T>(file: GuestFile, readers: ConfigReaders<T>, none: T): T {
  const kind = kindOf(file);
  return kind in readers ? readers[kind as keyof ConfigReaders<T>](file) : none;
}

const fileFacts = (file: GuestFile): FileFacts => readConfig(file, { ifcfg: ifcfgFacts, keyfile: keyfileFacts, netplan: netplanFacts, ifupdown: ifupdownFacts }, NO_FACTS);

/** Every physical interface name the files configure, in file order. */
function configuredNames(files: GuestFile[]): ConfiguredName[] {
  const facts = files.map(fileFacts);
  const virtual = new Set(facts.flatMap((f) => f.virtual));
  return facts.flatMap((f) => f.configured).filter((c) => !virtual.has(c.name) && !VIRTUAL_NAME.test(c.name));
}

// ------------------------------------------------------------------ tying

/**
 * VMware's persistent slot number of the device at guest PCI `bus`:`dev`, for
 * VMware's default virtual topology (KB 2047927: slot = function.bridge.device
 * bits): legacy PCI behind pciBridge0 is bus 2 (ens33 = enp2s1), the PCIe root
 * ports of pciBridge4..7 are buses 3..34, eight functions each (ens160 =
 * enp3s0, ens192 = enp11s0, ens224 = enp19s0).
 */
function vmwarePciSlot(bus: number, dev: number): number | undefined {
  if (bus === 2) return (1 << 5) | dev;
  if (bus >= 3 && bus < 35 && dev === 0) {
    const port = bus - 3;
    return ((port & 7) << 10) | ((5 + (port >> 3)) << 5);
  }
  return undefined;
}

/** Where a name sorts among names: the slot the guest sees (as orderNics sorts NICs), else its bus and slot, else its trailing number. */
function nameOrderKey(name: string): number | undefined {
  const ens = /^ens(\d+)$/.exec(name);
  if (ens) return Number(ens[1]);
  const enp = /^enp(\d+)s(\d+)$/.exec(name);
  if (enp) {
    const slot = vmwarePciSlot(Number(enp[1]), Number(enp[2]));
    return slot === undefined ? Number(enp[1]) * 32 + Number(enp[2]) : vmwareAcpiSlot(slot);
  }
  const trailing = /(\d+)$/.exec(name);
  return trailing ? Number(trailing[1]) : undefined;
}

interface Tie {
  name: string;
  nic: number;
}

interface Untied {
  name: string;
  nic?: undefined;
  /** 'elsewhere': the files or the name itself say it is another NIC (or several); 'open': nothing says. */
  why: 'elsewhere' | 'open';
  reason: string;
}

type Fate = Tie | Untied;

const isOpen = (fate: Fate): boolean => fate.nic === undefined && fate.why === 'open';

const OPEN_REASON = "no MAC, NIC number or PCI slot ties this name to one of the VM's NICs, and the configured names do not pair up with the NICs";

/** Rules 2 and 3: what a name without a MAC says by itself. */
function fateByName(name: string, nics: NicFacts[]): Fate {
  const numbered = /^(vmnic|eth)(\d+)$/.exec(name);
  if (numbered) {
    // The name states which NIC it is: beyond the VM's NICs, it is one the VM no longer has.
    const n = Number(numbered[2]);
    return n < nics.length ? { name, nic: n } : { name, why: 'elsewhere', reason: `${name} is NIC ${n + 1} in source order and the VM has ${nics.length}: a NIC it no longer has` };
  }
  // A slot no NIC has is not decisive: how VMware numbers slots in the guest varies, and rule 4 may still pair it.
  const ens = /^ens(\d+)$/.exec(name);
  const enp = /^enp(\d+)s(\d+)$/.exec(name);
  const slot = ens ? Number(ens[1]) : enp ? vmwarePciSlot(Number(enp[1]), Number(enp[2])) : undefined;
  const exact = slot === undefined ? -1 : nics.findIndex((n) => n.pciSlot === slot);
  const nic = exact >= 0 || !ens ? exact : nics.findIndex((n) => n.pciSlot !== undefined && vmwareAcpiSlot(n.pciSlot) === slot);
  return nic >= 0 ? { name, nic } : { name, why: 'open', reason: OPEN_REASON };
}

/** Which NIC each configured physical name belongs to (rules 1–4 of the header). */
function tieNames(configured: ConfiguredName[], nics: NicFacts[]): Map<string, Fate> {
  const macs = nics.map((n) => normalizeMac(n.mac));
  const fates = new Map<string, Fate>();
  for (const name of new Set(configured.map((c) => c.name))) {
    const fileMacs = [...new Set(configured.filter((c) => c.name === name && c.mac).map((c) => c.mac!))];
    if (fileMacs.length > 1) {
      fates.set(name, { name, why: 'elsewhere', reason: `the files tie ${name} to several MACs (${fileMacs.join(', ')})` });
    } else if (fileMacs.length === 1) {
      const nic = macs.indexOf(fileMacs[0]!);
      fates.set(name, nic >= 0 ? { name, nic } : { name, why: 'elsewhere', reason: `MAC ${fileMacs[0]} is not one of the VM's NICs` });
    } else {
      fates.set(name, fateByName(name, nics));
    }
  }

  // Rule 4: as many candidate names as NICs pair up the ones left, in order.
  const all = [...fates.values()];
  const open = all.filter(isOpen);
  const candidates = all.filter((f) => f.nic !== undefined || f.why === 'open');
  const tiedNics = new Set(all.map((f) => f.nic).filter((n) => n !== undefined));
  const freeNics = nics.map((_, i) => i).filter((i) => !tiedNics.has(i));
  if (open.length > 0 && candidates.length === nics.length && open.length === freeNics.length) {
    const keyed = open.map((f) => ({ name: f.name, key: nameOrderKey(f.name) }));
    if (open.length === 1 || keyed.every((k) => k.key !== undefined)) {
      keyed.sort((a, b) => (a.key ?? 0) - (b.key ?? 0) || a.name.localeCompare(b.name));
      // By PCI order when every slot is known: slot names count in it. Else source order, which is how vSphere numbers its NICs.
      const nicOrder = freeNics.every((i) => nics[i]!.pciSlot !== undefined) ? orderNics(freeNics.map((i) => ({ ...nics[i]!, i }))).map((n) => n.i) : freeNics;
      keyed.forEach((k, j) => fates.set(k.name, { name: k.name, nic: nicOrder[j]! }));
    }
  }
  // Rule 5: one NIC, so every open name is it.
  if (nics.length === 1) for (const f of fates.values()) if (isOpen(f)) fates.set(f.name, { name: f.name, nic: 0 });
  return fates;
}

// --------------------------------------------------------------- rewriting

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Replaces every old name of `renames` as a whole interface token (also
 * `old.100`, `old:1`) in `text`, all at once: renaming ens192 → eth0 and
 * eth0 → eth1 together must not turn ens192 into eth1.
 */
function renameTokens(text: string, renames: Map<string, string>): string {
  if (!renames.size) return text;
  const names = [...renames.keys()]
    .sort((a, b) => b.length - a.length)
    .map(escapeRe)
    .join('|');
  return text.replace(new RegExp(`(^|[\\s"'=,\\[])(${names})(?=$|[\\s"'.:,\\]])`, 'g'), (_, lead: string, old: string) => `${lead}${renames.get(old)!}`);
}

interface Rewrite {
  content: string;
  renameTo?: string;
  /** The interface whose rename moves the file. */
  renamedFrom?: string;
  changes: string[];
}

const unchanged = (file: GuestFile): Rewrite => ({ content: file.content, changes: [] });

/** `renameTo` when the file moves: the interface it is named after is renamed. */
function moved(file: GuestFile, owner: string, target: string, renames: Map<string, string>): Pick<Rewrite, 'renameTo' | 'renamedFrom'> {
  const base = interfaceBase(owner);
  return renames.has(base) && target !== file.path ? { renameTo: target, renamedFrom: base } : {};
}

function rewriteIfcfg(file: GuestFile, renames: Map<string, string>): Rewrite {
  const device = ifcfgDevice(file, shellVars(file.content));
  const changes: string[] = [];
  const content = file.content
    .split('\n')
    .map((line) => {
      const m = /^(\s*)(DEVICE|NAME|PHYSDEV)=(.*)$/.exec(line);
      if (!m) return line;
      const value = renameTokens(m[3]!, renames);
      if (value !== m[3]) changes.push(`${m[2]}=${unquote(m[3]!)} → ${unquote(value)}`);
      return `${m[1]}${m[2]}=${value}`;
    })
    .join('\n');
  // ifcfg-<device> follows its device; a bare-named file becomes the ifcfg-<device> initscripts read.
  const named = basename(file.path) === `ifcfg-${device}` || isBareIfcfg(file.path);
  const move = named ? moved(file, device, `${dirname(file.path)}/ifcfg-${renameTokens(device, renames)}`, renames) : {};
  if (move.renameTo) changes.unshift(`renamed to ${move.renameTo}`);
  return { content, ...move, changes };
}

/** Renames interface tokens line by line (comments untouched), saying what changed. */
function renameLines(text: string, renames: Map<string, string>): { content: string; changes: string[] } {
  const changes: string[] = [];
  const content = text
    .split('\n')
    .map((line) => {
      if (/^\s*#/.test(line)) return line;
      const out = renameTokens(line, renames);
      if (out !== line) changes.push(`"${line.trim()}" → "${out.trim()}"`);
      return out;
    })
    .join('\n');
  return { content, changes };
}

function rewriteRoute(file: GuestFile, renames: Map<string, string>): Rewrite {
  const [, prefix, owner] = ROUTE_FILE.exec(file.path)!;
  const { content, changes } = renameLines(file.content, renames);
  const move = moved(file, owner!, `${prefix!}${renameTokens(owner!, renames)}`, renames);
  if (move.renameTo) changes.unshift(`renamed to ${move.renameTo}`);
  return { content, ...move, changes };
}

function rewriteKeyfile(file: GuestFile, renames: Map<string, string>): Rewrite {
  const iface = iniValue(file.content, 'connection', 'interface-name');
  const changes: string[] = [];
  let section = '';
  const content = file.content
    .split('\n')
    .map((line) => {
      const header = /^\s*\[([^\]]+)\]\s*$/.exec(line);
      if (header) section = header[1]!;
      const kv = /^(\s*)([^=\s]+)(\s*=\s*)(.*)$/.exec(line);
      const names = section === 'connection' ? ['interface-name', 'id'] : section === 'vlan' ? ['parent'] : [];
      if (!kv || !names.includes(kv[2]!)) return line;
      const value = renameTokens(kv[4]!, renames);
      if (value !== kv[4]) changes.push(`${kv[2]}=${kv[4]} → ${value}`);
      return `${kv[1]}${kv[2]}${kv[3]}${value}`;
    })
    .join('\n');
  const fileName = basename(file.path);
  const named = iface && (fileName === `${iface}.nmconnection` || fileName === iface);
  const move = named ? moved(file, iface, `${dirname(file.path)}/${renameTokens(iface, renames)}${fileName.endsWith('.nmconnection') ? '.nmconnection' : ''}`, renames) : {};
  if (move.renameTo) changes.unshift(`renamed to ${move.renameTo}`);
  return { content, ...move, changes };
}

/**
 * Renames in place: each renamed scalar (an ethernets id, set-name,
 * match.name, a bond's or bridge's interface, a VLAN's link) is replaced in
 * the text, so comments, quoting and indentation stay as the guest wrote them.
 */
function rewriteNetplan(file: GuestFile, renames: Map<string, string>): Rewrite {
  const doc = parseDocument(file.content);
  const ethernets = doc.errors.length ? undefined : netplanEthernets(doc);
  if (!ethernets) return unchanged(file);
  const changes: string[] = [];
  const splices: { start: number; end: number; text: string }[] = [];
  const replace = (node: unknown, from: string, to: string, what: string): void => {
    if (!isScalar(node) || !node.range || node.value !== from) return;
    const [start, end] = node.range;
    splices.push({ start, end, text: file.content.slice(start, end).replace(from, to) });
    changes.push(`${what} ${from} → ${to}`);
  };
  const renamedIds = new Map<string, string>();
  for (const { id, name, entry } of netplanEntries(doc)) {
    const next = renames.get(name);
    if (!next || next === name) continue;
    replace(entry.get('set-name', true), name, next, `${id}: set-name`);
    const match = entry.get('match', true);
    if (isMap(match)) replace(match.get('name', true), name, next, `${id}: match.name`);
    if (id === name) renamedIds.set(id, next);
  }
  for (const { key } of ethernets.items) {
    if (!isScalar(key)) continue;
    const next = renamedIds.get(String(key.value));
    if (next) replace(key, String(key.value), next, 'ethernets:');
  }
  // Bridges, bonds and VLANs refer to ethernets by id.
  for (const group of NETPLAN_VIRTUAL_GROUPS) {
    const node = doc.getIn(['network', group], true);
    if (!isMap(node)) continue;
    for (const pair of node.items) {
      if (!isMap(pair.value)) continue;
      const interfaces = pair.value.get('interfaces', true);
      if (isSeq(interfaces)) {
        for (const item of interfaces.items) {
          if (!isScalar(item)) continue;
          const next = renamedIds.get(String(item.value));
          if (next) replace(item, String(item.value), next, `${group}: interface`);
        }
      }
      const link = pair.value.get('link', true);
      if (!isScalar(link)) continue;
      const next = renamedIds.get(String(link.value));
      if (next) replace(link, String(link.value), next, `${group}: link`);
    }
  }
  let content = file.content;
  for (const { start, end, text } of splices.sort((a, b) => b.start - a.start)) content = `${content.slice(0, start)}${text}${content.slice(end)}`;
  return { content, changes };
}

function rewriteIfupdown(file: GuestFile, renames: Map<string, string>): Rewrite {
  return renameLines(file.content, renames);
}

const REWRITERS: Partial<Record<FileKind, (file: GuestFile, renames: Map<string, string>) => Rewrite>> = {
  ifcfg: rewriteIfcfg,
  route: rewriteRoute,
  keyfile: rewriteKeyfile,
  netplan: rewriteNetplan,
  ifupdown: rewriteIfupdown,
};

interface BlockedMove {
  path: string;
  renameTo: string;
  name: string;
}

/** The edits `renames` makes; a file whose new name is taken is not edited at all (the caller backs off). */
function rewriteFiles(files: GuestFile[], renames: Map<string, string>): { edits: FileEdit[]; blocked: BlockedMove[] } {
  const existing = new Set(files.map((f) => f.path));
  const claimed = new Set<string>();
  const edits: FileEdit[] = [];
  const blocked: BlockedMove[] = [];
  for (const file of files) {
    const rewrite = REWRITERS[kindOf(file)]?.(file, renames);
    if (!rewrite || (rewrite.content === file.content && !rewrite.renameTo)) continue;
    const { renameTo, renamedFrom } = rewrite;
    if (renameTo && (existing.has(renameTo) || claimed.has(renameTo))) {
      blocked.push({ path: file.path, renameTo, name: renamedFrom! });
      continue;
    }
    if (renameTo) claimed.add(renameTo);
    edits.push({ path: file.path, ...(renameTo ? { renameTo } : {}), content: rewrite.content, create: false, changes: rewrite.changes });
  }
  return { edits, blocked };
}

export function udevRules(pins: { mac: string; name: string }[]): string {
  return [
    '# Written by v2v: pins each NIC (by MAC) to its interface name after the move to KubeVirt.',
    ...pins.map((p) => `SUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="${p.mac}", ATTR{type}=="1", NAME="${p.name}"`),
    '',
  ].join('\n');
}

function udevPins(content: string): { mac: string; name: string }[] {
  return content
    .split('\n')
    .map((line) => /ATTR\{address\}=="([^"]+)".*\bNAME="([^"]+)"/.exec(line.replace(/#.*/, '')))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ mac: normalizeMac(m[1]!), name: m[2]! }));
}

/** The guest's files after `edits` (what the executor does with guestfish), sorted by path. */
export function applyNicEdits(files: GuestFile[], edits: FileEdit[]): GuestFile[] {
  const out = new Map(files.map((f) => [f.path, f.content]));
  for (const edit of edits) {
    out.delete(edit.path);
    out.set(edit.renameTo ?? edit.path, edit.content);
  }
  return [...out].map(([path, content]) => ({ path, content })).sort((a, b) => a.path.localeCompare(b.path));
}

// ---------------------------------------------------------------- planning

/**
 * How a NIC ends up: renamed to its ethN ('target'), pinned to the one name
 * the guest already uses ('kept': naming 'keep', or 'eth' when the rename
 * cannot be made), or not pinned at all.
 */
type PinState = { kind: 'target' } | { kind: 'kept'; name: string; reason?: string } | { kind: 'unpinned'; reason?: string };

/**
 * The edits that make the guest's network configuration match `naming` for
 * `nics` (in source order). `files` are the guest's files matching
 * NETWORK_CONFIG_GLOBS (the udev rules file included when it exists). Throws
 * NIC_PLAN_INCONSISTENT rather than return a plan whose udev rules
 * contradict the files.
 */
export function planNicRenames(files: GuestFile[], nics: Nic[], naming: NicNaming): NicPlan {
  const macs = nics.map((n) => normalizeMac(n.mac));
  const configured = configuredNames(files);
  const fates = tieNames(configured, nics);
  const guestNames = nics.map((_, i) => [...fates.values()].filter((f) => f.nic === i).map((f) => f.name));
  const openNames = [...fates.values()].filter(isOpen).map((f) => f.name);
  const macsInFiles = new Set(configured.map((c) => c.mac).filter((m) => m !== undefined));
  const targetName = (i: number): string => `eth${i}`;

  const states: PinState[] = nics.map((_, i): PinState => {
    const names = guestNames[i]!;
    if (naming === 'keep') {
      if (names.length === 1) return { kind: 'kept', name: names[0]! };
      return { kind: 'unpinned', ...(names.length ? { reason: `the NIC is configured under several names (${names.join(', ')})` } : {}) };
    }
    if (names.length) return { kind: 'target' };
    // A NIC nothing configures may be pinned only if no file could be configuring it under another name.
    if (macsInFiles.has(macs[i]!)) return { kind: 'unpinned', reason: 'a file names its MAC under a name that is not its own' };
    if (openNames.length) return { kind: 'unpinned' };
    return { kind: 'target' };
  });
  const pinOf = (i: number): string | undefined => {
    const state = states[i]!;
    return state.kind === 'target' ? targetName(i) : state.kind === 'kept' ? state.name : undefined;
  };
  const renamesFor = (): Map<string, string> => {
    const renames = new Map<string, string>();
    states.forEach((state, i) => {
      if (state.kind === 'target') for (const name of guestNames[i]!) renames.set(name, targetName(i));
    });
    return renames;
  };

  // Back off NIC by NIC until no pin contradicts the files: target → kept → unpinned, so this ends.
  let edits: FileEdit[];
  for (;;) {
    const renames = renamesFor();
    const result = rewriteFiles(files, renames);
    edits = result.edits;
    const backOff = new Map<number, string>();
    const demand = (i: number | undefined, reason: string): void => {
      if (i !== undefined && states[i]!.kind !== 'unpinned' && !backOff.has(i)) backOff.set(i, reason);
    };
    for (const b of result.blocked) demand(fates.get(b.name)?.nic, `${b.renameTo} exists already, so ${b.path} cannot follow the rename to ${renames.get(b.name)}`);
    const finalName = (name: string): string => renames.get(name) ?? name;
    states.forEach((_, i) => {
      const pin = pinOf(i);
      if (!pin) return;
      for (const c of configured) {
        if (finalName(c.name) === pin && fates.get(c.name)?.nic !== i) {
          demand(i, `${c.path} configures ${pin} for ${c.mac ? `MAC ${c.mac}` : 'another interface'}`);
        } else if (c.mac === macs[i] && finalName(c.name) !== pin) {
          demand(i, `${c.path} names this NIC's MAC ${c.name}`);
        }
      }
    });
    if (!backOff.size) break;
    for (const [i, reason] of backOff) {
      const names = guestNames[i]!;
      const keepable = states[i]!.kind === 'target' && names.length === 1 && !states.some((_, j) => j !== i && pinOf(j) === names[0]);
      states[i] = keepable ? { kind: 'kept', name: names[0]!, reason } : { kind: 'unpinned', reason };
    }
  }

  const skipped: SkippedName[] = [];
  const report = (name: string, reason: string): void => {
    for (const path of new Set(configured.filter((c) => c.name === name).map((c) => c.path))) skipped.push({ name, path, reason });
  };
  // An open name keeps the NICs nothing configures from being pinned: say which.
  const unpinnedUnconfigured =
    naming === 'eth'
      ? macs.filter((_, i) => {
          const state = states[i]!;
          return !guestNames[i]!.length && state.kind === 'unpinned' && !state.reason;
        })
      : [];
  const mayBe = unpinnedUnconfigured.length ? `; it may configure ${unpinnedUnconfigured.join(', ')}, so no udev rule pins ${unpinnedUnconfigured.length > 1 ? 'them' : 'it'}` : '';
  for (const fate of fates.values()) if (fate.nic === undefined) report(fate.name, `${fate.reason}${isOpen(fate) ? mayBe : ''}`);
  states.forEach((state, i) => {
    const names = guestNames[i]!;
    if (state.kind === 'unpinned' && state.reason) {
      for (const name of names) report(name, `${state.reason}; NIC ${macs[i]} is not pinned and ${name} is left as it is`);
    } else if (state.kind === 'kept' && state.reason) {
      report(state.name, `${state.reason}; NIC ${macs[i]} keeps the name ${state.name} (pinned to it) instead of ${targetName(i)}`);
    }
  });

  const assignments: NicAssignment[] = nics.map((nic, i) => {
    const pin = pinOf(i);
    return {
      mac: macs[i]!,
      ...(nic.pciSlot !== undefined ? { pciSlot: nic.pciSlot } : {}),
      guestNames: guestNames[i]!,
      name: pin ?? (naming === 'keep' ? guestNames[i]![0] : undefined) ?? targetName(i),
      pinned: pin !== undefined,
    };
  });

  const pins = assignments.filter((a) => a.pinned).map((a) => ({ mac: a.mac, name: a.name }));
  if (pins.length) {
    const rules = udevRules(pins);
    const current = files.find((f) => f.path === UDEV_RULES_PATH);
    if (current?.content !== rules) {
      edits.push({
        path: UDEV_RULES_PATH,
        content: rules,
        create: !current,
        mode: 0o644,
        changes: pins.map((p) => `${p.mac} → ${p.name}`),
      });
    }
  }
  const plan: NicPlan = { naming, assignments, edits, skipped };
  assertNicPlanConsistent(files, plan);
  return plan;
}

// --------------------------------------------------------------- invariant

/**
 * What is wrong with `plan` for `files`, from the files as the plan leaves
 * them (parsed again, not the planner's own bookkeeping); empty when it holds:
 * - every name a udev rule pins is a name some file configures, unless the NIC
 *   is configured by nothing and no untied name could be its;
 * - no file ties a pinned MAC to another name, nor configures a pinned name for another MAC;
 * - every configured physical name is renamed to its NIC's pinned name, or
 *   left unchanged and reported in `skipped`;
 * - the rules file holds exactly the pins the plan states.
 */
export function checkNicPlan(files: GuestFile[], plan: NicPlan): string[] {
  const problems: string[] = [];
  const after = applyNicEdits(files, plan.edits);
  const before = configuredNames(files);
  const beforeNames = [...new Set(before.map((c) => c.name))];
  const afterConfigured = configuredNames(after);
  const afterNames = new Set(afterConfigured.map((c) => c.name));
  const pinned = plan.assignments.filter((a) => a.pinned !== false);
  const pinnedNames = new Set(pinned.map((a) => a.name));
  const tied = new Set(plan.assignments.flatMap((a) => a.guestNames));
  const skipped = new Set(plan.skipped.map((s) => s.name));
  // A name no NIC holds and nothing places elsewhere could be any unconfigured NIC's.
  const open = beforeNames.filter((name) => !tied.has(name) && !before.some((c) => c.name === name && c.mac) && isOpen(fateByName(name, plan.assignments)));

  const rulesEdit = plan.edits.find((e) => e.path === UDEV_RULES_PATH);
  const rulesFile = rulesEdit ?? (pinned.length ? files.find((f) => f.path === UDEV_RULES_PATH) : undefined);
  const written = rulesFile ? udevPins(rulesFile.content) : [];
  const describe = (pins: { mac: string; name: string }[]): string => pins.map((p) => `${p.mac}=${p.name}`).join(', ') || 'nothing';
  if (describe(written) !== describe(pinned.map((a) => ({ mac: a.mac, name: a.name })))) {
    problems.push(`the udev rules pin ${describe(written)} but the plan pins ${describe(pinned)}`);
  }
  if (pinnedNames.size !== pinned.length) problems.push(`two NICs are pinned to one name (${describe(pinned)})`);

  for (const a of plan.assignments) {
    if (a.pinned === false) {
      for (const name of a.guestNames) {
        if (!afterNames.has(name) || !skipped.has(name)) problems.push(`${name} belongs to ${a.mac}, which is not pinned, so it must be left as it is and reported`);
      }
      continue;
    }
    const pin = a.name;
    const claimed = afterConfigured.some((c) => c.mac === a.mac);
    if (!afterNames.has(pin) && (a.guestNames.length || claimed || open.length)) {
      problems.push(
        `the udev rule pins ${a.mac} to ${pin}, which no file configures, while ${[...a.guestNames, ...open].join(', ') || 'a file naming its MAC'} may configure that NIC`,
      );
    }
    for (const c of afterConfigured) {
      if (c.mac === a.mac && c.name !== pin) problems.push(`${c.path} ties ${a.mac} to ${c.name}, the udev rule to ${pin}`);
      if (c.name === pin && c.mac && c.mac !== a.mac) problems.push(`${c.path} configures ${pin} for ${c.mac}, the udev rule gives that name to ${a.mac}`);
    }
    for (const name of a.guestNames) {
      if (name !== pin && afterNames.has(name) && !pinnedNames.has(name)) problems.push(`${name} belongs to ${a.mac}, pinned to ${pin}, but is still configured`);
    }
  }
  for (const name of beforeNames) {
    if (!tied.has(name) && (!afterNames.has(name) || !skipped.has(name))) problems.push(`${name} belongs to no NIC, so it must be left as it is and reported`);
  }
  for (const s of plan.skipped) {
    if (!afterNames.has(s.name)) problems.push(`${s.name} is reported as left unchanged, but no file configures it any more`);
  }
  return [...new Set(problems)];
}

/** Throws NIC_PLAN_INCONSISTENT when checkNicPlan finds anything: nothing may be written then. */
export function assertNicPlanConsistent(files: GuestFile[], plan: NicPlan): void {
  const problems = checkNicPlan(files, plan);
  if (!problems.length) return;
  throw new ConversionError('NIC_PLAN_INCONSISTENT', `the NIC renaming plan contradicts the guest's network files: ${problems.join('; ')}`, {
    hint: "nothing was written to the guest; this is a bug in v2v's NIC planner: report it with the files named in the details",
    details: { problems, files: files.map((f) => f.path), naming: plan.naming },
  });
}
