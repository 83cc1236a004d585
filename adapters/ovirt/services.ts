import type { OvirtClient, Query } from './client.js';
import { OvirtError } from './errors.js';
import { items, type ApiNode } from './tree.js';
import {
  readCluster,
  readDataCenter,
  readDisk,
  readDiskAttachment,
  readImageTransfer,
  readNetwork,
  readNetworkFilter,
  readNic,
  readSnapshot,
  readStorageDomain,
  readVm,
  readVnicProfile,
  type Cluster,
  type DataCenter,
  type Disk,
  type DiskAttachment,
  type ImageTransfer,
  type Network,
  type NetworkFilter,
  type Nic,
  type Snapshot,
  type StorageDomain,
  type Vm,
  type VnicProfile,
} from './types.js';

// One service per collection, in the style of the oVirt SDKs: `list` (with
// `search`, `max`, `follow`), `get`, and the few actions v2v needs.

export interface ListOptions {
  search?: string;
  max?: number;
  follow?: string;
  caseSensitive?: boolean;
  /** Stops waiting for the engine (the run was stopped). */
  signal?: AbortSignal;
}

function listQuery(o: ListOptions): Query {
  return {
    search: o.search,
    max: o.max,
    follow: o.follow,
    case_sensitive: o.caseSensitive,
  };
}

class CollectionService<T> {
  constructor(
    protected readonly client: OvirtClient,
    readonly path: string,
    private readonly item: string,
    private readonly read: (n: ApiNode) => T,
  ) {}

  async list(options: ListOptions = {}): Promise<T[]> {
    return items(await this.client.get(this.path, listQuery(options), options.signal), undefined, this.item).map(this.read);
  }

  async get(id: string, options: { follow?: string } = {}): Promise<T> {
    return this.read(await this.client.get(`${this.path}/${encodeURIComponent(id)}`, { follow: options.follow }));
  }

  /**
   * Every object, page by page (`search=page N` with `max`): one request per
   * page, so a listing costs O(N / pageSize) requests.
   */
  async *pages(options: ListOptions & { pageSize: number }): AsyncGenerator<T[]> {
    const seen = new Set<string>();
    for (let page = 1; ; page++) {
      const search = [options.search, `page ${page}`].filter(Boolean).join(' ');
      const batch = await this.list({ ...options, search, max: options.pageSize });
      // An engine that ignored `page` would hand out page 1 forever: stop instead of looping.
      const first = (batch[0] as { id?: string } | undefined)?.id;
      if (first !== undefined && seen.has(first)) {
        throw new OvirtError('SOURCE_API_ERROR', `${this.path}: page ${page} repeats an earlier page; the engine does not page search results`, {
          hint: 'use an engine of version 4.4 or later',
        });
      }
      for (const item of batch) {
        const id = (item as { id?: string }).id;
        if (id !== undefined) seen.add(id);
      }
      if (batch.length > 0) yield batch;
      if (batch.length < options.pageSize) return;
    }
  }
}

export class VmsService extends CollectionService<Vm> {
  constructor(client: OvirtClient) {
    super(client, 'vms', 'vm', readVm);
  }
  diskAttachments(vmId: string): CollectionService<DiskAttachment> {
    return new CollectionService(this.client, `vms/${encodeURIComponent(vmId)}/diskattachments`, 'disk_attachment', readDiskAttachment);
  }
  nics(vmId: string): CollectionService<Nic> {
    return new CollectionService(this.client, `vms/${encodeURIComponent(vmId)}/nics`, 'nic', readNic);
  }
  snapshots(vmId: string): CollectionService<Snapshot> {
    return new CollectionService(this.client, `vms/${encodeURIComponent(vmId)}/snapshots`, 'snapshot', readSnapshot);
  }
}

export class TemplatesService extends CollectionService<Vm> {
  constructor(client: OvirtClient) {
    // A template is a VmBase: the VM reader reads it (no snapshots or host devices).
    super(client, 'templates', 'template', readVm);
  }
}

export class ImageTransfersService extends CollectionService<ImageTransfer> {
  constructor(client: OvirtClient) {
    super(client, 'imagetransfers', 'image_transfer', readImageTransfer);
  }

  /** Starts a transfer of one disk; the engine answers in phase `initializing`. */
  async add(spec: { diskId: string; direction: 'download' | 'upload'; format: 'raw' | 'cow'; inactivityTimeoutS?: number }): Promise<ImageTransfer> {
    const body: ApiNode = {
      disk: { id: spec.diskId },
      direction: spec.direction,
      format: spec.format,
      ...(spec.inactivityTimeoutS !== undefined ? { inactivity_timeout: String(spec.inactivityTimeoutS) } : {}),
    };
    return readImageTransfer(await this.client.add(this.path, 'image_transfer', body));
  }

  async extend(id: string): Promise<void> {
    await this.client.action(`${this.path}/${encodeURIComponent(id)}/extend`);
  }
  async finalize(id: string): Promise<void> {
    await this.client.action(`${this.path}/${encodeURIComponent(id)}/finalize`);
  }
  async cancel(id: string): Promise<void> {
    await this.client.action(`${this.path}/${encodeURIComponent(id)}/cancel`);
  }
}

/** The services of one connection, named like the SDKs' `system_service()` children. */
export class OvirtServices {
  readonly vms: VmsService;
  readonly templates: TemplatesService;
  readonly disks: CollectionService<Disk>;
  readonly vnicProfiles: CollectionService<VnicProfile>;
  readonly networks: CollectionService<Network>;
  readonly networkFilters: CollectionService<NetworkFilter>;
  readonly storageDomains: CollectionService<StorageDomain>;
  readonly clusters: CollectionService<Cluster>;
  readonly dataCenters: CollectionService<DataCenter>;
  readonly imageTransfers: ImageTransfersService;

  constructor(readonly client: OvirtClient) {
    this.vms = new VmsService(client);
    this.templates = new TemplatesService(client);
    this.disks = new CollectionService(client, 'disks', 'disk', readDisk);
    this.vnicProfiles = new CollectionService(client, 'vnicprofiles', 'vnic_profile', readVnicProfile);
    this.networks = new CollectionService(client, 'networks', 'network', readNetwork);
    this.networkFilters = new CollectionService(client, 'networkfilters', 'network_filter', readNetworkFilter);
    this.storageDomains = new CollectionService(client, 'storagedomains', 'storage_domain', readStorageDomain);
    this.clusters = new CollectionService(client, 'clusters', 'cluster', readCluster);
    this.dataCenters = new CollectionService(client, 'datacenters', 'data_center', readDataCenter);
    this.imageTransfers = new ImageTransfersService(client);
  }
}

export type { CollectionService };
