import { describe, expect, it } from 'vitest';
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
    expect(timers()).toBe(before);
  });
});
