import type { Bus, Controller, Disk, Nic, Ref, Snapshot, SourceVm } from '../../src/model.js';
import type { ObjectContent, PropertySpec } from './client.js';
import { asArray, isMoRef, type MoRef, type VimObject, type VimValue } from './xml.js';

// Pure mapping from vim25 property sets to the core SourceVm.

export const VM_PROPERTIES = [
  'name',
  'config.uuid',
  'config.instanceUuid',
  'config.template',
  'config.guestId',
  'config.guestFullName',
  'config.firmware',
  'config.bootOptions',
  'config.hardware.numCPU',
  'config.hardware.numCoresPerSocket',
  'config.hardware.memoryMB',
  'config.hardware.device',
  'config.changeTrackingEnabled',
  'config.extraConfig',
  'runtime.powerState',
  'runtime.connectionState',
  'runtime.host',
  'snapshot',
  'guest.toolsStatus',
  'guest.toolsRunningStatus',
  'guest.guestFullName',
  'guest.hostName',
  'guest.net',
];

export const INVENTORY_SPECS: PropertySpec[] = [
  { type: 'VirtualMachine', pathSet: VM_PROPERTIES },
  { type: 'Datastore', pathSet: ['name'] },
  { type: 'Network', pathSet: ['name'] },
  { type: 'HostSystem', pathSet: ['name', 'parent'] },
  { type: 'ComputeResource', pathSet: ['name'] },
];

export const INVENTORY_TYPES = ['VirtualMachine', 'Datastore', 'Network', 'HostSystem', 'ComputeResource'];

/** Names of the non-VM objects a VM refers to, by moref value. */
export interface Lookup {
  names: Map<string, string>;
  hostParent: Map<string, MoRef>;
}

export function buildLookup(objects: ObjectContent[]): Lookup {
  const names = new Map<string, string>();
  const hostParent = new Map<string, MoRef>();
  for (const o of objects) {
    if (o.obj.type === 'VirtualMachine') continue;
    const name = o.props.get('name');
    if (typeof name === 'string') names.set(`${o.obj.type}:${o.obj.value}`, name);
    // Networks are referenced by value from DVPort backings without their type; keep a typeless key too.
    if (typeof name === 'string') names.set(o.obj.value, name);
    const parent = o.props.get('parent');
    if (o.obj.type === 'HostSystem' && isMoRef(parent)) hostParent.set(o.obj.value, parent);
  }
  return { names, hostParent };
}

export const CONTROLLER_BUS: Record<string, Bus> = {
  VirtualIDEController: 'ide',
  VirtualBusLogicController: 'scsi',
  VirtualLsiLogicController: 'scsi',
  VirtualLsiLogicSASController: 'scsi',
  ParaVirtualSCSIController: 'scsi',
  VirtualAHCIController: 'sata',
  VirtualNVMEController: 'nvme',
  VirtualUSBController: 'usb',
  VirtualUSBXHCIController: 'usb',
};

const NIC_MODELS: Record<string, string> = {
  VirtualE1000: 'e1000',
  VirtualE1000e: 'e1000e',
  VirtualVmxnet: 'vmxnet',
  VirtualVmxnet2: 'vmxnet2',
  VirtualVmxnet3: 'vmxnet3',
  VirtualVmxnet3Vrdma: 'vmxnet3vrdma',
  VirtualPCNet32: 'pcnet32',
  VirtualSriovEthernetCard: 'sriov',
};

/** Device classes the checks look for, recorded by name. */
const NOTABLE_DEVICES = new Set([
  'VirtualPCIPassthrough',
  'VirtualSriovEthernetCard',
  'VirtualSCSIPassthrough',
  'VirtualUSB',
  'VirtualUSBController',
  'VirtualUSBXHCIController',
  'VirtualTPM',
  'VirtualNVDIMM',
  'VirtualSerialPort',
  'VirtualParallelPort',
  'VirtualFloppy',
]);

function str(v: VimValue | undefined): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
function num(v: VimValue | undefined): number | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}
function bool(v: VimValue | undefined): boolean {
  return v === 'true';
}
function obj(v: VimValue | undefined): VimObject | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isMoRef(v) ? (v as VimObject) : undefined;
}

const normalizeMac = (mac: string): string => mac.trim().toLowerCase().replace(/-/g, ':');

/**
 * The addresses VMware Tools reports (`guest.net`, one GuestNicInfo per NIC),
 * keyed by the NIC's device key (`deviceConfigId`) and by its MAC: ipConfig
 * holds every address, the older ipAddress list only some.
 */
function reportedAddresses(net: VimValue | undefined): Map<string, string[]> {
  const byNic = new Map<string, string[]>();
  for (const item of asArray(net as VimValue[] | VimValue | undefined)) {
    const info = obj(item);
    if (!info) continue;
    const fromConfig = asArray(obj(info['ipConfig'])?.['ipAddress'] as VimValue[] | VimValue | undefined).map((a) => str(obj(a)?.['ipAddress']));
    const plain = asArray(info['ipAddress'] as VimValue[] | VimValue | undefined).map((a) => str(a));
    const addresses = [...new Set([...fromConfig, ...plain].filter((a) => a !== undefined))];
    if (!addresses.length) continue;
    const key = num(info['deviceConfigId']);
    // -1 is Tools' "not a VM device" (a bridge, a container's veth).
    if (key !== undefined && key >= 0) byNic.set(String(key), addresses);
    const mac = str(info['macAddress']);
    if (mac) byNic.set(normalizeMac(mac), addresses);
  }
  return byNic;
}

export function normalizePowerState(s: string | undefined): SourceVm['powerState'] {
  switch (s) {
    case 'poweredOn':
      return 'on';
    case 'poweredOff':
      return 'off';
    case 'suspended':
      return 'suspended';
    default:
      return 'unknown';
  }
}

function flattenSnapshots(trees: VimValue | undefined, parentId?: string): Snapshot[] {
  const out: Snapshot[] = [];
  for (const t of asArray(trees as VimValue[] | VimValue | undefined)) {
    const tree = obj(t);
    if (!tree) continue;
    const ref = tree['snapshot'];
    const id = isMoRef(ref) ? ref.value : String(tree['id'] ?? '');
    out.push({
      id,
      name: str(tree['name']) ?? id,
      ...(str(tree['description']) ? { description: str(tree['description'])! } : {}),
      ...(str(tree['createTime']) ? { createdAt: str(tree['createTime'])! } : {}),
      ...(parentId ? { parentId } : {}),
    });
    out.push(...flattenSnapshots(tree['childSnapshotList'], id));
  }
  return out;
}

export function toSourceVm(o: ObjectContent, lookup: Lookup): SourceVm {
  const p = (path: string) => o.props.get(path);
  const devices = asArray(p('config.hardware.device') as VimValue[] | undefined)
    .map(obj)
    .filter((d): d is VimObject => !!d);
  const extraConfig = new Map<string, string>();
  for (const e of asArray(p('config.extraConfig') as VimValue[] | undefined)) {
    const kv = obj(e);
    if (kv && str(kv['key'])) extraConfig.set(str(kv['key'])!, String(kv['value'] ?? ''));
  }

  const controllers: Controller[] = [];
  const controllerByKey = new Map<string, Controller>();
  for (const d of devices) {
    const type = d._type ?? '';
    const bus = CONTROLLER_BUS[type];
    if (!bus) continue;
    const c: Controller = {
      key: String(d['key']),
      bus,
      model: type,
      ...(num(d['busNumber']) !== undefined ? { busNumber: num(d['busNumber'])! } : {}),
      ...(str(d['sharedBus']) ? { sharing: str(d['sharedBus'])! } : {}),
    };
    controllers.push(c);
    controllerByKey.set(c.key, c);
  }
  // Controllers v2v does not know are still controllers of some disk; keep their names.
  const otherControllers = new Map<string, string>();
  for (const d of devices) if (/Controller$/.test(d._type ?? '') && !controllerByKey.has(String(d['key']))) otherControllers.set(String(d['key']), d._type!);

  const disks: Disk[] = [];
  for (const d of devices.filter((x) => x._type === 'VirtualDisk')) {
    const backing = obj(d['backing']) ?? {};
    const controllerKey = String(d['controllerKey'] ?? '');
    const controller = controllerByKey.get(controllerKey);
    const unitNumber = num(d['unitNumber']);
    const capacityBytes = num(d['capacityInBytes']) ?? (num(d['capacityInKB']) ?? 0) * 1024;
    const dsRef = backing['datastore'];
    const ds: Ref | undefined = isMoRef(dsRef)
      ? { id: dsRef.value, name: lookup.names.get(`Datastore:${dsRef.value}`) ?? datastoreFromFile(str(backing['fileName'])) ?? dsRef.value }
      : undefined;
    const backingType = backing._type ?? '';
    const rdm = /RawDiskMapping/.test(backingType)
      ? {
          mode: (str(backing['compatibilityMode']) === 'physicalMode' ? 'physical' : 'virtual') as 'physical' | 'virtual',
          ...(str(backing['lunUuid']) ? { lunUuid: str(backing['lunUuid'])! } : {}),
        }
      : undefined;
    const sharing = str(backing['sharing']);
    const ctk =
      controller?.busNumber !== undefined && unitNumber !== undefined ? extraConfig.get(`${ctkPrefix(controller.bus)}${controller.busNumber}:${unitNumber}.ctkEnabled`) : undefined;
    disks.push({
      key: String(d['key']),
      name: str(obj(d['deviceInfo'])?.['label']) ?? `disk-${String(d['key'])}`,
      capacityBytes,
      controller: controller
        ? { bus: controller.bus, model: controller.model, key: controller.key }
        : { bus: 'scsi', model: otherControllers.get(controllerKey) ?? 'unknown', key: controllerKey },
      ...(unitNumber !== undefined ? { unitNumber } : {}),
      ...(str(backing['fileName']) ? { file: str(backing['fileName'])! } : {}),
      ...(ds ? { datastore: ds } : {}),
      ...(str(backing['diskMode']) ? { mode: str(backing['diskMode'])! } : {}),
      shared: sharing !== undefined && sharing !== 'sharingNone',
      ...(rdm ? { rdm } : {}),
      ...(backing['thinProvisioned'] !== undefined ? { thin: bool(backing['thinProvisioned']) } : {}),
      ...(ctk !== undefined ? { changeTracking: ctk.toLowerCase() === 'true' } : {}),
      format: 'vmdk',
    });
  }

  const guestIps = reportedAddresses(p('guest.net'));
  const nics: Nic[] = [];
  for (const d of devices) {
    const model = NIC_MODELS[d._type ?? ''];
    if (!model) continue;
    const backing = obj(d['backing']) ?? {};
    let network: Nic['network'];
    const port = obj(backing['port']);
    if (port) {
      const key = str(port['portgroupKey']) ?? '';
      network = { id: key, name: lookup.names.get(key) ?? key, kind: 'DistributedVirtualPortgroup' };
    } else if (str(backing['opaqueNetworkId'])) {
      const id = str(backing['opaqueNetworkId'])!;
      network = { id, name: lookup.names.get(id) ?? id, kind: 'OpaqueNetwork' };
    } else {
      const ref = backing['network'];
      const id = isMoRef(ref) ? ref.value : undefined;
      network = { ...(id ? { id } : {}), name: str(backing['deviceName']) ?? (id ? (lookup.names.get(id) ?? id) : ''), kind: 'Network' };
    }
    const connectable = obj(d['connectable']);
    const slot = num(obj(d['slotInfo'])?.['pciSlotNumber']);
    const reported = guestIps.get(String(d['key'])) ?? guestIps.get(normalizeMac(str(d['macAddress']) ?? ''));
    nics.push({
      key: String(d['key']),
      name: str(obj(d['deviceInfo'])?.['label']) ?? `nic-${String(d['key'])}`,
      mac: (str(d['macAddress']) ?? '').toLowerCase(),
      model,
      network,
      ...(connectable ? { connected: bool(connectable['connected']) || bool(connectable['startConnected']) } : {}),
      ...(slot !== undefined ? { pciSlot: slot } : {}),
      ...(reported ? { guestIps: reported } : {}),
    });
  }

  const hostRef = p('runtime.host');
  const host: Ref | undefined = isMoRef(hostRef) ? { id: hostRef.value, name: lookup.names.get(`HostSystem:${hostRef.value}`) ?? hostRef.value } : undefined;
  const parent = host ? lookup.hostParent.get(host.id) : undefined;
  const cluster: Ref | undefined =
    parent && parent.type === 'ClusterComputeResource'
      ? { id: parent.value, name: lookup.names.get(`ClusterComputeResource:${parent.value}`) ?? lookup.names.get(parent.value) ?? parent.value }
      : undefined;

  const numCpu = num(p('config.hardware.numCPU')) ?? 1;
  const cores = Math.max(1, num(p('config.hardware.numCoresPerSocket')) ?? 1);
  const deviceNames = [...new Set(devices.map((d) => d._type ?? '').filter((t) => NOTABLE_DEVICES.has(t)))].sort();
  const bootOptions = obj(p('config.bootOptions'));
  const guestId = str(p('config.guestId')) ?? '';

  return {
    id: o.obj.value,
    name: str(p('name')) ?? o.obj.value,
    isTemplate: bool(p('config.template')),
    powerState: normalizePowerState(str(p('runtime.powerState'))),
    os: { sourceId: guestId, name: str(p('config.guestFullName')) ?? str(p('guest.guestFullName')) ?? guestId },
    cpu: { sockets: Math.max(1, Math.floor(numCpu / cores)), coresPerSocket: cores },
    memoryMiB: num(p('config.hardware.memoryMB')) ?? 0,
    firmware: str(p('config.firmware')) === 'efi' ? 'efi' : 'bios',
    secureBoot: bool(bootOptions?.['efiSecureBootEnabled']),
    disks,
    controllers,
    nics,
    snapshots: flattenSnapshots(obj(p('snapshot'))?.['rootSnapshotList']),
    source: {
      type: 'vsphere',
      moref: o.obj.value,
      ...(str(p('config.uuid')) ? { uuid: str(p('config.uuid'))! } : {}),
      ...(str(p('config.instanceUuid')) ? { instanceUuid: str(p('config.instanceUuid'))! } : {}),
      ...(host ? { host } : {}),
      ...(cluster ? { cluster } : {}),
      changeTrackingEnabled: bool(p('config.changeTrackingEnabled')),
      ...(str(p('guest.toolsStatus')) ? { toolsStatus: str(p('guest.toolsStatus'))! } : {}),
      ...(str(p('guest.toolsRunningStatus')) ? { toolsRunningStatus: str(p('guest.toolsRunningStatus'))! } : {}),
      devices: deviceNames,
      tpm: deviceNames.includes('VirtualTPM'),
      ...(str(p('runtime.connectionState')) ? { connectionState: str(p('runtime.connectionState'))! } : {}),
      ...(str(p('guest.hostName')) ? { guestHostName: str(p('guest.hostName'))! } : {}),
      // An inaccessible or orphaned VM has no config: no devices is then unknown, not "no disks, no passthrough".
      ...(o.props.has('config.hardware.device') ? {} : { unreported: ['config.hardware.device'] }),
    },
  };
}

function ctkPrefix(bus: Bus): string {
  return bus === 'sata' ? 'sata' : bus === 'ide' ? 'ide' : bus === 'nvme' ? 'nvme' : 'scsi';
}

function datastoreFromFile(file: string | undefined): string | undefined {
  return file?.match(/^\[([^\]]+)\]/)?.[1];
}
