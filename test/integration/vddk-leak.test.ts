import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fakeVddkDir } from '../helpers/fake-vddk.js';
import { REPO } from '../helpers/peers.js';

// A child process (built code, --expose-gc) so RSS holds nothing but these
// cycles and is read after full collections, not at the GC's whim.
describe('VDDK handles and memory over many cycles', () => {
  it('keeps RSS flat over 1,000 connect/open/read/extents/close cycles (both io modes)', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', `${REPO}dist/test/helpers/vddk-cycles.js`, fakeVddkDir(), '1000'], { timeout: 240_000 }).toString();
    const { start, middle, end } = JSON.parse(out.trim().split('\n').pop()!) as { start: number; middle: number; end: number };
    console.log(`VDDK 1,000 cycles after 300 warm-up: RSS ${start.toFixed(1)} → ${middle.toFixed(1)} → ${end.toFixed(1)} MiB`);
    // A read buffer (2 MiB) or a connection/handle with its buffers leaked per cycle would add ≥ 500 × that per half;
    // small per-cycle leaks (a few bytes) are below what RSS can show.
    expect(end - start).toBeLessThan(16);
    expect(end - middle).toBeLessThan(8);
  }, 300_000);
});
