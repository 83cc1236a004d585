import { describe, expect, it } from 'vitest';
import { busOf, byId, firmwareOf, powerStateOf, resolveBiosType, toSourceVm } from '../../adapters/ovirt/inventory.js';
import { decodeBody, encodeXml, items } from '../../adapters/ovirt/tree.js';
import { readVm } from '../../adapters/ovirt/types.js';

// One VM with a followed disk attachment and an unfollowed NIC profile, in the
// engine's two representations.
const XML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<vms>
  <vm href="/ovirt-engine/api/vms/v1" id="v1">
    <name>web01</name>
    <status>powering_down</status>
    <memory>4294967296</memory>
    <cpu><topology><cores>2</cores><sockets>1</sockets><threads>1</threads></topology></cpu>
    <bios><type>cluster_default</type></bios>
    <cluster href="/ovirt-engine/api/clusters/c1" id="c1"/>
    <custom_properties><custom_property><name>mdev_type</name><value>nvidia-11</value></custom_property></custom_properties>
    <disk_attachments>
      <disk_attachment href="/ovirt-engine/api/vms/v1/diskattachments/d1" id="d1">
        <bootable>true</bootable><interface>virtio</interface><read_only>false</read_only><uses_scsi_reservation>false</uses_scsi_reservation>
        <disk href="/ovirt-engine/api/disks/d1" id="d1">
          <format>cow</format><provisioned_size>21474836480</provisioned_size><actual_size>1073741824</actual_size>
          <status>ok</status><storage_type>image</storage_type><shareable>false</shareable>
          <storage_domains><storage_domain href="/ovirt-engine/api/storagedomains/s1" id="s1"/></storage_domains>
        </disk>
      </disk_attachment>
    </disk_attachments>
    <nics>
      <nic href="/ovirt-engine/api/vms/v1/nics/n1" id="n1">
        <name>nic1</name><interface>virtio</interface><plugged>true</plugged><linked>true</linked>
        <mac><address>56:6F:1A:00:00:01</address></mac>
        <vnic_profile href="/ovirt-engine/api/vnicprofiles/p1" id="p1"/>
      </nic>
    </nics>
    <link href="/ovirt-engine/api/vms/v1/permissions" rel="permissions"/>
  </vm>
</vms>`;

// The same VM as JSON, with a mix of string and native scalars (the engine writes strings; others may not).
const JSON_BODY = JSON.stringify({
  vm: [
    {
      href: '/ovirt-engine/api/vms/v1',
      id: 'v1',
      name: 'web01',
      status: 'powering_down',
      memory: 4294967296,
      cpu: { topology: { cores: '2', sockets: '1', threads: '1' } },
      bios: { type: 'cluster_default' },
      cluster: { href: '/ovirt-engine/api/clusters/c1', id: 'c1' },
      custom_properties: { custom_property: [{ name: 'mdev_type', value: 'nvidia-11' }] },
      disk_attachments: {
        disk_attachment: [
          {
            href: '/ovirt-engine/api/vms/v1/diskattachments/d1',
            id: 'd1',
            bootable: 'true',
            interface: 'virtio',
            read_only: false,
            uses_scsi_reservation: 'false',
            disk: {
              href: '/ovirt-engine/api/disks/d1',
              id: 'd1',
              format: 'cow',
              provisioned_size: '21474836480',
              actual_size: 1073741824,
              status: 'ok',
              storage_type: 'image',
              shareable: 'false',
              storage_domains: { storage_domain: [{ href: '/ovirt-engine/api/storagedomains/s1', id: 's1' }] },
            },
          },
        ],
      },
      nics: {
        nic: [
          {
            href: '/ovirt-engine/api/vms/v1/nics/n1',
            id: 'n1',
            name: 'nic1',
            interface: 'virtio',
            plugged: true,
            linked: 'true',
            mac: { address: '56:6F:1A:00:00:01' },
            vnic_profile: { href: '/ovirt-engine/api/vnicprofiles/p1', id: 'p1' },
          },
        ],
      },
      link: [{ href: '/ovirt-engine/api/vms/v1/permissions', rel: 'permissions' }],
    },
  ],
});

describe('oVirt wire codec', () => {
  it('decodes XML and JSON into the same tree (strings everywhere, lists as containers)', () => {
    const xml = decodeBody(XML, 'application/xml').node;
    const json = decodeBody(JSON_BODY, 'application/json').node;
    expect(xml).toEqual(json);
    expect(items(xml, undefined, 'vm')).toHaveLength(1);
  });

  it('decodes an empty collection in both forms', () => {
    expect(items(decodeBody('<vms/>', 'application/xml').node, undefined, 'vm')).toEqual([]);
    expect(items(decodeBody('{}', 'application/json').node, undefined, 'vm')).toEqual([]);
  });

  it('decodes a fault', () => {
    expect(decodeBody('<fault><reason>Operation Failed</reason><detail>Entity not found: x</detail></fault>', 'application/xml').node).toEqual({
      reason: 'Operation Failed',
      detail: 'Entity not found: x',
    });
  });

  it('encodes a request body with id as an attribute', () => {
    expect(encodeXml('image_transfer', { disk: { id: 'd1' }, direction: 'download', format: 'raw' })).toBe(
      '<image_transfer><disk id="d1"/><direction>download</direction><format>raw</format></image_transfer>',
    );
    expect(encodeXml('action', {})).toBe('<action/>');
  });
});

describe('oVirt mapping', () => {
  it.each([
    ['down', 'off'],
    ['up', 'on'],
    ['powering_down', 'on'],
    ['migrating', 'on'],
    ['paused', 'suspended'],
    ['suspended', 'suspended'],
    ['image_locked', 'unknown'],
    ['unassigned', 'unknown'],
    [undefined, 'unknown'],
  ] as const)('status %s is power state %s', (status, power) => {
    expect(powerStateOf(status)).toBe(power);
  });

  it.each([
    ['virtio', 'virtio'],
    ['virtio_scsi', 'scsi'],
    ['sata', 'sata'],
    ['ide', 'ide'],
    ['spapr_vscsi', 'scsi'],
  ] as const)('disk interface %s is bus %s', (iface, bus) => {
    expect(busOf(iface)).toBe(bus);
  });

  it('resolves cluster_default through the cluster, and names firmware', () => {
    expect(resolveBiosType('cluster_default', { id: 'c', biosType: 'q35_secure_boot' })).toBe('q35_secure_boot');
    expect(resolveBiosType(undefined, { id: 'c', biosType: 'q35_ovmf' })).toBe('q35_ovmf');
    expect(resolveBiosType('i440fx_sea_bios', { id: 'c', biosType: 'q35_ovmf' })).toBe('i440fx_sea_bios');
    expect(firmwareOf('q35_secure_boot')).toEqual({ firmware: 'efi', secureBoot: true });
    expect(firmwareOf('q35_ovmf')).toEqual({ firmware: 'efi', secureBoot: false });
    expect(firmwareOf('q35_sea_bios')).toEqual({ firmware: 'bios', secureBoot: false });
  });

  it('completes unfollowed references from the lookup lists', () => {
    const vm = readVm(items(decodeBody(XML, 'application/xml').node, undefined, 'vm')[0]!);
    const mapped = toSourceVm(vm, {
      clusters: byId([{ id: 'c1', name: 'prod', biosType: 'q35_ovmf' }]),
      vnicProfiles: byId([{ id: 'p1', name: 'web', network: { id: 'net1' }, portMirroring: true, customProperties: [] }]),
      networks: byId([{ id: 'net1', name: 'frontend' }]),
      storageDomains: byId([{ id: 's1', name: 'fast' }]),
    });
    expect(mapped).toMatchObject({ powerState: 'on', firmware: 'efi', cpu: { sockets: 1, coresPerSocket: 2 }, memoryMiB: 4096 });
    expect(mapped.disks[0]).toMatchObject({
      capacityBytes: 20 * 1024 ** 3,
      allocatedBytes: 1024 ** 3,
      datastore: { id: 's1', name: 'fast' },
      format: 'cow',
      controller: { bus: 'virtio' },
    });
    expect(mapped.nics[0]).toMatchObject({
      mac: '56:6f:1a:00:00:01',
      network: { id: 'net1', name: 'frontend' },
      ovirt: { vnicProfile: { id: 'p1', name: 'web' }, portMirroring: true },
    });
    // A vGPU given as the VM custom property mdev_type counts as a mediated host device.
    expect(mapped.source.type === 'ovirt' && mapped.source.hostDevices).toEqual([{ name: 'mdev_type', capability: 'mdev', mdevType: 'nvidia-11', vgpu: true }]);
  });
});
