// The engine alone, as the conversion pod and the batch runner call it:
// `node dist/test/bench/runners/copy-engine.js SOURCE TARGET [block]`. Prints the result as JSON.
// Only the modules a copy needs are loaded (no CLI, no undici for local files).
import { copyDisk } from '../../../src/copy/engine.js';
import { openLocalFile } from '../../../src/copy/local-file.js';

process.env['UV_THREADPOOL_SIZE'] ??= '16';
const [source, target, mode] = process.argv.slice(2);
if (!source || !target) {
  process.stderr.write('usage: copy-runner SOURCE TARGET [block]\n');
  process.exit(2);
}
const src = /^https?:\/\//.test(source) ? await (await import('../../../adapters/http/index.js')).openHttpSource({ url: source }) : await openLocalFile(source);
const result = await copyDisk({
  source: src,
  target: mode === 'block' ? { kind: 'block', device: target, stateDir: '/tmp/v2v-bench-state' } : { kind: 'filesystem', dir: target },
});
process.stdout.write(JSON.stringify(result) + '\n');
