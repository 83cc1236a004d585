import type { Entity, FakeInventory, FakeVm } from './fixtures.js';

// Renders the fake's inventory the way the engine does (ovirt-engine-api-model
// "Representations"): XML with `id`/`href` as attributes and every other
// attribute as an element, lists as a plural element of singular items,
// `<link href rel/>` for unfollowed sub-collections; JSON with the same
// names, lists as `{ "<singular>": [...] }`, and every scalar a string.

export const API = '/ovirt-engine/api';

/** Reference attribute → the collection its target lives in. */
const REF_COLLECTION: Record<string, string> = {
  cluster: 'clusters',
  data_center: 'datacenters',
  disk: 'disks',
  vnic_profile: 'vnicprofiles',
  network: 'networks',
  storage_domain: 'storagedomains',
  vm: 'vms',
  template: 'templates',
  base_template: 'templates',
  network_filter: 'networkfilters',
  host: 'hosts',
};

/** A VM's sub-collections: attribute name, link rel (path), item element. */
export const VM_SUBCOLLECTIONS = [
  { attr: 'disk_attachments', rel: 'diskattachments', item: 'disk_attachment', key: 'diskattachments' },
  { attr: 'nics', rel: 'nics', item: 'nic', key: 'nics' },
  { attr: 'snapshots', rel: 'snapshots', item: 'snapshot', key: 'snapshots' },
  { attr: 'watchdogs', rel: 'watchdogs', item: 'watchdog', key: 'watchdogs' },
  { attr: 'host_devices', rel: 'hostdevices', item: 'host_device', key: 'hostdevices' },
] as const;
/** Template sub-collections (the rest of VmBase's are VM-only). */
export const TEMPLATE_SUBCOLLECTIONS = VM_SUBCOLLECTIONS.filter((s) => s.attr === 'disk_attachments' || s.attr === 'nics' || s.attr === 'watchdogs');
const TEMPLATE_OTHER_LINKS = ['permissions', 'tags', 'cdroms', 'graphicsconsoles'];
const VM_OTHER_LINKS = [
  'permissions',
  'tags',
  'statistics',
  'cdroms',
  'graphicsconsoles',
  'reporteddevices',
  'applications',
  'affinitylabels',
  'katelloerrata',
  'sessions',
  'numanodes',
  'mediateddevices',
];

export type Follow = { [attr: string]: Follow };

export function parseFollow(follow: string | null | undefined): Follow {
  const tree: Follow = {};
  for (const path of (follow ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    let cur = tree;
    for (const part of path.split('.')) cur = cur[part] ??= {};
  }
  return tree;
}

function findEntity(inv: FakeInventory, collection: string, id: string): Entity | undefined {
  if (collection === 'vms' || collection === 'templates') return inv[collection].find((v) => v.vm.id === id)?.vm;
  const list = (inv as unknown as Record<string, Entity[] | undefined>)[collection];
  return list?.find((e) => e.id === id);
}

function isRef(value: unknown): value is { id: string } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && typeof (value as { id?: unknown }).id === 'string';
}

function decorate(inv: FakeInventory, key: string, value: unknown, follow: Follow | undefined): unknown {
  if (Array.isArray(value)) return value.map((v) => decorate(inv, key, v, follow));
  if (isRef(value) && REF_COLLECTION[key]) {
    const collection = REF_COLLECTION[key]!;
    if (follow) {
      const target = findEntity(inv, collection, value.id);
      if (target) return renderEntity(inv, collection, target, follow);
    }
    return { href: `${API}/${collection}/${value.id}`, id: value.id };
  }
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = decorate(inv, k, v, follow?.[k]);
    return out;
  }
  return value;
}

/** One top-level entity with its href, refs decorated and followed where asked. */
export function renderEntity(inv: FakeInventory, collection: string, entity: Entity, follow: Follow = {}): Record<string, unknown> {
  const href = `${API}/${collection}/${entity.id}`;
  const out: Record<string, unknown> = { href, id: entity.id };
  for (const [k, v] of Object.entries(entity)) if (k !== 'id') out[k] = decorate(inv, k, v, follow[k]);
  if (collection === 'vms' || collection === 'templates') {
    const fake = inv[collection].find((v) => v.vm.id === entity.id)!;
    const links: { href: string; rel: string }[] = [];
    for (const sub of collection === 'vms' ? VM_SUBCOLLECTIONS : TEMPLATE_SUBCOLLECTIONS) {
      if (follow[sub.attr]) {
        out[sub.attr] = { [sub.item]: fake[sub.key].map((item) => renderSubEntity(inv, fake, collection, sub.rel, item, follow[sub.attr]!)) };
      } else {
        links.push({ href: `${href}/${sub.rel}`, rel: sub.rel });
      }
    }
    for (const rel of collection === 'vms' ? VM_OTHER_LINKS : TEMPLATE_OTHER_LINKS) links.push({ href: `${href}/${rel}`, rel });
    out['link'] = links;
  }
  return out;
}

export function renderSubEntity(inv: FakeInventory, fake: FakeVm, collection: string, rel: string, item: Entity, follow: Follow = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { href: `${API}/${collection}/${fake.vm.id}/${rel}/${item.id}`, id: item.id };
  for (const [k, v] of Object.entries(item)) if (k !== 'id') out[k] = decorate(inv, k, v, follow[k]);
  return out;
}

// ---- wire forms -------------------------------------------------------------

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function xmlElement(name: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((v) => xmlElement(name, v)).join('');
  if (typeof value !== 'object') return `<${name}>${esc(String(value))}</${name}>`;
  const obj = value as Record<string, unknown>;
  if (name === 'link') return `<link href="${esc(String(obj['href']))}" rel="${esc(String(obj['rel']))}"/>`;
  const attrs = ['href', 'id']
    .filter((a) => typeof obj[a] === 'string')
    .map((a) => ` ${a}="${esc(obj[a] as string)}"`)
    .join('');
  const children = Object.entries(obj)
    .filter(([k]) => k !== 'href' && k !== 'id')
    .map(([k, v]) => xmlElement(k, v))
    .join('');
  return children ? `<${name}${attrs}>${children}</${name}>` : `<${name}${attrs}/>`;
}

export function toXml(rootName: string, value: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n${xmlElement(rootName, value)}\n`;
}

export function collectionToXml(plural: string, singular: string, list: Record<string, unknown>[]): string {
  const inner = list.map((item) => xmlElement(singular, item)).join('\n');
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n${inner ? `<${plural}>\n${inner}\n</${plural}>` : `<${plural}/>`}\n`;
}

/** The engine writes every JSON scalar as a string. */
function jsonValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(jsonValue);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonValue(v)]));
  return value === undefined || value === null ? value : String(value);
}

export function toJson(value: Record<string, unknown>): string {
  return `${JSON.stringify(jsonValue(value), null, 2)}\n`;
}

export function collectionToJson(singular: string, list: Record<string, unknown>[]): string {
  return toJson(list.length ? { [singular]: list } : {});
}
