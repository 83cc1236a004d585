// The one place that knows every adapter: the CLI (composition root) opens
// sources through here and sees only the core SourceProvider.
import type { SourceConfig } from '../src/config/sources.js';
import type { SourceProvider } from '../src/source.js';
import { VsphereSource } from './vsphere/index.js';

export async function openSource(config: SourceConfig): Promise<SourceProvider> {
  switch (config.type) {
    case 'vsphere':
      return VsphereSource.open(config);
    case 'ovirt':
      throw new (await import('../src/errors.js')).SourceError('SOURCE_TYPE_UNSUPPORTED', `source "${config.name}": the oVirt adapter is not built yet`, {
        hint: 'only vSphere sources work in this version',
      });
  }
}
