// The one place that knows every adapter: the CLI (composition root) opens
// sources through here and sees only the core SourceProvider.
import type { SourceConfig } from '../src/config/sources.js';
import type { SourceProvider } from '../src/source.js';
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
