import { describe, expect, it } from 'vitest';
import { DEFAULT_OS_MAP, overrideOsMap, resolveOs, templateLabels } from '../../src/mapping/os-map.js';
import { MappingsSchema, mergeMappings, normalizeMappings } from '../../src/mapping/resource-mapping.js';
import { planVm } from '../../src/mapping/resolve.js';
import { MiB, defaultAccessMode, pvcRequestBytes } from '../../src/mapping/sizing.js';
import { VmBuilder } from '../helpers/vm-builder.js';

const GiB = 1024 * MiB;

describe('PVC size', () => {
  it.each([
    // capacity, volume mode, overhead, expected request
    [10 * GiB, 'Block', 0.055, 10 * GiB],
    [10 * GiB + 1, 'Block', 0.055, 10 * GiB + MiB],
    [1, 'Block', 0.055, MiB],
    // 10 GiB / 0.945, rounded up to a whole byte
    [10 * GiB, 'Filesystem', 0.055, Math.ceil((10 * GiB) / 0.945)],
    [10 * GiB, 'Filesystem', 0, 10 * GiB],
    [3 * MiB - 5, 'Filesystem', 0.1, Math.ceil((3 * MiB) / 0.9)],
  ] as const)('%d bytes on %s with %d overhead → %d', (capacity, mode, overhead, expected) => {
    expect(pvcRequestBytes(capacity, mode, overhead)).toBe(expected);
  });

  it('uses the per-class overhead over the default', () => {
    const vm = VmBuilder.vsphere().build();
    const mappings = normalizeMappings({ storageMappings: [{ source: { name: 'LocalDS_0' }, target: { name: 'ceph' } }] });
    expect(planVm(vm, mappings).disks[0]!.requestBytes).toBe(Math.ceil((20 * GiB) / 0.945));
    expect(planVm(vm, mappings, { byStorageClass: { ceph: 0.2 } }).disks[0]!.requestBytes).toBe(Math.ceil((20 * GiB) / 0.8));
    expect(planVm(vm, mappings, { default: 0, byStorageClass: { other: 0.2 } }).disks[0]!.requestBytes).toBe(20 * GiB);
  });

  it('refuses an overhead outside [0, 1)', () => {
    expect(() => pvcRequestBytes(GiB, 'Filesystem', 1)).toThrow(RangeError);
  });
});

describe('access mode defaults (the seed)', () => {
  it.each([
    ['oVirt, plain disk', VmBuilder.ovirt().build(), undefined, 'ReadWriteOnce'],
    ['oVirt, read-only disk', VmBuilder.ovirt().disk({ readOnly: true }).build(), undefined, 'ReadOnlyMany'],
    ['oVirt, migratable VM', VmBuilder.ovirt().ovirt({ migratable: true }).disk({ readOnly: true }).build(), undefined, 'ReadWriteMany'],
    ['oVirt, migratable by placement policy', VmBuilder.ovirt().ovirt({ migratable: undefined, placementAffinity: 'migratable' }).build(), undefined, 'ReadWriteMany'],
    ['oVirt, the mapping wins', VmBuilder.ovirt().ovirt({ migratable: true }).build(), 'ReadWriteOnce', 'ReadWriteOnce'],
    ['vSphere, default', VmBuilder.vsphere().disk({ readOnly: true }).build(), undefined, 'ReadWriteOnce'],
    ['vSphere, mapping', VmBuilder.vsphere().build(), 'ReadWriteMany', 'ReadWriteMany'],
  ] as const)('%s → %s', (_what, vm, mapped, expected) => {
    expect(defaultAccessMode(vm, vm.disks[0]!, mapped)).toBe(expected);
  });
});

describe('mapping resolution', () => {
  it('matches oVirt NICs by network/vnic-profile, by profile id and by bare network name', () => {
    const vm = VmBuilder.ovirt()
      .addNic({ ovirt: { plugged: true, vnicProfile: { id: 'vp-9', name: 'storage' } }, network: { id: 'net-9', name: 'san' } })
      .addNic({ network: { id: 'net-3', name: 'lab' }, ovirt: { plugged: true } })
      .build();
    const plan = planVm(
      vm,
      normalizeMappings({
        networkMappings: [
          { source: { name: 'ovirtmgmt/ovirtmgmt' }, target: { name: 'pod' }, type: 'pod' },
          { source: { id: 'vp-9' }, target: { name: 'san-net', namespace: 'infra' }, type: 'multus' },
          { source: { name: 'lab' }, target: { name: 'lab-net' } },
        ],
      }),
    );
    expect(plan.nics.map((n) => [n.sourceLabel, n.type, n.mapping?.target.name])).toEqual([
      ['ovirtmgmt/ovirtmgmt', 'pod', 'pod'],
      ['san/storage', 'multus', 'san-net'],
      // No type in the mapping: multus, as vm-import-operator treats it.
      ['lab', 'multus', 'lab-net'],
    ]);
  });

  it('lets a disk map win over the storage map of its datastore', () => {
    const vm = VmBuilder.ovirt().addDisk({ key: 'disk-2' }).build();
    const plan = planVm(
      vm,
      normalizeMappings({
        storageMappings: [{ source: { name: 'data' }, target: { name: 'nfs' }, volumeMode: 'Filesystem' }],
        diskMappings: [{ source: { id: 'disk-2' }, target: { name: 'ceph-rbd' }, volumeMode: 'Block', accessMode: 'ReadWriteMany' }],
      }),
    );
    expect(plan.disks.map((d) => [d.mappedBy, d.storageClass, d.volumeMode, d.accessMode])).toEqual([
      ['storage', 'nfs', 'Filesystem', 'ReadWriteOnce'],
      ['disk', 'ceph-rbd', 'Block', 'ReadWriteMany'],
    ]);
    expect(plan.disks[1]!.requestBytes).toBe(10 * GiB);
  });

  it('refuses one source mapped twice to different targets, and lets the same entry twice pass', () => {
    const conflict = MappingsSchema.safeParse({
      networkMappings: [
        { source: { name: 'vm-net' }, target: { name: 'pod' }, type: 'pod' },
        { source: { name: 'vm-net' }, target: { name: 'br1' }, type: 'multus' },
      ],
    });
    expect(conflict.error?.issues).toMatchObject([{ path: ['networkMappings', 1, 'source'], params: { alsoAt: ['networkMappings', 0, 'source'] } }]);
    const repeated = MappingsSchema.safeParse({
      storageMappings: [
        { source: { id: 'ds-1' }, target: { name: 'standard' } },
        { target: { name: 'standard' }, source: { id: 'ds-1' } },
      ],
    });
    expect(repeated.success).toBe(true);
  });

  it("merges inline VirtualMachineImport mappings over the ResourceMapping's (the seed's precedence)", () => {
    const inline = normalizeMappings({ storageMappings: [{ source: { name: 'data' }, target: { name: 'inline-class' } }] });
    const rm = normalizeMappings({
      storageMappings: [
        { source: { name: 'data' }, target: { name: 'rm-class' } },
        { source: { name: 'other' }, target: { name: 'rm-other' } },
      ],
      networkMappings: [{ source: { name: 'ovirtmgmt/ovirtmgmt' }, target: { name: 'pod' }, type: 'pod' }],
    });
    const merged = mergeMappings(inline, rm)!;
    expect(merged.storageMappings.map((m) => [m.source.name, m.target.name])).toEqual([
      ['data', 'inline-class'],
      ['other', 'rm-other'],
    ]);
    expect(merged.networkMappings).toHaveLength(1);
    expect(mergeMappings(undefined, undefined)).toBeUndefined();
  });
});

describe('OS map', () => {
  it.each([
    ['vSphere guestId', VmBuilder.vsphere().guest('rhel7_64Guest', 'Red Hat Enterprise Linux 7 (64-bit)').build(), 'rhel7.7', 'osinfo2common'],
    ['vSphere debian pattern', VmBuilder.vsphere().guest('debian10_64Guest').build(), 'debian10', 'osinfo2common'],
    ['vSphere Windows Server 2019', VmBuilder.vsphere().guest('windows9Server64Guest').build(), 'win2k19', 'osinfo2common'],
    ['vSphere full-name fallback', VmBuilder.vsphere().guest('rhel9_64Guest', 'Red Hat Enterprise Linux 9 (64-bit)').build(), 'rhel8.1', 'name-fallback'],
    [
      'oVirt guest agent first',
      VmBuilder.ovirt()
        .ovirt({ guestAgent: { distribution: 'Fedora', version: '32' } })
        .build(),
      'fedora32',
      'guest-agent',
    ],
    [
      'oVirt guest agent major.minor',
      VmBuilder.ovirt()
        .ovirt({ guestAgent: { distribution: 'Red Hat Enterprise Linux', version: '8.2.1' } })
        .build(),
      'rhel8.2',
      'guest-agent',
    ],
    ['oVirt os.type', VmBuilder.ovirt().guest('windows_2016x64').build(), 'win2k16', 'osinfo2common'],
    ['oVirt substring fallback', VmBuilder.ovirt().guest('other_linux').build(), 'rhel8.2', 'name-fallback'],
  ] as const)('%s → %s', (_what, vm, osinfo, via) => {
    expect(resolveOs(vm)).toEqual({ osinfo, via });
  });

  it('gives nothing for an OS it cannot place', () => {
    expect(resolveOs(VmBuilder.ovirt().guest('freebsd').build())).toBeUndefined();
    expect(resolveOs(VmBuilder.vsphere().guest('otherGuest', 'Other (32-bit)').build())).toBeUndefined();
  });

  it("lets the user's ConfigMap override a default (the seed's other_linux → fedora31 example)", () => {
    const map = overrideOsMap(DEFAULT_OS_MAP, { osinfo2common: { other_linux: 'fedora31' } });
    expect(resolveOs(VmBuilder.ovirt().guest('other_linux').build(), map)).toEqual({ osinfo: 'fedora31', via: 'osinfo2common' });
    expect(map.osinfo2common['rhel_8x64']).toBe('rhel8.1');
  });

  it('labels a VM for the common templates', () => {
    expect(templateLabels('rhel8.1')).toEqual({
      'os.template.kubevirt.io/rhel8.1': 'true',
      'workload.template.kubevirt.io/server': 'true',
      'flavor.template.kubevirt.io/medium': 'true',
    });
  });
});
