import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { normalizeMappings } from '../../src/mapping/resource-mapping.js';
import { planVm } from '../../src/mapping/resolve.js';
import { toKubeName } from '../../src/manifests/name.js';
import { PersistentVolumeClaim } from 'kubernetes-models/v1';
import { buildVirtualMachine, diskClaims, standaloneDataVolume } from '../../src/manifests/virtual-machine.js';
import { validateObject } from '../helpers/openapi.js';
import { VmBuilder } from '../helpers/vm-builder.js';

const vsphereMapping = normalizeMappings({
  networkMappings: [
    { source: { name: 'VM Network' }, target: { name: 'pod' }, type: 'pod' },
    { source: { name: 'Backup' }, target: { name: 'backup-net', namespace: 'infra' }, type: 'multus' },
  ],
  storageMappings: [{ source: { name: 'LocalDS_0' }, target: { name: 'standard' } }],
  diskMappings: [{ source: { id: '2000-1' }, target: { name: 'ceph-rbd' }, volumeMode: 'Block', accessMode: 'ReadWriteMany' }],
});

function vsphereVm() {
  return VmBuilder.vsphere('Web_01.example')
    .efi(true)
    .addDisk()
    .addNic({ network: { id: 'network-8', name: 'Backup' } })
    .build();
}

describe('VM names', () => {
  it.each([
    ['web-01', 'web-01', false],
    ['Web_01.example', 'web-01-example', true],
    ['--x--', 'x', true],
    ['日本語', 'vm', true],
    ['a'.repeat(70), 'a'.repeat(63), true],
    [`${'a'.repeat(62)}_b`, 'a'.repeat(62), true],
  ])('%s → %s', (source, name, warned) => {
    const r = toKubeName(source);
    expect(r.name).toBe(name);
    expect(r.warning !== undefined).toBe(warned);
  });
});

describe('the VirtualMachine v2v emits', () => {
  it('carries CPU, memory, firmware, disks, NICs and template labels from the source (vSphere, PVCs v2v fills)', () => {
    const vm = vsphereVm();
    const plan = planVm(vm, vsphereMapping);
    const { virtualMachine, warnings, name } = buildVirtualMachine(vm, plan, { namespace: 'imports', startVm: true, osinfo: 'rhel8.1' });
    expect(name).toBe('web-01-example');
    expect(warnings).toEqual(['the name "Web_01.example" is not an RFC 1123 label of at most 63 characters; the VM is named "web-01-example"']);
    const spec = virtualMachine.spec;
    expect(spec.runStrategy).toBe('Always');
    expect(spec.template.spec.domain.cpu).toEqual({ sockets: 2, cores: 2, threads: 1 });
    expect(spec.template.spec.domain.memory).toEqual({ guest: '4096Mi' });
    expect(spec.template.spec.domain.firmware).toEqual({ bootloader: { efi: { secureBoot: true } } });
    expect(spec.template.spec.domain.features).toEqual({ smm: { enabled: true } });
    expect(spec.template.spec.domain.devices.disks).toEqual([
      { name: 'disk-0', disk: { bus: 'virtio' }, bootOrder: 1 },
      { name: 'disk-1', disk: { bus: 'virtio' } },
    ]);
    expect(spec.template.spec.domain.devices.interfaces).toEqual([
      { name: 'net-0', model: 'virtio', macAddress: '00:50:56:aa:bb:01', masquerade: {} },
      { name: 'net-1', model: 'virtio', macAddress: '00:50:56:aa:bb:02', bridge: {} },
    ]);
    expect(spec.template.spec.networks).toEqual([
      { name: 'net-0', pod: {} },
      { name: 'net-1', multus: { networkName: 'infra/backup-net' } },
    ]);
    // The VM boots the claims v2v fills, by name; CDI creates nothing for it.
    expect(spec.dataVolumeTemplates).toBeUndefined();
    expect(spec.template.spec.volumes).toEqual([
      { name: 'disk-0', persistentVolumeClaim: { claimName: 'web-01-example-disk0' } },
      { name: 'disk-1', persistentVolumeClaim: { claimName: 'web-01-example-disk1' } },
    ]);
    const claims = diskClaims(plan, ['web-01-example-disk0', 'web-01-example-disk1'], { namespace: 'imports' });
    expect(claims.map((c) => [c.metadata.name, c.spec.storageClassName, c.spec.volumeMode, c.spec.accessModes])).toEqual([
      ['web-01-example-disk0', 'standard', 'Filesystem', ['ReadWriteOnce']],
      ['web-01-example-disk1', 'ceph-rbd', 'Block', ['ReadWriteMany']],
    ]);
    for (const c of claims) new PersistentVolumeClaim(c as never).validate();
    expect(virtualMachine.metadata.labels).toMatchObject({ 'os.template.kubevirt.io/rhel8.1': 'true' });
    expect(validateObject(virtualMachine)).toEqual([]);
  });

  it('uses SATA disks and e1000e NICs in compatibility mode', () => {
    const vm = VmBuilder.vsphere().build();
    const { virtualMachine } = buildVirtualMachine(vm, planVm(vm, vsphereMapping), { compatibility: true });
    expect(virtualMachine.spec.template.spec.domain.devices.disks[0]).toMatchObject({ disk: { bus: 'sata' } });
    expect(virtualMachine.spec.template.spec.domain.devices.interfaces[0]!.model).toBe('e1000e');
    expect(virtualMachine.spec.runStrategy).toBe('Halted');
  });

  it('boots the claims it is given and carries extra labels (a bundle ties the VM to its Job)', () => {
    const vm = vsphereVm();
    const { virtualMachine } = buildVirtualMachine(vm, planVm(vm, vsphereMapping), { name: 'web', claimNames: ['a-0', 'b-1'], labels: { 'v2v.kubevirt.io/job': 'web-v2v' } });
    expect(virtualMachine.spec.template.spec.volumes.map((v) => ('persistentVolumeClaim' in v ? v.persistentVolumeClaim.claimName : undefined))).toEqual(['a-0', 'b-1']);
    expect(virtualMachine.metadata.labels).toMatchObject({ 'v2v.kubevirt.io/job': 'web-v2v', 'app.kubernetes.io/managed-by': 'v2v' });
    expect(validateObject(virtualMachine)).toEqual([]);
  });

  it('has CDI copy the disks with source.vddk (vSphere) and source.imageio (oVirt)', () => {
    const vm = vsphereVm();
    const vddk = buildVirtualMachine(vm, planVm(vm, vsphereMapping), {
      copy: { kind: 'vddk', url: 'https://vc.example.com/sdk', secretRef: 'vc-credentials', thumbprint: 'AA:BB' },
    }).virtualMachine;
    expect(vddk.spec.dataVolumeTemplates![0]!.spec.source).toEqual({
      vddk: {
        backingFile: '[LocalDS_0] Web_01.example/Web_01.example.vmdk',
        uuid: '4223a5b2-0000-0000-0000-000000000042',
        url: 'https://vc.example.com/sdk',
        secretRef: 'vc-credentials',
        thumbprint: 'AA:BB',
      },
    });
    expect(validateObject(vddk)).toEqual([]);
    const ovm = VmBuilder.ovirt().build();
    const imageio = buildVirtualMachine(ovm, planVm(ovm, normalizeMappings({ storageMappings: [{ source: { name: 'data' }, target: { name: 'nfs' } }] })), {
      copy: { kind: 'imageio', url: 'https://engine.example.com/ovirt-engine/api', secretRef: 'rhv-credentials', certConfigMap: 'rhv-ca' },
    }).virtualMachine;
    expect(imageio.spec.dataVolumeTemplates![0]!.spec.source).toEqual({
      imageio: { url: 'https://engine.example.com/ovirt-engine/api', diskId: '8181ecc1-5db8-4193-9c92-3ddab3be7b05', secretRef: 'rhv-credentials', certConfigMap: 'rhv-ca' },
    });
    expect(imageio.spec.template.spec.domain.devices.disks[0]).toEqual({ name: 'disk-0', disk: { bus: 'virtio' }, bootOrder: 1, serial: '8181ecc1-5db8-4193-9c92-3ddab3be7b05' });
    expect(validateObject(imageio)).toEqual([]);
  });

  it('puts the first NIC on the pod network when there is no mapping, and leaves unmapped NICs out otherwise', () => {
    const vm = VmBuilder.vsphere()
      .addNic({ network: { name: 'Elsewhere' } })
      .build();
    const none = buildVirtualMachine(vm, planVm(vm, undefined));
    expect(none.virtualMachine.spec.template.spec.networks).toEqual([{ name: 'net-0', pod: {} }]);
    expect(diskClaims(planVm(vm, undefined), ['c0'])[0]!.spec.storageClassName).toBeUndefined();
    expect(none.warnings.join('\n')).toMatch(/no network mapping/);
    const partial = buildVirtualMachine(vm, planVm(vm, vsphereMapping));
    expect(partial.virtualMachine.spec.template.spec.networks).toHaveLength(1);
    expect(partial.warnings.join('\n')).toMatch(/'Elsewhere' has no network mapping and is left out/);
    expect(validateObject(none.virtualMachine)).toEqual([]);
  });

  it('emits standalone DataVolumes that pass the CDI schema', () => {
    const vm = vsphereVm();
    const { virtualMachine } = buildVirtualMachine(vm, planVm(vm, vsphereMapping), { copy: { kind: 'vddk', url: 'https://vc.example.com/sdk', secretRef: 'vc-credentials' } });
    for (const t of virtualMachine.spec.dataVolumeTemplates!) expect(validateObject(standaloneDataVolume(t, 'imports'))).toEqual([]);
  });

  it('matches the snapshots (vSphere and oVirt)', async () => {
    const vm = vsphereVm();
    await expect(stringify(buildVirtualMachine(vm, planVm(vm, vsphereMapping), { namespace: 'imports', osinfo: 'rhel8.1' }).virtualMachine)).toMatchFileSnapshot(
      '__snapshots__/vm-vsphere.yaml',
    );
    const ovm = VmBuilder.ovirt().ovirt({ migratable: true }).build();
    const plan = planVm(
      ovm,
      normalizeMappings({
        networkMappings: [{ source: { name: 'ovirtmgmt/ovirtmgmt' }, target: { name: 'pod' }, type: 'pod' }],
        storageMappings: [{ source: { name: 'data' }, target: { name: 'nfs' } }],
      }),
    );
    await expect(stringify(buildVirtualMachine(ovm, plan, { name: 'vm_example', startVm: true, osinfo: 'rhel8.1' }).virtualMachine)).toMatchFileSnapshot(
      '__snapshots__/vm-ovirt.yaml',
    );
  });
});

describe('the schema validation itself', () => {
  it('rejects an unknown field, a bad quantity, a wrong apiVersion and a missing required field', () => {
    const vm = VmBuilder.vsphere().build();
    const good = buildVirtualMachine(vm, planVm(vm, vsphereMapping), { copy: { kind: 'vddk', url: 'https://vc.example.com/sdk', secretRef: 'vc-credentials' } }).virtualMachine;
    const bad = structuredClone(good) as unknown as Record<string, Record<string, unknown>>;
    (bad['spec']!['template'] as { spec: { domain: Record<string, unknown> } }).spec.domain['cpuz'] = 1;
    expect(validateObject(bad).join('\n')).toMatch(/must NOT have additional properties \(cpuz\)/);
    const badSize = structuredClone(good);
    badSize.spec.dataVolumeTemplates![0]!.spec.pvc.resources.requests.storage = '10 GiB';
    expect(validateObject(badSize).join('\n')).toMatch(/must match pattern/);
    expect(validateObject({ ...good, apiVersion: 'kubevirt.io/v1alpha3' }).join('\n')).toMatch(/apiVersion is kubevirt.io\/v1alpha3/);
    const noTemplate = structuredClone(good) as unknown as { spec: Record<string, unknown> };
    delete noTemplate.spec['template'];
    expect(validateObject(noTemplate).join('\n')).toMatch(/must have required property 'template'/);
  });
});
