import type { SourceConfig } from '../../src/config/sources.js';
import { readPassword, readSourceCa } from '../../src/config/sources.js';
import { SourceError } from '../../src/errors.js';
import type { DiskSource } from '../../src/copy/source.js';
import type { Disk, SourceVm } from '../../src/model.js';
import type { DiskOpenOptions, SourceProvider } from '../../src/source.js';
import { vddkOptionsFromSource } from '../../vddk/config.js';
import { VddkError } from '../../vddk/errors.js';
import { DEFAULT_VDDK_DIR, locateVddk } from '../../vddk/library.js';
import { VddkSource, type Transport } from '../../vddk/source.js';
import { VimClient, type ObjectContent } from './client.js';
import { DatastoreSource } from './datastore.js';
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
    /** What VDDK logs in with; a source made from a bare client (tests, benches) reads no disks. */
    private readonly login?: { config: SourceConfig; password: string },
  ) {}

  static async open(config: SourceConfig, options: { pageSize?: number; env?: Readonly<NodeJS.ProcessEnv>; signal?: AbortSignal } = {}): Promise<VsphereSource> {
    const password = await readPassword(config, options.env ?? {});
    const ca = await readSourceCa(config);
    // A provider Secret (check -f) pins the vCenter certificate by its thumbprint, as vm-import-operator does.
    const pinned = config.pinThumbprint && config.thumbprint && !ca && !config.insecureSkipVerify ? { pinnedThumbprint: config.thumbprint } : {};
    const client = new VimClient({
      url: config.url,
      ...(ca ? { ca } : {}),
      ...(config.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
      ...pinned,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    try {
      await client.connect(config.username, password);
    } catch (e) {
      await client.logout();
      throw e;
    }
    return new VsphereSource(config.name, client, config.datacenter, options.pageSize ?? 500, { config, password });
  }

  private async container(): Promise<MoRef> {
    const root = this.client.serviceContent.rootFolder;
    const datacenter = this.datacenter;
    if (!datacenter) return root;
    const view = await this.client.createContainerView(root, ['Datacenter']);
    try {
      const dcs: ObjectContent[] = [];
      for await (const page of this.client.retrieveFromView(view, [{ type: 'Datacenter', pathSet: ['name'] }])) dcs.push(...page);
      const dc = dcs.find((d) => d.props.get('name') === datacenter);
      if (!dc) {
        throw new SourceError('SOURCE_DATACENTER_NOT_FOUND', `source "${this.name}": no datacenter "${datacenter}"`, {
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

  /** A reader of the disk through VDDK or the datastore, on the same host and credentials as this connection. */
  async openDisk(vm: SourceVm, disk: Disk, options: DiskOpenOptions): Promise<DiskSource> {
    const vddk = options.vddk;
    if (options.transport === 'datastore' || (options.transport !== 'vddk' && !vddkPresent(vddk?.libraryDir ?? DEFAULT_VDDK_DIR, options))) {
      return DatastoreSource.open({ client: this.client, vm, disk, origin: this.client.url.origin });
    }
    if (!this.login) throw new SourceError('SOURCE_NO_CREDENTIALS', `source "${this.name}" was opened without the credentials VDDK needs`);
    return VddkSource.open(
      await vddkOptionsFromSource(this.login.config, this.login.password, vm, disk, {
        ...(vddk?.libraryDir ? { libraryDir: vddk.libraryDir } : {}),
        ...(vddk?.configFile ? { configFile: vddk.configFile } : {}),
        ...(vddk?.transports ? { transports: [...vddk.transports] as Transport[] } : {}),
        ...(vddk?.snapshotMoref ? { snapshotMoref: vddk.snapshotMoref } : {}),
      }),
    );
  }

  stats(): { roundTrips: number } {
    return { roundTrips: this.client.roundTrips };
  }

  async close(): Promise<void> {
    await this.client.logout();
  }
}

/** `auto`: the check that would otherwise end in VDDK_MISSING; a library that is there but broken still fails as VDDK_INVALID. */
function vddkPresent(libraryDir: string, options: DiskOpenOptions): boolean {
  try {
    locateVddk(libraryDir);
    return true;
  } catch (e) {
    if (!(e instanceof VddkError) || e.code !== 'VDDK_MISSING') return true;
    options.log?.info(
      { event: 'transport', transport: 'datastore', vddkLibDir: libraryDir },
      `transport auto: no VDDK library under ${libraryDir}, reading the disk from the datastore over HTTPS`,
    );
    return false;
  }
}
