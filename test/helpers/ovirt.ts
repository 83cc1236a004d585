// The oVirt test peer (a fake engine + imageio daemon on loopback); see test/peers/ovirt/README.md.
export { startOvirtFake, type OvirtFake, type OvirtFakeOptions, type ImageioFault, type LoggedRequest, type FakeTransfer } from '../peers/ovirt/server.js';
export { DOWNLOAD_DISK_ID, IDS, OMISSIONS, addOmissionVms, buildVm, defaultInventory, uid, type Omission } from '../peers/ovirt/fixtures.js';

/** A ResourceMapping for VMs built with buildVm's defaults: their NIC (profile vm-net) to the pod network, storage domain `data` to "standard". */
export const OVIRT_VM_MAPPING = `apiVersion: v2v.kubevirt.io/v1alpha1
kind: ResourceMapping
metadata:
  name: rhv
  namespace: default
spec:
  ovirt:
    networkMappings:
      - source:
          name: vm-net/vm-net
        target:
          name: pod
        type: pod
    storageMappings:
      - source:
          name: data
        target:
          name: standard
`;
