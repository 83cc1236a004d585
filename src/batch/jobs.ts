import { stringify } from 'yaml';
import type { PodJob } from '../pipeline/job-file.js';

// `v2v batch --emit jobs`: one conversion-pod Job per VM, so a cluster is the
// scale-out engine. Pure builders; the CLI writes their YAML.

export interface JobVolume {
  /** PVC name */
  name: string;
  sizeBytes: number;
  storageClass?: string;
  volumeMode: 'Filesystem' | 'Block';
  accessMode: 'ReadWriteOnce' | 'ReadWriteMany' | 'ReadOnlyMany';
}

export interface JobSpecInput {
  name: string;
  namespace: string;
  image: string;
  /** The VDDK init image (vSphere only); the seed's Dockerfile copies vmware-vix-disklib-distrib to /opt. */
  vddkImage?: string;
  /** The Secret holding accessKeyId, secretKey, cacert, thumbprint. */
  secretName: string;
  job: PodJob;
  /** A ResourceMapping file to ship in the job's ConfigMap (mounted as /etc/v2v/mapping.yaml). */
  mappingYaml?: string;
  volumes: JobVolume[];
}

type K8sObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } };

export function conversionJob(input: JobSpecInput): K8sObject[] {
  const labels = { 'app.kubernetes.io/name': 'v2v', 'app.kubernetes.io/component': 'conversion', 'v2v.kubevirt.io/vm': input.name };
  const configName = `${input.name}-v2v-job`;
  const pvcs: K8sObject[] = input.volumes.map((v) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: v.name, namespace: input.namespace, labels },
    spec: {
      accessModes: [v.accessMode],
      volumeMode: v.volumeMode,
      resources: { requests: { storage: `${Math.ceil(v.sizeBytes / 1024 ** 2)}Mi` } },
      ...(v.storageClass ? { storageClassName: v.storageClass } : {}),
    },
  }));
  const job: PodJob = { ...input.job, disks: input.volumes.map((v) => ({ volumeMode: v.volumeMode })) };
  const configMap: K8sObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: configName, namespace: input.namespace, labels },
    data: { 'job.yaml': stringify(job), ...(input.mappingYaml ? { 'mapping.yaml': input.mappingYaml } : {}) },
  };
  const vddk = input.job.source.type === 'vsphere' && input.vddkImage;
  const diskMounts = input.volumes.flatMap((v, i) => (v.volumeMode === 'Filesystem' ? [{ name: `disk${i}`, mountPath: `/mnt/disks/disk${i}` }] : []));
  const diskDevices = input.volumes.flatMap((v, i) => (v.volumeMode === 'Block' ? [{ name: `disk${i}`, devicePath: `/dev/block${i}` }] : []));
  const jobObject: K8sObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `${input.name}-v2v`, namespace: input.namespace, labels },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          // 107 is CDI's qemu user: the PVCs CDI prepares are writable by it.
          securityContext: { runAsUser: 107, runAsGroup: 107, fsGroup: 107, runAsNonRoot: true },
          ...(vddk
            ? {
                initContainers: [{ name: 'vddk', image: input.vddkImage, volumeMounts: [{ name: 'vddk', mountPath: '/opt' }] }],
              }
            : {}),
          containers: [
            {
              name: 'v2v',
              image: input.image,
              args: ['--job', '/etc/v2v/job.yaml'],
              env: [
                { name: 'LIBGUESTFS_BACKEND', value: 'direct' },
                { name: 'V2V_LOG_LEVEL', value: 'info' },
              ],
              ports: [
                { name: 'metrics', containerPort: 2112 },
                { name: 'results', containerPort: 8080 },
              ],
              readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
              // virt-v2v's appliance peaks near 1.6 GiB; copies stay under 200 MiB.
              resources: { requests: { cpu: '1', memory: '2Gi' }, limits: { memory: '4Gi' } },
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
              volumeMounts: [
                { name: 'job', mountPath: '/etc/v2v', readOnly: true },
                { name: 'secret', mountPath: '/etc/secret', readOnly: true },
                ...(vddk ? [{ name: 'vddk', mountPath: '/opt' }] : []),
                { name: 'scratch', mountPath: '/var/tmp' },
                ...diskMounts,
              ],
              ...(diskDevices.length ? { volumeDevices: diskDevices } : {}),
            },
          ],
          volumes: [
            { name: 'job', configMap: { name: configName } },
            { name: 'secret', secret: { secretName: input.secretName } },
            ...(vddk ? [{ name: 'vddk', emptyDir: {} }] : []),
            { name: 'scratch', emptyDir: {} },
            ...input.volumes.map((v, i) => ({ name: `disk${i}`, persistentVolumeClaim: { claimName: v.name } })),
          ],
        },
      },
    },
  };
  return [configMap, ...pvcs, jobObject];
}

export function toYamlStream(objects: object[]): string {
  return objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join('');
}
