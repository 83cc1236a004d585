import { constants } from 'node:fs';
import { access, lstat, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';

/**
 * Refuses, before any source is read, a directory the run could not write: the path (or the first
 * of its parents that exists) is a file, a dangling link to a volume that is not there, or on a
 * read-only file system. Nothing is created; the run makes the directory when it writes.
 * `what` names the path for the user: `--target /data/web`.
 */
export async function checkWritableDir(path: string, what: string): Promise<void> {
  const target = resolve(path);
  let existing = target;
  for (;;) {
    const found = await stat(existing).catch((e: NodeJS.ErrnoException) => e);
    if (!(found instanceof Error)) {
      if (found.isDirectory()) break;
      throw new UsageError('TARGET_INVALID', existing === target ? `${what} is a file, not a directory` : `${what}: ${existing} is a file, not a directory`, {
        hint: 'name a directory (it is created if it does not exist)',
      });
    }
    if (found.code === 'ENOTDIR') throw new UsageError('TARGET_INVALID', `${what}: a part of the path is a file, not a directory`, { hint: 'name a directory' });
    if (found.code !== 'ENOENT') throw new UsageError('TARGET_INVALID', `${what} cannot be used: ${found.code ?? found.message}`, { hint: 'name a directory you can write' });
    if (await isLink(existing))
      throw new UsageError('TARGET_INVALID', `${what}: ${existing} is a link to something that does not exist`, {
        hint: 'mount the volume it points to, or name another directory',
      });
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  try {
    await access(existing, constants.W_OK);
  } catch (e) {
    const readOnly = (e as NodeJS.ErrnoException).code === 'EROFS';
    throw new UsageError('TARGET_NOT_WRITABLE', `${what}: ${existing} ${readOnly ? 'is on a read-only file system' : 'may not be written'}`, {
      hint: readOnly ? 'mount the target volume read-write, or name a directory on another file system' : 'name a directory you can write',
    });
  }
}

async function isLink(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Refuses a run that would write two VMs to one file: the second would silently replace the first. */
export function refuseSharedOutputs(outputs: readonly { vm: string; file: string }[], flag: string): void {
  const first = new Map<string, string>();
  for (const { vm, file } of outputs) {
    const other = first.get(file);
    if (other !== undefined)
      throw new UsageError('TARGET_NAME_CONFLICT', `${flag}: ${other} and ${vm} would both be written to ${file}`, {
        hint: 'give one of them another target name (targetName in a batch plan, targetVmName in a VirtualMachineImport), or plan them separately',
      });
    first.set(file, vm);
  }
}
