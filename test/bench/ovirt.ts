// `npm run bench -- ovirt [VMS] [DATA_MIB]`: oVirt inventory and imageio
// download against the loopback fake. Prints requests and wall time for an
// inventory of VMS VMs (XML and JSON, page size 100), and the throughput of a
// download of a 4 GiB sparse disk with DATA_MIB MiB of scattered data next to
// `cp --sparse=always` of the same file (the local ceiling).
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OvirtSource } from '../../adapters/ovirt/index.js';
import { copyToSparseFile } from '../helpers/sparse-copy.js';
import { DOWNLOAD_DISK_ID, defaultInventory } from '../peers/ovirt/fixtures.js';
import type { OvirtFakeOptions } from '../peers/ovirt/server.js';

const run_ = promisify(execFile);
const MiB = 1024 * 1024;

/** The fake engine in its own process, so the client's time is not shared with the server's. */
async function serveFake(options: OvirtFakeOptions): Promise<{ url: string; ca: string; username: string; password: string; stop(): void }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../peers/ovirt/serve.js', import.meta.url)), JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
  const info = JSON.parse(line) as { url: string; caFile: string; username: string; password: string };
  return { url: info.url, ca: await readFile(info.caFile, 'utf8'), username: info.username, password: info.password, stop: () => void child.kill('SIGTERM') };
}

export async function run(args: string[]): Promise<void> {
  const vmCount = Number(args[0] ?? 1000);
  const dataMiB = Number(args[1] ?? 512);
  const dir = await mkdtemp(join(tmpdir(), 'v2v-bench-ovirt-'));
  try {
    const base = defaultInventory().vms.length;
    const engine = await serveFake({ extraCleanVms: Math.max(0, vmCount - base) });
    for (const format of ['xml', 'json'] as const) {
      const source = await OvirtSource.connect({ name: 'bench', url: engine.url, username: engine.username, password: engine.password, ca: engine.ca }, { format, pageSize: 100 });
      const t0 = performance.now();
      const vms = await source.listVms();
      const ms = performance.now() - t0;
      const requests = source.stats().roundTrips;
      await source.close();
      process.stdout.write(`inventory ${format}: ${vms.length} VMs and templates, ${requests} requests (SSO included), ${ms.toFixed(0)} ms\n`);
    }
    engine.stop();

    // 4 GiB raw with DATA_MIB MiB in 64 scattered extents.
    const image = join(dir, 'disk.raw');
    const size = 4 * 1024 * MiB;
    const fh = await open(image, 'w');
    await fh.truncate(size);
    const pieces = 64;
    const piece = Math.floor((dataMiB * MiB) / pieces / 4096) * 4096;
    for (let i = 0; i < pieces; i++) await fh.write(randomBytes(piece), 0, piece, Math.floor((size / pieces) * i));
    await fh.close();
    const dl = await serveFake({ diskFiles: { [DOWNLOAD_DISK_ID]: image } });
    const source = await OvirtSource.connect({ name: 'bench', url: dl.url, username: dl.username, password: dl.password, ca: dl.ca });
    await run_('sh', ['-c', 'sync']);
    const t0 = performance.now();
    const download = await source.openDiskDownload(DOWNLOAD_DISK_ID, { pollIntervalMs: 20, maxReaders: 4 });
    const result = await copyToSparseFile(download, join(dir, 'out.raw'), { chunkBytes: 8 * MiB, parallel: 4 });
    const ms = performance.now() - t0;
    await source.close();
    dl.stop();
    const t1 = performance.now();
    await run_('cp', ['--sparse=always', image, join(dir, 'cp.raw')]);
    const cpMs = performance.now() - t1;
    const mbps = (n: number, t: number) => (n / MiB / (t / 1000)).toFixed(0);
    process.stdout.write(
      `imageio download: ${(result.dataBytes / MiB).toFixed(0)} MiB of data in a 4 GiB disk, ${ms.toFixed(0)} ms (${mbps(result.dataBytes, ms)} MiB/s data), target allocation ${(((await stat(join(dir, 'out.raw'))).blocks * 512) / MiB).toFixed(0)} MiB\n` +
        `cp --sparse=always of the same file: ${cpMs.toFixed(0)} ms (${mbps(result.dataBytes, cpMs)} MiB/s data)\n` +
        `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB\n`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
