import { stringify } from 'yaml';
import type { SourceVm } from '../model.js';

export type OutputFormat = 'table' | 'json' | 'yaml';
export const OUTPUT_FORMATS: OutputFormat[] = ['table', 'json', 'yaml'];

export function renderData(data: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(data, null, 2)}\n` : stringify(data, { lineWidth: 0 });
}

/** Aligned columns; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)}${units[u]}`;
}

export function inventoryTable(vms: SourceVm[]): string {
  const rows = vms.map((vm) => [
    vm.name + (vm.isTemplate ? ' (template)' : ''),
    vm.id,
    vm.powerState,
    vm.os.sourceId || '-',
    `${vm.cpu.sockets * vm.cpu.coresPerSocket}`,
    humanBytes(vm.memoryMiB * 1024 * 1024),
    vm.firmware + (vm.secureBoot ? '+sb' : ''),
    vm.disks.map((d) => `${d.controller.bus ?? '?'}:${humanBytes(d.capacityBytes)}`).join(',') || '-',
    vm.nics.map((n) => `${n.model ?? '?'}/${n.mac}/${n.network.name}`).join(',') || '-',
  ]);
  return table(['NAME', 'ID', 'POWER', 'GUEST', 'CPU', 'MEMORY', 'FIRMWARE', 'DISKS', 'NICS'], rows);
}
