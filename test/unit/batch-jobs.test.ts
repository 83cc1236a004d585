import { ConfigMap, PersistentVolumeClaim } from 'kubernetes-models/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { conversionJob } from '../../src/batch/jobs.js';
import { PodJobSchema } from '../../src/pipeline/job-file.js';

const job = PodJobSchema.parse({ source: { type: 'vsphere', url: 'https://vc.example.com/sdk' }, vm: 'web-01' });

function build(volumeModes: ('Filesystem' | 'Block')[]) {
  return conversionJob({
    name: 'web-01',
    namespace: 'migrated',
    image: 'quay.io/example/v2v:0.1.0',
    vddkImage: 'quay.io/example/vddk:8.0.3',
    secretName: 'vc1-credentials',
    job,
    volumes: volumeModes.map((volumeMode, i) => ({ name: `web-01-disk${i}`, sizeBytes: 17 * 1024 ** 3 + 1, storageClass: 'fast', volumeMode, accessMode: 'ReadWriteOnce' })),
  });
}

describe('--emit jobs', () => {
  it('emits a ConfigMap, one PVC per disk and a Job that validate as Kubernetes objects', () => {
    const objects = build(['Filesystem', 'Block']);
    expect(objects.map((o) => o.kind)).toEqual(['ConfigMap', 'PersistentVolumeClaim', 'PersistentVolumeClaim', 'Job']);
    new ConfigMap(objects[0] as never).validate();
    new PersistentVolumeClaim(objects[1] as never).validate();
    new PersistentVolumeClaim(objects[2] as never).validate();
    new Job(objects[3] as never).validate();
  });

  it('mounts Filesystem disks at /mnt/disks/disk<N>, Block disks at /dev/block<N>, VDDK at /opt', () => {
    const jobObj = build(['Filesystem', 'Block'])[3] as unknown as {
      spec: {
        template: {
          spec: { containers: { volumeMounts: { mountPath: string }[]; volumeDevices: { devicePath: string }[]; args: string[] }[]; initContainers: { image: string }[] };
        };
      };
    };
    const pod = jobObj.spec.template.spec;
    expect(pod.containers[0]!.volumeMounts.map((m) => m.mountPath)).toEqual(['/etc/v2v', '/etc/secret', '/opt', '/var/tmp', '/mnt/disks/disk0']);
    expect(pod.containers[0]!.volumeDevices.map((d) => d.devicePath)).toEqual(['/dev/block1']);
    expect(pod.initContainers[0]!.image).toBe('quay.io/example/vddk:8.0.3');
    expect(pod.containers[0]!.args).toEqual(['--job', '/etc/v2v/job.yaml']);
  });

  it('the job file in the ConfigMap is what `v2v pod` reads, with the disk layout', () => {
    const cm = build(['Block'])[0] as unknown as { data: Record<string, string> };
    expect(PodJobSchema.parse(parse(cm.data['job.yaml']!))).toMatchObject({ vm: 'web-01', disks: [{ volumeMode: 'Block' }] });
  });

  it('a PVC of an invalid size is caught by the validator (the test can fail)', () => {
    const pvc = build(['Filesystem'])[1] as unknown as { spec: { accessModes: unknown } };
    pvc.spec.accessModes = 'ReadWriteOnce';
    expect(() => new PersistentVolumeClaim(pvc as never).validate()).toThrow(/accessModes/);
  });
});
