// The shapes v2v emits: the parts of kubevirt.io/v1 VirtualMachine and
// cdi.kubevirt.io/v1beta1 DataVolume it fills. Tests validate them against the
// upstream OpenAPI schemas.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export type DataVolumeSource =
  | { vddk: { backingFile?: string; uuid?: string; url: string; secretRef: string; thumbprint?: string; initImageURL?: string } }
  | { imageio: { url: string; diskId: string; secretRef: string; certConfigMap?: string } };

export interface DataVolumeSpec {
  source: DataVolumeSource;
  pvc: {
    accessModes: string[];
    volumeMode: 'Filesystem' | 'Block';
    storageClassName?: string;
    resources: { requests: { storage: string } };
  };
}

export interface DataVolumeTemplate {
  apiVersion: 'cdi.kubevirt.io/v1beta1';
  kind: 'DataVolume';
  metadata: ObjectMeta;
  spec: DataVolumeSpec;
}

export type DataVolume = DataVolumeTemplate;

export interface PersistentVolumeClaim {
  apiVersion: 'v1';
  kind: 'PersistentVolumeClaim';
  metadata: ObjectMeta;
  spec: DataVolumeSpec['pvc'];
}

/** A disk's volume: a PVC v2v fills (by claim name), or a DataVolume CDI fills. */
export type VmVolume =
  { name: string; persistentVolumeClaim: { claimName: string } } | { name: string; dataVolume: { name: string } } | { name: string; cloudInitNoCloud: { userData: string } };

export type VmDisk = { name: string; bootOrder?: number; serial?: string } & ({ disk: { bus: 'virtio' | 'sata' | 'scsi' } } | { cdrom: { bus: 'sata' | 'scsi' } });

export interface VmInterface {
  name: string;
  model?: string;
  macAddress?: string;
  masquerade?: Record<string, never>;
  bridge?: Record<string, never>;
  sriov?: Record<string, never>;
}

export interface VmNetwork {
  name: string;
  pod?: Record<string, never>;
  multus?: { networkName: string };
}

export interface VirtualMachine {
  apiVersion: 'kubevirt.io/v1';
  kind: 'VirtualMachine';
  metadata: ObjectMeta;
  spec: {
    runStrategy: 'Always' | 'Halted';
    instancetype?: { kind: 'VirtualMachineClusterInstancetype'; name: string };
    preference?: { kind: 'VirtualMachineClusterPreference'; name: string };
    dataVolumeTemplates?: DataVolumeTemplate[];
    template: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: {
        domain: {
          cpu?: { sockets: number; cores: number; threads: number };
          memory?: { guest: string };
          machine: { type: string };
          firmware: { bootloader: { bios: Record<string, never> } | { efi: { secureBoot: boolean } } };
          features?: { smm: { enabled: boolean } };
          devices: { disks: VmDisk[]; interfaces: VmInterface[] };
        };
        networks: VmNetwork[];
        volumes: VmVolume[];
      };
    };
  };
}
