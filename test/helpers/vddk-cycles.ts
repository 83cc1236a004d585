// Run as a child process with --expose-gc (see test/integration/vddk-leak.test.ts):
// `node --expose-gc dist/test/helpers/vddk-cycles.js LIBRARY_DIR CYCLES` prints
// one JSON line with RSS (after full GCs) at warm-up end, halfway and the end.
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SourceVm } from '../../src/model.js';
import { VddkSource, type VddkSourceOptions } from '../../vddk/source.js';
import { configureFakeVddk } from './fake-vddk.js';

const MiB = 1024 * 1024;

async function settledRss(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  await new Promise((r) => setTimeout(r, 20));
  gc();
  return process.memoryUsage().rss / MiB;
}

const [libraryDir, cyclesArg] = process.argv.slice(2);
const cycles = Number(cyclesArg ?? 1000);
const dir = mkdtempSync(join(tmpdir(), 'v2v-vddk-cycles-'));
try {
  mkdirSync(join(dir, 'vm'));
  const flat = join(dir, 'vm', 'vm-flat.vmdk');
  writeFileSync(flat, '');
  truncateSync(flat, 256 * MiB);
  const fd = openSync(flat, 'r+');
  for (let i = 0; i < 16; i++) writeSync(fd, Buffer.alloc(MiB, i + 1), 0, MiB, i * 16 * MiB);
  closeSync(fd);
  writeFileSync(join(dir, 'vm', 'vm.vmdk'), '');
  configureFakeVddk({ datastores: new Map([['ds', dir]]), thumbprint: undefined, user: undefined, password: undefined, faults: undefined, trace: undefined });
  const options: VddkSourceOptions = {
    vm: { id: 'vm-7', name: 'vm', powerState: 'off', source: { type: 'vsphere', moref: 'vm-7', changeTrackingEnabled: false, devices: [], tpm: false } } as unknown as SourceVm,
    disk: '[ds] vm/vm.vmdk',
    server: 'esxi.example.com',
    credentials: { type: 'uid', userName: 'root', password: 'cycles-password' },
    thumbprint: '00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33',
    libraryDir: libraryDir!,
  };
  let n = 0;
  const cycle = async () => {
    const source = await VddkSource.open({ ...options, io: n++ % 2 ? 'handles' : 'async' });
    try {
      const data = await source.read(16 * MiB, 2 * MiB);
      if (data[0] !== 2) throw new Error('read the wrong data');
      if ((await source.extents(0, source.size)).filter((e) => !e.zero).length !== 16) throw new Error('wrong extents');
    } finally {
      await source.close(true);
    }
  };
  for (let i = 0; i < 300; i++) await cycle();
  const start = await settledRss();
  for (let i = 0; i < cycles / 2; i++) await cycle();
  const middle = await settledRss();
  for (let i = 0; i < cycles / 2; i++) await cycle();
  const end = await settledRss();
  process.stdout.write(`${JSON.stringify({ cycles, start, middle, end })}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
