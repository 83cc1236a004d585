// The README's first command: a simulated vCenter (the vcsim test peer) with a
// few VMs in the states a real migration meets, and v2v run against it.
import { spawnSync } from 'node:child_process';
import type { VimClient } from '../adapters/vsphere/client.js';
import type { MoRef } from '../adapters/vsphere/xml.js';
import { REPO } from '../test/helpers/peers.js';
import { startVcsim } from '../test/helpers/vcsim.js';

async function task(client: VimClient, method: string, vm: MoRef, args = ''): Promise<void> {
  await client.waitForTask((await client.invoke(method, vm, args)) as MoRef);
}

async function vmsByName(client: VimClient): Promise<Map<string, MoRef>> {
  const view = await client.createContainerView(client.serviceContent.rootFolder, ['VirtualMachine']);
  const out = new Map<string, MoRef>();
  for await (const page of client.retrieveFromView(view, [{ type: 'VirtualMachine', pathSet: ['name'] }])) {
    for (const o of page) out.set(String(o.props.get('name')), o.obj);
  }
  await client.destroyView(view);
  return out;
}

function v2v(args: string[]): number {
  process.stdout.write(`\n$ v2v ${args.join(' ')}\n`);
  const res = spawnSync(process.execPath, [`${REPO}bin/v2v.js`, ...args], { stdio: 'inherit', env: { ...process.env, V2V_LOG_LEVEL: 'warn' } });
  return res.status ?? 1;
}

const vcsim = await startVcsim({ dc: 1, cluster: 1, host: 2, standaloneHost: 1, vm: 2, autostart: true });
try {
  const client = await vcsim.client();
  const vm = await vmsByName(client);
  // Power off two VMs (a migration needs them off) and give one a SATA disk.
  await task(client, 'PowerOffVM_Task', vm.get('DC0_H0_VM0')!);
  await task(client, 'PowerOffVM_Task', vm.get('DC0_C0_RP0_VM0')!);
  await task(
    client,
    'ReconfigVM_Task',
    vm.get('DC0_C0_RP0_VM0')!,
    '<spec><deviceChange><operation>add</operation><device xsi:type="VirtualAHCIController"><key>-100</key><busNumber>0</busNumber></device></deviceChange>' +
      '<deviceChange><operation>add</operation><fileOperation>create</fileOperation><device xsi:type="VirtualDisk"><key>-101</key><backing xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName></fileName><diskMode>persistent</diskMode><thinProvisioned>true</thinProvisioned></backing><controllerKey>-100</controllerKey><unitNumber>0</unitNumber><capacityInKB>1048576</capacityInKB></device></deviceChange></spec>',
  );
  await client.logout();
  const sources = await vcsim.sourcesFile();
  process.stdout.write(`simulated vCenter at ${vcsim.url}; sources file ${sources}\n`);
  const code = v2v(['inventory', '--sources', sources, '--source', 'vc']);
  if (code !== 0) process.exitCode = code;
} finally {
  await vcsim.stop();
}
