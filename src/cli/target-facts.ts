import type { TargetFacts } from '../checks/types.js';
import { UsageError } from '../errors.js';

const UNITS: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };

/** A Kubernetes-style size: `500Gi`, `1.5Ti`, `10G`, or plain bytes. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/.exec(text.trim());
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * UNITS[m[2] ?? '']!);
}

/**
 * `--target-storage-class NAME[=FREE]`, repeatable: the storage classes the
 * target has (a mapping to any other is a concern) and, where given, their free
 * space (a VM whose disks do not fit is a concern).
 */
export function parseTargetStorageClasses(specs: string[] | undefined): TargetFacts | undefined {
  if (!specs?.length) return undefined;
  const facts: TargetFacts = { storageClasses: [], freeBytes: {} };
  for (const spec of specs) {
    const [name, free] = spec.split('=', 2) as [string, string | undefined];
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name))
      throw new UsageError('USAGE', `--target-storage-class ${spec}: "${name}" is not a storage class name`, { hint: 'NAME or NAME=FREE, e.g. standard=500Gi' });
    facts.storageClasses!.push(name);
    if (free !== undefined) {
      const bytes = parseSize(free);
      if (bytes === undefined) throw new UsageError('USAGE', `--target-storage-class ${spec}: "${free}" is not a size`, { hint: 'a size like 500Gi, 2Ti or 1000000000' });
      facts.freeBytes![name] = bytes;
    }
  }
  return facts;
}
