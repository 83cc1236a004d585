import type { SourceConfig } from '../../src/config/sources.js';
import { readPassword, readSourceCa } from '../../src/config/sources.js';
import { SourceError } from '../../src/errors.js';
import type { SourceVm } from '../../src/model.js';
import type { SourceProvider } from '../../src/source.js';
import { VimClient, type ObjectContent } from './client.js';
import { INVENTORY_SPECS, INVENTORY_TYPES, buildLookup, toSourceVm } from './inventory.js';
import type { MoRef } from './xml.js';

export { VimClient, VimFaultError } from './client.js';

export class VsphereSource implements SourceProvider {
  readonly type = 'vsphere' as const;
  constructor(
    readonly name: string,
    readonly client: VimClient,
    private readonly datacenter: string | undefined,
    private readonly pageSize: number,
  ) {}

  static async open(config: SourceConfig, options: { pageSize?: number } = {}): Promise<VsphereSource> {
    const password = await readPassword(config);
    const ca = await readSourceCa(config);
    // A provider Secret (check -f) pins the vCenter certificate by its thumbprint, as vm-import-operator does.
    const pinned = config.pinThumbprint && config.thumbprint && !ca && !config.insecureSkipVerify ? { pinnedThumbprint: config.thumbprint } : {};
    const client = new VimClient({ url: config.url, ...(ca ? { ca } : {}), ...(config.insecureSkipVerify ? { insecureSkipVerify: true } : {}), ...pinned });
    try {
      await client.connect(config.username, password);
    } catch (e) {
      await client.logout();
      throw e;
    }
    return new VsphereSource(config.name, client, config.datacenter, options.pageSize ?? 500);
  }

  private async container(): Promise<MoRef> {
    const root = this.client.serviceContent.rootFolder;
    if (!this.datacenter) return root;
    const view = await this.client.createContainerView(root, ['Datacenter']);
    try {
      const dcs: ObjectContent[] = [];
      for await (const page of this.client.retrieveFromView(view, [{ type: 'Datacenter', pathSet: ['name'] }])) dcs.push(...page);
      const dc = dcs.find((d) => d.props.get('name') === this.datacenter);
      if (!dc) {
        throw new SourceError('SOURCE_DATACENTER_NOT_FOUND', `source "${this.name}": no datacenter "${this.datacenter}"`, {
          hint: `datacenters here: ${dcs.map((d) => String(d.props.get('name'))).join(', ') || 'none'}`,
        });
      }
      return dc.obj;
    } finally {
      await this.client.destroyView(view).catch(() => undefined);
    }
  }

  async listVms(): Promise<SourceVm[]> {
    const view = await this.client.createContainerView(await this.container(), INVENTORY_TYPES);
    const objects: ObjectContent[] = [];
    try {
      for await (const page of this.client.retrieveFromView(view, INVENTORY_SPECS, this.pageSize)) objects.push(...page);
    } finally {
      await this.client.destroyView(view).catch(() => undefined);
    }
    const lookup = buildLookup(objects);
    return objects.filter((o) => o.obj.type === 'VirtualMachine').map((o) => toSourceVm(o, lookup));
  }

  stats(): { roundTrips: number } {
    return { roundTrips: this.client.roundTrips };
  }

  async close(): Promise<void> {
    await this.client.logout();
  }
}
