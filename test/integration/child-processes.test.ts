import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alive } from '../../src/convert/guestfish.js';
import { runTool } from '../../src/convert/run-tool.js';

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('runTool', () => {
  it('keeps the output and the exit code', async () => {
    const result = await runTool('sh', ['-c', 'echo out; echo err >&2; exit 3']);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('out\n');
    expect(result.output).toContain('err');
  });

  it('leaves no timer behind once the tool has ended, so a CLI exits as soon as its work is done', async () => {
    const before = timers();
    await runTool('true', []);
    await runTool('sh', ['-c', 'exit 1']);
    // At most as many as before: a timer of the test runner's own may end meanwhile, on a busy machine.
    expect(timers()).toBeLessThanOrEqual(before);
  });
});

describe('alive (the guestfish server, which is not our child)', () => {
  it('counts an ended process that nobody has reaped yet as ended', async () => {
    // sh starts a child that ends half a second later (after sh has become `sleep`, so sh cannot
    // reap it first), and `sleep` never waits for it: a zombie until `sleep` ends, as the
    // guestfish server is until PID 1 reaps it (never, when node is PID 1 in a pod).
    const parent = spawn('sh', ['-c', 'sleep 0.5 & echo $!; exec sleep 10'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(d.toString()))));
      const state = (): string => {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return stat[stat.lastIndexOf(')') + 2]!;
      };
      while (state() !== 'Z') await new Promise((r) => setTimeout(r, 10));
      expect(() => process.kill(pid, 0)).not.toThrow();
      expect(alive(pid)).toBe(false);
      expect(alive(parent.pid!)).toBe(true);
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('counts a pid with no process as ended', () => {
    expect(alive(2 ** 22 + 1)).toBe(false);
  });
});
