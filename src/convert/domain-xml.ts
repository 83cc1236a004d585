// The libvirt domain XML virt-v2v reads with `-i libvirtxml`: what the source
// VM looks like (buses, NIC models and MACs, firmware, CPU, memory) with its
// disks pointing at local files. virt-v2v decides device naming (sda → vda in
// fstab) and the firmware from it, so the buses must be the source's.
import type { Bus, Nic, SourceVm } from '../model.js';
import { escapeXml } from '../xml-text.js';

export type DiskImageFormat = 'raw' | 'qcow2';

export interface DomainDisk {
  /** Absolute path of the file (or block device) virt-v2v opens. */
  path: string;
  format: DiskImageFormat;
  /** Overrides the bus of the matching `SourceVm` disk. */
  bus?: Bus;
  /** A block device rather than a file. */
  block?: boolean;
}

export { escapeXml };

// libvirt target buses and device-name prefixes. libvirt 9 has no nvme disk
// bus; virt-v2v treats any non-virtio source the same way (it re-plugs the
// disk on virtio), so nvme and usb disks are described as sata.
const BUS_TARGET: Record<Bus, { bus: string; prefix: string }> = {
  ide: { bus: 'ide', prefix: 'hd' },
  scsi: { bus: 'scsi', prefix: 'sd' },
  sata: { bus: 'sata', prefix: 'sd' },
  nvme: { bus: 'sata', prefix: 'sd' },
  usb: { bus: 'sata', prefix: 'sd' },
  virtio: { bus: 'virtio', prefix: 'vd' },
};

/** `0 → a`, `25 → z`, `26 → aa`: the kernel's disk suffixes. */
export function driveSuffix(index: number): string {
  let n = index;
  let suffix = '';
  do {
    suffix = String.fromCharCode(97 + (n % 26)) + suffix;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return suffix;
}

// Source NIC model → libvirt <model type>. virt-v2v only needs to know it is
// not virtio; unknown models are left out (libvirt's default).
const NIC_MODEL: Record<string, string> = {
  vmxnet3: 'vmxnet3',
  e1000: 'e1000',
  e1000e: 'e1000e',
  pcnet32: 'pcnet',
  virtio: 'virtio',
  rtl8139: 'rtl8139',
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Domain names: libvirt refuses `/` and names must not be empty. */
function domainName(vm: SourceVm): string {
  const name = vm.name.replace(/\//g, '_').trim();
  return name || `vm-${vm.id}`;
}

function nicXml(nic: Nic): string {
  const model = nic.model ? NIC_MODEL[nic.model] : undefined;
  return [
    "    <interface type='network'>",
    `      <mac address='${escapeXml(nic.mac.toLowerCase())}'/>`,
    `      <source network='${escapeXml(nic.network.name || 'default')}'/>`,
    ...(model ? [`      <model type='${model}'/>`] : []),
    '    </interface>',
  ].join('\n');
}

/**
 * The domain XML for `vm` with `disks[i]` standing for `vm.disks[i]` (same
 * order). Memory is in KiB without a unit attribute because virt-v2v's parser
 * reads the number and ignores `unit`.
 */
export function buildDomainXml(vm: SourceVm, disks: DomainDisk[]): string {
  if (disks.length === 0) throw new Error('buildDomainXml: a domain needs at least one disk');
  const used: Record<string, number> = {};
  const diskXml = disks.map((disk, i) => {
    // A bus the source did not report is described as SCSI: virt-v2v then maps sdX names in the guest to the
    // virtio disks, which is harmless when the guest already used vdX.
    const bus = disk.bus ?? vm.disks[i]?.controller.bus ?? 'scsi';
    const target = BUS_TARGET[bus];
    const index = used[target.prefix] ?? 0;
    used[target.prefix] = index + 1;
    const type = disk.block ? 'block' : 'file';
    const source = disk.block ? `dev='${escapeXml(disk.path)}'` : `file='${escapeXml(disk.path)}'`;
    return [
      `    <disk type='${type}' device='disk'>`,
      `      <driver name='qemu' type='${disk.format}'/>`,
      `      <source ${source}/>`,
      `      <target dev='${target.prefix}${driveSuffix(index)}' bus='${target.bus}'/>`,
      '    </disk>',
    ].join('\n');
  });
  const sockets = Math.max(1, vm.cpu.sockets);
  const cores = Math.max(1, vm.cpu.coresPerSocket);
  const uuid = vm.source.type === 'vsphere' ? vm.source.uuid : vm.id;
  const os =
    vm.firmware === 'efi'
      ? ["  <os firmware='efi'>", "    <type arch='x86_64' machine='q35'>hvm</type>", '  </os>']
      : ['  <os>', "    <type arch='x86_64'>hvm</type>", "    <boot dev='hd'/>", '  </os>'];
  return [
    "<domain type='kvm'>",
    `  <name>${escapeXml(domainName(vm))}</name>`,
    ...(uuid && UUID.test(uuid) ? [`  <uuid>${uuid.toLowerCase()}</uuid>`] : []),
    `  <memory>${Math.max(1, Math.round(vm.memoryMiB)) * 1024}</memory>`,
    `  <vcpu>${sockets * cores}</vcpu>`,
    "  <cpu mode='host-model'>",
    `    <topology sockets='${sockets}' cores='${cores}' threads='1'/>`,
    '  </cpu>',
    ...os,
    '  <features>',
    '    <acpi/>',
    '    <apic/>',
    '  </features>',
    '  <devices>',
    ...diskXml,
    ...vm.nics.map(nicXml),
    '  </devices>',
    '</domain>',
    '',
  ].join('\n');
}
