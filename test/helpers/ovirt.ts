// The oVirt test peer (a fake engine + imageio daemon on loopback); see test/peers/ovirt/README.md.
export { startOvirtFake, type OvirtFake, type OvirtFakeOptions, type ImageioFault, type LoggedRequest, type FakeTransfer } from '../peers/ovirt/server.js';
export { DOWNLOAD_DISK_ID, IDS, buildVm, defaultInventory, uid } from '../peers/ovirt/fixtures.js';
