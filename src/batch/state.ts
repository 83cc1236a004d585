import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../atomic-file.js';
import { ConfigError } from '../errors.js';
import type { Concern } from '../model.js';

export type VmPhase = 'pending' | 'blocked' | 'copying' | 'converting' | 'succeeded' | 'failed';

export interface VmState {
  phase: VmPhase;
  /** vm-import-operator's progress value (0–100) at the last phase change. */
  progress?: number;
  /** Disks whose copy finished (by index): a resumed run does not copy them again. */
  disksDone: number[];
  bytesCopied: number;
  concerns: Concern[];
  warnings?: string[];
  /** The error of the last attempt that failed; kept until an attempt succeeds. */
  error?: { code: string; message: string };
  /** Runs that started work on this VM (a failed check counts; a blocked VM is not attempted). */
  attempts?: number;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
}

export interface BatchState {
  version: 1;
  /** Hash of the plan the state belongs to; a different plan does not reuse it. */
  planHash: string;
  vms: Record<string, VmState>;
}

export function emptyVmState(): VmState {
  return { phase: 'pending', disksDone: [], bytesCopied: 0, concerns: [] };
}

// What a state file must hold to be resumed from; anything else is refused, not guessed at.
const StateFileSchema = z.object({
  version: z.literal(1),
  planHash: z.string(),
  vms: z.record(
    z.string(),
    z.looseObject({
      phase: z.enum(['pending', 'blocked', 'copying', 'converting', 'succeeded', 'failed']),
      disksDone: z.array(z.int().nonnegative()),
      bytesCopied: z.number().nonnegative(),
      concerns: z.array(z.looseObject({ id: z.string(), category: z.enum(['Critical', 'Warning', 'Information']), label: z.string(), assessment: z.string(), hint: z.string() })),
      attempts: z.int().nonnegative().optional(),
    }),
  ),
});

function unusablePath(path: string, cause: unknown): ConfigError {
  const code = (cause as NodeJS.ErrnoException).code;
  const why =
    code === 'EISDIR'
      ? 'is a directory'
      : code === 'ENOENT'
        ? `is in a directory that does not exist (${dirname(path)})`
        : code === 'ENOTDIR'
          ? 'is under a path that is not a directory'
          : code === 'EROFS'
            ? 'is on a read-only file system'
            : code === 'EACCES' || code === 'EPERM'
              ? 'may not be written'
              : `cannot be written (${code ?? String(cause)})`;
  return new ConfigError('STATE_PATH_INVALID', `the state file ${path} ${why}`, {
    hint: 'name a file in a writable directory that exists, e.g. --state ./batch.state.json',
    cause,
  });
}

/**
 * The batch state file: read once at start, then rewritten atomically after
 * every change, one write at a time.
 */
export class StateStore {
  private chain: Promise<void> = Promise.resolve();
  private constructor(
    readonly path: string,
    readonly state: BatchState,
  ) {}

  /**
   * Reads the state of an earlier run of the same plan, and writes it back at once, so a path that
   * cannot hold it fails now, named, before any VM is touched.
   */
  static async load(path: string, planHash: string): Promise<StateStore> {
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw unusablePath(path, e);
    }
    const earlier = text === undefined ? undefined : parseState(path, text);
    const store = new StateStore(path, earlier?.planHash === planHash ? earlier : { version: 1, planHash, vms: {} });
    await writeFileAtomic(path, store.snapshot()).catch((e: unknown) => {
      throw unusablePath(path, e);
    });
    return store;
  }

  private snapshot(): string {
    return JSON.stringify(this.state, null, 2);
  }

  vm(key: string): VmState {
    return (this.state.vms[key] ??= emptyVmState());
  }

  /** Applies a change and persists it; changes are written in order. */
  update(key: string, change: (vm: VmState) => void): Promise<void> {
    change(this.vm(key));
    const snapshot = this.snapshot();
    this.chain = this.chain.then(() => writeFileAtomic(this.path, snapshot));
    return this.chain;
  }

  flush(): Promise<void> {
    return this.chain;
  }
}

function parseState(path: string, text: string): BatchState {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = StateFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError('STATE_INVALID', `the state file ${path} is not a v2v batch state (${json === undefined ? 'not JSON' : parsed.error.issues[0]!.message})`, {
      hint: 'restore it, or move it away to start the batch over (finished VMs are then converted again)',
    });
  }
  return parsed.data as BatchState;
}
