import type { VimClient } from '../../adapters/vsphere/client.js';
import { escapeXml, isMoRef, type MoRef } from '../../adapters/vsphere/xml.js';

// Arrange-helpers for vcsim test cases, through real vim25 calls (the same SOAP
// a vCenter takes). Each waits for its task to finish.

export async function findVm(client: VimClient, name: string): Promise<MoRef> {
  const view = await client.createContainerView(client.serviceContent.rootFolder, ['VirtualMachine']);
  try {
    for await (const page of client.retrieveFromView(view, [{ type: 'VirtualMachine', pathSet: ['name'] }])) {
      const hit = page.find((o) => o.props.get('name') === name);
      if (hit) return hit.obj;
    }
  } finally {
    await client.destroyView(view).catch(() => undefined);
  }
  throw new Error(`no VM named ${name} in vcsim`);
}

async function runTask(client: VimClient, method: string, vm: MoRef, argsXml = ''): Promise<void> {
  const task = await client.invoke(method, vm, argsXml);
  if (!isMoRef(task)) throw new Error(`${method} returned no task`);
  await client.waitForTask(task);
}

export const powerOff = (client: VimClient, vm: MoRef) => runTask(client, 'PowerOffVM_Task', vm);
export const powerOn = (client: VimClient, vm: MoRef) => runTask(client, 'PowerOnVM_Task', vm);

export function reconfigure(client: VimClient, vm: MoRef, specInnerXml: string): Promise<void> {
  return runTask(client, 'ReconfigVM_Task', vm, `<spec>${specInnerXml}</spec>`);
}

export function setGuestId(client: VimClient, vm: MoRef, guestId: string): Promise<void> {
  return reconfigure(client, vm, `<guestId>${escapeXml(guestId)}</guestId>`);
}

/**
 * What VMware Tools would report as the guest's address on its first NIC
 * (`guest.net[0].ipAddress`): vcsim takes it as the extraConfig key
 * `SET.guest.ipAddress`.
 */
export function setReportedGuestIp(client: VimClient, vm: MoRef, ip: string): Promise<void> {
  return reconfigure(client, vm, `<extraConfig><key>SET.guest.ipAddress</key><value xsi:type="xsd:string">${escapeXml(ip)}</value></extraConfig>`);
}

export function createSnapshot(client: VimClient, vm: MoRef, name = 'snap-1'): Promise<void> {
  return runTask(client, 'CreateSnapshot_Task', vm, `<name>${escapeXml(name)}</name><memory>false</memory><quiesce>false</quiesce>`);
}

export type ControllerType = 'VirtualAHCIController' | 'VirtualNVMEController' | 'ParaVirtualSCSIController' | 'VirtualLsiLogicController';

/**
 * Adds a new controller of `controllerType` and a new thin disk of `capacityKiB`
 * on it, in one ReconfigVM_Task (the controller gets the temporary key -100).
 */
export function addDisk(client: VimClient, vm: MoRef, controllerType: ControllerType, options: { capacityKiB?: number; busNumber?: number } = {}): Promise<void> {
  const scsi = controllerType === 'ParaVirtualSCSIController' || controllerType === 'VirtualLsiLogicController';
  const controller =
    `<deviceChange><operation>add</operation><device xsi:type="${controllerType}"><key>-100</key>` +
    `<busNumber>${options.busNumber ?? (scsi ? 3 : 0)}</busNumber>${scsi ? '<sharedBus>noSharing</sharedBus>' : ''}</device></deviceChange>`;
  const disk =
    '<deviceChange><operation>add</operation><fileOperation>create</fileOperation><device xsi:type="VirtualDisk"><key>-101</key>' +
    '<backing xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName></fileName><diskMode>persistent</diskMode><thinProvisioned>true</thinProvisioned></backing>' +
    `<controllerKey>-100</controllerKey><unitNumber>0</unitNumber><capacityInKB>${options.capacityKiB ?? 1024}</capacityInKB></device></deviceChange>`;
  return reconfigure(client, vm, controller + disk);
}

export const addSataDisk = (client: VimClient, vm: MoRef, capacityKiB?: number) => addDisk(client, vm, 'VirtualAHCIController', capacityKiB !== undefined ? { capacityKiB } : {});

/** Adds an e1000 NIC on a standard port group (by name, e.g. vcsim's "VM Network"). */
export function addNic(client: VimClient, vm: MoRef, networkName: string): Promise<void> {
  return reconfigure(
    client,
    vm,
    '<deviceChange><operation>add</operation><device xsi:type="VirtualE1000"><key>-200</key>' +
      `<backing xsi:type="VirtualEthernetCardNetworkBackingInfo"><deviceName>${escapeXml(networkName)}</deviceName></backing>` +
      '<addressType>generated</addressType></device></deviceChange>',
  );
}
