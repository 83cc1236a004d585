import { insecureSourceWarnings, type SourceConfig } from '../config/sources.js';
import type { Logger } from '../log.js';
import type { SourceVm } from '../model.js';
import type { SourceProvider } from '../source.js';

export type OpenSource = (config: SourceConfig) => Promise<SourceProvider>;

/**
 * One connection and one inventory per source, shared by every VM of a run:
 * a batch of a hundred VMs on one vCenter logs in once and lists once.
 */
export class SourcePool {
  private readonly providers = new Map<string, Promise<SourceProvider>>();
  private readonly inventories = new Map<string, Promise<SourceVm[]>>();

  constructor(
    private readonly openSource: OpenSource,
    private readonly log: Logger,
    /** Stops a listing in progress (the run was stopped). */
    private readonly signal?: AbortSignal,
  ) {}

  provider(config: SourceConfig): Promise<SourceProvider> {
    const key = keyOf(config);
    let provider = this.providers.get(key);
    if (!provider) {
      for (const warning of insecureSourceWarnings(config)) this.log.warn({ source: config.name }, warning);
      provider = this.openSource(config);
      this.providers.set(key, provider);
    }
    return provider;
  }

  inventory(config: SourceConfig): Promise<SourceVm[]> {
    const key = keyOf(config);
    let vms = this.inventories.get(key);
    if (!vms) {
      vms = this.provider(config).then(async (source) => {
        const started = performance.now();
        const all = await source.listVms(this.signal ? { signal: this.signal } : {});
        this.log.info({ source: source.name, vms: all.length, roundTrips: source.stats().roundTrips, ms: Math.round(performance.now() - started) }, 'inventory read');
        for (const warning of source.warnings ?? []) this.log.warn({ source: source.name }, warning);
        return all;
      });
      this.inventories.set(key, vms);
    }
    return vms;
  }

  async close(): Promise<void> {
    const opened = [...this.providers.values()];
    this.providers.clear();
    this.inventories.clear();
    await Promise.allSettled(opened.map(async (p) => (await p).close()));
  }
}

/** Two entries that reach the same endpoint as the same user share a connection. */
function keyOf(config: SourceConfig): string {
  return JSON.stringify([config.type, config.url, config.username, config.name]);
}
