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

export const MappingsSchema = z.strictObject({
  networkMappings: z.array(NetworkMappingSchema).optional(),
  storageMappings: z.array(StorageMappingSchema).optional(),
  diskMappings: z.array(StorageMappingSchema).optional(),
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
