// `npm run bench -- inventory [--vms 1000] [--page 500]`: inventory of a large
// simulated vCenter; prints VMs/s and SOAP round trips (SPEC §9: ≤ 10 s for
// 1,000 VMs, round trips O(pages)).
import { parseArgs } from 'node:util';
import { VsphereSource } from '../../adapters/vsphere/index.js';
import { selectSource } from '../../src/config/sources.js';
import { startVcsim } from '../helpers/vcsim.js';

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { vms: { type: 'string', default: '1000' }, page: { type: 'string', default: '500' }, runs: { type: 'string', default: '3' } } });
  const wanted = Number(values.vms);
  const clusters = 5;
  const perPool = Math.ceil(wanted / clusters);
  const started = performance.now();
  const vcsim = await startVcsim({ dc: 1, cluster: clusters, host: 2, standaloneHost: 0, vm: perPool, autostart: false });
  process.stdout.write(`vcsim with ${clusters * perPool} VMs ready in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  try {
    const config = await selectSource(await vcsim.sourcesFile(), 'vc');
    const rows: string[] = [];
    for (let i = 0; i < Number(values.runs); i++) {
      const t0 = performance.now();
      const source = await VsphereSource.open(config, { pageSize: Number(values.page) });
      const vms = await source.listVms();
      await source.close();
      const seconds = (performance.now() - t0) / 1000;
      const roundTrips = source.stats().roundTrips;
      // Fixed cost: RetrieveServiceContent, Login, CreateContainerView, DestroyView, Logout.
      const pages = roundTrips - 5;
      rows.push(
        `run ${i + 1}: ${vms.length} VMs in ${seconds.toFixed(2)} s = ${(vms.length / seconds).toFixed(0)} VMs/s; ${roundTrips} SOAP round trips = 5 fixed + ${pages} property-collector pages of ≤ ${values.page} objects`,
      );
    }
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    await vcsim.stop();
  }
}
