// `npm run bench -- copy [--dir DIR] [--runs N] [--keep]`: a 4 GiB raw disk with 1 GiB of
// random data in scattered extents, its qcow2 and xz forms; then, in one run,
// our engine (the real CLI), `qemu-img convert` and `nbdcopy` for raw→raw file,
// qcow2→raw, xz over HTTP→raw and raw→a loop block device. Page cache is
// dropped before each run when the kernel allows it. Prints time, throughput
// (virtual bytes / s), ratio to ours, target allocation and peak RSS.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO as HERE } from '../helpers/peers.js';

// Compiled, the helpers live under dist/: the repository root is one level up.
const REPO = HERE.replace(/dist\/$/, '');
import { makeSparseRaw } from '../helpers/disk-images.js';
import { createLoopDevice } from '../helpers/loop.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

interface Row {
  kase: string;
  tool: string;
  seconds: number;
  virtual: number;
  allocated: number;
  rssMiB: number;
  ok: boolean;
}

function dropCaches(): void {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3\n');
  } catch {
    // not allowed here: warm caches, said in the output
  }
}

/** Runs a command under GNU time; returns wall seconds and peak RSS (KiB → MiB). */
function timed(cmd: string[], env: NodeJS.ProcessEnv = process.env): { seconds: number; rssMiB: number; ok: boolean; err: string } {
  dropCaches();
  const started = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', ...cmd], { env, encoding: 'utf8', maxBuffer: 64 * MiB });
  const seconds = (performance.now() - started) / 1000;
  const lines = (r.stderr ?? '').trim().split('\n');
  const rss = Number(lines[lines.length - 1]) / 1024;
  return { seconds, rssMiB: Math.round(rss), ok: r.status === 0, err: r.status === 0 ? '' : (r.stderr ?? '').slice(-500) };
}

function allocated(path: string): number {
  return statSync(path).blocks * 512;
}

function fresh(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

function fmt(n: number, digits = 2): string {
  return n.toFixed(digits);
}

export async function run(args: string[]): Promise<void> {
  const dirArg = args.indexOf('--dir');
  const base = dirArg !== -1 ? args[dirArg + 1]! : '/var/tmp/v2v-bench-copy';
  const keep = args.includes('--keep');
  const runsArg = args.indexOf('--runs');
  const runs = runsArg !== -1 ? Math.max(1, Number(args[runsArg + 1])) : 3;
  const size = 4 * GiB;
  const data = 1 * GiB;
  mkdirSync(base, { recursive: true });
  const raw = join(base, 'disk.raw');
  const qcow2 = join(base, 'disk.qcow2');
  const xz = join(base, 'disk.raw.xz');
  const small = join(base, 'disk-256m.raw');
  const t0 = performance.now();
  if (!existsSync(raw)) makeSparseRaw(raw, size, 1024, data / 1024);
  if (!existsSync(small)) makeSparseRaw(small, size, 256, data / 4 / 256, 2);
  if (!existsSync(qcow2)) execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
  if (!existsSync(xz)) execFileSync('sh', ['-c', `xz -0 -T2 --block-size=16MiB -c '${raw}' > '${xz}'`]);
  process.stderr.write(`fixtures ready in ${fmt((performance.now() - t0) / 1000, 1)} s: ${raw} (${allocated(raw) / MiB} MiB allocated)\n`);

  // The xz case needs a web server: ours, in its own process so it does not share our CPU accounting.
  const server = spawn(
    process.execPath,
    ['-e', `import('${REPO}dist/test/helpers/image-server.js').then(async (m) => { const s = await m.startImageServer({ root: '${base}' }); console.log(s.url); })`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve) => server.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  const v2v = [process.execPath, `${REPO}bin/v2v.js`];
  const engine = [process.execPath, `${REPO}dist/test/bench/runners/copy-engine.js`];
  const rows: Row[] = [];
  const out = fresh(join(base, 'out'));
  const target = join(out, 'disk.img');
  const env = { ...process.env, V2V_LOG_LEVEL: 'warn', UV_THREADPOOL_SIZE: '16' };
  /** Runs one case; other tools do not fsync, so they are also timed with `sync -d` on the target (ours always syncs). */
  // The machine is shared: each cell is the best of `runs` (reset before every run), RSS the worst.
  const measure = (kase: string, tool: string, cmd: string[], alloc: () => number, syncPath?: string, reset?: () => void) => {
    let best: ReturnType<typeof timed> | undefined;
    let rss = 0;
    for (let i = 0; i < runs; i++) {
      if (i > 0) reset?.();
      const r = timed(syncPath ? ['sh', '-c', `"$@" && sync -d '${syncPath}'`, 'sh', ...cmd] : cmd, env);
      if (!r.ok) process.stderr.write(`${kase} / ${tool} FAILED: ${r.err}\n`);
      rss = Math.max(rss, r.rssMiB);
      if (!best || (r.ok && r.seconds < best.seconds)) best = r;
    }
    rows.push({ kase, tool: syncPath ? `${tool} + fdatasync` : tool, seconds: best!.seconds, virtual: size, allocated: alloc(), rssMiB: rss, ok: best!.ok });
  };
  const file = () => allocated(target);
  const both = (kase: string, tool: string, cmd: string[], alloc: () => number, path: string, reset: () => void) => {
    reset();
    measure(kase, tool, cmd, alloc, undefined, reset);
    reset();
    measure(kase, tool, cmd, alloc, path, reset);
  };
  const resetOut = () => void fresh(out);

  // raw → raw file
  resetOut();
  measure('raw→raw file', 'v2v engine', [...engine, raw, out], file, undefined, resetOut);
  resetOut();
  measure('raw→raw file', 'v2v import (CLI)', [...v2v, 'import', '--url', `file://${raw}`, '--target', out], file, undefined, resetOut);
  both('raw→raw file', 'qemu-img', ['qemu-img', 'convert', '-f', 'raw', '-O', 'raw', raw, target], file, target, resetOut);
  both('raw→raw file', 'nbdcopy', ['nbdcopy', raw, target], file, target, resetOut);
  resetOut();
  measure('raw→raw, 256 MiB data', 'v2v engine', [...engine, small, out], file, undefined, resetOut);

  // qcow2 → raw
  resetOut();
  measure('qcow2→raw file', 'v2v engine', [...engine, qcow2, out], file, undefined, resetOut);
  both('qcow2→raw file', 'qemu-img', ['qemu-img', 'convert', '-f', 'qcow2', '-O', 'raw', qcow2, target], file, target, resetOut);
  both('qcow2→raw file', 'nbdcopy', ['nbdcopy', '--', '[', 'qemu-nbd', '-f', 'qcow2', qcow2, ']', target], file, target, resetOut);

  // xz over HTTP → raw
  resetOut();
  measure('xz/HTTP→raw file', 'v2v engine', [...engine, `${url}/disk.raw.xz`, out], file, undefined, resetOut);
  both(
    'xz/HTTP→raw file',
    'qemu-img (nbdkit curl+xz)',
    ['nbdkit', '-U', '-', 'curl', `${url}/disk.raw.xz`, '--filter=xz', '--run', `qemu-img convert -f raw -O raw "$uri" '${target}'`],
    file,
    target,
    resetOut,
  );
  both(
    'xz/HTTP→raw file',
    'nbdcopy (nbdkit curl+xz)',
    ['nbdkit', '-U', '-', 'curl', `${url}/disk.raw.xz`, '--filter=xz', '--run', `nbdcopy "$uri" '${target}'`],
    file,
    target,
    resetOut,
  );

  // raw → block device (a loop device over a sparse file; allocation = its backing file)
  const loop = createLoopDevice(join(base, 'loop-backing.img'), size);
  const resetLoop = () => void execFileSync('blkdiscard', [loop.device]);
  const backing = () => allocated(loop.file);
  try {
    resetLoop();
    measure('raw→block (loop)', 'v2v engine', [...engine, raw, loop.device, 'block'], backing, undefined, resetLoop);
    both('raw→block (loop)', 'qemu-img', ['qemu-img', 'convert', '-n', '-f', 'raw', '-O', 'raw', raw, loop.device], backing, loop.device, resetLoop);
    both('raw→block (loop)', 'nbdcopy', ['nbdcopy', raw, loop.device], backing, loop.device, resetLoop);
  } finally {
    loop.detach();
    server.kill();
  }

  const lines = [
    '| case | tool | time (s) | throughput (virtual MiB/s) | v2v engine speed ÷ this | target allocated (MiB) | peak RSS (MiB) |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const ours = rows.find((o) => o.kase === r.kase && o.tool === 'v2v engine');
    const ratio = ours ? r.seconds / ours.seconds : NaN;
    lines.push(
      `| ${r.kase} | ${r.tool}${r.ok ? '' : ' (FAILED)'} | ${fmt(r.seconds)} | ${fmt(r.virtual / MiB / r.seconds, 0)} | ${fmt(ratio)} | ${fmt(r.allocated / MiB, 0)} | ${r.rssMiB} |`,
    );
  }
  const big = rows.find((r) => r.kase === 'raw→raw file' && r.tool === 'v2v engine');
  const smallRow = rows.find((r) => r.kase.startsWith('raw→raw, 256') && r.tool === 'v2v engine');
  process.stdout.write(lines.join('\n') + '\n');
  if (big && smallRow)
    process.stdout.write(
      `\ntime ∝ allocated: 1 GiB of data took ${fmt(big.seconds)} s, 256 MiB took ${fmt(smallRow.seconds)} s (ratio ${fmt(big.seconds / smallRow.seconds)} for 4× the data)\n`,
    );
  if (!keep) rmSync(out, { recursive: true, force: true });
}
