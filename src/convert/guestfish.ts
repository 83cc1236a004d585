// One libguestfs appliance, many commands: a `guestfish --listen` server
// driven with `guestfish --remote`. Each appliance launch costs 10–20 s under
// TCG, so reading the guest's files, planning in TypeScript and writing the
// edits all happen in this single launch.
import { runTool } from './run-tool.js';
import { ConversionError } from './errors.js';

export interface GuestfishDrive {
  path: string;
  format: 'raw' | 'qcow2';
  readonly?: boolean;
}

export class GuestfishSession {
  private closed = false;
  private constructor(
    readonly pid: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Starts the server, adds the drives and launches the appliance. */
  static async start(drives: GuestfishDrive[], env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<GuestfishSession> {
    const started = await runTool('guestfish', ['--listen'], { env, ...(signal ? { signal } : {}) });
    const pid = /GUESTFISH_PID=(\d+)/.exec(started.stdout)?.[1];
    if (started.code !== 0 || !pid) {
      throw new ConversionError('NIC_RENAME_FAILED', `guestfish --listen failed: ${started.output.trim()}`);
    }
    const session = new GuestfishSession(Number(pid), env);
    const onAbort = (): void => session.kill();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (const drive of drives) {
        await session.run(drive.readonly ? 'add-ro' : 'add', drive.path, `format:${drive.format}`);
      }
      await session.run('run');
    } catch (error) {
      session.kill();
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return session;
  }

  /** Runs one command; its stdout, or a NIC_RENAME_FAILED with guestfish's message. */
  async run(...command: string[]): Promise<string> {
    if (this.closed) throw new Error('guestfish session is closed');
    const result = await runTool('guestfish', [`--remote=${this.pid}`, '--', ...command], { env: this.env });
    if (result.code !== 0) {
      throw new ConversionError('NIC_RENAME_FAILED', `guestfish ${command[0]} failed: ${result.output.trim() || `exit ${String(result.code)}`}`, {
        details: { command },
      });
    }
    return result.stdout;
  }

  /** Lines of a command's output, empty lines dropped. */
  async lines(...command: string[]): Promise<string[]> {
    return (await this.run(...command)).split('\n').filter((l) => l.length > 0);
  }

  /** Syncs and unmounts, then stops the appliance. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.run('umount-all');
      await this.run('sync');
      await this.run('exit');
    } finally {
      this.closed = true;
      // `exit` makes the server shut qemu down; wait for it so the disks are released.
      await waitForExit(this.pid, 60_000);
    }
  }

  /** Stops the server at once (cancellation, errors). */
  kill(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      process.kill(this.pid, 'SIGTERM');
    } catch {
      // gone already
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

