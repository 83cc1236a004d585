// The data path's child processes (xz, qemu-img) end with the work that
// started them: stop() kills and waits, an abort kills at once, and no module
// of the data path starts a process without an owner.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ChildProcesses } from '../../src/copy/children.js';
import { REPO } from '../helpers/peers.js';

const ended = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

describe('ChildProcesses', () => {
  it('stop() kills a child blocked on a full pipe and returns once it has exited', async () => {
    const children = new ChildProcesses();
    // `yes` blocks on its stdout as soon as nobody reads: xz behind a consumer that stopped.
    const child = children.adopt(spawn('yes', [], { stdio: ['ignore', 'pipe', 'ignore'] }));
    await new Promise((r) => setTimeout(r, 100));
    await children.stop();
    expect(child.signalCode).toBe('SIGKILL');
    expect(ended(child.pid!)).toBe(true);
  });

  it('an abort of its signal kills the children at once', async () => {
    const stop = new AbortController();
    const children = new ChildProcesses(stop.signal);
    const child = children.adopt(spawn('sleep', ['30'], { stdio: 'ignore' }));
    const exited = new Promise((r) => child.once('exit', r));
    stop.abort();
    await exited;
    expect(child.signalCode).toBe('SIGKILL');
  });

  it('refuses (and kills) a child adopted after the work ended, and waits for none that never started', async () => {
    const children = new ChildProcesses();
    const missing = children.adopt(spawn('/nonexistent/xz', [], { stdio: 'ignore' }));
    missing.on('error', () => undefined);
    await children.stop();
    const late = spawn('sleep', ['30'], { stdio: 'ignore' });
    expect(() => children.adopt(late)).toThrow(/after its work had ended/);
    await new Promise((r) => late.once('exit', r));
  });

  it('owns every process the data path starts', () => {
    const dirs = ['src/copy', 'adapters/http', 'adapters/registry', 'adapters/upload'];
    for (const dir of dirs) {
      for (const name of readdirSync(`${REPO}${dir}`).filter((n) => n.endsWith('.ts'))) {
        const text = readFileSync(`${REPO}${dir}/${name}`, 'utf8');
        const spawns = text.match(/(?<![.\w])(spawn|exec|execFile|fork)(Sync)?\(/g) ?? [];
        const adopted = text.match(/\.adopt\(spawn\(/g) ?? [];
        expect(spawns.length, `${dir}/${name}: every child is adopt(spawn(…))ed`).toBe(adopted.length);
      }
    }
  });
});
