// The child processes of one piece of work (a disk copy, an archive
// extraction, a registry source). Every helper program of the data path (xz,
// qemu-img) is adopted by an owner as it starts, and the work ends by stopping it: a
// child blocked on a pipe that nobody reads any more would otherwise keep the
// process alive for ever after its error was printed.
import type { ChildProcess } from 'node:child_process';

export class ChildProcesses {
  private readonly running = new Map<ChildProcess, Promise<void>>();
  private stopped = false;

  /** `signal`: when it aborts (SIGTERM, a stall), every child is killed at once, not when its caller next looks. */
  constructor(signal?: AbortSignal) {
    signal?.addEventListener('abort', () => this.killAll(), { once: true });
  }

  /** Takes `child`, just spawned, into this owner: `children.adopt(spawn(…))`. */
  adopt<T extends ChildProcess>(child: T): T {
    if (this.stopped) {
      child.kill('SIGKILL');
      throw new Error(`${child.spawnfile} started after its work had ended`);
    }
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      // Never started (not installed): there is nothing to wait for.
      child.once('error', () => resolve());
    });
    this.running.set(child, exited);
    void exited.then(() => this.running.delete(child));
    return child;
  }

  /** Kills every child still running and waits until each has exited. Later spawns are refused. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.killAll();
    await Promise.all(this.running.values());
  }

  private killAll(): void {
    for (const child of this.running.keys()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
