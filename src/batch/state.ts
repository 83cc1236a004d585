import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../atomic-file.js';
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
  error?: { code: string; message: string };
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

  static async load(path: string, planHash: string): Promise<StateStore> {
    let state: BatchState | undefined;
    try {
      const parsed = JSON.parse(await readFile(path, 'utf8')) as BatchState;
      if (parsed.version === 1 && parsed.planHash === planHash) state = parsed;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    return new StateStore(path, state ?? { version: 1, planHash, vms: {} });
  }

  vm(key: string): VmState {
    return (this.state.vms[key] ??= emptyVmState());
  }

  /** Applies a change and persists it; changes are written in order. */
  update(key: string, change: (vm: VmState) => void): Promise<void> {
    change(this.vm(key));
    const snapshot = JSON.stringify(this.state, null, 2);
    this.chain = this.chain.then(() => writeFileAtomic(this.path, snapshot));
    return this.chain;
  }

  flush(): Promise<void> {
    return this.chain;
  }
}
