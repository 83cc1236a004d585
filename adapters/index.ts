// The one door to the adapters: the CLI (composition root) opens VM sources
// and image sources through here and sees only the core's types.
import type { SourceConfig } from '../src/config/sources.js';
import type { SourceProvider } from '../src/source.js';
import { OvirtSource } from './ovirt/index.js';
import { VsphereSource } from './vsphere/index.js';

export { openHttpSource } from './http/index.js';
export { openRegistrySource } from './registry/index.js';
export { startUploadServer, type UploadEndpoint } from './upload/index.js';

/**
 * `env` is the environment main read: a source's `passwordEnv` is looked up there. `signal` stops waiting on
 * a source that is slow to log in or to list: a stopped run ends at once, however slow the source.
 */
export async function openSource(config: SourceConfig, options: { env: Readonly<NodeJS.ProcessEnv>; signal?: AbortSignal }): Promise<SourceProvider> {
  switch (config.type) {
    case 'vsphere':
      return VsphereSource.open(config, options);
    case 'ovirt':
      return OvirtSource.open(config, options);
  }
}
