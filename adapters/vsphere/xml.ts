import { XMLParser } from 'fast-xml-parser';
import { escapeXml } from '../../src/xml-text.js';

// The vim25 XML codec. vCenter writes the polymorphic type as `xsi:type`,
// vcsim as `XMLSchema-instance:type` (same namespace, other prefix); any
// prefixed `type` attribute is therefore read as the schema type, while the
// unprefixed `type` of a ManagedObjectReference stays the moref's type.

export interface MoRef {
  type: string;
  value: string;
}

/** A decoded vim25 data object: fields by element name, `_type` from xsi:type. */
export type VimObject = { _type?: string; [field: string]: VimValue | undefined };
export type VimValue = string | MoRef | VimObject | VimValue[];

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
  transformTagName: (name) => name.slice(name.indexOf(':') + 1),
  // fast-xml-parser hands over the name with attributeNamePrefix already applied.
  transformAttributeName: (prefixed) => {
    const name = prefixed.slice(1);
    if (name.startsWith('xmlns')) return prefixed;
    const colon = name.indexOf(':');
    if (colon >= 0 && name.slice(colon + 1) === 'type') return '@xsiType';
    return `@${name.slice(colon + 1)}`;
  },
});

type Raw = string | { [key: string]: Raw | Raw[] };

export function parseXml(xml: string): Record<string, unknown> {
  return parser.parse(xml) as Record<string, unknown>;
}

function stripPrefix(type: string): string {
  return type.slice(type.indexOf(':') + 1);
}

export function isMoRef(v: unknown): v is MoRef {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as MoRef).type === 'string' && typeof (v as MoRef).value === 'string' && Object.keys(v).length === 2;
}

/** Turns one parsed element into a vim25 value. */
export function decode(node: Raw | Raw[] | undefined): VimValue {
  if (node === undefined) return '';
  if (Array.isArray(node)) return node.map((n) => decode(n));
  if (typeof node === 'string') return node;
  const xsiType = typeof node['@xsiType'] === 'string' ? stripPrefix(node['@xsiType']) : undefined;
  const text = typeof node['#text'] === 'string' ? node['#text'] : undefined;
  if (typeof node['@type'] === 'string' && (xsiType === undefined || xsiType === 'ManagedObjectReference')) {
    return { type: node['@type'], value: text ?? '' };
  }
  const children = Object.keys(node).filter((k) => !k.startsWith('@') && k !== '#text');
  if (xsiType?.startsWith('ArrayOf')) {
    const items = children.flatMap((k) => asArray(node[k]));
    return items.map((i) => decode(i));
  }
  if (children.length === 0) return text ?? '';
  const out: VimObject = xsiType ? { _type: xsiType } : {};
  for (const key of children) out[key] = decode(node[key] as Raw | Raw[]);
  return out;
}

export function asArray<T>(v: T | T[] | undefined): T[] {
  if (v === undefined || v === '') return [];
  return Array.isArray(v) ? v : [v];
}

export { escapeXml };

export function moRefXml(tag: string, ref: MoRef): string {
  return `<${tag} type="${escapeXml(ref.type)}">${escapeXml(ref.value)}</${tag}>`;
}

export function envelope(body: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
    `<soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`
  );
}

export interface SoapFault {
  faultType: string;
  message: string;
  detail: VimObject | undefined;
}

export type SoapResult = { ok: true; returnval: VimValue | undefined } | { ok: false; fault: SoapFault };

/** Reads the body of a SOAP response: the method's `returnval`, or the fault. */
export function readResponse(xml: string, method: string): SoapResult {
  const doc = parseXml(xml) as { Envelope?: { Body?: Record<string, Raw> } };
  const body = doc.Envelope?.Body;
  if (!body) throw new Error('not a SOAP envelope');
  const fault = body['Fault'] as Record<string, Raw> | undefined;
  if (fault) {
    const detailNode = fault['detail'];
    let faultType = 'SystemError';
    let detail: VimObject | undefined;
    if (detailNode && typeof detailNode === 'object' && !Array.isArray(detailNode)) {
      const [name, value] = Object.entries(detailNode).find(([k]) => !k.startsWith('@')) ?? [];
      if (name) {
        const decoded = decode(value);
        detail = typeof decoded === 'object' && !Array.isArray(decoded) ? (decoded as VimObject) : undefined;
        faultType = detail?._type ?? name.replace(/Fault$/, '');
      }
    }
    const message = typeof fault['faultstring'] === 'string' ? fault['faultstring'] : String(decode(fault['faultstring']));
    return { ok: false, fault: { faultType, message, detail } };
  }
  const response = body[`${method}Response`] as Record<string, Raw> | string | undefined;
  if (response === undefined) throw new Error(`response has no ${method}Response`);
  if (typeof response === 'string') return { ok: true, returnval: undefined };
  const rv = response['returnval'];
  return { ok: true, returnval: rv === undefined ? undefined : decode(rv) };
}
