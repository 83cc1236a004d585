// The seed's import wizard, field by field: what the user chose in, the field
// of the schema-valid VirtualMachine (and its claims) out.
import { describe, expect, it } from 'vitest';
import { VmCustomizationSchema, type VmCustomization } from '../../src/manifests/customization.js';
import { buildVirtualMachine, diskClaims } from '../../src/manifests/virtual-machine.js';
import { normalizeMappings } from '../../src/mapping/resource-mapping.js';
import { planVm } from '../../src/mapping/resolve.js';
import { V2vError } from '../../src/errors.js';
import type { SourceVm } from '../../src/model.js';
import { validateObject } from '../helpers/openapi.js';
import { VmBuilder } from '../helpers/vm-builder.js';

const mapping = normalizeMappings({
  networkMappings: [
    { source: { name: 'VM Network' }, target: { name: 'pod' }, type: 'pod' },
    { source: { name: 'Backup' }, target: { name: 'sriov-net', namespace: 'infra' }, type: 'multus' },
  ],
  storageMappings: [{ source: { name: 'LocalDS_0' }, target: { name: 'standard' } }],
});

const source = (): SourceVm =>
  VmBuilder.vsphere('web-01')
    .addNic({ network: { id: 'network-8', name: 'Backup' } })
    .build();

type Spec = ReturnType<typeof build>['virtualMachine'];
function build(customize: VmCustomization, vm = source()) {
  const parsed = VmCustomizationSchema.parse(customize);
  return buildVirtualMachine(vm, planVm(vm, mapping), { osinfo: 'rhel8.4', customize: parsed });
}

const domain = (vm: Spec) => vm.spec.template.spec.domain;

describe('each wizard field reaches the VirtualMachine, which stays schema-valid', () => {
  const rows: [string, VmCustomization, (vm: Spec) => void][] = [
    ['description', { description: 'billing front end' }, (vm) => expect(vm.metadata.annotations?.['description']).toBe('billing front end')],
    [
      'operating system override',
      { os: 'centos-stream9' },
      (vm) => {
        expect(vm.metadata.labels?.['os.template.kubevirt.io/centos-stream9']).toBe('true');
        expect(vm.spec.template.metadata.annotations?.['vm.kubevirt.io/os']).toBe('centos-stream9');
      },
    ],
    [
      'flavor small: the common template size and label',
      { flavor: 'small' },
      (vm) => {
        expect(vm.metadata.labels?.['flavor.template.kubevirt.io/small']).toBe('true');
        expect(vm.metadata.labels?.['flavor.template.kubevirt.io/medium']).toBeUndefined();
        expect(domain(vm).cpu).toEqual({ sockets: 1, cores: 1, threads: 1 });
        expect(domain(vm).memory).toEqual({ guest: '2048Mi' });
      },
    ],
    [
      'flavor custom with CPU and memory overrides',
      { flavor: 'custom', cpu: { sockets: 2, cores: 4, threads: 2 }, memory: '16Gi' },
      (vm) => {
        expect(domain(vm).cpu).toEqual({ sockets: 2, cores: 4, threads: 2 });
        expect(domain(vm).memory).toEqual({ guest: '16Gi' });
        expect(vm.metadata.labels?.['flavor.template.kubevirt.io/custom']).toBe('true');
      },
    ],
    [
      'workload type',
      { workload: 'highperformance' },
      (vm) => {
        expect(vm.metadata.labels?.['workload.template.kubevirt.io/highperformance']).toBe('true');
        expect(vm.metadata.labels?.['workload.template.kubevirt.io/server']).toBeUndefined();
      },
    ],
    [
      'instancetype and preference replace the domain size',
      { instancetype: 'u1.large', preference: 'rhel.9' },
      (vm) => {
        expect(vm.spec.instancetype).toEqual({ kind: 'VirtualMachineClusterInstancetype', name: 'u1.large' });
        expect(vm.spec.preference).toEqual({ kind: 'VirtualMachineClusterPreference', name: 'rhel.9' });
        expect(domain(vm).cpu).toBeUndefined();
        expect(domain(vm).memory).toBeUndefined();
      },
    ],
    [
      'cloud-init hostname, SSH keys and a script',
      { cloudInit: { hostname: 'web-01.example.com', sshAuthorizedKeys: ['ssh-ed25519 AAAAC3Nza user@host'], script: 'touch /etc/migrated' } },
      (vm) => {
        const volume = vm.spec.template.spec.volumes.find((v) => v.name === 'cloudinitdisk') as { cloudInitNoCloud: { userData: string } };
        expect(volume.cloudInitNoCloud.userData).toBe(
          '#cloud-config\nhostname: "web-01.example.com"\nssh_authorized_keys:\n  - "ssh-ed25519 AAAAC3Nza user@host"\nruncmd:\n  - [ "/bin/sh", "-c", "touch /etc/migrated" ]\n',
        );
        expect(domain(vm).devices.disks.find((d) => d.name === 'cloudinitdisk')).toEqual({ name: 'cloudinitdisk', disk: { bus: 'virtio' } });
      },
    ],
    [
      'a CD-ROM mounted as the boot source',
      { cdroms: [{ claimName: 'rhel9-iso', bootSource: true }] },
      (vm) => {
        expect(domain(vm).devices.disks).toContainEqual({ name: 'cdrom-0', cdrom: { bus: 'sata' }, bootOrder: 1 });
        expect(domain(vm).devices.disks[0]).toMatchObject({ name: 'disk-0', bootOrder: 2 });
        expect(vm.spec.template.spec.volumes).toContainEqual({ name: 'cdrom-0', persistentVolumeClaim: { claimName: 'rhel9-iso' } });
      },
    ],
    [
      'per NIC: name, model, type and MAC override',
      {
        nics: [
          { index: 0, name: 'front', model: 'e1000e', macAddress: '02:00:00:00:00:AA' },
          { index: 1, type: 'sriov' },
        ],
      },
      (vm) => {
        const [front, vf] = domain(vm).devices.interfaces;
        expect(front).toEqual({ name: 'front', model: 'e1000e', macAddress: '02:00:00:00:00:aa', masquerade: {} });
        expect(vf).toMatchObject({ name: 'net-1', sriov: {} });
        expect(vf!.model).toBeUndefined();
        expect(vm.spec.template.spec.networks.map((n) => n.name)).toEqual(['front', 'net-1']);
      },
    ],
    [
      'per disk: name and interface',
      { disks: [{ index: 0, name: 'root', bus: 'scsi' }] },
      (vm) => {
        expect(domain(vm).devices.disks[0]).toMatchObject({ name: 'root', disk: { bus: 'scsi' } });
        expect(vm.spec.template.spec.volumes[0]).toMatchObject({ name: 'root', persistentVolumeClaim: { claimName: 'web-01-disk0' } });
      },
    ],
  ];
  it.each(rows)('%s', (_what, customize, expectations) => {
    const { virtualMachine } = build(customize);
    expectations(virtualMachine);
    expect(validateObject(virtualMachine)).toEqual([]);
  });

  it('start on creation is runStrategy Always, else Halted (never the deprecated running)', () => {
    const vm = source();
    expect(buildVirtualMachine(vm, planVm(vm, mapping), { startVm: true }).virtualMachine.spec.runStrategy).toBe('Always');
    const halted = buildVirtualMachine(vm, planVm(vm, mapping)).virtualMachine;
    expect(halted.spec.runStrategy).toBe('Halted');
    expect(halted.spec).not.toHaveProperty('running');
  });

  it('takes CPU threads from the source (oVirt reports threads per core)', () => {
    const vm = VmBuilder.ovirt('db-01').build();
    const withThreads: SourceVm = {
      ...vm,
      cpu: { sockets: 1, coresPerSocket: 4 },
      source: { ...(vm.source as Extract<SourceVm['source'], { type: 'ovirt' }>), threadsPerCore: 2 },
    };
    const built = buildVirtualMachine(withThreads, planVm(withThreads, undefined));
    expect(domain(built.virtualMachine).cpu).toEqual({ sockets: 1, cores: 4, threads: 2 });
  });

  it('per disk: size (grow only), storage class, volume and access mode reach the claim the VM boots', () => {
    const vm = source();
    const { plan, name } = build({ disks: [{ index: 0, size: '20Gi', storageClass: 'ceph-rbd', volumeMode: 'Block', accessMode: 'ReadWriteMany' }] }, vm);
    const [claim] = diskClaims(plan, [`${name}-disk0`]);
    expect(claim!.spec).toEqual({ accessModes: ['ReadWriteMany'], volumeMode: 'Block', storageClassName: 'ceph-rbd', resources: { requests: { storage: `${20 * 1024}Mi` } } });
    expect(validateObject(claim)).toEqual([]);
    const shrink = () => build({ disks: [{ index: 0, size: '1Mi' }] }, vm);
    expect(shrink).toThrow(V2vError);
    expect(shrink).toThrow(/smaller than the source disk/);
  });

  it('refuses a NIC type its network cannot carry', () => {
    expect(() => build({ nics: [{ index: 0, type: 'sriov' }] })).toThrow(/sriov needs a Multus network/);
    expect(() => build({ nics: [{ index: 1, type: 'masquerade' }] })).toThrow(/masquerade works only on the pod network/);
  });
});
