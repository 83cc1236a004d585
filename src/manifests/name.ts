import { ConfigError } from '../errors.js';

/** Kubernetes object names for VMs: an RFC 1123 label, at most 63 characters. */
export const MAX_NAME = 63;

export interface KubeName {
  name: string;
  /** Set when the name had to change, saying how. */
  warning?: string;
}

/**
 * Lower-cases, turns every run of other characters into one "-", trims "-" at
 * both ends and cuts to 63 characters. An empty result falls back to `fallback`.
 */
export function toKubeName(source: string, fallback = 'vm', maxLength = MAX_NAME): KubeName {
  let name = source
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
  name = name.slice(0, maxLength).replace(/-+$/, '');
  if (name === '') name = fallback;
  return name === source ? { name } : { name, warning: `the name "${source}" is not an RFC 1123 label of at most ${maxLength} characters; the VM is named "${name}"` };
}

/** The PVC that holds disk `index` of VM `vmName`: what the conversion Job fills and the VirtualMachine boots. */
export function diskClaimName(vmName: string, index: number): string {
  return `${vmName}-disk${index}`;
}

const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/**
 * A target name the user chose is used as written or refused, as
 * vm-import-operator refuses an invalid targetVmName; only a name taken from
 * the source is made valid (toKubeName).
 */
export function requireKubeName(name: string): string {
  if (name.length <= MAX_NAME && LABEL.test(name)) return name;
  throw new ConfigError('TARGET_NAME_INVALID', `the target VM name "${name}" is not an RFC 1123 label of at most ${MAX_NAME} characters`, {
    hint: `use lower-case letters, digits and "-", starting and ending with a letter or digit (for example "${toKubeName(name).name}")`,
    details: { name },
  });
}
