import { describe, expect, it } from 'vitest';
import { flatExtentOf, parseDatastorePath } from '../../adapters/vsphere/datastore.js';

const descriptor = (createType: string, extents: string[], parentCID = 'ffffffff') =>
  ['# Disk DescriptorFile', 'version=1', 'CID=fffffffe', `parentCID=${parentCID}`, `createType="${createType}"`, '', '# Extent description', ...extents, ''].join('\n');

describe('which VMDKs the datastore transport reads', () => {
  it('a VMFS flat disk (thick or thin) and a monolithicFlat disk: their one extent, sized from its sectors', () => {
    expect(flatExtentOf(descriptor('vmfs', ['RW 2048 VMFS "vm-flat.vmdk"']), '[ds] vm/vm.vmdk')).toEqual({ fileName: 'vm-flat.vmdk', size: 2048 * 512 });
    expect(flatExtentOf(descriptor('monolithicFlat', ['RW 4096 FLAT "vm-flat.vmdk" 0']), '[ds] vm/vm.vmdk')).toEqual({ fileName: 'vm-flat.vmdk', size: 4096 * 512 });
  });

  it.each([
    ['a delta in a snapshot chain', descriptor('vmfsSparse', ['RW 2048 VMFSSPARSE "vm-000001-delta.vmdk"'], '1a2b3c4d'), /a delta disk in a snapshot chain/],
    ['a sesparse disk', descriptor('seSparse', ['RW 2048 SESPARSE "vm-sesparse.vmdk"']), /a "seSparse" disk/],
    ['a virtual-mode RDM', descriptor('vmfsRawDeviceMap', ['RW 2048 VMFSRDM "vm-rdm.vmdk"']), /a "vmfsRawDeviceMap" disk/],
    ['a physical-mode RDM', descriptor('vmfsPassthroughRawDeviceMap', ['RW 2048 VMFSRDM "vm-rdmp.vmdk"']), /a "vmfsPassthroughRawDeviceMap" disk/],
    ['a split flat disk', descriptor('twoGbMaxExtentFlat', ['RW 2048 FLAT "vm-f001.vmdk" 0', 'RW 2048 FLAT "vm-f002.vmdk" 0']), /"twoGbMaxExtentFlat"/],
    ['a flat extent instead of its descriptor', '\0\0\0\0binary', /not a VMDK descriptor/],
  ])('%s is refused as DATASTORE_DISK_UNSUPPORTED, pointing at VDDK', (_what, text, message) => {
    let error: unknown;
    try {
      flatExtentOf(text, '[ds] vm/vm.vmdk');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'DATASTORE_DISK_UNSUPPORTED', message: expect.stringMatching(message), hint: expect.stringContaining('--transport vddk') });
  });

  it('a backing file splits into datastore and path; anything else is refused', () => {
    expect(parseDatastorePath('[LocalDS_0] DC0_C0_RP0_VM0/disk1.vmdk')).toEqual({ datastore: 'LocalDS_0', path: 'DC0_C0_RP0_VM0/disk1.vmdk' });
    expect(parseDatastorePath('[my ds] a b/c.vmdk')).toEqual({ datastore: 'my ds', path: 'a b/c.vmdk' });
    expect(() => parseDatastorePath('/vmfs/volumes/x/vm.vmdk')).toThrow(expect.objectContaining({ code: 'DATASTORE_DISK_UNSUPPORTED' }));
  });
});
