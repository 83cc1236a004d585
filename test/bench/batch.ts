// `npm run bench -- batch [--vms 8] [--data-mib 64]`: the batch runner on N
// vcsim VMs at concurrency 1, 2 and 4 — copy-only (guestConversion: false),
// disks read through the fake VDDK from vcsim's datastore. Prints wall time,
// VMs/min and MiB/s of data per concurrency. (A guest conversion adds about a
// minute of virt-v2v per VM under TCG; it is CPU-bound on this 2-core machine.)
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fakeVddkDir } from '../helpers/fake-vddk.js';
import { GUEST_VM_MAPPING, fakeVddkEnvFor, installGuest } from '../helpers/guest-vm.js';
import { REPO } from '../helpers/peers.js';
import { startVcsim } from '../helpers/vcsim.js';

const MiB = 1024 * 1024;

function disk(path: string, sizeMiB: number, dataMiB: number): void {
  const fd = openSync(path, 'w');
  const chunk = randomBytes(MiB);
  // Data in 8 scattered runs, the rest holes.
  for (let run = 0; run < 8; run++) {
    const at = Math.floor((run * sizeMiB) / 8);
    for (let i = 0; i < dataMiB / 8; i++) writeSync(fd, chunk, 0, MiB, (at + i) * MiB);
  }
  writeSync(fd, Buffer.alloc(1), 0, 1, sizeMiB * MiB - 1);
  closeSync(fd);
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { vms: { type: 'string', default: '8' }, 'data-mib': { type: 'string', default: '64' } } });
  const n = Number(values.vms);
  const dataMiB = Number(values['data-mib']);
  const work = await mkdtemp(join(tmpdir(), 'v2v-bench-batch-'));
  const vcsim = await startVcsim({ cluster: 1, host: 1, standaloneHost: 0, vm: n, autostart: false });
  try {
    const client = await vcsim.client();
    for (let i = 0; i < n; i++) {
      const img = join(work, `src${i}.img`);
      disk(img, 4 * dataMiB, dataMiB);
      await installGuest(vcsim, client, `DC0_C0_RP0_VM${i}`, img);
    }
    await client.logout();
    const fake = await fakeVddkEnvFor(vcsim);
    const sources = await vcsim.sourcesFile({ insecureSkipVerify: true, thumbprint: fake.thumbprint });
    await writeFile(join(work, 'mapping.yaml'), GUEST_VM_MAPPING);
    process.stdout.write(`${n} VMs, ${4 * dataMiB} MiB disks with ${dataMiB} MiB of data each, copy-only\n`);
    process.stdout.write('concurrency  wall(s)  VMs/min  data MiB/s\n');
    for (const concurrency of [1, 2, 4]) {
      const plan = join(work, `plan-${concurrency}.yaml`);
      await writeFile(
        plan,
        [
          `sourcesFile: ${JSON.stringify(sources)}`,
          'defaults:',
          '  source: vc',
          '  mapping: mapping.yaml',
          `  targetDir: out-${concurrency}`,
          '  guestConversion: false',
          'vms:',
          ...Array.from({ length: n }, (_, i) => `  - vm: DC0_C0_RP0_VM${i}`),
          '',
        ].join('\n'),
      );
      const t0 = performance.now();
      execFileSync(process.execPath, [`${REPO}bin/v2v.js`, 'batch', plan, '--concurrency', String(concurrency), '--vddk-libdir', fakeVddkDir(), '-o', 'json'], {
        env: { ...process.env, ...fake.env, V2V_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const s = (performance.now() - t0) / 1000;
      process.stdout.write(
        `${String(concurrency).padStart(11)}  ${s.toFixed(2).padStart(7)}  ${((n / s) * 60).toFixed(1).padStart(7)}  ${((n * dataMiB) / s).toFixed(0).padStart(10)}\n`,
      );
      await rm(join(work, `out-${concurrency}`), { recursive: true, force: true });
    }
  } finally {
    await vcsim.stop();
    execFileSync('rm', ['-rf', work]);
  }
}
