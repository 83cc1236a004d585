import type { SourceVm } from '../model.js';
import type { DiskPlan, NicPlan, VmPlan } from '../mapping/resolve.js';
import { ConfigError } from '../errors.js';
import { templateLabels } from '../mapping/os-map.js';
import { FLAVOR_SIZES, quantityBytes, type VmCustomization } from './customization.js';
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
  /** What the user chose in the import wizard's terms (customization.ts). */
  customize?: VmCustomization;
}

export interface VmManifests {
  name: string;
  virtualMachine: VirtualMachine;
  /** The plan with the user's per-disk choices applied: the claims must be made from it. */
  plan: VmPlan;
  warnings: string[];
}

/** The plan with the wizard's per-disk choices (size, class, modes) over the mapping's; sizes only grow. */
export function customizedPlan(plan: VmPlan, customize: VmCustomization | undefined): VmPlan {
  if (!customize?.disks?.length) return plan;
  return {
    ...plan,
    disks: plan.disks.map((d) => {
      const c = customize.disks!.find((x) => x.index === d.index);
      if (!c) return d;
      const requestBytes = c.size === undefined ? d.requestBytes : quantityBytes(c.size);
      if (requestBytes < d.disk.capacityBytes) {
        throw new ConfigError('CONFIG_INVALID', `disk ${d.index}: size ${c.size} is smaller than the source disk (${d.disk.capacityBytes} bytes)`, {
          hint: 'a disk can only grow: give at least the source size, or leave size out',
        });
      }
      return {
        ...d,
        requestBytes,
        ...(c.storageClass ? { storageClass: c.storageClass } : {}),
        ...(c.volumeMode ? { volumeMode: c.volumeMode } : {}),
        ...(c.accessMode ? { accessMode: c.accessMode } : {}),
      };
    }),
  };
}

/** First-boot configuration as cloud-init user data. */
function cloudInitUserData(c: NonNullable<VmCustomization['cloudInit']>): string {
  const lines = ['#cloud-config'];
  if (c.hostname) lines.push(`hostname: ${JSON.stringify(c.hostname)}`);
  if (c.sshAuthorizedKeys?.length) lines.push('ssh_authorized_keys:', ...c.sshAuthorizedKeys.map((k) => `  - ${JSON.stringify(k)}`));
  if (c.script) lines.push('runcmd:', `  - [ "/bin/sh", "-c", ${JSON.stringify(c.script)} ]`);
  return `${lines.join('\n')}\n`;
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
export function buildVirtualMachine(vm: SourceVm, sourcePlan: VmPlan, options: VmManifestOptions = {}): VmManifests {
  const warnings: string[] = [];
  const c = options.customize ?? {};
  const plan = customizedPlan(sourcePlan, c);
  const kubeName = toKubeName(options.name ?? vm.name);
  if (kubeName.warning) warnings.push(kubeName.warning);
  const name = kubeName.name;
  const copy = options.copy ?? { kind: 'v2v' };
  const defaultBus = options.compatibility ? 'sata' : 'virtio';
  const defaultNicModel = options.compatibility ? 'e1000e' : 'virtio';
  const cdromBoot = c.cdroms?.some((cd) => cd.bootSource) ?? false;
  const boot = bootIndex(plan);
  const diskName = (index: number): string => c.disks?.find((x) => x.index === index)?.name ?? `disk-${index}`;

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
    name: diskName(d.index),
    disk: { bus: c.disks?.find((x) => x.index === d.index)?.bus ?? defaultBus },
    ...(d.index === boot ? { bootOrder: cdromBoot ? 2 : 1 } : {}),
    ...(vm.source.type === 'ovirt' ? { serial: d.disk.key } : {}),
  }));
  const volumes: VmVolume[] = plan.disks.map((d) =>
    cdi
      ? { name: diskName(d.index), dataVolume: { name: `${name}-disk-${d.index}` } }
      : { name: diskName(d.index), persistentVolumeClaim: { claimName: options.claimNames?.[d.index] ?? diskClaimName(name, d.index) } },
  );
  let bootCdrom = cdromBoot;
  for (const [i, cd] of (c.cdroms ?? []).entries()) {
    const cdName = cd.name ?? `cdrom-${i}`;
    // One boot source: the first CD-ROM marked as one.
    disks.push({ name: cdName, cdrom: { bus: 'sata' }, ...(cd.bootSource && bootCdrom ? { bootOrder: 1 } : {}) });
    if (cd.bootSource) bootCdrom = false;
    volumes.push({ name: cdName, persistentVolumeClaim: { claimName: cd.claimName } });
  }
  if (c.cloudInit) {
    disks.push({ name: 'cloudinitdisk', disk: { bus: 'virtio' } });
    volumes.push({ name: 'cloudinitdisk', cloudInitNoCloud: { userData: cloudInitUserData(c.cloudInit) } });
  }

  // Without any network mapping the first NIC goes to the pod network, as a plain import would do.
  const anyMapped = plan.nics.some((n) => n.mapping);
  const nics = anyMapped
    ? plan.nics
    : plan.nics.map((n, i) => (i === 0 ? { ...n, mapping: { source: { name: n.sourceLabel }, target: {}, type: 'pod' as const }, type: 'pod' as const } : n));
  if (!anyMapped && plan.nics.length > 0) warnings.push(`no network mapping: interface ${plan.nics[0]!.nic.name ?? plan.nics[0]!.nic.mac} goes to the pod network`);
  const interfaces: VmInterface[] = [];
  const networks: VmNetwork[] = [];
  for (const n of nics) {
    const own = c.nics?.find((x) => x.index === n.index);
    const netName = own?.name ?? `net-${n.index}`;
    const net = network(n, netName);
    if (!net) {
      warnings.push(`interface ${n.nic.name ?? n.nic.mac} on '${n.sourceLabel}' has no network mapping and is left out`);
      continue;
    }
    const binding = own?.type ?? (net.pod ? 'masquerade' : 'bridge');
    if (binding === 'masquerade' && !net.pod) throw nicTypeError(n.index, 'masquerade', 'works only on the pod network');
    if (binding === 'sriov' && net.pod) throw nicTypeError(n.index, 'sriov', 'needs a Multus network of an SR-IOV network attachment');
    networks.push(net);
    const mac = own?.macAddress?.toLowerCase() ?? n.nic.mac;
    interfaces.push({
      name: netName,
      // An SR-IOV VF is the guest's device: there is no emulated model to choose.
      ...(binding === 'sriov' ? {} : { model: own?.model ?? defaultNicModel }),
      ...(mac ? { macAddress: mac } : {}),
      [binding]: {},
    });
  }

  const efi = vm.firmware === 'efi';
  const osinfo = c.os ?? options.osinfo;
  const flavor = c.flavor ?? 'medium';
  const labels = osinfo ? templateLabels(osinfo, { flavor, workload: c.workload ?? 'server' }) : {};
  const sized = c.flavor && c.flavor !== 'custom' ? FLAVOR_SIZES[c.flavor] : undefined;
  // oVirt reports threads per core; vSphere exposes none to the guest.
  const sourceThreads = vm.source.type === 'ovirt' ? (vm.source.threadsPerCore ?? 1) : 1;
  const cpu = {
    sockets: c.cpu?.sockets ?? (sized ? 1 : vm.cpu.sockets),
    cores: c.cpu?.cores ?? sized?.cores ?? vm.cpu.coresPerSocket,
    threads: c.cpu?.threads ?? (sized ? 1 : sourceThreads),
  };
  const memory = c.memory ?? `${sized?.memoryMiB ?? vm.memoryMiB}Mi`;
  if (c.instancetype && (c.cpu || c.memory || sized)) warnings.push(`instancetype ${c.instancetype} sizes the VM: the flavor, cpu and memory choices are not used`);
  const virtualMachine: VirtualMachine = {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: {
      name,
      ...(options.namespace ? { namespace: options.namespace } : {}),
      labels: { 'app.kubernetes.io/managed-by': 'v2v', ...labels, ...options.labels },
      annotations: {
        'v2v.kubevirt.io/source-vm-id': vm.id,
        'v2v.kubevirt.io/source-vm-name': vm.name,
        ...(c.description !== undefined ? { description: c.description } : {}),
      },
    },
    spec: {
      runStrategy: options.startVm ? 'Always' : 'Halted',
      ...(c.instancetype ? { instancetype: { kind: 'VirtualMachineClusterInstancetype', name: c.instancetype } } : {}),
      ...(c.preference ? { preference: { kind: 'VirtualMachineClusterPreference', name: c.preference } } : {}),
      ...(dataVolumeTemplates ? { dataVolumeTemplates } : {}),
      template: {
        metadata: { labels: { 'kubevirt.io/domain': name, 'vm.kubevirt.io/name': name }, ...(osinfo ? { annotations: { 'vm.kubevirt.io/os': osinfo } } : {}) },
        spec: {
          domain: {
            ...(c.instancetype ? {} : { cpu, memory: { guest: memory } }),
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
  return { name, virtualMachine, plan, warnings };
}

function nicTypeError(index: number, type: string, why: string): ConfigError {
  return new ConfigError('CONFIG_INVALID', `NIC ${index}: type ${type} ${why}`, { hint: 'choose masquerade for the pod network, bridge or sriov for a Multus network' });
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
