import type { Rule } from '../types.js';

// Mapping and target rules: the same for both sources, evaluated on the VM's
// resolved plan (src/mapping/resolve.ts). Messages follow vm-import-operator's.

function human(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB (${bytes} bytes)`;
}

export const mappingRules: Rule[] = [
  {
    id: 'mapping.network.unmapped',
    category: 'Critical',
    appliesTo: 'any',
    needsMapping: true,
    label: 'Network not mapped',
    assessment: 'Every source network of the VM needs a network mapping (pod or multus).',
    hint: 'add a networkMappings entry for the source network to the ResourceMapping',
    test: ({ plan }) => (plan?.nics ?? []).filter((n) => !n.mapping).map((n) => `Required source network '${n.sourceLabel}' (interface ${n.nic.name ?? n.nic.mac}) lacks mapping`),
  },
  {
    id: 'mapping.network.multiple_pod',
    category: 'Critical',
    appliesTo: 'any',
    needsMapping: true,
    label: 'More than one NIC on the pod network',
    assessment: 'At most one interface can use the pod network.',
    hint: 'map the other networks to multus NetworkAttachmentDefinitions',
    test: ({ plan }) => {
      const pod = (plan?.nics ?? []).filter((n) => n.type === 'pod');
      const sources = [...new Set(pod.map((n) => n.sourceLabel))];
      return pod.length > 1 ? [`Network mapping contains more than one source network that targets a pod network: ${sources.join(', ')} (${pod.length} interfaces)`] : [];
    },
  },
  {
    id: 'mapping.storage.unmapped',
    category: 'Critical',
    appliesTo: 'any',
    needsMapping: true,
    label: 'Storage not mapped',
    assessment: 'Every disk needs a storage mapping (its datastore / storage domain) or a disk mapping.',
    hint: 'add a storageMappings entry for the datastore, or a diskMappings entry for the disk',
    test: ({ plan }) =>
      (plan?.disks ?? []).filter((d) => !d.mappedBy).map((d) => `disk ${d.disk.name ?? d.disk.key} on '${d.sourceLabel || 'no datastore'}' lacks a storage mapping`),
  },
  {
    id: 'mapping.storage.class.missing',
    category: 'Critical',
    appliesTo: 'any',
    needsMapping: true,
    label: 'Storage class not found',
    assessment: 'A mapping names a storage class the target does not have.',
    hint: 'fix the target storage class name in the mapping',
    test: ({ plan, target }) => {
      const known = target?.storageClasses;
      if (!known) return [];
      return (plan?.disks ?? [])
        .filter((d) => d.storageClass !== undefined && !known.includes(d.storageClass))
        .map((d) => `disk ${d.disk.name ?? d.disk.key} maps to storage class '${d.storageClass}', which does not exist`);
    },
  },
  {
    id: 'target.capacity.insufficient',
    category: 'Critical',
    appliesTo: 'any',
    label: 'Target smaller than the disk',
    assessment: 'A target volume is smaller than the disk it receives; the copy would fail (or stall, on Ceph RBD Block volumes).',
    hint: 'grow the target, or map the disk to a storage class with room',
    test: ({ vm, plan, target }) => {
      const out: string[] = [];
      for (const disk of vm.disks) {
        const have = target?.targetBytes?.[disk.key];
        if (have !== undefined && have < disk.capacityBytes) out.push(`disk ${disk.name ?? disk.key} needs ${human(disk.capacityBytes)}, its target has ${human(have)}`);
      }
      const need = new Map<string, number>();
      for (const d of plan?.disks ?? []) if (d.storageClass !== undefined) need.set(d.storageClass, (need.get(d.storageClass) ?? 0) + d.requestBytes);
      for (const [cls, bytes] of need) {
        const free = target?.freeBytes?.[cls];
        if (free !== undefined && free < bytes) out.push(`storage class '${cls}' has ${human(free)} free, the VM's disks need ${human(bytes)}`);
      }
      return out;
    },
  },
];
