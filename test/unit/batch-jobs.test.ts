import { ConfigMap, PersistentVolumeClaim } from 'kubernetes-models/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { conversionBundle, VDDK_LIBDIR } from '../../src/batch/jobs.js';
import { normalizeMappings } from '../../src/mapping/resource-mapping.js';
import { planVm } from '../../src/mapping/resolve.js';
import { diskClaimName } from '../../src/manifests/name.js';
import { buildVirtualMachine } from '../../src/manifests/virtual-machine.js';
import { conversionJobFromPodJob, PodJobSchema } from '../../src/pipeline/job-file.js';
import { validateObject } from '../helpers/openapi.js';
import { VmBuilder } from '../helpers/vm-builder.js';

const job = PodJobSchema.omit({ disks: true, vddkLibDir: true }).parse({ source: { type: 'vsphere', url: 'https://vc.example.com/sdk' }, vm: 'web-01', targetName: 'web-01' });

interface PodSpec {
  containers: { volumeMounts: { name: string; mountPath: string }[]; volumeDevices?: { devicePath: string }[]; args: string[] }[];
  initContainers: { image: string; volumeMounts: { name: string; mountPath: string }[] }[];
  volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[];
}

/** A VM whose second disk the mapping puts on a Block volume. */
function build() {
  const vm = VmBuilder.vsphere('web-01').addDisk().build();
  const plan = planVm(vm, normalizeMappings({ diskMappings: [{ source: { id: vm.disks[1]!.key }, target: { name: 'fast' }, volumeMode: 'Block' }] }));
  const claimNames = plan.disks.map((d) => diskClaimName('web-01', d.index));
  const virtualMachine = buildVirtualMachine(vm, plan, { name: 'web-01', namespace: 'migrated', claimNames, labels: { 'v2v.kubevirt.io/job': 'web-01-v2v' } }).virtualMachine;
  return conversionBundle({
    name: 'web-01',
    namespace: 'migrated',
    image: 'quay.io/example/v2v:0.1.0',
    vddkImage: 'quay.io/example/vddk:8.0.3',
    secretName: 'vc1-credentials',
    job,
    plan,
    claimNames,
    virtualMachine,
    files: { 'mapping.yaml': 'kind: ResourceMapping\n' },
  });
}

const podOf = (objects: ReturnType<typeof build>) => (objects.find((o) => o.kind === 'Job') as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;

describe('--emit jobs bundles', () => {
  it('hold the ConfigMap, one PVC per disk, the Job and the halted VirtualMachine, each valid', () => {
    const objects = build();
    expect(objects.map((o) => o.kind)).toEqual(['ConfigMap', 'PersistentVolumeClaim', 'PersistentVolumeClaim', 'Job', 'VirtualMachine']);
    new ConfigMap(objects[0] as never).validate();
    new PersistentVolumeClaim(objects[1] as never).validate();
    new PersistentVolumeClaim(objects[2] as never).validate();
    new Job(objects[3] as never).validate();
    expect(validateObject(objects[4])).toEqual([]);
  });

  it('the VirtualMachine boots exactly the PVCs the Job fills', () => {
    const objects = build();
    const claims = objects.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata.name);
    expect(claims).toEqual(['web-01-disk0', 'web-01-disk1']);
    expect(podOf(objects).volumes.flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []))).toEqual(claims);
    const vm = objects[4] as unknown as {
      metadata: { labels: Record<string, string> };
      spec: { runStrategy: string; template: { spec: { volumes: { persistentVolumeClaim: { claimName: string } }[] } } };
    };
    expect(vm.spec.template.spec.volumes.map((v) => v.persistentVolumeClaim.claimName)).toEqual(claims);
    expect(vm.spec.runStrategy).toBe('Halted');
    expect(vm.metadata.labels['v2v.kubevirt.io/job']).toBe('web-01-v2v');
  });

  it('mounts Filesystem disks at /mnt/disks/disk<N>, Block disks at /dev/block<N>, and VDDK where it hides nothing of the image', () => {
    const pod = podOf(build());
    expect(pod.containers[0]!.volumeMounts.map((m) => m.mountPath)).toEqual(['/etc/v2v', '/etc/secret', '/vddk', '/var/tmp', '/mnt/disks/disk0']);
    expect(pod.containers[0]!.volumeDevices!.map((d) => d.devicePath)).toEqual(['/dev/block1']);
    // The seed's init image copies into its own /opt; the program's /opt/v2v stays visible in the conversion container.
    expect(pod.initContainers[0]).toMatchObject({ image: 'quay.io/example/vddk:8.0.3', volumeMounts: [{ name: 'vddk', mountPath: '/opt' }] });
    expect(pod.containers[0]!.volumeMounts.some((m) => m.mountPath === '/opt' || '/opt/v2v'.startsWith(`${m.mountPath}/`))).toBe(false);
    expect(pod.containers[0]!.args).toEqual(['--job', '/etc/v2v/job.yaml']);
  });

  it('the job file in the ConfigMap is what `v2v pod` reads: disk layout, claim names, the VDDK directory', async () => {
    const cm = build()[0] as unknown as { data: Record<string, string> };
    const podJob = PodJobSchema.parse(parse(cm.data['job.yaml']!));
    expect(podJob).toMatchObject({
      vm: 'web-01',
      vddkLibDir: VDDK_LIBDIR,
      disks: [
        { volumeMode: 'Filesystem', claimName: 'web-01-disk0' },
        { volumeMode: 'Block', claimName: 'web-01-disk1' },
      ],
    });
    expect(VDDK_LIBDIR).toBe('/vddk/vmware-vix-disklib-distrib');
    expect(cm.data['mapping.yaml']).toBe('kind: ResourceMapping\n');
    // The pod names its /vm volumes after the same claims.
    const paths = {
      job: '/etc/v2v/job.yaml',
      secretDir: `${import.meta.dirname}/../fixtures/pod-secret`,
      disksDir: '/mnt/disks',
      blockPrefix: '/dev/block',
      terminationLog: '/dev/termination-log',
    };
    const conversion = await conversionJobFromPodJob(podJob, paths);
    expect(conversion.manifest.claimNames).toEqual(['web-01-disk0', 'web-01-disk1']);
    expect(conversion.vddk).toEqual({ libraryDir: VDDK_LIBDIR });
  });

  it('a PVC of an invalid size is caught by the validator (the test can fail)', () => {
    const pvc = build()[1] as unknown as { spec: { accessModes: unknown } };
    pvc.spec.accessModes = 'ReadWriteOnce';
    expect(() => new PersistentVolumeClaim(pvc as never).validate()).toThrow(/accessModes/);
  });
});
