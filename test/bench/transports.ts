// `npm run bench -- transports [--runs 3] [--parallel 8]`
//
// Issue 18: the datastore transport (ranged GETs of the flat extent from
// vcsim's /folder into the copy engine) against curl fetching the same file
// from the same server with the same parallelism (one range per process, each
// written to its own file), as a ratio; the VDDK path (the fake
// libvixDiskLib over the same datastore) beside it. The disk is the Debian
// test guest. curl goes without the session cookie (vcsim's /folder does not
// ask for one, and a cookie does not belong in argv). Each run copies into a fresh directory; the datastore file is
// in the page cache after the first run, for every contender alike.
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { VsphereSource } from '../../adapters/vsphere/index.js';
import { loadSources } from '../../src/config/sources.js';
import { copyDisk } from '../../src/copy/engine.js';
import type { DiskOpenOptions } from '../../src/source.js';
import { guestImages } from '../guest/guest.js';
import { configureFakeVddk, fakeVddkDir } from '../helpers/fake-vddk.js';
import { fakeVddkEnvFor, installGuest } from '../helpers/guest-vm.js';
import { startVcsim } from '../helpers/vcsim.js';

const run$ = promisify(execFile);
const MiB = 1024 * 1024;

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(args: string[]): Promise<void> {
  const runs = arg(args, 'runs', 3);
  const parallel = arg(args, 'parallel', 8);
  const { debian } = guestImages();
  const size = statSync(debian).size;
  const work = await mkdtemp(join(tmpdir(), 'v2v-bench-transports-'));
  const vcsim = await startVcsim({ cluster: 1, host: 1, standaloneHost: 0, vm: 1, autostart: false });
  try {
    const client = await vcsim.client();
    await installGuest(vcsim, client, 'DC0_C0_RP0_VM0', debian).finally(() => client.logout());
    const fake = await fakeVddkEnvFor(vcsim);
    configureFakeVddk({ datastores: vcsim.datastores, thumbprint: fake.thumbprint, user: vcsim.username, password: vcsim.password, faults: undefined, trace: undefined });
    const config = (await loadSources(await vcsim.sourcesFile({ insecureSkipVerify: true, thumbprint: fake.thumbprint })))[0]!;
    const provider = await VsphereSource.open(config);
    const vm = (await provider.listVms()).find((v) => v.name === 'DC0_C0_RP0_VM0')!;
    const disk = vm.disks[0]!;
    const flatUrl = `${new URL(config.url).origin}/folder/DC0_C0_RP0_VM0/disk1-flat.vmdk?dcPath=DC0&dsName=LocalDS_0`;

    const engine = async (options: DiskOpenOptions): Promise<number> => {
      const dir = await mkdtemp(join(work, 'copy-'));
      const source = await provider.openDisk(vm, disk, options);
      const t0 = performance.now();
      await copyDisk({ source, target: { kind: 'filesystem', dir }, parallel });
      const seconds = (performance.now() - t0) / 1000;
      await source.close(true);
      await rm(dir, { recursive: true });
      return seconds;
    };
    const curl = async (): Promise<number> => {
      const dir = await mkdtemp(join(work, 'curl-'));
      const piece = Math.ceil(size / parallel / MiB) * MiB;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: parallel }, (_, i) => run$('curl', ['-sSfk', '-r', `${i * piece}-${Math.min(size, (i + 1) * piece) - 1}`, '-o', join(dir, `part${i}`), flatUrl])),
      );
      const seconds = (performance.now() - t0) / 1000;
      await rm(dir, { recursive: true });
      return seconds;
    };

    await curl(); // the page cache, for everyone
    const results = { datastore: [] as number[], curl: [] as number[], vddk: [] as number[] };
    for (let i = 0; i < runs; i++) {
      results.datastore.push(await engine({ transport: 'datastore' }));
      results.curl.push(await curl());
      results.vddk.push(await engine({ transport: 'vddk', vddk: { libraryDir: fakeVddkDir() } }));
    }
    await provider.close();
    const mibs = (s: number) => (size / MiB / s).toFixed(0);
    const [ds, cu, vd] = [median(results.datastore), median(results.curl), median(results.vddk)];
    process.stdout.write(
      `disk: ${(size / MiB).toFixed(0)} MiB (the Debian guest), ${parallel} reads in flight, median of ${runs}\n` +
        `datastore (v2v engine, /folder ranges): ${ds.toFixed(2)} s, ${mibs(ds)} MiB/s\n` +
        `curl (${parallel} ranged GETs, same URL):  ${cu.toFixed(2)} s, ${mibs(cu)} MiB/s\n` +
        `vddk (fake libvixDiskLib, same disk):   ${vd.toFixed(2)} s, ${mibs(vd)} MiB/s\n` +
        `datastore / curl throughput: ${(cu / ds).toFixed(2)}x (target >= 0.9x)\n` +
        `peak RSS of this process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (target < 200 MiB)\n`,
    );
  } finally {
    await vcsim.stop();
    await rm(work, { recursive: true, force: true });
  }
}
