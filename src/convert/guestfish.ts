// One libguestfs appliance, many commands: a `guestfish --listen` server
// driven with `guestfish --remote`. Each appliance launch costs 10–20 s under
// TCG, so reading the guest's files, planning in TypeScript and writing the
// edits all happen in this single launch.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    /** The server's stderr goes here: remote commands report their errors there, not to the client. */
    private readonly logDir: string,
  ) {}

  private async serverErrors(): Promise<string> {
    try {
      return (await readFile(join(this.logDir, 'server.log'), 'utf8')).trim().split('\n').slice(-5).join('\n');
    } catch {
      return '';
    }
  }

  /**
   * Starts the server, adds the drives and launches the appliance.
   * `background`: at a lower CPU priority, so that it slows down a virt-v2v running beside it less.
   */
  static async start(drives: GuestfishDrive[], env: NodeJS.ProcessEnv, signal?: AbortSignal, options: { background?: boolean } = {}): Promise<GuestfishSession> {
    const logDir = await mkdtemp(join(tmpdir(), 'v2v-guestfish-'));
    const log = join(logDir, 'server.log');
    let pid: number;
    try {
      pid = await startServer(env, log, options.background ?? false);
    } catch (error) {
      await rm(logDir, { recursive: true, force: true });
      throw error;
    }
    const session = new GuestfishSession(pid, env, logDir);
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
      const why = result.output.trim() || (await this.serverErrors()) || `exit ${String(result.code)}`;
      // A failed command ends the server (guestfish's exit-on-error): the session is over.
      if (!alive(this.pid)) {
        this.closed = true;
        await rm(this.logDir, { recursive: true, force: true });
      }
      throw new ConversionError('NIC_RENAME_FAILED', `guestfish ${command.join(' ')} failed: ${why}`, {
        details: { command },
      });
    }
    return result.stdout;
  }

  /**
   * Several commands through one client (each client costs ~70 ms to start);
   * their outputs concatenated in order.
   */
  async batch(commands: string[][]): Promise<string> {
    if (commands.length === 0) return '';
    if (this.closed) throw new Error('guestfish session is closed');
    const script = `${commands.map((c) => c.map(quoteArg).join(' ')).join('\n')}\n`;
    // Files read with pread come back on stdout: keep all of it.
    const result = await runTool('guestfish', [`--remote=${this.pid}`], { env: this.env, input: script, keepBytes: 64 << 20 });
    if (result.code !== 0) {
      const why = result.output.trim() || (await this.serverErrors()) || `exit ${String(result.code)}`;
      if (!alive(this.pid)) {
        this.closed = true;
        await rm(this.logDir, { recursive: true, force: true });
      }
      throw new ConversionError('NIC_RENAME_FAILED', `guestfish batch of ${commands.length} command(s) (${commands.map((c) => c[0]).join(', ')}) failed: ${why}`, {
        details: { commands },
      });
    }
    return result.stdout;
  }

  /** Lines of a command's output, empty lines dropped. */
  async lines(...command: string[]): Promise<string[]> {
    return (await this.run(...command)).split('\n').filter((l) => l.length > 0);
  }

  /** Unmounts and syncs, then stops the appliance. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      // With the filesystems unmounted and synced every write has reached qemu,
      // which flushes its images when libguestfs stops it with SIGTERM. The
      // handle's own autosync would only repeat this, waiting for udev under
      // TCG (1.3 s), so it is turned off.
      await this.batch([['umount-all'], ['sync'], ['set-autosync', 'false'], ['exit']]);
    } finally {
      this.closed = true;
      // `exit` makes the server shut qemu down; wait for it so the disks are released.
      await waitForExit(this.pid, 60_000);
      await rm(this.logDir, { recursive: true, force: true });
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
    void waitForExit(this.pid, 10_000).then(() => rm(this.logDir, { recursive: true, force: true }));
  }
}

/**
 * `guestfish --listen` forks a server that keeps the parent's stdio open, so
 * waiting for the streams to close would wait for the server to exit: read
 * the PID line and stop listening once the parent has exited.
 */
function startServer(env: NodeJS.ProcessEnv, log: string, background: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const logFd = openSync(log, 'a');
    const [command, ...args] = background ? ['nice', '-n', '10', 'guestfish', '--listen'] : ['guestfish', '--listen'];
    const child = spawn(command!, args, { env, stdio: ['ignore', 'pipe', logFd] });
    closeSync(logFd);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (error) => reject(new ConversionError('CONVERSION_TOOL_MISSING', `guestfish could not start: ${error.message}`, { cause: error })));
    child.on('exit', (code) => {
      // Give the pipe a moment to deliver what the parent printed before it exited.
      setTimeout(() => {
        child.stdout?.destroy();
        const pid = /GUESTFISH_PID=(\d+)/.exec(out)?.[1];
        if (code === 0 && pid) resolve(Number(pid));
        else {
          let errors = '';
          try {
            errors = readFileSync(log, 'utf8').trim();
          } catch {
            // no log
          }
          reject(new ConversionError('NIC_RENAME_FAILED', `guestfish --listen failed (exit ${String(code)}): ${errors || out.trim()}`));
        }
      }, 50);
    });
  });
}

/**
 * guestfish's own quoting for commands read from stdin: anything but plain
 * printable ASCII as \xHH escapes, so that a whole file's content (newlines,
 * UTF-8) travels as one argument. guestfish cannot take a NUL byte.
 */
export function quoteArg(arg: string): string {
  if (/^[-A-Za-z0-9_/.:,=+@]+$/.test(arg)) return arg;
  let quoted = '"';
  for (const byte of Buffer.from(arg, 'utf8')) {
    if (byte === 0) throw new ConversionError('NIC_RENAME_FAILED', 'a guestfish argument cannot hold a NUL byte');
    const plain = byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c;
    quoted += plain ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `${quoted}"`;
}

/**
 * Whether the server still runs. It is not our child (guestfish forks it and
 * exits), so once it ends it is a zombie until PID 1 reaps it: a second or so
 * here, and never when `node` itself is PID 1 in a container. A zombie holds
 * no files and no disks, so it counts as ended.
 */
export function alive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // "pid (comm) S …": comm may hold spaces and parentheses, the state follows the last ')'.
  return stat[stat.lastIndexOf(')') + 2] !== 'Z';
}

async function waitForExit(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  try {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  } catch {
    // ended in between
  }
}
