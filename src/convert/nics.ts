// NIC renaming inside the guest, planned as pure data: given the guest's
// network configuration files and the VM's NICs, which files to rename and
// rewrite so that the interfaces come up under stable names on KubeVirt, where
// the NICs become virtio and predictable names (ens192, …) change.
//
// 'eth': every NIC becomes ethN (N = order by PCI slot, then MAC); ifcfg,
//        NetworkManager keyfiles, netplan and ifupdown follow; a udev rule pins
//        each MAC to its ethN.
// 'keep': files are left alone; a udev rule pins each MAC to the name the guest
//        already uses for it (Forklift's approach).
//
// Which guest name belongs to which NIC: a MAC written in a file (ifcfg
// HWADDR, keyfile mac-address, netplan match.macaddress), else `ens<slot>` for
// the NIC in that PCI slot. Names that cannot be tied to a NIC are reported and
// left untouched. Planning against the already-renamed files plans nothing:
// the executor is idempotent because the plan is.
import { isMap, isScalar, isSeq, parseDocument, type Document, type YAMLMap } from 'yaml';
import type { Nic } from '../model.js';

export type NicNaming = 'eth' | 'keep';

export const UDEV_RULES_PATH = '/etc/udev/rules.d/70-persistent-net.rules';

/** Where the executor looks for network configuration (guestfish globs). */
export const NETWORK_CONFIG_GLOBS = [
  '/etc/sysconfig/network-scripts/ifcfg-*',
  '/etc/sysconfig/network/ifcfg-*',
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
  /** The name it will have after conversion. */
  name: string;
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
  name: string;
  path: string;
  reason: string;
}

export interface NicPlan {
  naming: NicNaming;
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

/** VM NICs in the order the guest enumerates them: PCI slot, then MAC. */
export function orderNics(nics: Nic[]): Nic[] {
  return [...nics].sort((a, b) => {
    const sa = a.pciSlot ?? Number.MAX_SAFE_INTEGER;
    const sb = b.pciSlot ?? Number.MAX_SAFE_INTEGER;
    return sa !== sb ? sa - sb : normalizeMac(a.mac).localeCompare(normalizeMac(b.mac));
  });
}

// ---------------------------------------------------------------- parsing

interface NameEvidence {
  name: string;
  path: string;
  mac?: string;
}

const basename = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
const dirname = (path: string): string => path.slice(0, path.lastIndexOf('/'));

function unquote(value: string): string {
  const v = value.trim();
  return /^(".*"|'.*')$/.test(v) ? v.slice(1, -1) : v;
}

function shellVars(content: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of content.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) vars.set(m[1]!, unquote(m[2]!));
  }
  return vars;
}

function iniValue(content: string, section: string, key: string): string | undefined {
  let current = '';
  for (const line of content.split('\n')) {
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (header) current = header[1]!;
    else if (current === section) {
      const kv = /^\s*([^=#;]+?)\s*=\s*(.*?)\s*$/.exec(line);
      if (kv && kv[1] === key) return kv[2];
    }
  }
  return undefined;
}

type FileKind = 'ifcfg' | 'keyfile' | 'netplan' | 'ifupdown' | 'udev' | 'other';

function kindOf(path: string): FileKind {
  if (/\/ifcfg-[^/]+$/.test(path) && !path.endsWith('ifcfg-lo')) return 'ifcfg';
  if (path.startsWith('/etc/NetworkManager/system-connections/')) return 'keyfile';
  if (/^\/etc\/netplan\/.+\.ya?ml$/.test(path)) return 'netplan';
  if (path === '/etc/network/interfaces' || path.startsWith('/etc/network/interfaces.d/')) return 'ifupdown';
  if (path === UDEV_RULES_PATH) return 'udev';
  return 'other';
}

function ifcfgName(file: GuestFile): string {
  const vars = shellVars(file.content);
  return vars.get('DEVICE') || basename(file.path).slice('ifcfg-'.length);
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
    if (name) out.push({ id, name, entry, ...(typeof mac === 'string' ? { mac: normalizeMac(mac) } : {}) });
  }
  return out;
}

const IFUPDOWN_NAME_KEYWORDS = new Set(['auto', 'allow-hotplug', 'allow-auto', 'iface', 'mapping', 'rename']);

function ifupdownNames(content: string): string[] {
  const names = new Set<string>();
  for (const line of content.split('\n')) {
    const tokens = line.replace(/#.*/, '').trim().split(/\s+/);
    const keyword = tokens[0];
    if (!keyword || !(IFUPDOWN_NAME_KEYWORDS.has(keyword) || keyword.startsWith('allow-'))) continue;
    const args = keyword === 'iface' ? tokens.slice(1, 2) : tokens.slice(1);
    for (const arg of args) {
      const base = arg.split(/[.:=]/)[0]!;
      if (base && base !== 'lo') names.add(base);
    }
  }
  return [...names];
}

function evidenceOf(file: GuestFile): NameEvidence[] {
  switch (kindOf(file.path)) {
    case 'ifcfg': {
      const vars = shellVars(file.content);
      const hw = vars.get('HWADDR');
      return [{ name: ifcfgName(file), path: file.path, ...(hw ? { mac: normalizeMac(hw) } : {}) }];
    }
    case 'keyfile': {
      const name = iniValue(file.content, 'connection', 'interface-name');
      const mac = iniValue(file.content, 'ethernet', 'mac-address');
      return name ? [{ name, path: file.path, ...(mac ? { mac: normalizeMac(mac) } : {}) }] : [];
    }
    case 'netplan': {
      const doc = parseDocument(file.content);
      if (doc.errors.length) return [];
      return netplanEntries(doc).map((e) => ({ name: e.name, path: file.path, ...(e.mac ? { mac: e.mac } : {}) }));
    }
    case 'ifupdown':
      return ifupdownNames(file.content).map((name) => ({ name, path: file.path }));
    default:
      return [];
  }
}

// --------------------------------------------------------------- rewriting

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Replaces `old` as a whole interface token (also `old.100`, `old:1`) in `text`. */
function replaceName(text: string, old: string, next: string): string {
  return text.replace(new RegExp(`(^|[\\s"'=,\\[])${escapeRe(old)}(?=$|[\\s"'.:,\\]])`, 'g'), `$1${next}`);
}

function rewriteIfcfg(file: GuestFile, renames: Map<string, string>): { content: string; renameTo?: string; changes: string[] } {
  const old = ifcfgName(file);
  const next = renames.get(old);
  if (!next) return { content: file.content, changes: [] };
  const changes: string[] = [];
  const lines = file.content.split('\n').map((line) => {
    const m = /^(\s*)(DEVICE|NAME)=(.*)$/.exec(line);
    if (!m) return line;
    const rewritten = `${m[1]}${m[2]}=${replaceName(m[3]!, old, next)}`;
    if (rewritten !== line) changes.push(`${m[2]}=${unquote(m[3]!)} → ${next}`);
    return rewritten;
  });
  const fileName = basename(file.path);
  const renameTo = fileName === `ifcfg-${old}` ? `${dirname(file.path)}/ifcfg-${next}` : undefined;
  if (renameTo) changes.unshift(`renamed to ${renameTo}`);
  return { content: lines.join('\n'), ...(renameTo ? { renameTo } : {}), changes };
}

function rewriteKeyfile(file: GuestFile, renames: Map<string, string>): { content: string; renameTo?: string; changes: string[] } {
  const old = iniValue(file.content, 'connection', 'interface-name');
  const next = old ? renames.get(old) : undefined;
  if (!old || !next) return { content: file.content, changes: [] };
  const changes: string[] = [];
  let section = '';
  const lines = file.content.split('\n').map((line) => {
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (header) section = header[1]!;
    const kv = /^(\s*)(interface-name|id)(\s*=\s*)(.*)$/.exec(line);
    if (section !== 'connection' || !kv) return line;
    const rewritten = `${kv[1]}${kv[2]}${kv[3]}${replaceName(kv[4]!, old, next)}`;
    if (rewritten !== line) changes.push(`${kv[2]}=${kv[4]} → ${next}`);
    return rewritten;
  });
  const fileName = basename(file.path);
  const renameTo = fileName === `${old}.nmconnection` || fileName === old ? `${dirname(file.path)}/${fileName.replace(old, next)}` : undefined;
  if (renameTo) changes.unshift(`renamed to ${renameTo}`);
  return { content: lines.join('\n'), ...(renameTo ? { renameTo } : {}), changes };
}

function rewriteNetplan(file: GuestFile, renames: Map<string, string>): { content: string; changes: string[] } {
  const doc = parseDocument(file.content);
  const ethernets = doc.errors.length ? undefined : netplanEthernets(doc);
  if (!ethernets) return { content: file.content, changes: [] };
  const changes: string[] = [];
  const renamedIds = new Map<string, string>();
  for (const { id, name, entry } of netplanEntries(doc)) {
    const next = renames.get(name);
    if (!next) continue;
    if (entry.get('set-name') === name) {
      entry.set('set-name', next);
      changes.push(`${id}: set-name ${name} → ${next}`);
    }
    const match = entry.get('match', true);
    if (isMap(match) && match.get('name') === name) {
      match.set('name', next);
      changes.push(`${id}: match.name ${name} → ${next}`);
    }
    if (id === name) renamedIds.set(id, next);
  }
  for (const pair of ethernets.items) {
    if (isScalar(pair.key) && renamedIds.has(String(pair.key.value))) {
      const from = String(pair.key.value);
      pair.key.value = renamedIds.get(from);
      changes.push(`ethernets.${from} → ${String(pair.key.value)}`);
    }
  }
  // Bridges, bonds and VLANs refer to ethernets by id.
  for (const group of ['bridges', 'bonds', 'vlans']) {
    const node = doc.getIn(['network', group], true);
    if (!isMap(node)) continue;
    for (const pair of node.items) {
      if (!isMap(pair.value)) continue;
      const interfaces = pair.value.get('interfaces', true);
      if (isSeq(interfaces)) {
        interfaces.items.forEach((item, i) => {
          if (isScalar(item) && renamedIds.has(String(item.value))) {
            interfaces.items[i] = doc.createNode(renamedIds.get(String(item.value)));
            changes.push(`${group}: interface ${String(item.value)} → ${renamedIds.get(String(item.value))}`);
          }
        });
      }
      const link = pair.value.get('link');
      if (typeof link === 'string' && renamedIds.has(link)) {
        pair.value.set('link', renamedIds.get(link));
        changes.push(`${group}: link ${link} → ${renamedIds.get(link)}`);
      }
    }
  }
  return { content: changes.length ? doc.toString() : file.content, changes };
}

function rewriteIfupdown(file: GuestFile, renames: Map<string, string>): { content: string; changes: string[] } {
  const changes: string[] = [];
  const lines = file.content.split('\n').map((line) => {
    if (/^\s*#/.test(line)) return line;
    let out = line;
    for (const [old, next] of renames) out = replaceName(out, old, next);
    if (out !== line) changes.push(`"${line.trim()}" → "${out.trim()}"`);
    return out;
  });
  return { content: lines.join('\n'), changes };
}

export function udevRules(pins: { mac: string; name: string }[]): string {
  return [
    '# Written by v2v: pins each NIC (by MAC) to its interface name after the move to KubeVirt.',
    ...pins.map((p) => `SUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="${p.mac}", ATTR{type}=="1", NAME="${p.name}"`),
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- planning

/**
 * The edits that make the guest's network configuration match `naming` for
 * `nics`. `files` are the guest's files matching NETWORK_CONFIG_GLOBS (the
 * udev rules file included when it exists).
 */
export function planNicRenames(files: GuestFile[], nics: Nic[], naming: NicNaming): NicPlan {
  const ordered = orderNics(nics);
  const byMac = new Map(ordered.map((nic, i) => [normalizeMac(nic.mac), { nic, index: i }]));
  const bySlot = new Map(ordered.filter((n) => n.pciSlot !== undefined).map((nic, i) => [nic.pciSlot!, { nic, index: i }]));
  const targetName = (index: number): string => `eth${index}`;

  // Guest name → MAC, from every file that says.
  const nameToMac = new Map<string, string>();
  const conflicted = new Set<string>();
  const evidence = files.flatMap(evidenceOf);
  for (const e of evidence) {
    if (!e.mac || !byMac.has(e.mac)) continue;
    const seen = nameToMac.get(e.name);
    if (seen && seen !== e.mac) conflicted.add(e.name);
    else nameToMac.set(e.name, e.mac);
  }
  for (const e of evidence) {
    if (nameToMac.has(e.name) || conflicted.has(e.name)) continue;
    const slot = /^ens(\d+)$/.exec(e.name);
    const hit = slot ? bySlot.get(Number(slot[1])) : undefined;
    if (hit) nameToMac.set(e.name, normalizeMac(hit.nic.mac));
  }

  const skipped: SkippedName[] = [];
  const reported = new Set<string>();
  for (const e of evidence) {
    if (nameToMac.has(e.name) && !conflicted.has(e.name)) continue;
    const key = `${e.name}\u0000${e.path}`;
    if (reported.has(key)) continue;
    reported.add(key);
    const isTarget = ordered.some((_, i) => targetName(i) === e.name);
    if (naming === 'eth' && isTarget && !conflicted.has(e.name)) continue; // already renamed
    skipped.push({
      name: e.name,
      path: e.path,
      reason: conflicted.has(e.name)
        ? "the guest ties this name to more than one of the VM's MACs"
        : e.mac
          ? `MAC ${e.mac} is not one of the VM's NICs`
          : "no MAC or PCI slot ties this name to one of the VM's NICs",
    });
  }
  for (const name of conflicted) nameToMac.delete(name);

  const assignments: NicAssignment[] = ordered.map((nic, index) => {
    const mac = normalizeMac(nic.mac);
    const guestNames = [...nameToMac].filter(([, m]) => m === mac).map(([n]) => n);
    const name = naming === 'eth' ? targetName(index) : (guestNames[0] ?? targetName(index));
    return { mac, ...(nic.pciSlot !== undefined ? { pciSlot: nic.pciSlot } : {}), guestNames, name };
  });

  const renames = new Map<string, string>();
  if (naming === 'eth') {
    for (const a of assignments) for (const n of a.guestNames) if (n !== a.name) renames.set(n, a.name);
  }

  const existing = new Set(files.map((f) => f.path));
  const edits: FileEdit[] = [];
  for (const file of files) {
    const kind = kindOf(file.path);
    const result =
      kind === 'ifcfg'
        ? rewriteIfcfg(file, renames)
        : kind === 'keyfile'
          ? rewriteKeyfile(file, renames)
          : kind === 'netplan'
            ? rewriteNetplan(file, renames)
            : kind === 'ifupdown'
              ? rewriteIfupdown(file, renames)
              : undefined;
    if (!result) continue;
    const renameTo: string | undefined = 'renameTo' in result && typeof result.renameTo === 'string' ? result.renameTo : undefined;
    if (result.content === file.content && !renameTo) continue;
    if (renameTo && existing.has(renameTo)) {
      skipped.push({ name: basename(file.path), path: file.path, reason: `${renameTo} exists already; left both files as they are` });
      continue;
    }
    edits.push({ path: file.path, ...(renameTo ? { renameTo } : {}), content: result.content, create: false, changes: result.changes });
  }

  // In 'keep' mode only NICs the guest names get a pin: pinning an unnamed NIC
  // to ethN would be a rename.
  const pins = assignments.filter((a) => naming === 'eth' || a.guestNames.length > 0).map((a) => ({ mac: a.mac, name: a.name }));
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
  return { naming, assignments, edits, skipped };
}
