import { XMLParser } from 'fast-xml-parser';

// The oVirt API speaks XML (the engine's default) and JSON (`Accept:
// application/json`). Both are decoded into one shape — the documented JSON
// shape — so the typed readers never care which one came over the wire:
//   - `id` and `href` (XML attributes) are plain fields;
//   - a nested list is a container holding the singular items, e.g.
//     `disk_attachments: { disk_attachment: [...] }` (JSON) from
//     `<disk_attachments><disk_attachment/>…</disk_attachments>` (XML);
//   - every scalar is a string (the engine writes JSON scalars as strings, and
//     a number or boolean from another writer is turned into one).

export type ApiValue = string | ApiNode | ApiNode[];
export interface ApiNode {
  [field: string]: ApiValue | undefined;
}

/** `vms` holds `vm`, `storage_domains` holds `storage_domain`, `properties` holds `property`. */
function isListItem(name: string, parent: string | undefined): boolean {
  if (name === 'link') return true;
  if (!parent) return false;
  return parent === `${name}s` || (name.endsWith('y') && parent === `${name.slice(0, -1)}ies`) || (name.endsWith('s') && parent === `${name}es`);
}

const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  isArray: (name, jpath) => {
    // jpath is `a.b.parent.name`: only the parent's name matters.
    const path = String(jpath);
    const end = path.length - name.length - 1;
    return isListItem(name, end > 0 ? path.slice(path.lastIndexOf('.', end - 1) + 1, end) : undefined);
  },
});

type RawXml = string | { [key: string]: RawXml | RawXml[] };

function fromXml(raw: RawXml | RawXml[] | undefined): ApiValue {
  if (raw === undefined) return '';
  if (Array.isArray(raw)) return raw.map((r) => asNode(fromXml(r)));
  if (typeof raw === 'string') return raw;
  const out: ApiNode = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === '#text') {
      // Mixed content does not occur in the API; keep the text where a scalar would be.
      out['#text'] = String(value);
      continue;
    }
    out[key] = fromXml(value);
  }
  const keys = Object.keys(out);
  if (keys.length === 1 && keys[0] === '#text') return out['#text'] as string;
  return out;
}

function fromJson(raw: unknown): ApiValue {
  if (raw === null || raw === undefined) return '';
  if (Array.isArray(raw)) return raw.map((r) => asNode(fromJson(r)));
  if (typeof raw === 'object') {
    const out: ApiNode = {};
    for (const [key, value] of Object.entries(raw as Record<string, unknown>)) out[key] = fromJson(value);
    return out;
  }
  return String(raw);
}

function asNode(v: ApiValue): ApiNode {
  if (typeof v === 'string') return v === '' ? {} : { '#text': v };
  if (Array.isArray(v)) return { items: v };
  return v;
}

/**
 * Decodes a response body. For XML the root element is unwrapped: `<vm>` gives
 * the VM node, `<vms>` gives `{ vm: [...] }` — exactly what the JSON body is.
 */
export function decodeBody(body: string, contentType: string | undefined): { root: string | undefined; node: ApiNode } {
  const text = body.trim();
  if (text === '') return { root: undefined, node: {} };
  if (/json/i.test(contentType ?? '') || text.startsWith('{') || text.startsWith('[')) {
    return { root: undefined, node: asNode(fromJson(JSON.parse(text))) };
  }
  const parsed = xmlParser.parse(text) as Record<string, RawXml>;
  const root = Object.keys(parsed).find((k) => !k.startsWith('?'));
  if (!root) return { root: undefined, node: {} };
  return { root, node: asNode(fromXml(parsed[root])) };
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A request body in the documented XML shape: `id`/`href` as attributes, the rest as elements. */
export function encodeXml(rootName: string, node: ApiNode): string {
  const attrs = (['id', 'href'] as const)
    .filter((a) => typeof node[a] === 'string')
    .map((a) => ` ${a}="${escapeXml(node[a] as string)}"`)
    .join('');
  const children = Object.entries(node)
    .filter(([k, v]) => k !== 'id' && k !== 'href' && v !== undefined)
    .map(([k, v]) => {
      if (v === undefined) return '';
      if (typeof v === 'string') return `<${k}>${escapeXml(v)}</${k}>`;
      if (Array.isArray(v)) return v.map((item) => encodeXml(k, item)).join('');
      return encodeXml(k, v);
    })
    .join('');
  return children ? `<${rootName}${attrs}>${children}</${rootName}>` : `<${rootName}${attrs}/>`;
}

/** A request body in the documented JSON shape. */
export function encodeJson(node: ApiNode): string {
  return JSON.stringify(node);
}

// ---- readers over a decoded node -------------------------------------------

export function field(node: ApiNode | undefined, path: string): ApiValue | undefined {
  let cur: ApiValue | undefined = node;
  for (const part of path.split('.')) {
    if (cur === undefined || typeof cur === 'string' || Array.isArray(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

export function obj(node: ApiNode | undefined, path: string): ApiNode | undefined {
  const v = field(node, path);
  return v !== undefined && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}

export function str(node: ApiNode | undefined, path: string): string | undefined {
  const v = field(node, path);
  if (typeof v === 'string') return v;
  if (v && !Array.isArray(v) && typeof v['#text'] === 'string') return v['#text'];
  return undefined;
}

export function bool(node: ApiNode | undefined, path: string): boolean | undefined {
  const v = str(node, path);
  return v === undefined || v === '' ? undefined : v === 'true';
}

export function int(node: ApiNode | undefined, path: string): number | undefined {
  const v = str(node, path);
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** The items of a nested list: `items(vm, 'nics', 'nic')`; a collection body: `items(body, undefined, 'vm')`. */
export function items(node: ApiNode | undefined, container: string | undefined, item: string): ApiNode[] {
  const holder = container === undefined ? node : obj(node, container);
  const v = holder?.[item];
  if (Array.isArray(v)) return v;
  if (v && typeof v === 'object') return [v];
  return [];
}
