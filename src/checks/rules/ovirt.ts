import type { Disk, Nic, OvirtFacts, SourceVm } from '../../model.js';
import { when, type Rule } from '../types.js';

// oVirt rules: the seed's RHV prerequisites (§8.15.4.2) as Critical, with
// vm-import-operator's messages (reference §B.4) so its conditions read the
// same; the rest as Warnings. Every regex is anchored: Forklift's unanchored
// `up|down` also matches `powering_down`.

function facts(vm: SourceVm): OvirtFacts {
  if (vm.source.type !== 'ovirt') throw new Error('an oVirt rule ran on a non-oVirt VM');
  return vm.source;
}

function diskInterface(d: Disk): string | undefined {
  return d.ovirt?.interface ?? d.controller.model;
}

function storageType(d: Disk): string | undefined {
  return d.ovirt?.storageType ?? (d.lun ? 'lun' : undefined);
}

function diskLabel(d: Disk): string {
  return `disk ${d.name ?? d.key}`;
}

function nicLabel(n: Nic): string {
  return `interface ${n.name ?? n.mac}`;
}

/** The engine did not report `field` of the VM at all (a collection `follow=` asked for, the bios type, …). */
function unreported(vm: SourceVm, field: string, what: string): string[] {
  return when(facts(vm).unreported?.includes(field) ?? false, `the engine did not report ${what} (${field})`);
}

const NIC_INTERFACES = /^(e1000|rtl8139|virtio)$/;
const DISK_INTERFACES = /^(sata|virtio_scsi|virtio)$/;
const BAD_DISK_STATUS = /^(illegal|locked)$/;
const GOOD_SNAPSHOT_STATUS = /^ok$/;
const VM_STATUS = /^(up|down)$/;

export const ovirtRules: Rule[] = [
  {
    id: 'ovirt.nic.interface_type.unsupported',
    category: 'Critical',
    appliesTo: 'ovirt',
    label: 'Unsupported NIC interface type',
    assessment: 'RHV NICs must use the e1000, rtl8139 or virtio model.',
    hint: 'change the NIC model to virtio in RHV',
    test: ({ vm }) =>
      vm.nics
        .filter((n) => n.model !== undefined && !NIC_INTERFACES.test(n.model))
        .map((n) => `${nicLabel(n)} uses model ${n.model} that is not supported. Supported models: e1000, rtl8139, virtio`),
    undecided: ({ vm }) => [
      ...unreported(vm, 'nics', "the VM's NICs"),
      ...vm.nics.filter((n) => n.model === undefined).map((n) => `${nicLabel(n)}: the engine did not report its model (nic.interface); the target VM uses virtio`),
    ],
  },
  {
    id: 'ovirt.disk.interface_type.unsupported',
    category: 'Critical',
    appliesTo: 'ovirt',
    label: 'Unsupported disk interface type',
    assessment: 'Disk interfaces must be sata, virtio_scsi or virtio.',
    hint: 'change the disk interface in RHV (Edit Virtual Disk → Interface)',
    test: ({ vm }) =>
      vm.disks
        .filter((d) => diskInterface(d) !== undefined && !DISK_INTERFACES.test(diskInterface(d)!))
        .map((d) => `${diskLabel(d)} uses interface ${diskInterface(d)}. Allowed values: sata, virtio_scsi, virtio`),
    undecided: ({ vm }) => [
      ...unreported(vm, 'disk_attachments', "the VM's disks"),
      ...vm.disks
        .filter((d) => diskInterface(d) === undefined)
        .map((d) => `${diskLabel(d)}: the engine did not report its interface (disk_attachment.interface); virt-v2v is told it is on SCSI, the target VM uses virtio`),
    ],
  },
  {
    id: 'ovirt.disk.capacity.invalid',
    category: 'Critical',
    appliesTo: 'ovirt',
    label: 'Disk has no usable size',
    assessment: 'The engine reports no size for the disk; its PVC cannot be sized.',
    hint: 'check the disk in RHV (its virtual size), and that the engine follows disk_attachments.disk',
    test: ({ vm }) =>
      vm.disks
        .filter((d) => !(Number.isFinite(d.capacityBytes) && d.capacityBytes > 0))
        .map((d) => `${diskLabel(d)} has size ${d.capacityBytes}${d.ovirt?.provisionedBytes === undefined ? ': the engine did not report it (disk.provisioned_size)' : ''}`),
  },
  {
    id: 'ovirt.disk.storage_type.lun',
    category: 'Critical',
    appliesTo: 'ovirt',
    label: 'Direct LUN disk',
    assessment: 'A disk cannot be a direct LUN.',
    hint: 'copy the LUN to an image disk in RHV, or detach it',
    test: ({ vm }) => vm.disks.filter((d) => d.lun === true || storageType(d) === 'lun').map((d) => `${diskLabel(d)} uses LUN storage`),
  },
  {
    id: 'ovirt.disk.storage_type.unsupported',
    category: 'Critical',
    appliesTo: 'ovirt',
    label: 'Unsupported disk storage type',
    assessment: "The disk storage type must be 'image'.",
    hint: 'only image disks can be imported',
    test: ({ vm }) =>
      vm.disks
        .filter((d) => storageType(d) !== undefined && !/^(image|lun)$/.test(storageType(d)!))
        .map((d) => `${diskLabel(d)} has illegal storage type: '${storageType(d)}'. Allowed value: 'image'`),
    undecided: ({ vm }) => vm.disks.filter((d) => storageType(d) === undefined).map((d) => `${diskLabel(d)}: the engine did not report its storage type (disk.storage_type)`),
  },
  {
    id: 'ovirt.disk.illegal_or_locked_status',
    category: 'Critical',
    appliesTo: 'ovirt',
    label: 'Disk is illegal or locked',
    assessment: "A disk's status cannot be illegal or locked.",
    hint: 'wait for the running operation to end, or repair the disk in RHV',
    test: ({ vm }) => vm.disks.filter((d) => BAD_DISK_STATUS.test(d.status ?? '')).map((d) => `${diskLabel(d)} has illegal status: '${d.status}'. Allowed value: 'ok'`),
    // A direct LUN has no image and so no status; it is refused as a LUN anyway.
    undecided: ({ vm }) =>
      vm.disks.filter((d) => d.status === undefined && storageType(d) !== 'lun').map((d) => `${diskLabel(d)}: the engine did not report its status (disk.status)`),
  },
  {
    id: 'ovirt.disk.scsi_reservation.enabled',
    category: 'Critical',
    appliesTo: 'ovirt',
    label: 'SCSI reservation enabled',
    assessment: 'SCSI reservation must be disabled.',
    hint: 'clear "Use SCSI Reservation" on the disk attachment in RHV',
    test: ({ vm }) => vm.disks.filter((d) => d.ovirt?.usesScsiReservation === true).map((d) => `${diskLabel(d)} has uses_scsi_reservation == true`),
    undecided: ({ vm }) =>
      vm.disks
        .filter((d) => d.ovirt !== undefined && d.ovirt.usesScsiReservation === undefined)
        .map((d) => `${diskLabel(d)}: the engine did not report whether it uses SCSI reservation (disk_attachment.uses_scsi_reservation)`),
  },
  {
    id: 'ovirt.disk.sgio.enabled',
    category: 'Critical',
    appliesTo: 'ovirt',
    label: 'ScsiGenericIO enabled',
    assessment: 'ScsiGenericIO (sgio) must be disabled.',
    hint: 'set SCSI pass-through (sgio) to disabled on the disk in RHV',
    test: ({ vm }) =>
      vm.disks.filter((d) => d.ovirt?.sgio !== undefined && !/^disabled$/.test(d.ovirt.sgio)).map((d) => `${diskLabel(d)} has ScsiGenericIO set to ${d.ovirt!.sgio}`),
  },
  {
    id: 'ovirt.host_devices.vgpu',
    category: 'Critical',
    appliesTo: 'ovirt',
    label: 'vGPU configured',
    assessment: 'The VM cannot be configured for vGPU resources.',
    hint: 'remove the mediated (vGPU) device from the VM in RHV',
    test: ({ vm }) =>
      facts(vm)
        .hostDevices.filter((h) => h.mdevType !== undefined || /^mdev$/.test(h.capability ?? ''))
        .map((h) => `VM uses vGPU device ${h.name}${h.mdevType ? ` (${h.mdevType})` : ''}`),
    undecided: ({ vm }) => (vm.isTemplate ? [] : unreported(vm, 'host_devices', "the VM's host devices")),
  },
  {
    id: 'ovirt.snapshot.illegal',
    category: 'Critical',
    appliesTo: 'ovirt',
    label: 'Snapshot in an illegal state',
    assessment: 'The VM cannot have snapshots in an illegal (not ok) state.',
    hint: 'commit or undo the snapshot preview, or remove the broken snapshot in RHV',
    test: ({ vm }) => vm.snapshots.filter((s) => s.status !== undefined && !GOOD_SNAPSHOT_STATUS.test(s.status)).map((s) => `snapshot ${s.name} has status '${s.status}'`),
    undecided: ({ vm }) => [
      ...(vm.isTemplate ? [] : unreported(vm, 'snapshots', "the VM's snapshots")),
      ...vm.snapshots.filter((s) => s.status === undefined).map((s) => `snapshot ${s.name}: the engine did not report its status (snapshot.snapshot_status)`),
    ],
  },
  {
    id: 'ovirt.vm.origin.kubevirt',
    category: 'Critical',
    appliesTo: 'ovirt',
    label: 'VM created in OpenShift',
    assessment: 'A VM created in OpenShift Container Platform and then added to RHV cannot be imported.',
    hint: 'this VM already came from KubeVirt; use the original there',
    test: ({ vm }) => when(/^kubevirt$/.test(facts(vm).origin ?? ''), 'VM origin is kubevirt'),
    undecided: ({ vm }) => when(!vm.isTemplate && facts(vm).origin === undefined, 'the engine did not report where the VM was created (origin)'),
  },
  {
    id: 'ovirt.usb.enabled',
    category: 'Critical',
    appliesTo: 'ovirt',
    label: 'USB enabled',
    assessment: 'The VM cannot be configured for USB devices.',
    hint: 'disable USB support on the VM in RHV',
    test: ({ vm }) => when(facts(vm).usbEnabled === true, 'VM has USB enabled'),
    undecided: ({ vm }) => when(facts(vm).usbEnabled === undefined, 'the engine did not report whether USB is enabled (usb.enabled)'),
  },
  {
    id: 'ovirt.watchdog.diag288',
    category: 'Critical',
    appliesTo: 'ovirt',
    label: 'diag288 watchdog',
    assessment: 'The watchdog model cannot be diag288.',
    hint: 'change the watchdog model to i6300esb, or remove it',
    test: ({ vm }) =>
      facts(vm)
        .watchdogs.filter((w) => /^diag288$/.test(w.model ?? ''))
        .map((w) => `VM has unsupported watchdog configured: ${w.model}`),
    undecided: ({ vm }) => [
      ...unreported(vm, 'watchdogs', "the VM's watchdogs"),
      ...facts(vm)
        .watchdogs.filter((w) => w.model === undefined)
        .map(() => 'the engine did not report the model of a watchdog (watchdog.model)'),
    ],
  },
  {
    id: 'ovirt.vm.status_invalid',
    category: 'Critical',
    appliesTo: 'ovirt',
    label: 'VM status is not up or down',
    assessment: "Only 'up' and 'down' VMs can be imported.",
    hint: 'wait for the VM to settle (no migration, snapshot or suspend in progress)',
    test: ({ vm }) => {
      const status = facts(vm).status;
      if (!status) return ["VM doesn't have any status: the engine did not report it (status)"];
      return when(!VM_STATUS.test(status), `VM has illegal status: ${status}. Only 'up' and 'down' are allowed.`);
    },
  },
  {
    id: 'ovirt.disk.illegal_images',
    category: 'Critical',
    appliesTo: 'ovirt',
    label: 'Illegal images',
    assessment: 'The VM has disk images in an illegal state.',
    hint: 'repair or remove the illegal images in RHV',
    test: ({ vm }) => when(facts(vm).hasIllegalImages === true, 'VM has illegal images'),
    undecided: ({ vm }) => when(!vm.isTemplate && facts(vm).hasIllegalImages === undefined, 'the engine did not report whether the VM has illegal images (has_illegal_images)'),
  },
  {
    id: 'ovirt.iothreads.configured',
    category: 'Warning',
    appliesTo: 'ovirt',
    label: 'IO threads configured',
    assessment: 'IO threads are not carried over.',
    hint: 'configure dedicated IO threads on the KubeVirt VM if needed',
    test: ({ vm }) => {
      const n = facts(vm).ioThreads;
      return when(n !== undefined && n > 0, `VM specifies IO Threads: ${n}`);
    },
  },
  {
    id: 'ovirt.numa.tuning.detected',
    category: 'Warning',
    appliesTo: 'ovirt',
    label: 'NUMA tuning detected',
    assessment: 'NUMA tuning is not carried over.',
    hint: 'configure NUMA on the KubeVirt VM if needed',
    test: ({ vm }) => {
      const mode = facts(vm).numaTuneMode;
      return when(mode !== undefined && mode !== '', `VM has NUMA tune mode specified: ${mode}`);
    },
  },
  {
    id: 'ovirt.placement_policy.affinity_set',
    category: 'Warning',
    appliesTo: 'ovirt',
    label: 'Migratable placement policy',
    assessment: 'The VM allows live migration: its disks default to ReadWriteMany, which the storage class must support.',
    hint: 'map the storage to a class with ReadWriteMany, or set accessMode in the mapping',
    test: ({ vm }) => when(/^migratable$/.test(facts(vm).placementAffinity ?? ''), 'VM placement policy affinity is migratable'),
  },
  {
    id: 'ovirt.nic.unplugged.detected',
    category: 'Warning',
    appliesTo: 'ovirt',
    label: 'Unplugged NIC',
    assessment: 'An unplugged NIC is imported as a regular interface.',
    hint: 'remove the NIC in RHV if the guest should not have it',
    test: ({ vm }) => vm.nics.filter((n) => n.ovirt?.plugged === false).map((n) => `interface ${n.name ?? n.mac} is unplugged.`),
  },
  {
    id: 'ovirt.nic.port_mirroring.detected',
    category: 'Warning',
    appliesTo: 'ovirt',
    label: 'Port mirroring',
    assessment: 'Port mirroring is not carried over.',
    hint: 'configure mirroring on the target network if needed',
    test: ({ vm }) => vm.nics.filter((n) => n.ovirt?.portMirroring === true).map((n) => `interface ${n.name ?? n.mac} uses profile with port mirroring.`),
  },
  {
    id: 'ovirt.secure_boot.detected',
    category: 'Warning',
    appliesTo: 'ovirt',
    label: 'Secure boot',
    assessment: 'The VM uses q35_secure_boot; the EFI variable store (NVRAM) is not carried over.',
    hint: 'check the guest boots with secure boot on the target',
    test: ({ vm }) => when(vm.secureBoot, 'VM uses q35_secure_boot bios'),
    undecided: ({ vm }) =>
      when(
        facts(vm).unreported?.includes('bios.type') ?? false,
        `the engine reported no bios type for the VM or its cluster (bios.type, cluster bios_type): the firmware is taken to be BIOS`,
      ),
  },
  {
    id: 'ovirt.disk.shared.detected',
    category: 'Warning',
    appliesTo: 'ovirt',
    label: 'Shared disk',
    assessment: 'A shareable disk is attached to other VMs too; it is copied once per VM unless handled.',
    hint: 'import the shared disk once and attach it to each VM',
    test: ({ vm }) => vm.disks.filter((d) => d.shared).map((d) => `${diskLabel(d)} is shareable`),
  },
];
