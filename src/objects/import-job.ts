import { dirname, resolve } from 'node:path';
import type { SourceConfig } from '../config/sources.js';
import { ConfigError } from '../errors.js';
import { mergeMappings, normalizeMappings, type Mappings } from '../mapping/resource-mapping.js';
import { DEFAULT_OS_MAP, overrideOsMap, type OsMap } from '../mapping/os-map.js';
import { osMapFromConfigMap, type ProviderSecret, type SeedObjects, type VirtualMachineImport } from './seed-objects.js';

/** One VirtualMachineImport turned into what `check` and `plan` need. */
export interface ImportJob {
  importName: string;
  namespace: string;
  source: SourceConfig;
  /** A REF for selectVm: the VM id, or name (vSphere) / name@cluster (oVirt). */
  vmRef: string;
  mappings?: Mappings;
  osMap: OsMap;
  targetVmName?: string;
  startVm: boolean;
}

function findSecret(objects: SeedObjects, name: string, namespace: string): ProviderSecret | undefined {
  return objects.secrets.find((s) => s.name === name && (s.namespace ?? 'default') === namespace);
}

/**
 * Resolves a VirtualMachineImport against the other objects: its provider
 * Secret (→ a source with an in-memory password), its ResourceMapping merged
 * under the inline mappings, and the OS map ConfigMap over the defaults.
 * Missing references are errors named like vm-import-operator's reasons.
 */
export function importJob(objects: SeedObjects, vmi: { value: VirtualMachineImport; file: string }): ImportJob {
  const { metadata, spec } = vmi.value;
  const namespace = metadata.namespace ?? 'default';
  const type = spec.source.ovirt ? 'ovirt' : 'vsphere';
  const secretRef = spec.providerCredentialsSecret;
  const secret = findSecret(objects, secretRef.name, secretRef.namespace ?? namespace);
  const provider = secret?.[type === 'ovirt' ? 'ovirt' : 'vmware'];
  if (!secret || !provider) {
    throw new ConfigError(
      'SECRET_NOT_FOUND',
      `${vmi.file}: VirtualMachineImport ${metadata.name}: no Secret ${secretRef.namespace ?? namespace}/${secretRef.name} with stringData.${type === 'ovirt' ? 'ovirt' : 'vmware'} among the objects given`,
      {
        hint: 'pass the provider Secret YAML with -f as well',
      },
    );
  }
  let resourceMapping: Mappings | undefined;
  if (spec.resourceMapping) {
    const ref = spec.resourceMapping;
    const rm = objects.resourceMappings.find((m) => m.value.metadata.name === ref.name && (m.value.metadata.namespace ?? 'default') === (ref.namespace ?? namespace));
    if (!rm) {
      throw new ConfigError(
        'RESOURCE_MAPPING_NOT_FOUND',
        `${vmi.file}: VirtualMachineImport ${metadata.name}: no ResourceMapping ${ref.namespace ?? namespace}/${ref.name} among the objects given`,
        { hint: 'pass the ResourceMapping YAML with -f as well' },
      );
    }
    const part = type === 'ovirt' ? rm.value.spec.ovirt : rm.value.spec.vmware;
    if (!part)
      throw new ConfigError('RESOURCE_MAPPING_INVALID', `${rm.file}: ResourceMapping ${ref.name} has no spec.${type === 'ovirt' ? 'ovirt' : 'vmware'} section`, {
        hint: 'add the mappings for this source type',
      });
    resourceMapping = normalizeMappings(part);
  }
  const inlineRaw = spec.source.ovirt?.mappings ?? spec.source.vmware?.mappings;
  const mappings = mergeMappings(inlineRaw ? normalizeMappings(inlineRaw) : undefined, resourceMapping);

  let osMap = DEFAULT_OS_MAP;
  for (const cm of objects.configMaps) {
    if (cm.value.data.guestos2common !== undefined || cm.value.data.osinfo2common !== undefined) osMap = overrideOsMap(osMap, osMapFromConfigMap(cm));
  }

  const vm = spec.source.ovirt?.vm ?? spec.source.vmware!.vm;
  const cluster = spec.source.ovirt?.vm.cluster?.name;
  const vmRef = vm.id ?? (cluster ? `${vm.name!}@${cluster}` : vm.name!);

  const source: SourceConfig = {
    name: secret.name,
    type,
    url: provider.apiUrl,
    username: provider.username,
    password: provider.password,
    baseDir: dirname(resolve(secret.file)),
    ...('thumbprint' in provider && provider.thumbprint ? { thumbprint: provider.thumbprint, pinThumbprint: true } : {}),
    ...('caCert' in provider && provider.caCert ? { ca: provider.caCert } : {}),
    ...(provider.allowInsecureHttp ? { allowInsecureHttp: true } : {}),
  };
  return {
    importName: metadata.name,
    namespace,
    source,
    vmRef,
    ...(mappings ? { mappings } : {}),
    osMap,
    ...(spec.targetVmName ? { targetVmName: spec.targetVmName } : {}),
    startVm: spec.startVm ?? false,
  };
}

/** A `--mapping FILE`: the ResourceMapping's section for the source type. */
export function mappingsFromObjects(objects: SeedObjects, type: 'vsphere' | 'ovirt', file: string): Mappings {
  const rm = objects.resourceMappings[0];
  if (!rm || objects.resourceMappings.length > 1) {
    throw new ConfigError('CONFIG_INVALID', `${file}: expected exactly one ResourceMapping, found ${objects.resourceMappings.length}`, {
      hint: 'put one ResourceMapping (v2v.kubevirt.io/v1alpha1) in the mapping file',
    });
  }
  const part = type === 'ovirt' ? rm.value.spec.ovirt : rm.value.spec.vmware;
  if (!part)
    throw new ConfigError('RESOURCE_MAPPING_INVALID', `${file}: ResourceMapping ${rm.value.metadata.name} has no spec.${type === 'ovirt' ? 'ovirt' : 'vmware'} section`, {
      hint: `a ${type} source needs spec.${type === 'ovirt' ? 'ovirt' : 'vmware'}`,
    });
  return normalizeMappings(part);
}
