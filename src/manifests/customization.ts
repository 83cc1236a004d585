// What the seed's import wizard lets a user say about the VM it creates, as
// one schema every front end shares: `convert --customize FILE`, a batch
// plan's `customize` (per VM or in defaults) and the pod job file's
// `customize`. buildVirtualMachine applies it.
import { z } from 'zod';

/** The common templates' sizes for the wizard's flavors (custom: the user's or the source's). */
export const FLAVOR_SIZES = {
  tiny: { cores: 1, memoryMiB: 1024 },
  small: { cores: 1, memoryMiB: 2048 },
  medium: { cores: 1, memoryMiB: 4096 },
  large: { cores: 2, memoryMiB: 8192 },
} as const;

const Quantity = z.string().regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|K|M|G|T)?$/, 'a Kubernetes quantity such as 8Gi');

export const VmCustomizationSchema = z.strictObject({
  description: z.string().optional().describe('the VirtualMachine description annotation'),
  os: z.string().min(1).optional().describe('operating system override: the template OS (osinfo id, e.g. rhel8.4)'),
  flavor: z
    .enum(['tiny', 'small', 'medium', 'large', 'custom'])
    .optional()
    .describe('sizes the VM as the common template flavor does; custom keeps the source size unless cpu/memory say otherwise'),
  cpu: z.strictObject({ sockets: z.int().min(1).max(64).optional(), cores: z.int().min(1).max(256).optional(), threads: z.int().min(1).max(8).optional() }).optional(),
  memory: Quantity.optional().describe('guest memory, e.g. 8Gi'),
  workload: z.enum(['desktop', 'server', 'highperformance']).optional(),
  instancetype: z.string().min(1).optional().describe('a VirtualMachineClusterInstancetype: the VM takes CPU and memory from it'),
  preference: z.string().min(1).optional().describe('a VirtualMachineClusterPreference'),
  cloudInit: z
    .strictObject({
      hostname: z.string().min(1).optional(),
      sshAuthorizedKeys: z.array(z.string().min(1)).optional(),
      script: z.string().min(1).optional().describe('a custom script run once at first boot (runcmd)'),
    })
    .optional(),
  cdroms: z
    .array(z.strictObject({ name: z.string().min(1).optional(), claimName: z.string().min(1), bootSource: z.boolean().default(false).describe('boot from this CD-ROM first') }))
    .optional(),
  nics: z
    .array(
      z.strictObject({
        index: z.int().min(0).describe('the NIC in source order'),
        name: z.string().min(1).optional(),
        model: z.enum(['virtio', 'e1000e', 'e1000', 'rtl8139']).optional(),
        type: z.enum(['masquerade', 'bridge', 'sriov']).optional(),
        macAddress: z
          .string()
          .regex(/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/)
          .optional(),
      }),
    )
    .optional(),
  disks: z
    .array(
      z.strictObject({
        index: z.int().min(0).describe('the disk in source order'),
        name: z.string().min(1).optional(),
        size: Quantity.optional().describe('the claim size; grow only: at least the source disk'),
        bus: z.enum(['virtio', 'sata', 'scsi']).optional(),
        storageClass: z.string().min(1).optional(),
        volumeMode: z.enum(['Filesystem', 'Block']).optional(),
        accessMode: z.enum(['ReadWriteOnce', 'ReadWriteMany', 'ReadOnlyMany']).optional(),
      }),
    )
    .optional(),
});

export type VmCustomization = z.output<typeof VmCustomizationSchema>;

const UNITS: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** Bytes of a Kubernetes quantity the schema accepted. */
export function quantityBytes(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(\w*)$/.exec(quantity)!;
  return Math.ceil(Number(m[1]) * UNITS[m[2]!]!);
}

/** Defaults first, then the VM's own fields over them (lists are replaced, not merged). */
export function mergeCustomization(defaults: VmCustomization | undefined, own: VmCustomization | undefined): VmCustomization | undefined {
  if (!defaults) return own;
  if (!own) return defaults;
  return {
    ...defaults,
    ...own,
    ...(defaults.cpu || own.cpu ? { cpu: { ...defaults.cpu, ...own.cpu } } : {}),
    ...(defaults.cloudInit || own.cloudInit ? { cloudInit: { ...defaults.cloudInit, ...own.cloudInit } } : {}),
  };
}
