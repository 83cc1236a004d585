import { stringify } from 'yaml';
import type { PersistentVolumeClaim, VirtualMachine } from '../manifests/types.js';
import { diskClaims } from '../manifests/virtual-machine.js';
import type { VmPlan } from '../mapping/resolve.js';
import type { PodJob } from '../pipeline/job-file.js';

// `v2v batch --emit jobs`: per valid VM a bundle a cluster can apply as it is:
// the job's ConfigMap, the PVCs, the conversion Job that fills them, and the
// halted VirtualMachine that boots them. Kubernetes is the scale-out engine.
// Pure builders; the CLI writes their YAML.

/** Where the conversion container finds the library the VDDK init container copied (it copies into its /opt). */
export const VDDK_MOUNT = '/vddk';
export const VDDK_LIBDIR = `${VDDK_MOUNT}/vmware-vix-disklib-distrib`;

export interface BundleInput {
  /** The RFC 1123 name of the VM; the Job is `<name>-v2v`, its ConfigMap `<name>-v2v-job`. */
  name: string;
  namespace: string;
  image: string;
  /** The VDDK init image (vSphere only), built as the seed says: its entrypoint copies the library into /opt. */
  vddkImage?: string;
  /** The Secret holding accessKeyId, secretKey, cacert, thumbprint. */
  secretName: string;
  /** The pod's job, but for its disks and VDDK directory, which the bundle sets. */
  job: Omit<PodJob, 'disks' | 'vddkLibDir'>;
  plan: VmPlan;
  /** The PVC of each disk, by index; the VirtualMachine must boot the same claims. */
  claimNames: readonly string[];
  virtualMachine: VirtualMachine;
  /** Files shipped in the ConfigMap, mounted under /etc/v2v (mapping.yaml, os-map.yaml). */
  files?: Record<string, string>;
}

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export function jobName(vmName: string): string {
  return `${vmName}-v2v`;
}

export function conversionBundle(input: BundleInput): (K8sObject | PersistentVolumeClaim | VirtualMachine)[] {
  const labels = { 'app.kubernetes.io/name': 'v2v', 'app.kubernetes.io/component': 'conversion', 'v2v.kubevirt.io/vm': input.name };
  const configName = `${input.name}-v2v-job`;
  const claims = diskClaims(input.plan, input.claimNames, { namespace: input.namespace, labels });
  const vddk = input.job.source.type === 'vsphere' && input.vddkImage;
  const job: PodJob = {
    ...input.job,
    disks: claims.map((c) => ({ volumeMode: c.spec.volumeMode, claimName: c.metadata.name })),
    vddkLibDir: VDDK_LIBDIR,
  };
  const configMap: K8sObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: configName, namespace: input.namespace, labels },
    data: { 'job.yaml': stringify(job), ...input.files },
  };
  const diskMounts = claims.flatMap((c, i) => (c.spec.volumeMode === 'Filesystem' ? [{ name: `disk${i}`, mountPath: `/mnt/disks/disk${i}` }] : []));
  const diskDevices = claims.flatMap((c, i) => (c.spec.volumeMode === 'Block' ? [{ name: `disk${i}`, devicePath: `/dev/block${i}` }] : []));
  const jobObject: K8sObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: jobName(input.name), namespace: input.namespace, labels },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          // 107 is CDI's qemu user: the PVCs CDI prepares are writable by it.
          securityContext: { runAsUser: 107, runAsGroup: 107, fsGroup: 107, runAsNonRoot: true },
          // The seed's init image copies the library into its own /opt; the conversion container
          // mounts that emptyDir at /vddk, so it hides nothing of the v2v image (which lives in /opt/v2v).
          ...(vddk ? { initContainers: [{ name: 'vddk', image: input.vddkImage, volumeMounts: [{ name: 'vddk', mountPath: '/opt' }] }] } : {}),
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
                ...(vddk ? [{ name: 'vddk', mountPath: VDDK_MOUNT, readOnly: true }] : []),
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
            ...claims.map((c, i) => ({ name: `disk${i}`, persistentVolumeClaim: { claimName: c.metadata.name } })),
          ],
        },
      },
    },
  };
  return [configMap, ...claims, jobObject, input.virtualMachine];
}

export function toYamlStream(objects: object[]): string {
  return objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join('');
}
