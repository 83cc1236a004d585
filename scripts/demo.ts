// The README's first command: a simulated vCenter (the vcsim test peer) with
// VMs in the states a real migration meets — one holding a real Debian guest,
// one running, one with a SATA disk — and v2v run against it: inventory, the
// dry-run check, then a full conversion of the Debian VM (fake VDDK for the
// copy, real virt-v2v for the guest).
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestImages } from '../test/guest/guest.js';
import { fakeVddkDir } from '../test/helpers/fake-vddk.js';
import { fakeVddkEnvFor, installGuest } from '../test/helpers/guest-vm.js';
import { REPO } from '../test/helpers/peers.js';
import { startVcsim } from '../test/helpers/vcsim.js';
import { addSataDisk, findVm, powerOn } from '../test/helpers/vsphere-ops.js';

function v2v(args: string[], env: NodeJS.ProcessEnv = {}): number {
  process.stdout.write(`\n$ v2v ${args.join(' ')}\n`);
  const res = spawnSync(process.execPath, [`${REPO}bin/v2v.js`, ...args], { stdio: 'inherit', env: { ...process.env, V2V_LOG_LEVEL: 'warn', ...env } });
  return res.status ?? 1;
}

const { debian } = guestImages();
const work = await mkdtemp(join(tmpdir(), 'v2v-demo-'));
const vcsim = await startVcsim({ dc: 1, cluster: 1, host: 2, standaloneHost: 0, vm: 3, autostart: false });
try {
  const client = await vcsim.client();
  await installGuest(vcsim, client, 'DC0_C0_RP0_VM0', debian);
  await powerOn(client, await findVm(client, 'DC0_C0_RP0_VM1'));
  await addSataDisk(client, await findVm(client, 'DC0_C0_RP0_VM2'));
  await client.logout();
  const fake = await fakeVddkEnvFor(vcsim);
  const sources = await vcsim.sourcesFile({ insecureSkipVerify: true, thumbprint: fake.thumbprint });
  const mapping = join(work, 'mapping.yaml');
  await writeFile(
    mapping,
    'apiVersion: v2v.kubevirt.io/v1alpha1\nkind: ResourceMapping\nmetadata:\n  name: demo\nspec:\n  vmware:\n    networkMappings:\n      - source:\n          name: VM Network\n        target:\n          name: pod\n        type: pod\n      - source:\n          name: DC0_DVPG0\n        target:\n          name: dvpg\n          namespace: default\n        type: multus\n    storageMappings:\n      - source:\n          name: LocalDS_0\n        target:\n          name: standard\n',
  );
  process.stdout.write(`simulated vCenter at ${vcsim.url}\nsources file ${sources}\nmapping ${mapping}\n`);
  v2v(['inventory', '--sources', sources, '--source', 'vc']);
  v2v(['check', '--sources', sources, '--source', 'vc', '--all', '--mapping', mapping]);
  const target = join(work, 'debian');
  process.stdout.write('\n(the conversion runs real virt-v2v; under software emulation it takes a few minutes)\n');
  const code = v2v(['convert', '--sources', sources, '--source', 'vc', '--vm', 'DC0_C0_RP0_VM0', '--mapping', mapping, '--target', target, '--vddk-libdir', fakeVddkDir()], {
    ...fake.env,
    LIBGUESTFS_BACKEND: 'direct',
    LIBGUESTFS_BACKEND_SETTINGS: process.env['LIBGUESTFS_BACKEND_SETTINGS'] ?? 'force_tcg',
  });
  if (code !== 0) process.exitCode = code;
  else process.stdout.write(`\nthe converted disk and the KubeVirt objects are in ${target}\n`);
} finally {
  await vcsim.stop();
}
