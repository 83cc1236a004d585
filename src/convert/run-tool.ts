// Runs one external tool (virt-v2v, guestfish, qemu-img) in its own process
// group so that cancelling kills its children too (qemu, nbdkit), and keeps
// its output for the error message and the progress parser.
import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { ConversionError } from './errors.js';

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Merged stdout and stderr (the last `keepBytes`). */
  output: string;
  stdout: string;
  aborted: boolean;
}

export interface RunToolOptions {
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Called with each chunk of merged output as it arrives. */
  onOutput?: (chunk: string) => void;
  /** Written to stdin, then stdin is closed. */
  input?: string;
  /** Output kept for messages; virt-v2v -v -x can print hundreds of MB. */
  keepBytes?: number;
  /** Milliseconds between SIGTERM and SIGKILL on abort. */
  killGraceMs?: number;
}

function keepTail(text: string, max: number): string {
  return text.length > max ? text.slice(text.length - max) : text;
}

export function runTool(command: string, args: string[], options: RunToolOptions = {}): Promise<ToolResult> {
  const keep = options.keepBytes ?? 1 << 20;
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      resolve({ code: null, signal: null, output: '', stdout: '', aborted: true });
      return;
    }
    const child = spawn(command, args, {
      ...(options.env ? { env: options.env } : {}),
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    let stdout = '';
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    let pipeTimer: NodeJS.Timeout | undefined;
    const killGroup = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // The group is gone already.
      }
    };
    const onAbort = (): void => {
      aborted = true;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), options.killGraceMs ?? 5000);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const take = (isStdout: boolean) => {
      // A character split across two chunks must not become two replacement characters.
      const decoder = new StringDecoder('utf8');
      return (data: Buffer) => {
        const text = decoder.write(data);
        output = keepTail(output + text, keep);
        if (isStdout) stdout = keepTail(stdout + text, keep);
        options.onOutput?.(text);
      };
    };
    child.stdout?.on('data', take(true));
    child.stderr?.on('data', take(false));
    child.on('error', (error: NodeJS.ErrnoException) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (error.code === 'ENOENT') {
        reject(
          new ConversionError('CONVERSION_TOOL_MISSING', `${command} is not installed`, {
            hint: 'install virt-v2v, libguestfs-tools and qemu-utils (scripts/setup.sh does)',
            cause: error,
          }),
        );
      } else reject(error);
    });
    // The tool's children (qemu-nbd, nbdkit, qemu) inherit its stdout/stderr:
    // if the tool dies without stopping them they hold the pipes open and
    // 'close' never comes. So: when the tool itself exits abnormally, end the
    // rest of its group; and never wait more than a moment for the pipes.
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;
    const finish = (): void => {
      if (settled || !exited) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      clearTimeout(pipeTimer);
      if (aborted || exited.code !== 0) killGroup('SIGKILL');
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({ code: exited.code, signal: exited.signal, output, stdout, aborted });
    };
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      if (aborted || code !== 0) killGroup('SIGTERM');
      // Cleared when the pipes close first; left running it would hold a CLI's exit for 2 s.
      pipeTimer = setTimeout(finish, 2000);
    });
    child.on('close', () => finish());
    if (options.input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}
