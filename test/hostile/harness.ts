// Runs one hostile case as a user would (the built CLI in a child process)
// and holds the invariants every bad input must keep, whatever its code:
// the named error and exit code, no secret in any output or target file, no
// file written outside the target, no complete marker after a failure, no
// child process left behind, and an end within the deadline.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, openSync, readSync, closeSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startCli } from '../helpers/cli.js';

export interface HostileContext {
  /** The case's own directory; inputs go in `inputs`. */
  root: string;
  inputs: string;
  /** The only place the run may write (besides `mayWrite`). */
  target: string;
  /** A value no output, log or target file may contain. It is also the content of `secretPath`. */
  secret: string;
  secretPath: string;
  /** Runs after the case, whatever happened (servers, peers). */
  defer(cleanup: () => unknown): void;
}

export interface HostileRun {
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Sends `signal` (SIGTERM by default) once the output first matches `output`. */
  signalWhen?: { output: RegExp; signal?: NodeJS.Signals };
  /** Other places the run may write (a state file's directory, an output directory). */
  mayWrite?: string[];
}

export interface CaseResult {
  exit: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** When `signalWhen` sent its signal, in ms from the start (absent when none was sent). */
  signalledAtMs?: number;
}

export interface HostileCase {
  /** Stable, unique: `area.what`. */
  id: string;
  /** Which item of the security and robustness issue it holds ("1" … "11"). */
  item: string;
  /** What a hostile or careless user does. */
  what: string;
  setup(ctx: HostileContext): Promise<HostileRun> | HostileRun;
  expect: {
    /** The stable error code printed as `error CODE`; undefined for a run that must succeed (e.g. with a warning). */
    code?: string;
    exit: number;
    /** Further text stderr must hold (the hint, the file named, …). */
    stderr?: RegExp;
    /** How long the whole run may take; 60 s unless said. */
    deadlineMs?: number;
    /** More the case checks of the result. */
    check?(result: CaseResult, ctx: HostileContext): void | Promise<void>;
  };
}

const MARKER = '.v2v-complete.json';

/** Every path under `dir` (files, links, directories), relative to it; links are not followed. */
function listTree(dir: string, skip: Set<string>): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const name of entries) {
      const path = join(d, name);
      if (skip.has(path)) continue;
      out.push(relative(dir, path));
      if (lstatSync(path).isDirectory()) walk(path);
    }
  };
  walk(dir);
  return out.sort();
}

/** Whether the regular file at `path` holds `needle`, read in chunks (targets may be sparse disks). */
function fileContains(path: string, needle: Buffer): boolean {
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.alloc(4 << 20);
    let carry = Buffer.alloc(0);
    for (let pos = 0; ;) {
      const n = readSync(fd, chunk, 0, chunk.length, pos);
      if (n === 0) return false;
      const window = Buffer.concat([carry, chunk.subarray(0, n)]);
      if (window.includes(needle)) return true;
      carry = window.subarray(Math.max(0, window.length - needle.length + 1));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** Pids of live processes whose environment carries `mark` (the run's descendants, reparented or not). */
function processesMarked(mark: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`).includes(mark)) pids.push(Number(entry));
    } catch {
      // gone already, or not ours to read
    }
  }
  return pids;
}

/**
 * Runs `c` and returns what was broken (empty when every invariant holds).
 * The case's own `check` runs too; its assertion errors are reported.
 */
export async function runHostileCase(c: HostileCase): Promise<{ problems: string[]; result: CaseResult }> {
  const root = mkdtempSync(join(tmpdir(), `v2v-hostile-${c.id.replace(/[^\w.-]/g, '_')}-`));
  const inputs = join(root, 'inputs');
  // Nested, so that a write that climbs out of the target by up to three levels still lands where the listing sees it.
  const target = join(root, 'outer', 'inner', 'target');
  const tmp = join(root, 'tmp');
  for (const d of [inputs, target, tmp]) mkdirSync(d, { recursive: true });
  const secret = `hostile-secret-${randomUUID()}`;
  const secretPath = join(root, 'secret.txt');
  writeFileSync(secretPath, `${secret}\n`);
  const cleanups: (() => unknown)[] = [];
  const ctx: HostileContext = { root, inputs, target, secret, secretPath, defer: (f) => cleanups.push(f) };
  const problems: string[] = [];
  const mark = `V2V_HOSTILE_RUN=${randomUUID()}`;
  let result: CaseResult | undefined;
  try {
    const run = await c.setup(ctx);
    const allowed = new Set([target, tmp, ...(run.mayWrite ?? [])]);
    const before = listTree(root, allowed);
    const deadline = c.expect.deadlineMs ?? 60_000;
    const started = Date.now();
    const [markName, markValue] = mark.split('=') as [string, string];
    const cli = startCli(run.args, { env: { TMPDIR: tmp, NO_COLOR: '1', ...run.env, [markName]: markValue } });
    let signalled = false;
    let signalledAtMs: number | undefined;
    const watch = run.signalWhen
      ? setInterval(() => {
          if (!signalled && run.signalWhen!.output.test(cli.stdout() + cli.stderr())) {
            signalled = true;
            signalledAtMs = Date.now() - started;
            cli.child.kill(run.signalWhen!.signal ?? 'SIGTERM');
          }
        }, 50)
      : undefined;
    const timer = setTimeout(() => {
      problems.push(`did not end within ${deadline} ms`);
      cli.child.kill('SIGKILL');
    }, deadline);
    const exit = await cli.closed;
    clearTimeout(timer);
    if (watch) clearInterval(watch);
    result = {
      exit: exit.code,
      signal: exit.signal,
      stdout: cli.stdout(),
      stderr: cli.stderr(),
      ms: Date.now() - started,
      ...(signalledAtMs !== undefined ? { signalledAtMs } : {}),
    };
    if (run.signalWhen && !signalled) problems.push(`the output never matched ${run.signalWhen.output}, so no signal was sent`);

    if (result.exit !== c.expect.exit) problems.push(`exit ${result.exit ?? result.signal}, expected ${c.expect.exit}`);
    if (c.expect.code && !result.stderr.includes(`error ${c.expect.code}`)) problems.push(`stderr lacks "error ${c.expect.code}"`);
    if (c.expect.stderr && !c.expect.stderr.test(result.stderr)) problems.push(`stderr does not match ${c.expect.stderr}`);
    if (/\n\s+at .+\(.+:\d+:\d+\)|Unhandled '?error'? event|\bINTERNAL\b/.test(result.stderr)) problems.push('stderr holds a stack trace or INTERNAL');
    if (result.stdout.includes(secret) || result.stderr.includes(secret)) problems.push('the secret appears in the output');

    // Descendants get a moment to be reaped; anything still alive was left behind.
    let left: number[] = [];
    for (let i = 0; i < 20 && (left = processesMarked(mark)).length; i++) await new Promise((r) => setTimeout(r, 100));
    if (left.length) {
      problems.push(`child processes left behind: ${left.map((p) => readFileSafe(`/proc/${p}/cmdline`).replace(/\0/g, ' ').trim() || p).join('; ')}`);
      for (const pid of left) tryKill(pid);
    }

    const after = listTree(root, allowed);
    const created = after.filter((p) => !before.includes(p));
    if (created.length) problems.push(`files written outside the target: ${created.join(', ')}`);
    const needle = Buffer.from(secret);
    for (const dir of allowed) {
      for (const rel of listTree(dir, new Set())) {
        const path = join(dir, rel);
        if (lstatSync(path).isFile() && fileContains(path, needle)) problems.push(`the secret was written to ${path}`);
        if (c.expect.exit !== 0 && rel.endsWith(MARKER)) problems.push(`a complete marker exists after a failure: ${path}`);
      }
    }
    const leftovers = listTree(tmp, new Set());
    if (leftovers.length) problems.push(`temporary files left behind: ${leftovers.join(', ')}`);

    if (c.expect.check) {
      try {
        await c.expect.check(result, ctx);
      } catch (error) {
        problems.push(`check: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // a cleanup failure must not hide the case's result
      }
    }
    rmSync(root, { recursive: true, force: true });
  }
  return { problems, result: result ?? { exit: null, signal: null, stdout: '', stderr: '', ms: 0 } };
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Size in bytes of a file, or -1 when it does not exist. */
export function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
}
