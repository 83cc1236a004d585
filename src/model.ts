// The core model every source adapter fills. Checks, mappings and manifests
// read only these types, never an adapter's own shapes.

export type PowerState = 'on' | 'off' | 'suspended' | 'unknown';
export type Bus = 'ide' | 'scsi' | 'sata' | 'nvme' | 'virtio' | 'usb';
export type Firmware = 'bios' | 'efi';
export type SourceType = 'vsphere' | 'ovirt';

export interface Ref {
  id: string;
  name: string;
}

export interface Controller {
  /** The source's device key (vSphere) or a synthetic key (oVirt interface). */
  key: string;
  bus: Bus;
  /** The source's own model name, e.g. `ParaVirtualSCSIController`, `VirtualAHCIController`, `virtio_scsi`. */
  model: string;
  busNumber?: number;
  /** vSphere SCSI bus sharing (`noSharing`, `virtualSharing`, `physicalSharing`). */
  sharing?: string;
}

export interface Disk {
  /** vSphere device key or oVirt disk id. */
  key: string;
  name?: string;
  capacityBytes: number;
  /** Bus and model are absent when the source did not report them (an oVirt attachment without `interface`). */
  controller: { bus?: Bus; model?: string; key?: string };
  unitNumber?: number;
  /** vSphere backing file, e.g. `[LocalDS_0] vm1/vm1.vmdk`. */
  file?: string;
  /** vSphere datastore or oVirt storage domain. */
  datastore?: Ref;
  /** persistent | independent_persistent | independent_nonpersistent | nonpersistent | … */
  mode?: string;
  shared: boolean;
  /** Raw device mapping (vSphere) — physical or virtual compatibility. */
  rdm?: { mode: 'physical' | 'virtual'; lunUuid?: string };
  /** Direct LUN (oVirt `storage_type: lun`). */
  lun?: boolean;
  /** oVirt disk status (ok | illegal | locked); vSphere disks have none. */
  status?: string;
  thin?: boolean;
  changeTracking?: boolean;
  bootable?: boolean;
  readOnly?: boolean;
  /** The source's disk format (vSphere: vmdk; oVirt: raw | cow). */
  format?: string;
  /** Bytes actually used on the source, where the source says. */
  allocatedBytes?: number;
  /** Facts only one source has; checks narrow on `source` of the VM. */
  ovirt?: OvirtDiskFacts;
}

/** A fact the engine did not report stays absent: the checks then say they could not decide. */
export interface OvirtDiskFacts {
  interface?: string;
  storageType?: string;
  usesScsiReservation?: boolean;
  passDiscard?: boolean;
  logicalName?: string;
  sgio?: string;
  backup?: string;
  provisionedBytes?: number;
  actualBytes?: number;
  sparse?: boolean;
  /** Whether the attachment is active (plugged) on the VM. */
  active?: boolean;
  /** The disk's alias (its name in the engine UI). */
  alias?: string;
}

export interface Nic {
  key?: string;
  name?: string;
  mac: string;
  /** vmxnet3 | e1000 | e1000e | pcnet32 | virtio | rtl8139 | sriov | …; absent when the source did not report it. */
  model?: string;
  network: { id?: string; name: string; kind?: string };
  connected?: boolean;
  /** PCI slot where the source reports one; used to order NIC renaming. */
  pciSlot?: number;
  /** Addresses the guest reports on this NIC (VMware Tools, the oVirt guest agent), as the source gives them; absent when it reports none. */
  guestIps?: string[];
  ovirt?: OvirtNicFacts;
}

export interface OvirtNicFacts {
  /** The oVirt NIC `interface` as the engine reports it (virtio, e1000, rtl8139, pci_passthrough, …). */
  interface?: string;
  plugged: boolean;
  linked?: boolean;
  /** The vNIC profile's pass-through mode (`enabled` means SR-IOV). */
  passThrough?: string;
  vnicProfile?: Ref;
  portMirroring?: boolean;
  networkFilter?: string;
  qos?: string;
  customProperties?: Record<string, string>;
}

export interface Snapshot {
  id: string;
  name: string;
  description?: string;
  createdAt?: string;
  /** oVirt snapshot type (regular | active | preview | stateless) */
  type?: string;
  /** oVirt snapshot status (ok | locked | in_preview) */
  status?: string;
  parentId?: string;
}

export interface OsInfo {
  /** vSphere guestId (e.g. `rhel7_64Guest`) or oVirt `os.type` (e.g. `rhel_8x64`). */
  sourceId: string;
  name: string;
}

export interface VsphereFacts {
  type: 'vsphere';
  moref: string;
  uuid?: string;
  instanceUuid?: string;
  host?: Ref;
  cluster?: Ref;
  datacenter?: string;
  changeTrackingEnabled: boolean;
  toolsStatus?: string;
  toolsRunningStatus?: string;
  /** Device class names present that checks care about (passthrough, USB, TPM, …). */
  devices: string[];
  tpm: boolean;
  connectionState?: string;
  guestHostName?: string;
  /** Properties vSphere did not return (e.g. `config.hardware.device` of an inaccessible VM): the lists above are unknown, not empty. */
  unreported?: string[];
}

/** What the engine reported of a VM; an optional fact it did not report stays absent. */
export interface OvirtFacts {
  type: 'ovirt';
  status: string;
  cluster?: Ref;
  guestAgent?: { distribution?: string; version?: string };
  usbEnabled?: boolean;
  placementAffinity?: string;
  ioThreads?: number;
  numaTuneMode?: string;
  origin?: string;
  watchdogs: { model?: string; action?: string }[];
  /** Host devices passed through; `vgpu` marks mediated devices (capability mdev or an mdev type). */
  hostDevices: { name: string; capability?: string; mdevType?: string; vgpu?: boolean }[];
  /** VMs only: templates have no such field. */
  hasIllegalImages?: boolean;
  migratable?: boolean;
  /** The VM's own bios type (cluster_default resolved through the cluster): i440fx_sea_bios | q35_sea_bios | q35_ovmf | q35_secure_boot. */
  biosType?: string;
  /** CPU threads per core (cpu.topology.threads). */
  threadsPerCore?: number;
  stateless?: boolean;
  /** The VM's custom properties (e.g. `mdev_type`, `sap_agent`). */
  customProperties?: Record<string, string>;
  /**
   * What the engine did not report, by its API name (`disk_attachments`, `nics`, `snapshots`, `watchdogs`,
   * `host_devices`, `bios.type`, …): the lists above are then empty because they are unknown, not because
   * the VM has none.
   */
  unreported?: string[];
}

export interface SourceVm {
  id: string;
  name: string;
  isTemplate: boolean;
  powerState: PowerState;
  os: OsInfo;
  cpu: { sockets: number; coresPerSocket: number };
  memoryMiB: number;
  firmware: Firmware;
  secureBoot: boolean;
  disks: Disk[];
  controllers: Controller[];
  nics: Nic[];
  snapshots: Snapshot[];
  source: VsphereFacts | OvirtFacts;
}

export type Category = 'Critical' | 'Warning' | 'Information';

/** One finding of a dry-run check (SPEC §4.4). */
export interface Concern {
  id: string;
  category: Category;
  label: string;
  assessment: string;
  hint: string;
}

/** SPEC §4.1 exit codes. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  critical: 3,
  interrupted: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
