import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { SourceConfigSchema, loadSources, type SourceConfig } from '../config/sources.js';
import { parseYamlText } from '../config/yaml-file.js';
import { ConfigError } from '../errors.js';
import { mergeCustomization, VmCustomizationSchema, type VmCustomization } from '../manifests/customization.js';
import { toKubeName } from '../manifests/name.js';
import { DISK_TRANSPORTS, type DiskTransport } from '../source.js';
import type { BatchVm } from './runner.js';

/** How many VMs a batch converts at once: the plan's `concurrency` and the `--concurrency` flag alike. */
export const CONCURRENCY = { min: 1, max: 64 } as const;

/**
 * A VM's directory under `targetDir` is its targetName (else its VM reference), one path component:
 * "/" and NUL cannot be in it, "." and ".." would be the target or its parent, and 253 is the longest
 * Kubernetes object name, which it also names.
 */
const TargetName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(?!\.{1,2}$)[^/\0]+$/, 'a single directory name: no "/" or NUL, and not "." or ".."');

/** The directory of one plan entry under `targetDir`. */
function targetDirName(entry: { vm: string; targetName?: string | undefined }): string {
  return (entry.targetName ?? entry.vm).replace(/[^A-Za-z0-9._-]/g, '_');
}

/**
 * Plan entries that would write over each other: two VMs in one directory under targetDir (disks,
 * manifests, complete marker), or two targetNames that make one Kubernetes VirtualMachine name.
 */
function targetConflicts(vms: { vm: string; targetName?: string | undefined }[]): z.core.$ZodRawIssue[] {
  const issues: z.core.$ZodRawIssue[] = [];
  const fieldOf = (index: number) => (vms[index]!.targetName !== undefined ? 'targetName' : 'vm');
  const clash = (index: number, other: number, message: string) =>
    issues.push({ code: 'custom', input: vms[index], path: ['vms', index, fieldOf(index)], params: { alsoAt: ['vms', other, fieldOf(other)] }, message });
  const dirs = new Map<string, number>();
  const kubeNames = new Map<string, number>();
  for (const [index, entry] of vms.entries()) {
    const dir = targetDirName(entry);
    if (dir === '.' || dir === '..') {
      issues.push({ code: 'custom', input: entry.vm, path: ['vms', index, 'vm'], message: `"${dir}" cannot name the VM's directory under targetDir; set targetName` });
      continue;
    }
    const sameDir = dirs.get(dir);
    if (sameDir === undefined) dirs.set(dir, index);
    else clash(index, sameDir, `shares its directory "${dir}" under targetDir with another entry; list each VM once and give each its own targetName`);
    if (entry.targetName === undefined) continue;
    const { name } = toKubeName(entry.targetName);
    const sameName = kubeNames.get(name);
    if (sameName === undefined) kubeNames.set(name, index);
    else if (sameDir === undefined) clash(index, sameName, `names the same Kubernetes VirtualMachine "${name}" as another entry; give each VM its own targetName`);
  }
  return issues;
}

const VmOverrides = {
  source: z.string().min(1).optional().describe('source name; default: defaults.source'),
  mapping: z.string().min(1).optional().describe('ResourceMapping file for this VM'),
  osMap: z.string().min(1).optional().describe("OS map ConfigMap file (guestos2common / osinfo2common, the seed's format)"),
  nicNaming: z.enum(['eth', 'keep']).optional(),
  startVm: z.boolean().optional(),
  guestConversion: z.boolean().optional().describe('false: copy only (the guest already runs on KVM, or is converted elsewhere)'),
  verifyBoot: z.boolean().optional().describe('boot the converted disks and require the first NIC to come up'),
  customize: VmCustomizationSchema.optional().describe("the import wizard's choices for the VirtualMachine; a VM's own fields override the defaults'"),
  transport: z.enum(DISK_TRANSPORTS).optional().describe('vSphere: vddk, datastore (no VDDK needed), or auto (default: VDDK when its library is there)'),
};

export const BatchPlanSchema = z
  .strictObject({
    apiVersion: z.literal('v2v.kubevirt.io/v1alpha1').optional(),
    kind: z.literal('BatchPlan').optional(),
    sourcesFile: z.string().min(1).optional().describe('a sources file (SPEC §4.2), relative to the plan'),
    sources: z.array(SourceConfigSchema).optional().describe('sources inline, same fields as a sources file'),
    defaults: z
      .strictObject({
        ...VmOverrides,
        targetDir: z.string().min(1).optional().describe('where each VM is written: <targetDir>/<vm>/'),
        targetNamespace: z.string().min(1).optional(),
        concurrency: z.int().min(CONCURRENCY.min).max(CONCURRENCY.max).optional(),
      })
      .optional(),
    vms: z
      .array(
        z.strictObject({
          vm: z.string().min(1).describe('VM name, id or name@cluster'),
          // Per VM only: a default would put every VM in one directory.
          targetName: TargetName.optional().describe('name of the KubeVirt VirtualMachine and of its directory under targetDir'),
          ...VmOverrides,
        }),
      )
      .min(1),
  })
  .check((ctx) => {
    if (!ctx.value.sourcesFile === !ctx.value.sources) {
      ctx.issues.push({ code: 'custom', input: ctx.value, path: ['sourcesFile'], message: 'exactly one of sourcesFile or sources is required' });
    }
    ctx.issues.push(...targetConflicts(ctx.value.vms));
  });

export type BatchPlan = z.output<typeof BatchPlanSchema>;

export interface PlannedVm extends BatchVm {
  mapping?: string;
  osMap?: string;
  targetName?: string;
  nicNaming: 'eth' | 'keep';
  startVm: boolean;
  guestConversion: boolean;
  verifyBoot: boolean;
  customize?: VmCustomization;
  transport: DiskTransport;
  targetDir: string;
}

export interface ResolvedPlan {
  file: string;
  hash: string;
  sources: SourceConfig[];
  vms: PlannedVm[];
  concurrency: number;
  targetNamespace?: string;
}

/** Reads a batch plan; every path in it resolves against the plan's directory. */
export async function loadBatchPlan(file: string): Promise<ResolvedPlan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ConfigError('CONFIG_NOT_FOUND', `cannot read the batch plan ${file}`, { hint: 'check the path', cause });
  }
  const plan = parseYamlText(text, file, BatchPlanSchema, 'the batch plan');
  const base = dirname(resolve(file));
  const sources = plan.sourcesFile ? await loadSources(resolve(base, plan.sourcesFile)) : plan.sources!.map((s) => ({ ...s, baseDir: base }));
  const d = plan.defaults ?? {};
  const seen = new Set<string>();
  const vms = plan.vms.map((entry, i): PlannedVm => {
    const source = entry.source ?? d.source ?? (sources.length === 1 ? sources[0]!.name : undefined);
    if (!source) throw new ConfigError('CONFIG_INVALID', `${file}: vms[${i}] names no source and the plan has several`, { hint: 'set defaults.source or vms[].source' });
    if (!sources.some((s) => s.name === source))
      throw new ConfigError('CONFIG_INVALID', `${file}: vms[${i}].source "${source}" is not a configured source`, { hint: `sources: ${sources.map((s) => s.name).join(', ')}` });
    const key = `${source}/${entry.vm}`;
    if (seen.has(key)) throw new ConfigError('CONFIG_INVALID', `${file}: vms[${i}] repeats ${key}`, { hint: 'list each VM once' });
    seen.add(key);
    const mapping = entry.mapping ?? d.mapping;
    const osMap = entry.osMap ?? d.osMap;
    const targetName = entry.targetName;
    const customize = mergeCustomization(d.customize, entry.customize);
    return {
      key,
      source,
      ref: entry.vm,
      ...(mapping ? { mapping: resolve(base, mapping) } : {}),
      ...(osMap ? { osMap: resolve(base, osMap) } : {}),
      ...(targetName ? { targetName } : {}),
      nicNaming: entry.nicNaming ?? d.nicNaming ?? 'eth',
      startVm: entry.startVm ?? d.startVm ?? false,
      guestConversion: entry.guestConversion ?? d.guestConversion ?? true,
      verifyBoot: entry.verifyBoot ?? d.verifyBoot ?? false,
      ...(customize ? { customize } : {}),
      transport: entry.transport ?? d.transport ?? 'auto',
      targetDir: resolve(base, d.targetDir ?? 'v2v-out', targetDirName(entry)),
    };
  });
  return {
    file,
    hash: createHash('sha256').update(text).digest('hex').slice(0, 16),
    sources,
    vms,
    concurrency: d.concurrency ?? 2,
    ...(d.targetNamespace ? { targetNamespace: d.targetNamespace } : {}),
  };
}

/** The plan's JSON Schema as shipped in schemas/batch-plan.schema.json. */
export function batchPlanJsonSchema(): unknown {
  return z.toJSONSchema(BatchPlanSchema, { io: 'input' });
}
