import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { cleartextUrlIssue } from '../config/sources.js';
import { ConfigError } from '../errors.js';
import { loadYamlDocuments } from '../config/yaml-file.js';
import { MappingsSchema } from '../mapping/resource-mapping.js';
import { registerSecret } from '../redact.js';

// The seed's own objects (OpenShift Virtualization §8.15.4, vm-import-operator):
// VirtualMachineImport, ResourceMapping, the provider Secret and the OS / CA
// ConfigMaps, read from multi-document YAML. Unknown fields are errors that
// name file:line:column and the field path.

const Metadata = z.strictObject({
  name: z.string().min(1),
  namespace: z.string().min(1).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

const ObjectRef = z.strictObject({ name: z.string().min(1), namespace: z.string().min(1).optional() });
const IdOrName = z.strictObject({ id: z.string().min(1).optional(), name: z.string().min(1).optional() });

const VirtualMachineImportSchema = z.strictObject({
  apiVersion: z.literal('v2v.kubevirt.io/v1beta1'),
  kind: z.literal('VirtualMachineImport'),
  metadata: Metadata,
  spec: z.strictObject({
    providerCredentialsSecret: ObjectRef,
    resourceMapping: ObjectRef.optional(),
    targetVmName: z.string().min(1).optional(),
    startVm: z.boolean().optional(),
    warm: z.boolean().optional(),
    finalizeDate: z.string().optional(),
    source: z
      .strictObject({
        ovirt: z
          .strictObject({
            vm: z
              .strictObject({ id: z.string().min(1).optional(), name: z.string().min(1).optional(), cluster: IdOrName.optional() })
              .refine((vm) => vm.id !== undefined || (vm.name !== undefined && vm.cluster !== undefined), 'give the VM id, or its name together with its cluster'),
            mappings: MappingsSchema.optional(),
          })
          .optional(),
        vmware: z
          .strictObject({
            vm: IdOrName.refine((vm) => vm.id !== undefined || vm.name !== undefined, 'give the VM id (UUID) or name'),
            mappings: MappingsSchema.optional(),
          })
          .optional(),
      })
      .refine((s) => (s.ovirt === undefined) !== (s.vmware === undefined), 'exactly one of source.ovirt or source.vmware is required'),
  }),
});

const ResourceMappingSchema = z.strictObject({
  apiVersion: z.literal('v2v.kubevirt.io/v1alpha1'),
  kind: z.literal('ResourceMapping'),
  metadata: Metadata,
  spec: z.strictObject({ ovirt: MappingsSchema.optional(), vmware: MappingsSchema.optional() }),
});

const SecretSchema = z.strictObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('Secret'),
  metadata: Metadata,
  type: z.string().optional(),
  stringData: z.record(z.string(), z.string()).optional(),
  data: z.record(z.string(), z.string()).optional(),
});

const ConfigMapSchema = z.strictObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('ConfigMap'),
  metadata: Metadata,
  data: z.strictObject({
    guestos2common: z.string().optional(),
    osinfo2common: z.string().optional(),
    'ca.pem': z.string().optional(),
    // vm-import-controller-config: which ConfigMap holds the OS tables.
    'osConfigMap.name': z.string().min(1).optional(),
    'osConfigMap.namespace': z.string().min(1).optional(),
  }),
});

const Head = z.looseObject({ apiVersion: z.string(), kind: z.string() });

export type VirtualMachineImport = z.output<typeof VirtualMachineImportSchema>;
export type ResourceMapping = z.output<typeof ResourceMappingSchema>;
export type ConfigMap = z.output<typeof ConfigMapSchema>;

const refuseCleartext = (ctx: z.core.ParsePayload<{ apiUrl: string; allowInsecureHttp?: boolean | undefined }>): void => {
  const cleartext = cleartextUrlIssue(ctx.value.apiUrl, ctx.value.allowInsecureHttp, ['apiUrl']);
  if (cleartext) ctx.issues.push(cleartext);
};
const ProviderOvirt = z
  .strictObject({
    apiUrl: z.url({ protocol: /^https?$/ }),
    username: z.string().min(1),
    password: z.string().min(1),
    caCert: z.string().optional(),
    allowInsecureHttp: z.boolean().optional(),
  })
  .check(refuseCleartext);
const ProviderVmware = z
  .strictObject({
    apiUrl: z.url({ protocol: /^https?$/ }),
    username: z.string().min(1),
    password: z.string().min(1),
    thumbprint: z
      .string()
      .regex(/^([0-9A-Fa-f]{2}:){19}[0-9A-Fa-f]{2}$/, 'expected a SHA-1 thumbprint like "AA:BB:…:FF" (20 hex pairs)')
      .optional(),
    allowInsecureHttp: z.boolean().optional(),
  })
  .check(refuseCleartext);
export type OvirtProvider = z.output<typeof ProviderOvirt>;
export type VmwareProvider = z.output<typeof ProviderVmware>;

export interface ProviderSecret {
  name: string;
  namespace?: string;
  file: string;
  ovirt?: OvirtProvider;
  vmware?: VmwareProvider;
}

export interface Located<T> {
  value: T;
  file: string;
}

export interface SeedObjects {
  imports: Located<VirtualMachineImport>[];
  resourceMappings: Located<ResourceMapping>[];
  secrets: ProviderSecret[];
  configMaps: Located<ConfigMap>[];
}

type Fail = (issues: z.core.$ZodIssue[]) => ConfigError;

function parseWith<S extends z.ZodType>(schema: S, value: unknown, fail: Fail): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw fail(r.error.issues);
  return r.data;
}

/** The provider YAML inside a Secret (stringData, or base64 data), parsed strictly. */
function providerSecret(secret: z.output<typeof SecretSchema>, file: string, fail: Fail): ProviderSecret {
  const out: ProviderSecret = { name: secret.metadata.name, ...(secret.metadata.namespace ? { namespace: secret.metadata.namespace } : {}), file };
  for (const key of ['ovirt', 'vmware'] as const) {
    const inData = secret.data?.[key];
    const text = secret.stringData?.[key] ?? (inData !== undefined ? Buffer.from(inData, 'base64').toString('utf8') : undefined);
    if (text === undefined) continue;
    const where = secret.stringData?.[key] !== undefined ? 'stringData' : 'data';
    let doc: unknown;
    try {
      doc = parseYaml(text, { prettyErrors: false });
    } catch {
      // The parser's message can quote the text, and the text holds the password: say only where.
      throw fail([{ code: 'custom', path: [where, key], message: `${where}.${key} is not valid YAML`, input: undefined }]);
    }
    const password = (doc as { password?: unknown } | null)?.password;
    if (typeof password === 'string') registerSecret(password);
    const schema = key === 'ovirt' ? ProviderOvirt : ProviderVmware;
    const r = schema.safeParse(doc);
    if (!r.success) {
      throw fail(r.error.issues.map((i) => ({ ...i, path: [where, key, ...i.path], message: `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}` })));
    }
    if (key === 'ovirt') out.ovirt = r.data as OvirtProvider;
    else out.vmware = r.data as VmwareProvider;
  }
  return out;
}

/** Reads every document of every file; `kind` decides the schema. */
export async function loadSeedObjects(files: string[]): Promise<SeedObjects> {
  const out: SeedObjects = { imports: [], resourceMappings: [], secrets: [], configMaps: [] };
  for (const file of files) {
    for (const { value, fail } of await loadYamlDocuments(file, 'the objects file')) {
      if (value === null || value === undefined) continue;
      const head = parseWith(Head, value, fail);
      switch (head.kind) {
        case 'VirtualMachineImport':
          out.imports.push({ value: parseWith(VirtualMachineImportSchema, value, fail), file });
          break;
        case 'ResourceMapping':
          out.resourceMappings.push({ value: parseWith(ResourceMappingSchema, value, fail), file });
          break;
        case 'Secret': {
          const secret = parseWith(SecretSchema, value, fail);
          out.secrets.push(providerSecret(secret, file, fail));
          break;
        }
        case 'ConfigMap':
          out.configMaps.push({ value: parseWith(ConfigMapSchema, value, fail), file });
          break;
        default:
          throw fail([
            { code: 'custom', path: ['kind'], message: `unsupported kind "${head.kind}" (expected VirtualMachineImport, ResourceMapping, Secret or ConfigMap)`, input: head.kind },
          ]);
      }
    }
  }
  return out;
}

/** A ConfigMap's guestos2common / osinfo2common YAML as tables. */
export function osMapFromConfigMap(cm: Located<ConfigMap>): { guestos2common?: Record<string, string>; osinfo2common?: Record<string, string> } {
  const table = (key: 'guestos2common' | 'osinfo2common'): Record<string, string> | undefined => {
    const text = cm.value.data[key];
    if (text === undefined) return undefined;
    let value: unknown;
    try {
      value = parseYaml(text, { prettyErrors: false });
    } catch {
      value = undefined;
    }
    const parsed = z.record(z.string(), z.string()).safeParse(value);
    if (!parsed.success) {
      throw new ConfigError('CONFIG_INVALID', `${cm.file}: ConfigMap ${cm.value.metadata.name}: data.${key} must map names to names ("<source os>": "<template os>")`, {
        hint: 'write it as in the seed: \'"other_linux": "fedora31"\'',
      });
    }
    return parsed.data;
  };
  const guestos2common = table('guestos2common');
  const osinfo2common = table('osinfo2common');
  return { ...(guestos2common ? { guestos2common } : {}), ...(osinfo2common ? { osinfo2common } : {}) };
}
