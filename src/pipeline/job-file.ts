import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { cleartextUrlIssue, type SourceConfig } from '../config/sources.js';
import { loadYamlFile } from '../config/yaml-file.js';
import { ConfigError } from '../errors.js';
import { VmCustomizationSchema } from '../manifests/customization.js';
import { DEFAULT_VDDK_LIBDIR } from '../runtime.js';
import { DISK_TRANSPORTS } from '../source.js';
import { readMappingFile, readOsMapFile, type ConversionJob } from './job.js';

/**
 * The conversion pod's job file (`/etc/v2v/job.yaml`, SPEC §4.5). Credentials
 * are not in it: they come from the mounted Secret at /etc/secret
 * (accessKeyId = user, secretKey = password, cacert, thumbprint).
 */
export const PodJobSchema = z.strictObject({
  source: z
    .strictObject({
      name: z.string().min(1).default('source'),
      type: z.enum(['vsphere', 'ovirt']),
      url: z.url({ protocol: /^https?$/ }),
      datacenter: z.string().min(1).optional(),
      insecureSkipVerify: z.boolean().optional(),
      allowInsecureHttp: z.boolean().optional(),
    })
    .check((ctx) => {
      const cleartext = cleartextUrlIssue(ctx.value.url, ctx.value.allowInsecureHttp, ['url']);
      if (cleartext) ctx.issues.push(cleartext);
    }),
  vm: z.string().min(1).describe('VM name, id or name@cluster'),
  mapping: z.string().min(1).optional().describe('path of a ResourceMapping (e.g. a mounted ConfigMap)'),
  osMap: z.string().min(1).optional().describe("path of an OS map ConfigMap (guestos2common / osinfo2common) in the seed's format"),
  targetName: z.string().min(1).optional(),
  targetNamespace: z.string().min(1).optional(),
  nicNaming: z.enum(['eth', 'keep']).default('eth'),
  startVm: z.boolean().default(false),
  verifyBoot: z.boolean().default(false).describe('boot the converted disks and require the first NIC to come up'),
  /** Disks in source order: how each volume is attached, and the PVC the VirtualMachine boots it from. */
  disks: z.array(z.strictObject({ volumeMode: z.enum(['Filesystem', 'Block']), claimName: z.string().min(1).optional() })).optional(),
  vddkLibDir: z.string().min(1).default(DEFAULT_VDDK_LIBDIR),
  customize: VmCustomizationSchema.optional().describe("the import wizard's choices for the VirtualMachine"),
  transport: z.enum(DISK_TRANSPORTS).default('auto').describe('vSphere: vddk, datastore (no VDDK needed), or auto (VDDK when its library is there)'),
});

export type PodJob = z.output<typeof PodJobSchema>;

export interface PodPaths {
  job: string;
  secretDir: string;
  disksDir: string;
  blockPrefix: string;
  terminationLog: string;
}

export const DEFAULT_POD_PATHS: PodPaths = {
  job: '/etc/v2v/job.yaml',
  secretDir: '/etc/secret',
  disksDir: '/mnt/disks',
  blockPrefix: '/dev/block',
  terminationLog: '/dev/termination-log',
};

export async function loadPodJob(path: string): Promise<PodJob> {
  return loadYamlFile(path, PodJobSchema, 'the job file');
}

/** The source as the adapters want it, with credentials from the mounted Secret. */
export async function podSourceConfig(job: PodJob, secretDir: string): Promise<SourceConfig> {
  const file = (key: string) => join(secretDir, key);
  if (!existsSync(file('secretKey'))) {
    throw new ConfigError('SECRET_UNREADABLE', `the source password is missing: ${file('secretKey')}`, {
      hint: 'mount the provider Secret with keys accessKeyId and secretKey at /etc/secret',
    });
  }
  const username = existsSync(file('accessKeyId')) ? (await readFile(file('accessKeyId'), 'utf8')).trim() : '';
  if (!username) throw new ConfigError('SECRET_UNREADABLE', `the source user is missing: ${file('accessKeyId')}`, { hint: 'the provider Secret needs key accessKeyId' });
  const thumbprint = existsSync(file('thumbprint')) ? (await readFile(file('thumbprint'), 'utf8')).trim() : undefined;
  return {
    name: job.source.name,
    type: job.source.type,
    url: job.source.url,
    username,
    passwordFile: file('secretKey'),
    ...(existsSync(file('cacert')) ? { caFile: file('cacert') } : {}),
    ...(job.source.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
    ...(job.source.allowInsecureHttp ? { allowInsecureHttp: true } : {}),
    ...(thumbprint ? { thumbprint } : {}),
    ...(job.source.datacenter ? { datacenter: job.source.datacenter } : {}),
    baseDir: secretDir,
  };
}

/** How long the pod waits for a Block volume to appear: the kubelet attaches it. */
const BLOCK_DEVICE_WAIT_MS = 300_000;

/** The pod's job file, its mounted Secret and its volumes as the pipeline's job. */
export async function conversionJobFromPodJob(job: PodJob, paths: PodPaths): Promise<ConversionJob> {
  const source = await podSourceConfig(job, paths.secretDir);
  const mappings = job.mapping ? await readMappingFile(job.mapping, source.type) : undefined;
  return {
    source,
    vm: job.vm,
    ...(mappings ? { mappings } : {}),
    osMap: await readOsMapFile(job.osMap),
    targetDir: paths.disksDir,
    ...(job.disks ? { blockDevices: job.disks.map((d, i) => (d.volumeMode === 'Block' ? `${paths.blockPrefix}${i}` : undefined)) } : {}),
    blockDeviceWaitMs: BLOCK_DEVICE_WAIT_MS,
    manifest: {
      ...(job.targetName ? { name: job.targetName } : {}),
      ...(job.targetNamespace ? { namespace: job.targetNamespace } : {}),
      startVm: job.startVm,
      ...(job.disks?.every((d) => d.claimName) ? { claimNames: job.disks.map((d) => d.claimName!) } : {}),
      ...(job.customize ? { customize: job.customize } : {}),
    },
    nicNaming: job.nicNaming,
    guestConversion: true,
    verifyBoot: job.verifyBoot,
    transport: job.transport,
    vddk: { libraryDir: job.vddkLibDir },
  };
}
