import type { SourceVm } from '../model.js';
import type { DiskPlan, NicPlan, VmPlan } from '../mapping/resolve.js';
import { templateLabels } from '../mapping/os-map.js';
import { diskClaimName, toKubeName } from './name.js';
import type { DataVolume, DataVolumeSource, DataVolumeSpec, DataVolumeTemplate, PersistentVolumeClaim, VirtualMachine, VmDisk, VmInterface, VmNetwork, VmVolume } from './types.js';

/**
 * How the disks get their content. `v2v`: v2v fills PVCs (the conversion Job,
 * or the user from `convert`'s disk<N>/disk.img) and the VM boots those claims
 * by name. `vddk`/`imageio`: CDI copies each disk into a DataVolume.
 */
export type CopyMode =
  | { kind: 'v2v' }
  | { kind: 'vddk'; url: string; secretRef: string; thumbprint?: string; initImageURL?: string }
  | { kind: 'imageio'; url: string; secretRef: string; certConfigMap?: string };

export interface VmManifestOptions {
  /** targetVmName; the source VM's name otherwise. Made RFC 1123 either way. */
  name?: string;
  namespace?: string;
  startVm?: boolean;
  /** SATA disks and e1000e NICs, for a guest that is not converted (no virtio drivers). */
  compatibility?: boolean;
  copy?: CopyMode;
  /** With `copy: v2v`, the PVC of each disk by index; default `<name>-disk<N>`. */
  claimNames?: readonly string[];
  /** The template OS (os.template.kubevirt.io/<osinfo>) from the OS map. */
  osinfo?: string;
  /** Extra labels, e.g. the conversion Job that fills the VM's volumes. */
  labels?: Record<string, string>;
}

export interface VmManifests {
  name: string;
  virtualMachine: VirtualMachine;
  warnings: string[];
}

function dataVolumeSource(vm: SourceVm, d: DiskPlan, copy: Exclude<CopyMode, { kind: 'v2v' }>): DataVolumeSource {
  switch (copy.kind) {
    case 'vddk': {
      const uuid = vm.source.type === 'vsphere' ? vm.source.uuid : undefined;
      return {
        vddk: {
          ...(d.disk.file ? { backingFile: d.disk.file } : {}),
          ...(uuid ? { uuid } : {}),
          url: copy.url,
          secretRef: copy.secretRef,
          ...(copy.thumbprint ? { thumbprint: copy.thumbprint } : {}),
          ...(copy.initImageURL ? { initImageURL: copy.initImageURL } : {}),
        },
      };
    }
    case 'imageio':
      return { imageio: { url: copy.url, diskId: d.disk.key, secretRef: copy.secretRef, ...(copy.certConfigMap ? { certConfigMap: copy.certConfigMap } : {}) } };
  }
}

function bootIndex(plan: VmPlan): number {
  const bootable = plan.disks.findIndex((d) => d.disk.bootable === true);
  return bootable >= 0 ? bootable : 0;
}

function network(n: NicPlan, name: string): VmNetwork | undefined {
  if (!n.mapping) return undefined;
  if (n.type === 'pod') return { name, pod: {} };
  const target = n.mapping.target;
  return { name, multus: { networkName: target.namespace ? `${target.namespace}/${target.name}` : target.name! } };
}

/** A disk's PVC as the plan sizes, classes and modes it. */
function claimSpec(d: DiskPlan): DataVolumeSpec['pvc'] {
  return {
    accessModes: [d.accessMode],
    volumeMode: d.volumeMode,
    ...(d.storageClass !== undefined ? { storageClassName: d.storageClass } : {}),
    resources: { requests: { storage: `${Math.ceil(d.requestBytes / 1024 ** 2)}Mi` } },
  };
}

/**
 * The KubeVirt VirtualMachine for a source VM and its mapping plan: per disk a
 * PVC that v2v fills, or a DataVolume template CDI fills (sized, classed and moded by the plan), CPU
 * topology, memory, firmware, disks with boot order, NICs with their MACs on
 * pod (masquerade) or multus (bridge) networks, and the OS template labels.
 * Pure: the same input gives the same object.
 */
export function buildVirtualMachine(vm: SourceVm, plan: VmPlan, options: VmManifestOptions = {}): VmManifests {
  const warnings: string[] = [];
  const kubeName = toKubeName(options.name ?? vm.name);
  if (kubeName.warning) warnings.push(kubeName.warning);
  const name = kubeName.name;
  const copy = options.copy ?? { kind: 'v2v' };
  const bus = options.compatibility ? 'sata' : 'virtio';
  const nicModel = options.compatibility ? 'e1000e' : 'virtio';
  const boot = bootIndex(plan);

  const cdi = copy.kind === 'v2v' ? undefined : copy;
  const dataVolumeTemplates: DataVolumeTemplate[] | undefined = cdi
    ? plan.disks.map((d) => ({
        apiVersion: 'cdi.kubevirt.io/v1beta1',
        kind: 'DataVolume',
        metadata: { name: `${name}-disk-${d.index}`, annotations: { 'v2v.kubevirt.io/source-disk': d.disk.key } },
        spec: { source: dataVolumeSource(vm, d, cdi), pvc: claimSpec(d) },
      }))
    : undefined;
  const disks: VmDisk[] = plan.disks.map((d) => ({
    name: `disk-${d.index}`,
    disk: { bus },
    ...(d.index === boot ? { bootOrder: 1 } : {}),
    ...(vm.source.type === 'ovirt' ? { serial: d.disk.key } : {}),
  }));
  const volumes: VmVolume[] = plan.disks.map((d) =>
    cdi
      ? { name: `disk-${d.index}`, dataVolume: { name: `${name}-disk-${d.index}` } }
      : { name: `disk-${d.index}`, persistentVolumeClaim: { claimName: options.claimNames?.[d.index] ?? diskClaimName(name, d.index) } },
  );

  // Without any network mapping the first NIC goes to the pod network, as a plain import would do.
  const anyMapped = plan.nics.some((n) => n.mapping);
  const nics = anyMapped
    ? plan.nics
    : plan.nics.map((n, i) => (i === 0 ? { ...n, mapping: { source: { name: n.sourceLabel }, target: {}, type: 'pod' as const }, type: 'pod' as const } : n));
  if (!anyMapped && plan.nics.length > 0) warnings.push(`no network mapping: interface ${plan.nics[0]!.nic.name ?? plan.nics[0]!.nic.mac} goes to the pod network`);
  const interfaces: VmInterface[] = [];
  const networks: VmNetwork[] = [];
  for (const n of nics) {
    const netName = `net-${n.index}`;
    const net = network(n, netName);
    if (!net) {
      warnings.push(`interface ${n.nic.name ?? n.nic.mac} on '${n.sourceLabel}' has no network mapping and is left out`);
      continue;
    }
    networks.push(net);
    interfaces.push({ name: netName, model: nicModel, ...(n.nic.mac ? { macAddress: n.nic.mac } : {}), ...(net.pod ? { masquerade: {} } : { bridge: {} }) });
  }

  const efi = vm.firmware === 'efi';
  const labels = options.osinfo ? templateLabels(options.osinfo) : {};
  const virtualMachine: VirtualMachine = {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: {
      name,
      ...(options.namespace ? { namespace: options.namespace } : {}),
      labels: { 'app.kubernetes.io/managed-by': 'v2v', ...labels, ...options.labels },
      annotations: { 'v2v.kubevirt.io/source-vm-id': vm.id, 'v2v.kubevirt.io/source-vm-name': vm.name },
    },
    spec: {
      running: options.startVm ?? false,
      ...(dataVolumeTemplates ? { dataVolumeTemplates } : {}),
      template: {
        metadata: { labels: { 'kubevirt.io/domain': name, 'vm.kubevirt.io/name': name }, ...(options.osinfo ? { annotations: { 'vm.kubevirt.io/os': options.osinfo } } : {}) },
        spec: {
          domain: {
            cpu: { sockets: vm.cpu.sockets, cores: vm.cpu.coresPerSocket, threads: 1 },
            memory: { guest: `${vm.memoryMiB}Mi` },
            machine: { type: 'q35' },
            firmware: { bootloader: efi ? { efi: { secureBoot: vm.secureBoot } } : { bios: {} } },
            ...(efi && vm.secureBoot ? { features: { smm: { enabled: true } } } : {}),
            devices: { disks, interfaces },
          },
          networks,
          volumes,
        },
      },
    },
  };
  return { name, virtualMachine, warnings };
}

/** A DataVolume template as a standalone object. */
export function standaloneDataVolume(t: DataVolumeTemplate, namespace?: string): DataVolume {
  return { ...t, metadata: { ...t.metadata, ...(namespace ? { namespace } : {}) } };
}

/** The PVCs a `copy: v2v` VirtualMachine boots, to create before v2v fills them. */
export function diskClaims(plan: VmPlan, claimNames: readonly string[], options: { namespace?: string; labels?: Record<string, string> } = {}): PersistentVolumeClaim[] {
  return plan.disks.map((d) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: claimNames[d.index] ?? `disk${d.index}`,
      ...(options.namespace ? { namespace: options.namespace } : {}),
      ...(options.labels ? { labels: options.labels } : {}),
      annotations: { 'v2v.kubevirt.io/source-disk': d.disk.key },
    },
    spec: claimSpec(d),
  }));
}
