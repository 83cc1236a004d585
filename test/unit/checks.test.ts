import { describe, expect, it } from 'vitest';
import { RULES, ruleById } from '../../src/checks/catalogue.js';
import { importConditions } from '../../src/vmio.js';
import { checkVm } from '../../src/checks/evaluate.js';
import type { TargetFacts } from '../../src/checks/types.js';
import { normalizeMappings, type MappingsInput } from '../../src/mapping/resource-mapping.js';
import { planVm } from '../../src/mapping/resolve.js';
import type { SourceVm } from '../../src/model.js';
import { VmBuilder } from '../helpers/vm-builder.js';

const GiB = 1024 ** 3;
const V = () => VmBuilder.vsphere();
const O = () => VmBuilder.ovirt();

const SPEC_IDS = `vmware.power_state.on vmware.disk.controller.sata vmware.disk.controller.unsupported vmware.passthrough_device.detected
vmware.disk.capacity.invalid vmware.datastore.missing vmware.disk_mode.independent vmware.disk.rdm.detected vmware.disk.shared.detected
vmware.changed_block_tracking.disabled vmware.snapshot.detected vmware.usb_controller.detected vmware.tpm.detected vmware.vm.name.invalid
vmware.os.unsupported vmware.template ovirt.nic.interface_type.unsupported ovirt.disk.interface_type.unsupported ovirt.disk.storage_type.lun
ovirt.disk.storage_type.unsupported ovirt.disk.illegal_or_locked_status ovirt.disk.scsi_reservation.enabled ovirt.disk.sgio.enabled
ovirt.host_devices.vgpu ovirt.snapshot.illegal ovirt.vm.origin.kubevirt ovirt.usb.enabled ovirt.watchdog.diag288 ovirt.vm.status_invalid
ovirt.disk.illegal_images ovirt.iothreads.configured ovirt.numa.tuning.detected ovirt.placement_policy.affinity_set ovirt.nic.unplugged.detected
ovirt.nic.port_mirroring.detected ovirt.secure_boot.detected ovirt.disk.shared.detected mapping.network.unmapped mapping.network.multiple_pod
mapping.storage.unmapped target.capacity.insufficient`.split(/\s+/);

const GOOD_VSPHERE_MAP: MappingsInput = {
  networkMappings: [{ source: { name: 'VM Network' }, target: { name: 'pod' }, type: 'pod' }],
  storageMappings: [{ source: { name: 'LocalDS_0' }, target: { name: 'standard' } }],
};
const GOOD_OVIRT_MAP: MappingsInput = {
  networkMappings: [{ source: { name: 'ovirtmgmt/ovirtmgmt' }, target: { name: 'pod' }, type: 'pod' }],
  storageMappings: [{ source: { name: 'data' }, target: { name: 'nfs' } }],
};

interface Case {
  id: string;
  trips: SourceVm;
  passes: SourceVm;
  mapping?: MappingsInput;
  target?: TargetFacts;
  /** Target facts for the passing VM, when they differ. */
  passTarget?: TargetFacts;
  /** A piece of the specific finding the tripping VM must produce. */
  says: string;
}

const cases: Case[] = [
  { id: 'vmware.power_state.on', trips: V().power('on').build(), passes: V().build(), says: 'powered on' },
  { id: 'vmware.power_state.on', trips: V().power('suspended').build(), passes: V().power('off').build(), says: 'suspended' },
  {
    id: 'vmware.disk.controller.sata',
    trips: V()
      .disk({ controller: { bus: 'sata', model: 'VirtualAHCIController', key: '15000' } })
      .build(),
    passes: V()
      .disk({ controller: { bus: 'ide', model: 'VirtualIDEController', key: '200' } })
      .build(),
    says: 'VirtualAHCIController',
  },
  {
    id: 'vmware.disk.controller.unsupported',
    trips: V()
      .disk({ controller: { bus: 'nvme', model: 'VirtualNVMEController', key: '31000' } })
      .build(),
    passes: V().build(),
    says: 'VirtualNVMEController',
  },
  {
    id: 'vmware.passthrough_device.detected',
    trips: V().device('VirtualPCIPassthrough').build(),
    passes: V().device('VirtualPCIPassthroughX').build(),
    says: 'VirtualPCIPassthrough',
  },
  { id: 'vmware.disk.capacity.invalid', trips: V().disk({ capacityBytes: 0 }).build(), passes: V().disk({ capacityBytes: 1 }).build(), says: 'capacity 0' },
  { id: 'vmware.datastore.missing', trips: V().disk({ datastore: undefined }).build(), passes: V().build(), says: 'no datastore' },
  {
    id: 'vmware.disk_mode.independent',
    trips: V().disk({ mode: 'independent_nonpersistent' }).build(),
    passes: V().disk({ mode: 'persistent_independent_persistentx' }).build(),
    says: 'independent_nonpersistent',
  },
  {
    id: 'vmware.disk.rdm.detected',
    trips: V()
      .disk({ rdm: { mode: 'physical' } })
      .build(),
    passes: V().build(),
    says: 'physical RDM',
  },
  { id: 'vmware.disk.shared.detected', trips: V().disk({ shared: true }).build(), passes: V().build(), says: 'is shared' },
  { id: 'vmware.changed_block_tracking.disabled', trips: V().vsphere({ changeTrackingEnabled: false }).build(), passes: V().build(), says: 'changeTrackingEnabled' },
  { id: 'vmware.snapshot.detected', trips: V().snapshot().build(), passes: V().build(), says: '1 snapshot' },
  { id: 'vmware.usb_controller.detected', trips: V().device('VirtualUSBXHCIController').build(), passes: V().device('VirtualUSB').build(), says: 'VirtualUSBXHCIController' },
  { id: 'vmware.tpm.detected', trips: V().device('VirtualTPM').build(), passes: V().build(), says: 'TPM' },
  { id: 'vmware.device.sriov.detected', trips: V().device('VirtualSriovEthernetCard').build(), passes: V().build(), says: 'VirtualSriovEthernetCard' },
  { id: 'vmware.vm.name.invalid', trips: V().with({ name: 'Web_01' }).build(), passes: V().with({ name: 'web-01' }).build(), says: 'Web_01' },
  {
    id: 'vmware.vm.name.invalid',
    trips: V()
      .with({ name: 'a'.repeat(64) })
      .build(),
    passes: V()
      .with({ name: 'a'.repeat(63) })
      .build(),
    says: 'not a valid',
  },
  {
    id: 'vmware.os.unsupported',
    trips: V().guest('otherGuest', 'Other (32-bit)').build(),
    passes: V().guest('windows2019srv_64Guest', 'Microsoft Windows Server 2019 (64-bit)').build(),
    says: 'otherGuest',
  },
  // Anchored: a guestId that merely contains a supported id does not pass.
  {
    id: 'vmware.os.unsupported',
    trips: V().guest('xrhel8_64Guest', 'Other').build(),
    passes: V().guest('otherGuest', 'Red Hat Enterprise Linux 9 (64-bit)').build(),
    says: 'xrhel8_64Guest',
  },
  { id: 'vmware.template', trips: V().template().build(), passes: V().build(), says: 'template' },

  { id: 'ovirt.nic.interface_type.unsupported', trips: O().nic({ model: 'pcnet' }).build(), passes: O().nic({ model: 'e1000' }).build(), says: 'uses model pcnet' },
  { id: 'ovirt.nic.interface_type.unsupported', trips: O().nic({ model: 'rtl8139_virtio' }).build(), passes: O().nic({ model: 'rtl8139' }).build(), says: 'rtl8139_virtio' },
  {
    id: 'ovirt.disk.interface_type.unsupported',
    trips: O()
      .disk({ ovirt: { interface: 'ide' } })
      .build(),
    passes: O()
      .disk({ ovirt: { interface: 'sata' } })
      .build(),
    says: 'uses interface ide',
  },
  {
    id: 'ovirt.disk.interface_type.unsupported',
    trips: O()
      .disk({ ovirt: { interface: 'virtio_scsi_x' } })
      .build(),
    passes: O()
      .disk({ ovirt: { interface: 'virtio' } })
      .build(),
    says: 'virtio_scsi_x',
  },
  {
    id: 'ovirt.disk.storage_type.lun',
    trips: O()
      .disk({ lun: true, ovirt: { storageType: 'lun' } })
      .build(),
    passes: O().build(),
    says: 'LUN',
  },
  {
    id: 'ovirt.disk.storage_type.unsupported',
    trips: O()
      .disk({ ovirt: { storageType: 'cinder' } })
      .build(),
    passes: O().build(),
    says: "'cinder'",
  },
  {
    id: 'ovirt.disk.capacity.invalid',
    trips: O()
      .disk({ capacityBytes: 0, ovirt: { provisionedBytes: undefined } })
      .build(),
    passes: O().build(),
    says: 'did not report it (disk.provisioned_size)',
  },
  { id: 'ovirt.disk.illegal_or_locked_status', trips: O().disk({ status: 'locked' }).build(), passes: O().disk({ status: 'ok' }).build(), says: "'locked'" },
  { id: 'ovirt.disk.illegal_or_locked_status', trips: O().disk({ status: 'illegal' }).build(), passes: O().disk({ status: 'illegal_unknown' }).build(), says: "'illegal'" },
  {
    id: 'ovirt.disk.scsi_reservation.enabled',
    trips: O()
      .disk({ ovirt: { usesScsiReservation: true } })
      .build(),
    passes: O().build(),
    says: 'uses_scsi_reservation == true',
  },
  {
    id: 'ovirt.disk.sgio.enabled',
    trips: O()
      .disk({ ovirt: { sgio: 'unfiltered' } })
      .build(),
    passes: O()
      .disk({ ovirt: { sgio: 'disabled' } })
      .build(),
    says: 'unfiltered',
  },
  {
    id: 'ovirt.host_devices.vgpu',
    trips: O()
      .ovirt({ hostDevices: [{ name: 'mdev_nvidia', mdevType: 'nvidia-11' }] })
      .build(),
    passes: O()
      .ovirt({ hostDevices: [{ name: 'pci_0000_00_1f_2', capability: 'pci' }] })
      .build(),
    says: 'nvidia-11',
  },
  { id: 'ovirt.snapshot.illegal', trips: O().snapshot({ status: 'in_preview' }).build(), passes: O().snapshot({ status: 'ok' }).build(), says: 'in_preview' },
  { id: 'ovirt.vm.origin.kubevirt', trips: O().ovirt({ origin: 'kubevirt' }).build(), passes: O().ovirt({ origin: 'ovirt' }).build(), says: 'kubevirt' },
  { id: 'ovirt.usb.enabled', trips: O().ovirt({ usbEnabled: true }).build(), passes: O().build(), says: 'VM has USB enabled' },
  {
    id: 'ovirt.watchdog.diag288',
    trips: O()
      .ovirt({ watchdogs: [{ model: 'diag288', action: 'reset' }] })
      .build(),
    passes: O()
      .ovirt({ watchdogs: [{ model: 'i6300esb', action: 'reset' }] })
      .build(),
    says: 'unsupported watchdog configured: diag288',
  },
  // Anchored: Forklift's `up|down` would accept powering_down.
  {
    id: 'ovirt.vm.status_invalid',
    trips: O().ovirt({ status: 'powering_down' }).build(),
    passes: O().ovirt({ status: 'up' }).build(),
    says: "VM has illegal status: powering_down. Only 'up' and 'down' are allowed.",
  },
  { id: 'ovirt.disk.illegal_images', trips: O().ovirt({ hasIllegalImages: true }).build(), passes: O().build(), says: 'VM has illegal images' },
  { id: 'ovirt.iothreads.configured', trips: O().ovirt({ ioThreads: 1 }).build(), passes: O().ovirt({ ioThreads: 0 }).build(), says: 'VM specifies IO Threads: 1' },
  { id: 'ovirt.numa.tuning.detected', trips: O().ovirt({ numaTuneMode: 'interleave' }).build(), passes: O().build(), says: 'VM has NUMA tune mode specified: interleave' },
  {
    id: 'ovirt.placement_policy.affinity_set',
    trips: O().ovirt({ placementAffinity: 'migratable' }).build(),
    passes: O().ovirt({ placementAffinity: 'user_migratable' }).build(),
    says: 'migratable',
  },
  {
    id: 'ovirt.nic.unplugged.detected',
    trips: O()
      .nic({ ovirt: { plugged: false } })
      .build(),
    passes: O().build(),
    says: 'interface nic1 is unplugged.',
  },
  {
    id: 'ovirt.nic.port_mirroring.detected',
    trips: O()
      .nic({ ovirt: { portMirroring: true } })
      .build(),
    passes: O().build(),
    says: 'port mirroring',
  },
  { id: 'ovirt.secure_boot.detected', trips: O().efi(true).build(), passes: O().efi(false).build(), says: 'q35_secure_boot' },
  { id: 'ovirt.disk.shared.detected', trips: O().disk({ shared: true }).build(), passes: O().build(), says: 'shareable' },

  {
    id: 'mapping.network.unmapped',
    trips: V()
      .addNic({ network: { id: 'dvportgroup-9', name: 'DC0_DVPG0' } })
      .build(),
    passes: V().build(),
    mapping: GOOD_VSPHERE_MAP,
    says: "'DC0_DVPG0'",
  },
  {
    id: 'mapping.network.unmapped',
    trips: O()
      .nic({ ovirt: { vnicProfile: { id: 'vp-2', name: 'other' } } })
      .build(),
    passes: O().build(),
    mapping: GOOD_OVIRT_MAP,
    says: "'ovirtmgmt/other'",
  },
  {
    id: 'mapping.network.multiple_pod',
    trips: V()
      .addNic({ network: { id: 'network-8', name: 'Backup' } })
      .build(),
    passes: V().build(),
    mapping: { ...GOOD_VSPHERE_MAP, networkMappings: [...GOOD_VSPHERE_MAP.networkMappings!, { source: { name: 'Backup' }, target: { name: 'pod' }, type: 'pod' }] },
    says: 'VM Network, Backup',
  },
  {
    id: 'mapping.storage.unmapped',
    trips: V()
      .disk({ datastore: { id: 'datastore-12', name: 'SharedDS' } })
      .build(),
    passes: V().build(),
    mapping: GOOD_VSPHERE_MAP,
    says: "'SharedDS'",
  },
  // A disk map covers a disk whose storage domain has no storage map.
  {
    id: 'mapping.storage.unmapped',
    trips: O()
      .disk({ key: 'another-disk', datastore: { id: 'sd-2', name: 'other' } })
      .build(),
    passes: O()
      .disk({ datastore: { id: 'sd-2', name: 'other' } })
      .build(),
    mapping: { ...GOOD_OVIRT_MAP, diskMappings: [{ source: { id: '8181ecc1-5db8-4193-9c92-3ddab3be7b05' }, target: { name: 'nfs' } }] },
    says: "on 'other' lacks a storage mapping",
  },
  {
    id: 'mapping.storage.class.missing',
    trips: V().build(),
    passes: V().build(),
    mapping: GOOD_VSPHERE_MAP,
    target: { storageClasses: ['fast'] },
    passTarget: { storageClasses: ['fast', 'standard'] },
    says: "'standard'",
  },
  {
    id: 'target.capacity.insufficient',
    trips: V().build(),
    passes: V()
      .disk({ capacityBytes: 10 * GiB })
      .build(),
    target: { targetBytes: { '2000': 10 * GiB } },
    says: 'its target has 10.00 GiB',
  },
  {
    id: 'target.capacity.insufficient',
    trips: V().build(),
    passes: V()
      .disk({ capacityBytes: 1 * GiB })
      .build(),
    mapping: GOOD_VSPHERE_MAP,
    target: { freeBytes: { standard: 15 * GiB } },
    says: "storage class 'standard' has 15.00 GiB (16106127360 bytes) free, the VM's disks need 21.16 GiB",
  },
];

function run(vm: SourceVm, mapping?: MappingsInput, target?: TargetFacts) {
  const plan = mapping ? planVm(vm, normalizeMappings(mapping)) : undefined;
  return checkVm(vm, plan, target);
}

describe('the check catalogue', () => {
  it('has every rule id SPEC §5 requires, each once', () => {
    const ids = RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of SPEC_IDS) expect(ids, id).toContain(id);
  });

  it('makes the seed prerequisites Critical', () => {
    for (const id of [
      'vmware.power_state.on',
      'vmware.disk.controller.sata',
      'ovirt.nic.interface_type.unsupported',
      'ovirt.disk.interface_type.unsupported',
      'ovirt.disk.storage_type.lun',
      'ovirt.disk.illegal_or_locked_status',
      'ovirt.disk.scsi_reservation.enabled',
      'ovirt.disk.sgio.enabled',
      'ovirt.host_devices.vgpu',
      'ovirt.snapshot.illegal',
      'ovirt.vm.origin.kubevirt',
      'ovirt.usb.enabled',
      'ovirt.watchdog.diag288',
    ]) {
      expect(ruleById(id).category, id).toBe('Critical');
    }
  });

  it('has a trip-and-pass case for every rule', () => {
    const tested = new Set(cases.map((c) => c.id));
    for (const r of RULES) expect(tested.has(r.id), r.id).toBe(true);
  });

  it('finds nothing wrong with the clean builders', () => {
    expect(run(V().build(), GOOD_VSPHERE_MAP).concerns).toEqual([]);
    // The clean oVirt VM carries the Active VM snapshot (status ok) as the engine reports it.
    expect(run(O().build(), GOOD_OVIRT_MAP).concerns).toEqual([]);
  });

  describe.each(cases)('$id ($says)', (c) => {
    it('trips on a VM that has the problem', () => {
      const concern = run(c.trips, c.mapping, c.target).concerns.find((x) => x.id === c.id);
      expect(concern, c.id).toBeDefined();
      expect(concern!.category).toBe(ruleById(c.id).category);
      expect(concern!.assessment).toContain(c.says);
      expect(concern!.hint.length).toBeGreaterThan(0);
    });
    it('stays quiet on a VM that does not', () => {
      const ids = run(c.passes, c.mapping, c.passTarget ?? c.target).concerns.map((x) => x.id);
      expect(ids).not.toContain(c.id);
    });
  });

  it('skips mapping rules without a mapping and says valid only without Critical concerns', () => {
    const vm = V()
      .addNic({ network: { name: 'Unmapped' } })
      .build();
    const withoutMapping = checkVm(vm, undefined);
    expect(withoutMapping.concerns.map((c) => c.id)).not.toContain('mapping.network.unmapped');
    expect(withoutMapping.valid).toBe(true);
    const withMapping = run(vm, GOOD_VSPHERE_MAP);
    expect(withMapping.valid).toBe(false);
  });

  it('orders concerns Critical, Warning, Information', () => {
    const r = run(V().power('on').snapshot().vsphere({ changeTrackingEnabled: false }).build());
    expect(r.concerns.map((c) => c.category)).toEqual(['Critical', 'Warning', 'Information']);
  });
});

describe('vm-import-operator conditions', () => {
  it("reads like the seed's example: warnings go to MappingRulesVerified, Valid completes", () => {
    const vm = O().ovirt({ ioThreads: 1, numaTuneMode: 'interleave' }).build();
    expect(importConditions(run(vm, GOOD_OVIRT_MAP))).toEqual([
      { type: 'Valid', status: 'True', reason: 'ValidationCompleted', message: 'Validation completed successfully' },
      {
        type: 'MappingRulesVerified',
        status: 'True',
        reason: 'MappingRulesVerificationReportedWarnings',
        message: 'VM specifies IO Threads: 1, VM has NUMA tune mode specified: interleave',
      },
    ]);
  });

  it('blocks with MappingRulesVerificationFailed on a Critical rule and IncompleteMappingRules on a mapping gap', () => {
    const vm = O()
      .ovirt({ usbEnabled: true })
      .nic({ ovirt: { vnicProfile: { id: 'x', name: 'x' } } })
      .build();
    const [valid, verified] = importConditions(run(vm, GOOD_OVIRT_MAP));
    expect(valid).toMatchObject({ type: 'Valid', status: 'False', reason: 'IncompleteMappingRules' });
    expect(valid!.message).toContain("'ovirtmgmt/x'");
    expect(verified).toEqual({ type: 'MappingRulesVerified', status: 'False', reason: 'MappingRulesVerificationFailed', message: 'VM has USB enabled' });
  });

  it('completes cleanly without concerns', () => {
    expect(importConditions(run(O().build(), GOOD_OVIRT_MAP))[1]).toMatchObject({ status: 'True', reason: 'MappingRulesVerificationCompleted' });
  });
});

// A fact the source did not report never passes a rule that needs it: the rule says, as a Warning under its
// own id, that it could not decide, and names the field. The VM stays valid (nothing is known to be wrong).
const undecidedCases: { id: string; vm: SourceVm; field: string }[] = [
  {
    id: 'ovirt.nic.interface_type.unsupported',
    vm: O()
      .nic({ model: undefined, ovirt: { interface: undefined } })
      .build(),
    field: 'nic.interface',
  },
  {
    id: 'ovirt.nic.interface_type.unsupported',
    vm: O()
      .ovirt({ unreported: ['nics'] })
      .with({ nics: [] })
      .build(),
    field: '(nics)',
  },
  {
    id: 'ovirt.disk.interface_type.unsupported',
    vm: O()
      .disk({ controller: {}, ovirt: { interface: undefined } })
      .build(),
    field: 'disk_attachment.interface',
  },
  {
    id: 'ovirt.disk.interface_type.unsupported',
    vm: O()
      .ovirt({ unreported: ['disk_attachments'] })
      .with({ disks: [] })
      .build(),
    field: '(disk_attachments)',
  },
  {
    id: 'ovirt.disk.storage_type.unsupported',
    vm: O()
      .disk({ ovirt: { storageType: undefined } })
      .build(),
    field: 'disk.storage_type',
  },
  { id: 'ovirt.disk.illegal_or_locked_status', vm: O().disk({ status: undefined }).build(), field: 'disk.status' },
  {
    id: 'ovirt.disk.scsi_reservation.enabled',
    vm: O()
      .disk({ ovirt: { usesScsiReservation: undefined } })
      .build(),
    field: 'disk_attachment.uses_scsi_reservation',
  },
  {
    id: 'ovirt.host_devices.vgpu',
    vm: O()
      .ovirt({ unreported: ['host_devices'] })
      .build(),
    field: '(host_devices)',
  },
  { id: 'ovirt.snapshot.illegal', vm: O().snapshot({ status: undefined }).build(), field: 'snapshot.snapshot_status' },
  { id: 'ovirt.vm.origin.kubevirt', vm: O().ovirt({ origin: undefined }).build(), field: '(origin)' },
  { id: 'ovirt.usb.enabled', vm: O().ovirt({ usbEnabled: undefined }).build(), field: '(usb.enabled)' },
  {
    id: 'ovirt.watchdog.diag288',
    vm: O()
      .ovirt({ watchdogs: [{ action: 'reset' }] })
      .build(),
    field: 'watchdog.model',
  },
  { id: 'ovirt.disk.illegal_images', vm: O().ovirt({ hasIllegalImages: undefined }).build(), field: '(has_illegal_images)' },
  {
    id: 'ovirt.secure_boot.detected',
    vm: O()
      .ovirt({ unreported: ['bios.type'] })
      .build(),
    field: 'bios.type',
  },
  { id: 'vmware.os.unsupported', vm: V().guest('', '').build(), field: 'config.guestId' },
  {
    id: 'vmware.disk.controller.unsupported',
    vm: V()
      .vsphere({ unreported: ['config.hardware.device'] })
      .with({ disks: [], nics: [] })
      .build(),
    field: 'config.hardware.device',
  },
  {
    id: 'vmware.passthrough_device.detected',
    vm: V()
      .vsphere({ unreported: ['config.hardware.device'] })
      .build(),
    field: 'config.hardware.device',
  },
];

describe('a fact the source did not report', () => {
  it.each(undecidedCases)('$id says it could not decide, naming $field', ({ id, vm, field }) => {
    const result = run(vm, vm.source.type === 'ovirt' ? GOOD_OVIRT_MAP : GOOD_VSPHERE_MAP);
    const undecided = result.concerns.filter((c) => c.id === id);
    expect(undecided.map((c) => c.category)).toEqual(['Warning']);
    expect(undecided[0]!.label).toMatch(/not decided/);
    expect(undecided[0]!.assessment).toContain(field);
    expect(result.valid).toBe(true);
  });

  it('does not ask a template for what only a VM has', () => {
    const template = O()
      .template()
      .ovirt({ origin: undefined, hasIllegalImages: undefined, unreported: ['snapshots', 'host_devices'] })
      .build();
    expect(run(template, GOOD_OVIRT_MAP).concerns).toEqual([]);
  });

  it('is Critical still when another disk is known to be wrong', () => {
    const vm = O()
      .disk({ ovirt: { interface: 'ide' } })
      .addDisk({ controller: {}, ovirt: { interface: undefined, storageType: 'image', usesScsiReservation: false } })
      .build();
    const concerns = run(vm, GOOD_OVIRT_MAP).concerns.filter((c) => c.id === 'ovirt.disk.interface_type.unsupported');
    expect(concerns.map((c) => c.category)).toEqual(['Critical', 'Warning']);
  });
});
