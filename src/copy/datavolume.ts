// The seed's CDI objects as `v2v import` input: DataVolume (cdi.kubevirt.io/v1beta1),
// the endpoint Secret (accessKeyId / secretKey) and the CA ConfigMap (ca.pem).
// Unknown fields are errors naming file:line and the path.
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { loadYamlDocuments } from '../config/yaml-file.js';

const Metadata = z
  .object({
    name: z.string().min(1),
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    creationTimestamp: z.null().optional(),
  })
  .strict();

const Quantity = z.union([z.string(), z.number()]).transform(String);

const StorageSpec = z
  .object({
    accessModes: z.array(z.enum(['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'])).optional(),
    volumeMode: z.enum(['Filesystem', 'Block']).optional(),
    storageClassName: z.string().optional(),
    resources: z
      .object({ requests: z.object({ storage: Quantity }).strict().optional(), limits: z.object({ storage: Quantity }).strict().optional() })
      .strict()
      .optional(),
  })
  .strict();

const HttpSource = z
  .object({
    url: z.string().url(),
    secretRef: z.string().optional(),
    certConfigMap: z.string().optional(),
    extraHeaders: z.array(z.string()).optional(),
  })
  .strict();

const RegistrySource = z
  .object({
    url: z.string().regex(/^docker:\/\//, 'must be docker://host/repo:tag'),
    secretRef: z.string().optional(),
    certConfigMap: z.string().optional(),
    pullMethod: z.enum(['pod', 'node']).optional(),
  })
  .strict();

export const DataVolumeSchema = z
  .object({
    apiVersion: z.enum(['cdi.kubevirt.io/v1beta1', 'cdi.kubevirt.io/v1alpha1']),
    kind: z.literal('DataVolume'),
    metadata: Metadata,
    spec: z
      .object({
        source: z
          .object({
            http: HttpSource.optional(),
            registry: RegistrySource.optional(),
            upload: z.object({}).strict().optional(),
            blank: z.object({}).strict().optional(),
          })
          .strict()
          .refine((s) => Object.values(s).filter((v) => v !== undefined).length === 1, 'exactly one of http, registry, upload, blank'),
        storage: StorageSpec.optional(),
        pvc: StorageSpec.optional(),
        // The seed's block example puts the class here.
        storageClassName: z.string().optional(),
        contentType: z.enum(['kubevirt', 'archive']).optional(),
        preallocation: z.boolean().optional(),
        priorityClassName: z.string().optional(),
      })
      .strict(),
    status: z.object({}).passthrough().optional(),
  })
  .strict();
export type DataVolume = z.output<typeof DataVolumeSchema>;

export const SecretSchema = z
  .object({
    apiVersion: z.literal('v1'),
    kind: z.literal('Secret'),
    metadata: Metadata,
    type: z.string().optional(),
    data: z.record(z.string(), z.string()).optional(),
    stringData: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type Secret = z.output<typeof SecretSchema>;

export const ConfigMapSchema = z
  .object({
    apiVersion: z.literal('v1'),
    kind: z.literal('ConfigMap'),
    metadata: Metadata,
    data: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type ConfigMap = z.output<typeof ConfigMapSchema>;

export interface ImportObjects {
  dataVolumes: DataVolume[];
  secrets: Secret[];
  configMaps: ConfigMap[];
}

/** Reads every document of the files; each must be a DataVolume, Secret or ConfigMap. */
export async function loadImportObjects(files: string[]): Promise<ImportObjects> {
  const out: ImportObjects = { dataVolumes: [], secrets: [], configMaps: [] };
  for (const file of files) {
    for (const doc of await loadYamlDocuments(file, 'the import objects')) {
      if (doc.value === null || doc.value === undefined) continue;
      const kind = (doc.value as { kind?: unknown }).kind;
      const schema = kind === 'DataVolume' ? DataVolumeSchema : kind === 'Secret' ? SecretSchema : kind === 'ConfigMap' ? ConfigMapSchema : undefined;
      if (!schema) {
        throw doc.fail([{ code: 'custom', path: ['kind'], message: `expected DataVolume, Secret or ConfigMap, got ${JSON.stringify(kind)}`, input: kind } as z.core.$ZodIssue]);
      }
      const parsed = schema.safeParse(doc.value);
      if (!parsed.success) throw doc.fail(parsed.error.issues);
      if (kind === 'DataVolume') out.dataVolumes.push(parsed.data as DataVolume);
      else if (kind === 'Secret') out.secrets.push(parsed.data as Secret);
      else out.configMaps.push(parsed.data as ConfigMap);
    }
  }
  return out;
}

/** A Secret's value: `stringData` as is, `data` base64-decoded. */
export function secretValue(secret: Secret, key: string): string | undefined {
  const plain = secret.stringData?.[key];
  if (plain !== undefined) return plain;
  const encoded = secret.data?.[key];
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
}

export interface ImportPlan {
  name: string;
  source: { kind: 'http' | 'registry'; url: string } | { kind: 'upload' } | { kind: 'blank' };
  username?: string;
  password?: string;
  ca?: string;
  size?: string;
  volumeMode: 'Filesystem' | 'Block';
  contentType: 'kubevirt' | 'archive';
  preallocation: boolean;
}

function findByName<T extends { metadata: { name: string } }>(items: T[], name: string, what: string, dv: string): T {
  const found = items.find((i) => i.metadata.name === name);
  if (!found) {
    throw new ConfigError('OBJECT_NOT_FOUND', `DataVolume "${dv}" references ${what} "${name}", which is in none of the given files`, {
      hint: `pass the ${what} with ${what === 'Secret' ? '--secret-file' : '--configmap-file'} (or in the -f file)`,
    });
  }
  return found;
}

/** What the DataVolume asks for, with its references resolved. Pure. */
export function planFromDataVolume(objects: ImportObjects, name?: string): ImportPlan {
  const dvs = objects.dataVolumes;
  const dv = name ? dvs.find((d) => d.metadata.name === name) : dvs[0];
  if (!dv)
    throw new ConfigError('OBJECT_NOT_FOUND', name ? `no DataVolume named "${name}" in the given files` : 'the given files hold no DataVolume', {
      hint: 'pass a file with a cdi.kubevirt.io/v1beta1 DataVolume',
    });
  if (!name && dvs.length > 1)
    throw new ConfigError('OBJECT_AMBIGUOUS', `the files hold ${dvs.length} DataVolumes (${dvs.map((d) => d.metadata.name).join(', ')})`, { hint: 'choose one with --name' });
  const src = dv.spec.source;
  const storage = dv.spec.storage ?? dv.spec.pvc;
  const plan: ImportPlan = {
    name: dv.metadata.name,
    source: src.http ? { kind: 'http', url: src.http.url } : src.registry ? { kind: 'registry', url: src.registry.url } : src.upload ? { kind: 'upload' } : { kind: 'blank' },
    volumeMode: storage?.volumeMode ?? 'Filesystem',
    contentType: dv.spec.contentType ?? 'kubevirt',
    preallocation: dv.spec.preallocation ?? false,
    ...(storage?.resources?.requests?.storage ? { size: storage.resources.requests.storage } : {}),
  };
  const ref = src.http ?? src.registry;
  if (ref?.secretRef) {
    const secret = findByName(objects.secrets, ref.secretRef, 'Secret', dv.metadata.name);
    const user = secretValue(secret, 'accessKeyId');
    const pass = secretValue(secret, 'secretKey');
    // CDI treats empty keys as "no credentials" (the seed's example has "").
    if (user) plan.username = user;
    if (pass) plan.password = pass;
  }
  if (ref?.certConfigMap) {
    const cm = findByName(objects.configMaps, ref.certConfigMap, 'ConfigMap', dv.metadata.name);
    const pem = cm.data?.['ca.pem'];
    if (!pem)
      throw new ConfigError('CONFIG_INVALID', `ConfigMap "${cm.metadata.name}" has no data "ca.pem"`, { hint: 'the CA ConfigMap holds the PEM bundle under the key ca.pem' });
    plan.ca = pem;
  }
  return plan;
}
