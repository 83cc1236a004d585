// `npm run bench -- check [vmsPerCluster]`: 1,000 vcsim VMs (1 DC, 5 clusters × 200 VMs).
// Times `v2v inventory` against `v2v check --all` (whole CLI runs, alternated, median of 5),
// and the pure evaluation alone in-process. Target (SPEC §9, issue 4): check
// ≤ the inventory budget + 1 s.
import { performance } from 'node:perf_hooks';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VsphereSource } from '../../adapters/vsphere/index.js';
import { evaluateSelection } from '../../src/cli/commands/check.js';
import { selectSource } from '../../src/config/sources.js';
import { DEFAULT_OS_MAP } from '../../src/mapping/os-map.js';
import { normalizeMappings } from '../../src/mapping/resource-mapping.js';
import { runCli } from '../helpers/cli.js';
import { startVcsim } from '../helpers/vcsim.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timeOnce(args: string[]): Promise<{ ms: number; code: number | null }> {
  const t = performance.now();
  const res = await runCli(args, { timeoutMs: 300_000 });
  const ms = performance.now() - t;
  if (res.code !== 0 && res.code !== 3) throw new Error(`v2v ${args[0]} failed (${res.code}): ${res.stderr}`);
  return { ms, code: res.code };
}

/** Runs the two commands alternately, so a busy machine slows both alike; medians. */
async function timePair(a: string[], b: string[], runs: number): Promise<[{ ms: number; code: number | null }, { ms: number; code: number | null }]> {
  const ta: number[] = [];
  const tb: number[] = [];
  let ca: number | null = null;
  let cb: number | null = null;
  for (let i = 0; i < runs; i++) {
    const ra = await timeOnce(a);
    const rb = await timeOnce(b);
    ta.push(ra.ms);
    tb.push(rb.ms);
    ca = ra.code;
    cb = rb.code;
  }
  return [
    { ms: median(ta), code: ca },
    { ms: median(tb), code: cb },
  ];
}

export async function run(args: string[]): Promise<void> {
  const perCluster = Number(args[0] ?? 200);
  const vcsim = await startVcsim({ dc: 1, cluster: 5, host: 2, standaloneHost: 0, vm: perCluster, autostart: false });
  try {
    const sources = await vcsim.sourcesFile();
    const dir = await mkdtemp(join(tmpdir(), 'v2v-bench-check-'));
    const mapping = join(dir, 'mapping.yaml');
    await writeFile(
      mapping,
      'apiVersion: v2v.kubevirt.io/v1alpha1\nkind: ResourceMapping\nmetadata:\n  name: bench\nspec:\n  vmware:\n    networkMappings:\n      - source:\n          name: DC0_DVPG0\n        target:\n          name: pod\n        type: pod\n    storageMappings:\n      - source:\n          name: LocalDS_0\n        target:\n          name: standard\n',
    );
    const base = ['--sources', sources, '--source', 'vc', '-o', 'json'];
    // Warm up vcsim and the OS page cache once.
    await runCli(['inventory', ...base]);
    const [inventory, check] = await timePair(['inventory', ...base], ['check', '--all', '--mapping', mapping, ...base], 5);

    // In-process: the inventory read vs the pure evaluation of the same VMs.
    const config = await selectSource(sources, 'vc');
    const source = await VsphereSource.open(config);
    const t0 = performance.now();
    const vms = await source.listVms();
    const t1 = performance.now();
    const mappings = normalizeMappings({
      networkMappings: [{ source: { name: 'DC0_DVPG0' }, target: { name: 'pod' }, type: 'pod' }],
      storageMappings: [{ source: { name: 'LocalDS_0' }, target: { name: 'standard' } }],
    });
    const report = evaluateSelection({ items: vms.map((vm) => ({ vm, source: config, mappings, osMap: DEFAULT_OS_MAP })), mappingEvaluated: true });
    const t2 = performance.now();
    const roundTrips = source.stats().roundTrips;
    await source.close();

    const rows: [string, string][] = [
      ['VMs', String(vms.length)],
      ['v2v inventory (CLI, median of 5)', `${inventory.ms.toFixed(0)} ms`],
      ['v2v check --all --mapping (CLI, median of 5)', `${check.ms.toFixed(0)} ms (exit ${check.code})`],
      ['check − inventory', `${(check.ms - inventory.ms).toFixed(0)} ms (budget ≤ 1000 ms)`],
      ['in-process listVms', `${(t1 - t0).toFixed(0)} ms, ${roundTrips} SOAP round trips`],
      [
        'in-process evaluation (rules + mapping + report)',
        `${(t2 - t1).toFixed(1)} ms for ${report.summary.vms} VMs (${report.summary.Critical} critical, ${report.summary.Warning} warning, ${report.summary.Information} information)`,
      ],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
    const within = check.ms - inventory.ms <= 1000;
    process.stdout.write(`${within ? 'PASS' : 'FAIL'}: check is ${within ? 'within' : 'over'} the inventory time + 1 s\n`);
  } finally {
    await vcsim.stop();
  }
}
