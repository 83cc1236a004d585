import type { Disk, SourceVm, VsphereFacts } from '../../model.js';
import { when, type Rule } from '../types.js';

// vSphere rules: the seed's prerequisites (powered off; disks on IDE or SCSI)
// as Critical, the rest after Forklift's catalogue (reference §B.1).

function facts(vm: SourceVm): VsphereFacts {
  if (vm.source.type !== 'vsphere') throw new Error('a vSphere rule ran on a non-vSphere VM');
  return vm.source;
}

function diskName(d: Disk): string {
  return `disk "${d.name ?? d.key}"${d.file ? ` (${d.file})` : ''}`;
}

/** vSphere did not return the VM's devices: no rule over disks or devices can pass it. */
function devicesUnreported(vm: SourceVm): string[] {
  return when(facts(vm).unreported?.includes('config.hardware.device') ?? false, "vSphere did not report the VM's devices (config.hardware.device)");
}

function eachDisk(vm: SourceVm, pick: (d: Disk) => boolean, say: (d: Disk) => string): string[] {
  return vm.disks.filter(pick).map(say);
}

const KNOWN_DISK_CONTROLLER = /^(VirtualIDEController|VirtualBusLogicController|VirtualLsiLogicController|VirtualLsiLogicSASController|ParaVirtualSCSIController)$/;
const PASSTHROUGH = /^(VirtualPCIPassthrough)$/;
const USB = /^(VirtualUSBController|VirtualUSBXHCIController)$/;
const SRIOV = /^(VirtualSriovEthernetCard)$/;
/** Kubernetes' RFC 1123 label rule, as Forklift's name check uses it. */
export const RFC1123_LABEL = /^(([a-z0-9][-a-z0-9]*)?[a-z0-9])?$/;
const SUPPORTED_GUEST_ID =
  /^(rhel7guest|rhel7_64guest|rhel8guest|rhel8_64guest|rhel9guest|rhel9_64guest|rhel10guest|rhel10_64guest|windows10[a-z0-9_]*guest|windows11[a-z0-9_]*guest|windows2016[a-z0-9_]*guest|windows2019[a-z0-9_]*guest|windows2022[a-z0-9_]*guest|windows2025[a-z0-9_]*guest)$/i;
const SUPPORTED_GUEST_NAME = /^(red hat enterprise linux (7|8|9|10)\b|(microsoft )?windows (10|11)\b|(microsoft )?windows server (2016|2019|2022|2025)\b)/i;

export const vsphereRules: Rule[] = [
  {
    id: 'vmware.power_state.on',
    category: 'Critical',
    appliesTo: 'vsphere',
    label: 'VM is not powered off',
    assessment: 'The VM must be powered off for the import; virt-v2v refuses a running or paused domain.',
    hint: 'shut the guest down (or power the VM off) and run the check again',
    test: ({ vm }) => when(vm.powerState !== 'off', `the VM is ${vm.powerState === 'on' ? 'powered on' : vm.powerState}`),
  },
  {
    id: 'vmware.disk.controller.sata',
    category: 'Critical',
    appliesTo: 'vsphere',
    label: 'Disk on a SATA controller',
    assessment: 'Disks on a SATA (AHCI) controller cannot be imported; only IDE and SCSI controllers are accepted.',
    hint: 'move the disk to an IDE (or SCSI) controller in the vSphere client, then import',
    test: ({ vm }) =>
      eachDisk(
        vm,
        (d) => d.controller.bus === 'sata',
        (d) => `${diskName(d)} is on ${d.controller.model}`,
      ),
  },
  {
    id: 'vmware.disk.controller.unsupported',
    category: 'Critical',
    appliesTo: 'vsphere',
    label: 'Disk on an unsupported controller',
    assessment: 'Disks must be on an IDE or SCSI controller; NVMe and other controllers are not accepted.',
    hint: 'move the disk to a SCSI or IDE controller in the vSphere client',
    test: ({ vm }) =>
      eachDisk(
        vm,
        (d) => d.controller.bus !== 'sata' && !KNOWN_DISK_CONTROLLER.test(d.controller.model ?? ''),
        (d) => `${diskName(d)} is on ${d.controller.model ?? 'a controller vSphere did not name'} (${d.controller.bus ?? 'unknown bus'})`,
      ),
    undecided: ({ vm }) => devicesUnreported(vm),
  },
  {
    id: 'vmware.passthrough_device.detected',
    category: 'Critical',
    appliesTo: 'vsphere',
    label: 'Passthrough device detected',
    assessment: 'A PCI passthrough device is bound to host hardware and cannot be migrated.',
    hint: 'remove the PCI passthrough device from the VM before the import',
    test: ({ vm }) =>
      facts(vm)
        .devices.filter((d) => PASSTHROUGH.test(d))
        .map((d) => `the VM has a ${d}`),
    undecided: ({ vm }) => devicesUnreported(vm),
  },
  {
    id: 'vmware.disk.capacity.invalid',
    category: 'Critical',
    appliesTo: 'vsphere',
    label: 'Disk has an invalid capacity',
    assessment: 'A disk reports no usable capacity; its PVC cannot be sized.',
    hint: 'check the disk in the vSphere client (a broken descriptor shows as 0 bytes)',
    test: ({ vm }) =>
      eachDisk(
        vm,
        (d) => !(Number.isFinite(d.capacityBytes) && d.capacityBytes > 0),
        (d) => `${diskName(d)} has capacity ${d.capacityBytes}`,
      ),
  },
  {
    id: 'vmware.datastore.missing',
    category: 'Critical',
    appliesTo: 'vsphere',
    label: 'Disk is not located on a datastore',
    assessment: 'A disk without a datastore cannot be read by VDDK or mapped to a storage class.',
    hint: 'check the disk backing in the vSphere client',
    test: ({ vm }) =>
      eachDisk(
        vm,
        (d) => !d.datastore?.id,
        (d) => `${diskName(d)} has no datastore`,
      ),
  },
  {
    id: 'vmware.disk_mode.independent',
    category: 'Warning',
    appliesTo: 'vsphere',
    label: 'Independent disk detected',
    assessment: 'Independent disks are not captured by snapshots, so VDDK cannot copy them from a snapshot.',
    hint: 'switch the disk to dependent mode if a snapshot-based copy is planned',
    test: ({ vm }) =>
      eachDisk(
        vm,
        (d) => /^independent_(persistent|nonpersistent)$/.test(d.mode ?? ''),
        (d) => `${diskName(d)} is ${d.mode}`,
      ),
  },
  {
    id: 'vmware.disk.rdm.detected',
    category: 'Warning',
    appliesTo: 'vsphere',
    label: 'Raw Device Mapped disk detected',
    assessment: 'An RDM disk points at a LUN; it is copied as a plain disk and loses the mapping.',
    hint: 'plan how the LUN is presented to KubeVirt, or detach it',
    test: ({ vm }) =>
      eachDisk(
        vm,
        (d) => d.rdm !== undefined,
        (d) => `${diskName(d)} is a ${d.rdm!.mode} RDM`,
      ),
  },
  {
    id: 'vmware.disk.shared.detected',
    category: 'Warning',
    appliesTo: 'vsphere',
    label: 'Shared disk detected',
    assessment: 'A shared (multi-writer) disk is attached to other VMs too; it is copied once per VM unless handled.',
    hint: 'power off every VM sharing the disk, and import the disk once',
    test: ({ vm }) =>
      eachDisk(
        vm,
        (d) => d.shared,
        (d) => `${diskName(d)} is shared`,
      ),
  },
  {
    id: 'vmware.changed_block_tracking.disabled',
    category: 'Warning',
    appliesTo: 'vsphere',
    label: 'Changed Block Tracking (CBT) not enabled',
    assessment: 'Without CBT a warm import is not possible; a cold import copies all allocated data.',
    hint: 'enable CBT (ctkEnabled) on the VM if a warm import is wanted',
    test: ({ vm }) => when(!facts(vm).changeTrackingEnabled, 'changeTrackingEnabled is false'),
  },
  {
    id: 'vmware.snapshot.detected',
    category: 'Information',
    appliesTo: 'vsphere',
    label: 'VM snapshot detected',
    assessment: 'The current state is imported; snapshots are not.',
    hint: 'consolidate or delete snapshots you do not need',
    test: ({ vm }) => when(vm.snapshots.length > 0, `the VM has ${vm.snapshots.length} snapshot${vm.snapshots.length === 1 ? '' : 's'}`),
  },
  {
    id: 'vmware.usb_controller.detected',
    category: 'Warning',
    appliesTo: 'vsphere',
    label: 'USB controller detected',
    assessment: 'USB controllers and devices are not carried over.',
    hint: 'remove USB devices the guest does not need',
    test: ({ vm }) =>
      facts(vm)
        .devices.filter((d) => USB.test(d))
        .map((d) => `the VM has a ${d}`),
  },
  {
    id: 'vmware.tpm.detected',
    category: 'Warning',
    appliesTo: 'vsphere',
    label: 'TPM detected',
    assessment: 'The virtual TPM state (keys, BitLocker) is not transferred.',
    hint: 'suspend BitLocker or export keys held in the TPM before the import',
    test: ({ vm }) => when(facts(vm).tpm, 'the VM has a virtual TPM'),
  },
  {
    id: 'vmware.device.sriov.detected',
    category: 'Warning',
    appliesTo: 'vsphere',
    label: 'SR-IOV passthrough adapter detected',
    assessment: 'An SR-IOV adapter becomes a regular NIC unless it is mapped to an SR-IOV network.',
    hint: 'map the network to an SR-IOV NetworkAttachmentDefinition if needed',
    test: ({ vm }) =>
      facts(vm)
        .devices.filter((d) => SRIOV.test(d))
        .map((d) => `the VM has a ${d}`),
  },
  {
    id: 'vmware.vm.name.invalid',
    category: 'Warning',
    appliesTo: 'vsphere',
    label: 'Invalid VM name',
    assessment: 'The name is not an RFC 1123 label (lower case, digits, "-", at most 63 characters); the target VM is renamed.',
    hint: 'set targetVmName, or accept the generated name',
    test: ({ vm }) => when(!(RFC1123_LABEL.test(vm.name) && vm.name.length > 0 && vm.name.length < 64), `"${vm.name}" is not a valid Kubernetes name`),
  },
  {
    id: 'vmware.os.unsupported',
    category: 'Warning',
    appliesTo: 'vsphere',
    label: 'Unsupported operating system detected',
    assessment: 'The guest OS is not one virt-v2v and KubeVirt support for conversion (RHEL 7–10, Windows 10/11, Server 2016–2025).',
    hint: 'expect to fix drivers in the guest by hand after the import',
    test: ({ vm }) => {
      const { sourceId, name } = vm.os;
      if (!sourceId && !name) return [];
      return when(!SUPPORTED_GUEST_ID.test(sourceId) && !SUPPORTED_GUEST_NAME.test(name), `guest "${name || sourceId}" (${sourceId || 'no guestId'})`);
    },
    undecided: ({ vm }) => when(!vm.os.sourceId && !vm.os.name, 'vSphere did not report the guest OS (config.guestId, config.guestFullName)'),
  },
  {
    id: 'vmware.template',
    category: 'Information',
    appliesTo: 'vsphere',
    label: 'Template',
    assessment: 'This is a template: a VM is created from it; the template itself stays.',
    hint: 'name the target VM (targetVmName) if several VMs come from the same template',
    test: ({ vm }) => when(vm.isTemplate, 'the source is a VM template'),
  },
];
