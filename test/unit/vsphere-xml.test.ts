import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ObjectContent } from '../../adapters/vsphere/client.js';
import { buildLookup, toSourceVm } from '../../adapters/vsphere/inventory.js';
import { asArray, decode, readResponse, type VimObject, type VimValue } from '../../adapters/vsphere/xml.js';
import { REPO } from '../helpers/peers.js';

function fixture(name: string): string {
  return readFileSync(`${REPO}test/fixtures/vsphere/${name}`, 'utf8');
}

/** The same decoding the client applies to RetrievePropertiesEx. */
function objectsOf(xml: string): ObjectContent[] {
  const res = readResponse(xml, 'RetrievePropertiesEx');
  if (!res.ok) throw new Error(res.fault.message);
  const rv = res.returnval as VimObject;
  return asArray(rv['objects'] as VimValue[] | VimObject).map((o) => {
    const obj = o as VimObject;
    const props = new Map<string, VimValue>();
    for (const p of asArray(obj['propSet'] as VimObject[] | VimObject)) props.set(String(p['name']), p['val'] ?? '');
    return { obj: obj['obj'] as { type: string; value: string }, props, missing: [] };
  });
}

describe('vim25 XML codec', () => {
  it('reads vcsim (XMLSchema-instance:type) and vCenter (xsi:type) spellings identically', () => {
    const fromVcsim = objectsOf(fixture('vcsim-vm-57.xml'));
    const fromVcenter = objectsOf(fixture('vcenter-style-vm-57.xml'));
    expect(fixture('vcsim-vm-57.xml')).toContain('XMLSchema-instance:type=');
    expect(fixture('vcenter-style-vm-57.xml')).not.toContain('XMLSchema-instance:type=');
    const a = toSourceVm(fromVcsim[0]!, buildLookup(fromVcsim));
    const b = toSourceVm(fromVcenter[0]!, buildLookup(fromVcenter));
    expect(a).toEqual(b);
    expect(a.disks[0]?.controller).toEqual({ bus: 'scsi', model: 'ParaVirtualSCSIController', key: '202' });
    expect(a.powerState).toBe('on');
  });

  it('keeps a moref type apart from the schema type', () => {
    expect(decode({ '@xsiType': 'ManagedObjectReference', '@type': 'HostSystem', '#text': 'host-9' })).toEqual({ type: 'HostSystem', value: 'host-9' });
    expect(decode({ '@xsiType': 'xsd:string', '#text': 'DC0_H0_VM0' })).toBe('DC0_H0_VM0');
  });

  it('turns a SOAP fault into its fault type and message', () => {
    const xml =
      '<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>Login failure</faultstring><detail><InvalidLoginFault xmlns="urn:vim25" xsi:type="InvalidLogin"></InvalidLoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>';
    const res = readResponse(xml, 'Login');
    expect(res).toMatchObject({ ok: false, fault: { faultType: 'InvalidLogin', message: 'Login failure' } });
  });
});

describe('vSphere inventory mapping (vCenter 8 shaped fixture)', () => {
  const objects = objectsOf(fixture('vcenter8-rich-vm.xml'));
  const vm = toSourceVm(
    objects.find((o) => o.obj.type === 'VirtualMachine')!,
    buildLookup(objects),
  );

  it('maps identity, template, power, guest, CPU, memory and firmware', () => {
    expect(vm).toMatchObject({
      id: 'vm-1042',
      name: 'db-01 & reports',
      isTemplate: true,
      powerState: 'suspended',
      os: { sourceId: 'rhel8_64Guest', name: 'Red Hat Enterprise Linux 8 (64-bit)' },
      cpu: { sockets: 2, coresPerSocket: 4 },
      memoryMiB: 16384,
      firmware: 'efi',
      secureBoot: true,
    });
    expect(vm.source).toMatchObject({
      type: 'vsphere',
      instanceUuid: '5003a1b2-0000-4000-8000-00000000abcd',
      changeTrackingEnabled: true,
      toolsStatus: 'toolsOk',
      tpm: true,
      host: { id: 'host-9', name: 'esx-09.example.com' },
      cluster: { id: 'domain-c7', name: 'prod' },
    });
    expect(vm.source.type === 'vsphere' && vm.source.devices).toEqual(['VirtualPCIPassthrough', 'VirtualSriovEthernetCard', 'VirtualTPM']);
  });

  it('maps each disk to its controller bus, backing, mode, sharing, RDM and CBT', () => {
    expect(vm.disks.map((d) => [d.key, d.controller.bus, d.controller.model])).toEqual([
      ['16000', 'sata', 'VirtualAHCIController'],
      ['16001', 'nvme', 'VirtualNVMEController'],
      ['2000', 'scsi', 'VirtualLsiLogicSASController'],
    ]);
    expect(vm.disks[0]).toMatchObject({
      capacityBytes: 42949672960,
      file: '[ds-ssd-01] db-01/db-01.vmdk',
      datastore: { id: 'datastore-31', name: 'ds-ssd-01' },
      mode: 'persistent',
      shared: false,
      thin: true,
      changeTracking: true,
    });
    expect(vm.disks[1]).toMatchObject({ capacityBytes: 1073741824, mode: 'independent_persistent', shared: true, changeTracking: false });
    expect(vm.disks[2]).toMatchObject({ rdm: { mode: 'physical', lunUuid: '0200000000600508b1' }, capacityBytes: 10737418240 });
    expect(vm.controllers.find((c) => c.key === '1000')?.sharing).toBe('physicalSharing');
  });

  it('maps NICs with lower-case MAC, model and network', () => {
    expect(vm.nics).toEqual([
      {
        key: '4000',
        name: 'Network adapter 1',
        mac: '00:50:56:ab:cd:ef',
        model: 'vmxnet3',
        network: { id: 'network-12', name: 'VM Network', kind: 'Network' },
        connected: true,
        pciSlot: 192,
      },
      { key: '4001', name: 'nic-4001', mac: '00:50:56:00:00:02', model: 'sriov', network: { id: 'ls-42', name: 'ls-42', kind: 'OpaqueNetwork' } },
    ]);
  });

  it('flattens the snapshot tree', () => {
    expect(vm.snapshots).toEqual([
      { id: 'snapshot-1', name: 'before patch', createdAt: '2026-01-02T03:04:05Z' },
      { id: 'snapshot-2', name: 'after patch', createdAt: '2026-01-03T03:04:05Z', parentId: 'snapshot-1' },
    ]);
  });
});
