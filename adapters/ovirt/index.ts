import type { SourceConfig } from '../../src/config/sources.js';
import { readPassword, readSourceCa } from '../../src/config/sources.js';
import { ConfigError } from '../../src/errors.js';
import type { SourceVm } from '../../src/model.js';
import { SelectionError, type SourceProvider } from '../../src/source.js';
import { OvirtClient, type WireFormat } from './client.js';
import { ImageioSource, type ImageioDownloadOptions } from './imageio.js';
import { BLANK_TEMPLATE_ID, TEMPLATE_FOLLOW, VM_FOLLOW, byId, templateToSourceVm, toSourceVm, type OvirtLookup } from './inventory.js';
import { OvirtServices, type CollectionService } from './services.js';
import type { Vm } from './types.js';

export { OvirtClient } from './client.js';
export { OvirtError } from './errors.js';
export { ImageioSource, cancelOpenTransfers } from './imageio.js';
export { OvirtServices } from './services.js';
export { ovirtConnectionFromSecret } from './secret.js';

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

/** How the seed's VirtualMachineImport names a VM: by id, or by name and cluster name — exactly one of the two. */
export interface VmSelector {
  id?: string;
  name?: string;
  /** The cluster's name. */
  cluster?: string;
}

/** The seed's `spec.source.ovirt.vm` (`id`, or `name` + `cluster.name`) as a selector. */
export function selectorFromImport(vm: { id?: string; name?: string; cluster?: { name?: string } }): VmSelector {
  return { ...(vm.id ? { id: vm.id } : {}), ...(vm.name !== undefined ? { name: vm.name } : {}), ...(vm.cluster?.name !== undefined ? { cluster: vm.cluster.name } : {}) };
}

export class OvirtSource implements SourceProvider {
  readonly type = 'ovirt' as const;
  readonly services: OvirtServices;

  constructor(
    readonly name: string,
    readonly client: OvirtClient,
    private readonly pageSize: number,
  ) {
    this.services = new OvirtServices(client);
  }

  static async open(config: SourceConfig, options: OvirtSourceOptions = {}): Promise<OvirtSource> {
    const password = await readPassword(config);
    const ca = await readSourceCa(config);
    return OvirtSource.connect(
      { name: config.name, url: config.url, username: config.username, password, ...(ca ? { ca } : {}), ...(config.insecureSkipVerify ? { insecureSkipVerify: true } : {}) },
      options,
    );
  }

  static async connect(connection: OvirtConnection, options: OvirtSourceOptions = {}): Promise<OvirtSource> {
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
      await client.connect();
    } catch (e) {
      await client.close();
      throw e;
    }
    return new OvirtSource(connection.name, client, options.pageSize ?? 100);
  }

  /** Clusters, vNIC profiles, networks, storage domains and network filters: five requests, whatever the number of VMs. */
  async lookup(): Promise<OvirtLookup> {
    const [clusters, vnicProfiles, networks, storageDomains, networkFilters] = await Promise.all([
      this.services.clusters.list(),
      this.services.vnicProfiles.list(),
      this.services.networks.list(),
      this.services.storageDomains.list(),
      this.services.networkFilters.list(),
    ]);
    return { clusters: byId(clusters), vnicProfiles: byId(vnicProfiles), networks: byId(networks), storageDomains: byId(storageDomains), networkFilters: byId(networkFilters) };
  }

  /** Every VM, then every template but `Blank` (`isTemplate: true`), as vSphere lists them. */
  async listVms(): Promise<SourceVm[]> {
    const readAll = async (service: CollectionService<Vm>, follow: string): Promise<Vm[]> => {
      const all: Vm[] = [];
      for await (const page of service.pages({ pageSize: this.pageSize, follow, search: 'sortby name asc' })) all.push(...page);
      return all;
    };
    const [lookup, vms, templates] = await Promise.all([this.lookup(), readAll(this.services.vms, VM_FOLLOW), readAll(this.services.templates, TEMPLATE_FOLLOW)]);
    return [
      ...vms.map((vm) => toSourceVm(vm, lookup)),
      ...templates.filter((t) => t.id !== BLANK_TEMPLATE_ID).map((t) => templateToSourceVm(t, lookup)),
    ];
  }

  /**
   * One VM the way the seed's VirtualMachineImport selects it: `id`, or
   * `name` + `cluster` (the cluster's name). VM_NOT_FOUND / VM_AMBIGUOUS are
   * errors, never a guess.
   */
  async findVm(selector: VmSelector): Promise<SourceVm> {
    const byIdSel = selector.id !== undefined && selector.id !== '';
    const byName = selector.name !== undefined || selector.cluster !== undefined;
    if (byIdSel === byName || (byName && (!selector.name || !selector.cluster))) {
      throw new ConfigError('VM_REF_INVALID', 'a VM is named by its id, or by its name and its cluster name — exactly one of the two', {
        hint: 'set source.ovirt.vm.id, or both source.ovirt.vm.name and source.ovirt.vm.cluster.name',
      });
    }
    const lookupPromise = this.lookup();
    // Awaited below; a rejection while the VM request is still out must not go unhandled.
    lookupPromise.catch(() => undefined);
    let candidates: Vm[];
    if (byIdSel) {
      try {
        candidates = [await this.services.vms.get(selector.id!, { follow: VM_FOLLOW })];
      } catch (e) {
        if ((e as { code?: string }).code === 'SOURCE_OBJECT_NOT_FOUND') candidates = [];
        else throw e;
      }
    } else {
      const search = `name=${quote(selector.name!)} and cluster=${quote(selector.cluster!)}`;
      candidates = await this.services.vms.list({ search, follow: VM_FOLLOW, caseSensitive: true });
    }
    const lookup = await lookupPromise;
    // The engine's search is a filter to narrow the answer; the exact match is decided here.
    const matches = byIdSel
      ? candidates.filter((vm) => vm.id === selector.id)
      : candidates.filter((vm) => vm.name === selector.name && vm.cluster && lookup.clusters.get(vm.cluster.id)?.name === selector.cluster);
    const what = byIdSel ? `id ${selector.id}` : `name "${selector.name}" in cluster "${selector.cluster}"`;
    if (matches.length === 0) {
      throw new SelectionError('VM_NOT_FOUND', `source "${this.name}": no VM with ${what}`, { hint: 'run `v2v inventory` to see the names, clusters and ids on this source' });
    }
    if (matches.length > 1) {
      throw new SelectionError('VM_AMBIGUOUS', `source "${this.name}": ${matches.length} VMs have ${what}: ${matches.map((vm) => vm.id).join(', ')}`, {
        hint: 'name the VM by its id',
        details: { candidates: matches.map((vm) => ({ id: vm.id, name: vm.name })) },
      });
    }
    return toSourceVm(matches[0]!, lookup);
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

/** A search value in double quotes, so names with spaces or operators stay one value. */
function quote(value: string): string {
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}
