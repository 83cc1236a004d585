import { z } from 'zod';

// The mapping items of vm-import-operator's ResourceMapping (v2v.kubevirt.io/v1alpha1)
// and of a VirtualMachineImport's inline `mappings`, exactly as the seed writes them.

const SourceRefSchema = z
  .strictObject({ name: z.string().min(1).optional(), id: z.string().min(1).optional() })
  .refine((s) => s.name !== undefined || s.id !== undefined, 'a source needs a name or an id');

export const AccessModeSchema = z.enum(['ReadWriteOnce', 'ReadWriteMany', 'ReadOnlyMany']);
export const VolumeModeSchema = z.enum(['Filesystem', 'Block']);

export const NetworkMappingSchema = z
  .strictObject({
    source: SourceRefSchema,
    target: z.strictObject({ name: z.string().min(1).optional(), namespace: z.string().min(1).optional() }),
    type: z.enum(['pod', 'multus']).optional(),
  })
  .refine((m) => m.type === 'pod' || m.target.name !== undefined, { message: 'a multus target needs a name', path: ['target', 'name'] });

export const StorageMappingSchema = z.strictObject({
  source: SourceRefSchema,
  target: z.strictObject({ name: z.string().min(1) }),
  volumeMode: VolumeModeSchema.optional(),
  accessMode: AccessModeSchema.optional(),
});

const MAPPING_LISTS = ['networkMappings', 'storageMappings', 'diskMappings'] as const;

export const MappingsSchema = z
  .strictObject({
    networkMappings: z.array(NetworkMappingSchema).optional(),
    storageMappings: z.array(StorageMappingSchema).optional(),
    diskMappings: z.array(StorageMappingSchema).optional(),
  })
  .check((ctx) => {
    // Lookups take the first entry for a source, so a second one that says otherwise would be ignored
    // without a word. The same entry twice says nothing new and is harmless.
    for (const list of MAPPING_LISTS) {
      const first = new Map<string, { index: number; entry: string }>();
      for (const [index, mapping] of (ctx.value[list] ?? []).entries()) {
        const key = sourceKey(mapping.source);
        const entry = canonicalJson(mapping);
        const seen = first.get(key);
        if (!seen) first.set(key, { index, entry });
        else if (seen.entry !== entry)
          ctx.issues.push({
            code: 'custom',
            input: mapping,
            path: [list, index, 'source'],
            params: { alsoAt: [list, seen.index, 'source'] },
            message: `${key.replace(':', ' ')} is mapped twice, to different targets; keep one entry`,
          });
      }
    }
  });

export type AccessMode = z.output<typeof AccessModeSchema>;
export type VolumeMode = z.output<typeof VolumeModeSchema>;
export type NetworkMapping = z.output<typeof NetworkMappingSchema>;
export type StorageMapping = z.output<typeof StorageMappingSchema>;
export type MappingsInput = z.output<typeof MappingsSchema>;

export interface Mappings {
  networkMappings: NetworkMapping[];
  storageMappings: StorageMapping[];
  diskMappings: StorageMapping[];
}

export function normalizeMappings(m: MappingsInput | undefined): Mappings {
  return { networkMappings: m?.networkMappings ?? [], storageMappings: m?.storageMappings ?? [], diskMappings: m?.diskMappings ?? [] };
}

/** vm-import-operator's default when `type` is absent: anything not explicitly `pod` is a multus network. */
export function networkType(m: NetworkMapping): 'pod' | 'multus' {
  return m.type === 'pod' ? 'pod' : 'multus';
}

/** JSON with object keys sorted, so entries written in another key order compare equal. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

function sourceKey(s: { name?: string | undefined; id?: string | undefined }): string {
  return s.id !== undefined ? `id:${s.id}` : `name:${s.name ?? ''}`;
}

function mergeList<T extends { source: { name?: string | undefined; id?: string | undefined } }>(primary: T[], secondary: T[]): T[] {
  const taken = new Set(primary.map((m) => sourceKey(m.source)));
  return [...primary, ...secondary.filter((m) => !taken.has(sourceKey(m.source)))];
}

/**
 * The seed's precedence: mappings written inline in the VirtualMachineImport win
 * over a ResourceMapping's entry for the same source; the rest of both is kept.
 */
export function mergeMappings(inline: Mappings | undefined, resourceMapping: Mappings | undefined): Mappings | undefined {
  if (!inline && !resourceMapping) return undefined;
  const a = inline ?? normalizeMappings(undefined);
  const b = resourceMapping ?? normalizeMappings(undefined);
  return {
    networkMappings: mergeList(a.networkMappings, b.networkMappings),
    storageMappings: mergeList(a.storageMappings, b.storageMappings),
    diskMappings: mergeList(a.diskMappings, b.diskMappings),
  };
}
