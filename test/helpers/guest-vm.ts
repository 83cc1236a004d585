import { existsSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { VimClient } from '../../adapters/vsphere/client.js';
import { VsphereSource } from '../../adapters/vsphere/index.js';
import { fetchPresentedCertificate } from '../../src/net/tls.js';
import type { SourceVm } from '../../src/model.js';
import { GUEST_NICS } from '../guest/guest.js';
import { flatDescriptor } from './disk-image.js';
import { fakeVddkEnv } from './fake-vddk.js';
import type { Vcsim } from './vcsim.js';
import { findVm, reconfigure } from './vsphere-ops.js';

/**
 * Turns a vcsim VM into the Debian test guest's VM: its disk grown to the
 * image's size and filled with it on the datastore (thin: holes kept), a
 * Debian guest id, and one vmxnet3 NIC (the guest's first, GUEST_NICS.vmnic0's
 * MAC) that vcsim reports without a PCI slot. Returns the VM as the inventory now sees it.
 */
export async function installGuest(vcsim: Vcsim, client: VimClient, vmName: string, image: string): Promise<SourceVm> {
  const inventory = new VsphereSource('vc', client, undefined, 500);
  const find = async () => (await inventory.listVms()).find((v) => v.name === vmName)!;
  const vm = await find();
  const disk = vm.disks[0]!;
  const nic = vm.nics[0]!;
  const size = statSync(image).size;
  const ref = await findVm(client, vmName);
  await reconfigure(
    client,
    ref,
    `<deviceChange><operation>edit</operation><device xsi:type="VirtualDisk"><key>${disk.key}</key><deviceInfo><label>Hard disk 1</label><summary>guest</summary></deviceInfo>` +
      `<backing xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName>${disk.file}</fileName><diskMode>persistent</diskMode><thinProvisioned>true</thinProvisioned></backing>` +
      `<controllerKey>${disk.controller.key}</controllerKey><unitNumber>${disk.unitNumber ?? 0}</unitNumber><capacityInKB>${size / 1024}</capacityInKB></device></deviceChange>` +
      `<deviceChange><operation>remove</operation><device xsi:type="VirtualE1000"><key>${nic.key}</key><deviceInfo><label>nic</label><summary>nic</summary></deviceInfo></device></deviceChange>` +
      `<deviceChange><operation>add</operation><device xsi:type="VirtualVmxnet3"><key>-300</key><backing xsi:type="VirtualEthernetCardNetworkBackingInfo"><deviceName>VM Network</deviceName></backing>` +
      `<addressType>manual</addressType><macAddress>${GUEST_NICS.vmnic0.mac}</macAddress></device></deviceChange>` +
      '<guestId>debian10_64Guest</guestId>',
  );
  const [, dsName, rel] = /^\[([^\]]+)\] (.+)$/.exec(disk.file!)!;
  const dir = vcsim.datastores.get(dsName!)!;
  const flatRel = rel!.replace(/\.vmdk$/, '-flat.vmdk');
  execFileSync('cp', ['--sparse=always', image, join(dir, flatRel)]);
  writeFileSync(join(dir, rel!), flatDescriptor(flatRel.split('/').pop()!, size));
  if (!existsSync(join(dir, flatRel))) throw new Error('guest disk not on the datastore');
  return find();
}

/** The environment for a child process whose fake VDDK trusts this vcsim (thumbprint, credentials) and serves its datastores. */
export async function fakeVddkEnvFor(vcsim: Vcsim, trace?: string): Promise<{ env: NodeJS.ProcessEnv; thumbprint: string }> {
  const presented = await fetchPresentedCertificate('127.0.0.1', Number(new URL(vcsim.url).port));
  const env = fakeVddkEnv({ datastores: vcsim.datastores, thumbprint: presented.thumbprint, user: vcsim.username, password: vcsim.password, ...(trace ? { trace } : {}) });
  return { env, thumbprint: presented.thumbprint };
}

/** A ResourceMapping for VMs prepared by installGuest: their NIC on "VM Network" to the pod network, LocalDS_0 to "standard". */
export const GUEST_VM_MAPPING = `apiVersion: v2v.kubevirt.io/v1alpha1
kind: ResourceMapping
metadata:
  name: vcsim
  namespace: default
spec:
  vmware:
    networkMappings:
      - source:
          name: VM Network
        target:
          name: pod
        type: pod
    storageMappings:
      - source:
          name: LocalDS_0
        target:
          name: standard
`;
