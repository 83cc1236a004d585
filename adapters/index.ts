// The one place that knows every adapter: the CLI (composition root) opens
// sources and disk readers through here and sees only core types.
import type { SourceConfig } from '../src/config/sources.js';
import type { DiskSource } from '../src/copy/source.js';
import { SourceError } from '../src/errors.js';
import type { Disk, SourceVm } from '../src/model.js';
import type { SourceProvider } from '../src/source.js';
import { vddkOptionsFromSource } from '../vddk/config.js';
import { VddkSource, type Transport } from '../vddk/source.js';
import { OvirtSource } from './ovirt/index.js';
import { VsphereSource } from './vsphere/index.js';

export async function openSource(config: SourceConfig): Promise<SourceProvider> {
  switch (config.type) {
    case 'vsphere':
      return VsphereSource.open(config);
    case 'ovirt':
      return OvirtSource.open(config);
  }
}

export interface DiskReaderOptions {
  /** VDDK distribution directory (vSphere). */
  vddkLibDir?: string;
  /** A VDDK config file passed to InitEx (vSphere). */
  vddkConfig?: string;
  transports?: Transport[];
  snapshotMoref?: string;
}

/** The reader of one source disk: VDDK for vSphere, an imageio transfer for oVirt. */
export async function openDiskSource(config: SourceConfig, provider: SourceProvider, vm: SourceVm, disk: Disk, options: DiskReaderOptions = {}): Promise<DiskSource> {
  if (config.type === 'vsphere') {
    return VddkSource.open(
      await vddkOptionsFromSource(config, vm, disk, {
        ...(options.vddkLibDir ? { libraryDir: options.vddkLibDir } : {}),
        ...(options.vddkConfig ? { configFile: options.vddkConfig } : {}),
        ...(options.transports ? { transports: options.transports } : {}),
        ...(options.snapshotMoref ? { snapshotMoref: options.snapshotMoref } : {}),
      }),
    );
  }
  if (!(provider instanceof OvirtSource)) throw new SourceError('SOURCE_TYPE_MISMATCH', `source "${config.name}" is oVirt but was not opened as one`);
  return provider.openDiskDownload(disk.key);
}
