// virt-v2v-inspector: what virt-v2v sees in the guest (OS, per-disk sizes)
// without converting it. The result is served as `/inspection` by the
// conversion pod and checked by the end-to-end tests.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { InterruptedError } from '../errors.js';
import type { SourceVm } from '../model.js';
import { detectAcceleration } from './accel.js';
import { inspectorArgv, libguestfsEnv } from './argv.js';
import { buildDomainXml, type DomainDisk } from './domain-xml.js';
import { classifyConversionFailure, ConversionError } from './errors.js';
import { runTool } from './run-tool.js';

export interface Inspection {
  program: string;
  version: string;
  disks: { index: number; virtualSize: number; allocated?: number }[];
  /** `<operatingsystem>`'s scalar fields as printed (name, distro, osinfo, arch, major_version, product_name, …). */
  os: Record<string, string>;
}

/** Parses virt-v2v-inspector's XML (pure). */
export function parseInspection(xml: string): Inspection {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, isArray: (name) => name === 'disk' }).parse(xml) as Record<string, unknown>;
  const root = doc['v2v-inspection'] as Record<string, unknown> | undefined;
  if (!root) throw new ConversionError('CONVERSION_INSPECTION_FAILED', 'virt-v2v-inspector wrote no <v2v-inspection> document');
  const text = (v: unknown): string => (typeof v === 'object' && v !== null ? String((v as Record<string, unknown>)['#text'] ?? '') : String(v ?? ''));
  const disksNode = root['disks'] as Record<string, unknown> | undefined;
  const disks = ((disksNode?.['disk'] as Record<string, unknown>[] | undefined) ?? []).map((d) => {
    const allocated = d['allocated'];
    return {
      index: Number(d['@index']),
      virtualSize: Number(text(d['virtual-size'])),
      ...(allocated !== undefined ? { allocated: Number(text(allocated)) } : {}),
    };
  });
  const os: Record<string, string> = {};
  const osNode = root['operatingsystem'];
  if (osNode && typeof osNode === 'object') {
    for (const [key, value] of Object.entries(osNode as Record<string, unknown>)) {
      if (typeof value === 'string' || typeof value === 'number') os[key] = String(value);
      else if (value && typeof value === 'object' && '#text' in value) os[key] = text(value);
    }
  }
  return { program: text(root['program']), version: text(root['version']), disks, os };
}

/** Runs virt-v2v-inspector over `disks` (not modified: virt-v2v works on its own overlays). */
export async function inspectGuest(options: {
  vm: SourceVm;
  disks: DomainDisk[];
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}): Promise<Inspection> {
  const acceleration = await detectAcceleration(options.env ?? process.env);
  const env = libguestfsEnv(options.env ?? process.env, acceleration);
  const work = await mkdtemp(join(tmpdir(), 'v2v-inspect-'));
  try {
    const domainXml = join(work, 'domain.xml');
    const output = join(work, 'inspection.xml');
    await writeFile(domainXml, buildDomainXml(options.vm, options.disks.map((d) => ({ ...d, path: resolve(d.path) }))));
    const result = await runTool('virt-v2v-inspector', inspectorArgv({ domainXml, output }), { env, ...(options.signal ? { signal: options.signal } : {}) });
    if (result.aborted) throw new InterruptedError('inspection cancelled');
    if (result.code !== 0) throw classifyConversionFailure('virt-v2v-inspector', result, result.output);
    return parseInspection(await readFile(output, 'utf8'));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
