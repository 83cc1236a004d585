// How a failed command reads on stderr: once, as `error CODE` and its hint, on
// a terminal; the same lines after a JSON log event when stderr is a pipe.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

function stream(isTTY: boolean): { stream: Writable; text(): string } {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream: Object.assign(out, { isTTY }), text: () => text };
}

const failing = ['node', 'v2v', 'import', '--target', '/nonexistent'];
const printed = 'error USAGE: give exactly one of --url URL, -f DATAVOLUME.yaml, --upload\n  hint: v2v import --url https://host/disk.qcow2 --target DIR --size 10Gi\n';

describe('an error on stderr', () => {
  it('on a terminal is printed once, readably, with no log line carrying it as JSON', async () => {
    const stderr = stream(true);
    expect(await main(failing, { stdout: stream(true).stream, stderr: stderr.stream })).toBe(2);
    expect(stderr.text()).toBe(printed);
  });

  it('into a pipe is one JSON log event for machines, then the same lines', async () => {
    const stderr = stream(false);
    expect(await main(failing, { stdout: stream(false).stream, stderr: stderr.stream })).toBe(2);
    const [event, ...rest] = stderr.text().split('\n');
    expect(JSON.parse(event!)).toMatchObject({ level: 50, code: 'USAGE', err: { code: 'USAGE', hint: expect.any(String) } });
    expect(rest.join('\n')).toBe(printed);
  });
});
