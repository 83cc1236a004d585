// `npm run bench -- convert [--runs 1] [--naming eth|keep]`: convertGuest (overlay +
// virt-v2v-in-place + NIC renaming + commit) against bare `virt-v2v-in-place
// -i libvirtxml` on a copy of the same Debian guest disk. The target is ≤ 10 %
// overhead. Runs alternate bare/ours so machine load drifts hit both.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { detectAcceleration } from '../../src/convert/accel.js';
import { inPlaceArgv, libguestfsEnv } from '../../src/convert/argv.js';
import { convertGuest } from '../../src/convert/convert.js';
import { buildDomainXml } from '../../src/convert/domain-xml.js';
import type { NicNaming } from '../../src/convert/nics.js';
import { runTool } from '../../src/convert/run-tool.js';
import { guestImages, guestVm } from '../guest/guest.js';
import { fakeVddkDir } from '../helpers/fake-vddk.js';
import { GUEST_VM_MAPPING, fakeVddkEnvFor, installGuest } from '../helpers/guest-vm.js';
import { REPO } from '../helpers/peers.js';
import { startVcsim } from '../helpers/vcsim.js';

/** The whole `v2v convert` (inventory, check, VDDK copy, conversion, NICs, manifests) of the guest on vcsim. */
async function wholePipeline(work: string, image: string, i: number, env: NodeJS.ProcessEnv): Promise<number> {
  const vcsim = await startVcsim({ cluster: 1, host: 1, standaloneHost: 0, vm: 1, autostart: false });
  try {
    const client = await vcsim.client();
    await installGuest(vcsim, client, 'DC0_C0_RP0_VM0', image);
    await client.logout();
    const fake = await fakeVddkEnvFor(vcsim);
    const sources = await vcsim.sourcesFile({ insecureSkipVerify: true, thumbprint: fake.thumbprint });
    const mapping = join(work, 'mapping.yaml');
    await writeFile(mapping, GUEST_VM_MAPPING);
    const t0 = performance.now();
    execFileSync(
      process.execPath,
      [
        `${REPO}bin/v2v.js`,
        'convert',
        '--sources',
        sources,
        '--source',
        'vc',
        '--vm',
        'DC0_C0_RP0_VM0',
        '--mapping',
        mapping,
        '--target',
        join(work, `pipeline-${i}`),
        '--vddk-libdir',
        fakeVddkDir(),
      ],
      {
        env: { ...env, ...fake.env, V2V_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    const took = seconds(t0);
    await rm(join(work, `pipeline-${i}`), { recursive: true, force: true });
    return took;
  } finally {
    await vcsim.stop();
  }
}

const seconds = (t0: number): number => (performance.now() - t0) / 1000;

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { runs: { type: 'string', default: '1' }, naming: { type: 'string', default: 'eth' }, pipeline: { type: 'boolean', default: true } },
  });
  const images = guestImages();
  const acceleration = await detectAcceleration(process.env);
  const env = libguestfsEnv(process.env, acceleration);
  process.stdout.write(`libguestfs: ${acceleration.forceTcg ? 'TCG' : 'KVM'} (${acceleration.reason}); guest ${images.debian}\n`);
  const work = await mkdtemp(join(tmpdir(), 'v2v-bench-convert-'));
  const rows: { bare: number; ours: number; pipeline?: number; parts: string }[] = [];
  try {
    for (let i = 0; i < Number(values.runs); i++) {
      const bareDisk = join(work, `bare-${i}.img`);
      const oursDisk = join(work, `ours-${i}.img`);
      execFileSync('cp', ['--sparse=always', images.debian, bareDisk]);
      execFileSync('cp', ['--sparse=always', images.debian, oursDisk]);

      const domainXml = join(work, `bare-${i}.xml`);
      // The same description of the VM that convertGuest gives virt-v2v (its disk on the VM's SCSI
      // controller), so both runs do the same conversion; only the disk (raw vs our overlay) differs.
      const vm = guestVm();
      const bus = vm.disks[0]?.controller.bus;
      await writeFile(domainXml, buildDomainXml(vm, [{ path: bareDisk, format: 'raw', ...(bus ? { bus } : {}) }]));
      const t0 = performance.now();
      const bare = await runTool('virt-v2v-in-place', inPlaceArgv({ domainXml }), { env });
      const bareSeconds = seconds(t0);
      if (bare.code !== 0) throw new Error(`bare virt-v2v-in-place failed:\n${bare.output}`);

      const t1 = performance.now();
      const report = await convertGuest({
        vm: guestVm(),
        disks: [{ path: oursDisk, format: 'raw' }],
        nicNaming: values.naming as NicNaming,
        workDir: work,
        env: process.env,
      });
      const oursSeconds = seconds(t1);
      const s = report.seconds;
      const parts = `virt-v2v ${s.virtV2v.toFixed(1)} s + NICs ${s.nics.toFixed(1)} s + commit ${s.commit.toFixed(1)} s + overlays/XML ${(s.total - s.virtV2v - s.nics - s.commit).toFixed(1)} s`;
      const pipeline = values.pipeline ? await wholePipeline(work, images.debian, i, env) : undefined;
      rows.push({ bare: bareSeconds, ours: oursSeconds, parts, ...(pipeline !== undefined ? { pipeline } : {}) });
      if (pipeline !== undefined)
        process.stdout.write(
          `run ${i + 1}: whole \`v2v convert\` (vcsim + fake VDDK copy + conversion + NICs + manifests) ${pipeline.toFixed(1)} s; overhead over bare ${(((pipeline - bareSeconds) / bareSeconds) * 100).toFixed(1)} %\n`,
        );
      process.stdout.write(
        `run ${i + 1}: bare virt-v2v-in-place ${bareSeconds.toFixed(1)} s; convertGuest ${oursSeconds.toFixed(1)} s (${parts}); overhead ${(((oursSeconds - bareSeconds) / bareSeconds) * 100).toFixed(1)} %\n`,
      );
      await rm(bareDisk, { force: true });
      await rm(oursDisk, { force: true });
    }
    // Bare virt-v2v alone swings by ±3 s between runs under TCG: the totals, not one run, carry the verdict.
    const total = (pick: (r: (typeof rows)[number]) => number | undefined): number => rows.reduce((a, r) => a + (pick(r) ?? 0), 0);
    const overhead = (ours: number): string => `${(((ours - total((r) => r.bare)) / total((r) => r.bare)) * 100).toFixed(1)} %`;
    process.stdout.write(
      `total over ${rows.length} run(s): bare ${total((r) => r.bare).toFixed(1)} s, convertGuest ${total((r) => r.ours).toFixed(1)} s (overhead ${overhead(total((r) => r.ours))})` +
        (values.pipeline ? `, whole \`v2v convert\` ${total((r) => r.pipeline).toFixed(1)} s (overhead ${overhead(total((r) => r.pipeline))})` : '') +
        '; target ≤ 10 %\n',
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
