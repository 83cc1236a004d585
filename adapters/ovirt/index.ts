import type { SourceConfig } from '../../src/config/sources.js';
import { readPassword, readSourceCa } from '../../src/config/sources.js';
import type { Disk, SourceVm } from '../../src/model.js';
import type { DiskOpenOptions, SourceProvider } from '../../src/source.js';
import { OvirtClient, OvirtFaultError, type WireFormat } from './client.js';
import { ImageioSource, type ImageioDownloadOptions } from './imageio.js';
import { BLANK_TEMPLATE_ID, TEMPLATE_FOLLOW, VM_FOLLOW, byId, templateToSourceVm, toSourceVm, type OvirtLookup } from './inventory.js';
import { OvirtServices, type CollectionService } from './services.js';
import type { Vm } from './types.js';

export { OvirtClient } from './client.js';
export { OvirtError } from './errors.js';
export { ImageioSource } from './imageio.js';
export { OvirtServices } from './services.js';

export interface OvirtConnection {
  name: string;
  /** `https://engine/ovirt-engine/api` */
  url: string;
  username: string;
  password: string;
  /** The engine CA (PEM): the sources file's caFile, or the provider Secret's `caCert`. */
  ca?: string;
  insecureSkipVerify?: boolean;
  format?: WireFormat;
}

export interface OvirtSourceOptions {
  /** VMs per page (`max`); inventory costs O(VMs / pageSize) requests. */
  pageSize?: number;
  format?: WireFormat;
}

export class OvirtSource implements SourceProvider {
  readonly type = 'ovirt' as const;
  readonly services: OvirtServices;
  readonly warnings: string[] = [];

  constructor(
    readonly name: string,
    readonly client: OvirtClient,
    private readonly pageSize: number,
  ) {
    this.services = new OvirtServices(client);
  }

  static async open(config: SourceConfig, options: OvirtSourceOptions & { env?: Readonly<NodeJS.ProcessEnv>; signal?: AbortSignal } = {}): Promise<OvirtSource> {
    const password = await readPassword(config, options.env ?? {});
    const ca = await readSourceCa(config);
    return OvirtSource.connect(
      { name: config.name, url: config.url, username: config.username, password, ...(ca ? { ca } : {}), ...(config.insecureSkipVerify ? { insecureSkipVerify: true } : {}) },
      options,
    );
  }

  static async connect(connection: OvirtConnection, options: OvirtSourceOptions & { signal?: AbortSignal } = {}): Promise<OvirtSource> {
    const format = options.format ?? connection.format ?? 'xml';
    const client = new OvirtClient({
      url: connection.url,
      username: connection.username,
      password: connection.password,
      format,
      ...(connection.ca ? { ca: connection.ca } : {}),
      ...(connection.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
    });
    try {
      await client.connect(options.signal);
    } catch (e) {
      await client.close();
      throw e;
    }
    return new OvirtSource(connection.name, client, options.pageSize ?? 100);
  }

  /**
   * Clusters, vNIC profiles, networks, storage domains and network filters: five requests, whatever the
   * number of VMs. They only name and complete what the VMs refer to, so one the engine cannot serve (an
   * older engine has no `networkfilters`; a user may not read one) costs a warning, not the inventory.
   */
  async lookup(signal?: AbortSignal): Promise<OvirtLookup> {
    const unavailable: string[] = [];
    const optional = async <T extends { id: string }>(service: CollectionService<T>): Promise<Map<string, T>> => {
      try {
        return byId(await service.list({ ...(signal ? { signal } : {}) }));
      } catch (e) {
        if (!(e instanceof OvirtFaultError && (e.status === 404 || e.status === 403))) throw e;
        unavailable.push(service.path);
        this.warnings.push(`the engine did not serve /${service.path} (HTTP ${e.status}): what the VMs take from it stays unknown (${e.message})`);
        return new Map();
      }
    };
    const [clusters, vnicProfiles, networks, storageDomains, networkFilters] = await Promise.all([
      optional(this.services.clusters),
      optional(this.services.vnicProfiles),
      optional(this.services.networks),
      optional(this.services.storageDomains),
      optional(this.services.networkFilters),
    ]);
    return { clusters, vnicProfiles, networks, storageDomains, networkFilters, ...(unavailable.length ? { unavailable } : {}) };
  }

  /** Every VM, then every template but `Blank` (`isTemplate: true`), as vSphere lists them. */
  async listVms(options: { signal?: AbortSignal } = {}): Promise<SourceVm[]> {
    const { signal } = options;
    const readAll = async (service: CollectionService<Vm>, follow: string): Promise<Vm[]> => {
      const all: Vm[] = [];
      for await (const page of service.pages({ pageSize: this.pageSize, follow, search: 'sortby name asc', ...(signal ? { signal } : {}) })) all.push(...page);
      return all;
    };
    const [lookup, vms, templates] = await Promise.all([this.lookup(signal), readAll(this.services.vms, VM_FOLLOW), readAll(this.services.templates, TEMPLATE_FOLLOW)]);
    return [...vms.map((vm) => toSourceVm(vm, lookup)), ...templates.filter((t) => t.id !== BLANK_TEMPLATE_ID).map((t) => templateToSourceVm(t, lookup))];
  }

  /** An imageio download of the disk (the engine's image transfer), cancelled if `signal` fires first. */
  openDisk(_vm: SourceVm, disk: Disk, options: DiskOpenOptions): Promise<ImageioSource> {
    return ImageioSource.open(this.services, { diskId: disk.key, ...(options.signal ? { signal: options.signal } : {}) });
  }

  /** An imageio download of one disk, as a random-access disk source for the copy engine. */
  async openDiskDownload(diskId: string, options: Omit<ImageioDownloadOptions, 'diskId'> = {}): Promise<ImageioSource> {
    return ImageioSource.open(this.services, { ...options, diskId });
  }

  stats(): { roundTrips: number } {
    return { roundTrips: this.client.roundTrips };
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
