// A vSphere disk read without VDDK: ranged HTTPS GETs of its flat extent from
// the host's (or vCenter's, which proxies it) `/folder` datastore browser, on
// the vim25 session's cookie and connections, so TLS is checked as for /sdk.
import { request, type Dispatcher } from 'undici';
import type { RandomAccessSource } from '../../src/copy/source.js';
import { SourceError } from '../../src/errors.js';
import type { Disk, SourceVm } from '../../src/model.js';
import { transportError } from '../../src/net/http-transport.js';
import { assertReadable } from '../../vddk/source.js';
import type { VimClient } from './client.js';
import { isMoRef, type MoRef, type VimValue } from './xml.js';

/** The largest descriptor read: real ones are a few hundred bytes; a flat extent named by mistake is not read whole. */
const DESCRIPTOR_MAX_BYTES = 64 * 1024;

export interface FlatExtent {
  datastore: string;
  /** Path of the descriptor inside the datastore (`vm/vm.vmdk`). */
  descriptorPath: string;
  /** Path of the flat extent inside the datastore (`vm/vm-flat.vmdk`). */
  flatPath: string;
  size: number;
}

function unsupported(disk: string, why: string): SourceError {
  return new SourceError('DATASTORE_DISK_UNSUPPORTED', `${disk} is ${why}; the datastore transport reads only flat (thick or thin VMFS) disks`, {
    hint: 'use --transport vddk, or consolidate the snapshots / migrate the disk to a flat VMDK first',
    details: { disk },
  });
}

/** `[LocalDS_0] vm/vm.vmdk` → datastore and path. */
export function parseDatastorePath(file: string): { datastore: string; path: string } {
  const m = /^\[([^\]]+)\] ?(.+)$/.exec(file);
  if (!m) throw new SourceError('DATASTORE_DISK_UNSUPPORTED', `disk file "${file}" is not a datastore path ([datastore] dir/name.vmdk)`, { hint: 'use --transport vddk' });
  return { datastore: m[1]!, path: m[2]! };
}

/**
 * Reads a VMDK descriptor: only a single-extent, parentless flat disk is
 * accepted. A delta in a snapshot chain has a parent; sesparse/vmfsSparse and
 * RDMs have their own createType, and their bytes are not the guest's disk.
 */
export function flatExtentOf(descriptor: string, file: string): { fileName: string; size: number } {
  const createType = /^createType\s*=\s*"([^"]*)"/m.exec(descriptor)?.[1];
  if (!createType) throw unsupported(file, 'not a VMDK descriptor');
  const parent = /^parentCID\s*=\s*(\S+)/m.exec(descriptor)?.[1];
  if (parent && parent.toLowerCase() !== 'ffffffff') throw unsupported(file, 'a delta disk in a snapshot chain');
  if (createType !== 'vmfs' && createType !== 'monolithicFlat') throw unsupported(file, `a "${createType}" disk`);
  const extents = [...descriptor.matchAll(/^(RW|RDONLY)\s+(\d+)\s+(\w+)\s+"([^"]+)"(?:\s+(\d+))?/gm)];
  if (extents.length !== 1) throw unsupported(file, `a disk of ${extents.length} extents`);
  const [, , sectors, type, fileName, offset] = extents[0]!;
  if ((type !== 'VMFS' && type !== 'FLAT') || (offset && offset !== '0')) throw unsupported(file, `a disk with a ${type} extent`);
  return { fileName: fileName!, size: Number(sectors) * 512 };
}

/** The datacenter holding the disk's datastore (`dcPath`): up the datastore's parents, as vCenter needs it. */
async function datacenterOf(client: VimClient, disk: Disk, vm: SourceVm): Promise<string> {
  if (vm.source.type === 'vsphere' && vm.source.datacenter) return vm.source.datacenter;
  let ref: MoRef | undefined = disk.datastore ? { type: 'Datastore', value: disk.datastore.id } : undefined;
  for (let depth = 0; ref && depth < 32; depth++) {
    if (ref.type === 'Datacenter') return String((await client.retrieveObjects([ref], { type: 'Datacenter', pathSet: ['name'] }))[0]?.props.get('name'));
    const parent: VimValue | undefined = (await client.retrieveObjects([ref], { type: ref.type, pathSet: ['parent'] }))[0]?.props.get('parent');
    ref = isMoRef(parent) ? parent : undefined;
  }
  throw new SourceError('DATASTORE_NO_DATACENTER', `no datacenter above the datastore of ${disk.file ?? disk.key}`, { hint: 'use --transport vddk' });
}

export interface DatastoreSourceOptions {
  client: VimClient;
  vm: SourceVm;
  disk: Disk;
  /** `https://host` of the source: the host the user gave, as for /sdk. */
  origin: string;
}

/**
 * Reads of the flat extent, for the copy engine (which runs them in parallel,
 * retries transient failures at the same offset, and times stalls). No
 * allocation map: CBT's QueryChangedDiskAreas("*") cannot be tested against
 * vcsim (which lacks it), so the engine's zero-skipping keeps holes instead.
 */
export class DatastoreSource implements RandomAccessSource {
  readonly kind = 'random' as const;
  readonly retryable = true;
  readonly description: string;
  readonly identity: string;
  /** Sessions opened again after the server refused the cookie (at most one per refusal). */
  relogins = 0;
  private relogin: Promise<void> | undefined;

  private constructor(
    private readonly client: VimClient,
    private readonly url: (path: string) => URL,
    readonly extent: FlatExtent,
    shown: string,
  ) {
    this.description = `datastore://${shown}`;
    this.identity = `datastore:${shown}:${extent.size}`;
  }

  get size(): number {
    return this.extent.size;
  }

  static async open(options: DatastoreSourceOptions): Promise<DatastoreSource> {
    const { vm, disk, client } = options;
    const label = disk.file ?? `disk ${disk.key} of ${vm.name}`;
    // A running VM's extent changes under the copy (and ESXi locks it): the same refusal as VDDK's.
    assertReadable(vm, undefined);
    if (disk.rdm) throw unsupported(label, `a raw device mapping (${disk.rdm.mode})`);
    if (!disk.file) throw unsupported(label, 'a disk without a backing file');
    const { datastore, path } = parseDatastorePath(disk.file);
    const datacenter = await datacenterOf(client, disk, vm);
    const url = (p: string) => {
      const u = new URL(`/folder/${p.split('/').map(encodeURIComponent).join('/')}`, options.origin);
      u.searchParams.set('dcPath', datacenter);
      u.searchParams.set('dsName', datastore);
      return u;
    };
    const probe = new DatastoreSource(client, url, { datastore, descriptorPath: path, flatPath: path, size: 0 }, disk.file);
    const buffer = Buffer.alloc(DESCRIPTOR_MAX_BYTES);
    const descriptor = buffer.toString('latin1', 0, await probe.get(path, 0, buffer, undefined, true));
    const flat = flatExtentOf(descriptor, disk.file);
    const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '';
    const extent = { datastore, descriptorPath: path, flatPath: `${dir}${flat.fileName}`, size: flat.size };
    const source = new DatastoreSource(client, url, extent, `[${datastore}] ${extent.flatPath}`);
    // Fails here, before any target is touched, when the extent is missing.
    if (extent.size > 0) await source.read(0, 1);
    return source;
  }

  /** The connections and the session belong to the vim25 client, which outlives every disk. */
  async close(): Promise<void> {}

  async read(offset: number, length: number, signal?: AbortSignal): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(Math.max(0, Math.min(length, this.size - offset)));
    return buffer.subarray(0, await this.readInto(buffer, offset, signal));
  }

  /** Into the engine's pooled buffers: no 4 MiB allocation per read. */
  async readInto(buffer: Buffer, offset: number, signal?: AbortSignal): Promise<number> {
    const length = Math.min(buffer.length, this.size - offset);
    if (length <= 0) return 0;
    return this.get(this.extent.flatPath, offset, buffer.subarray(0, length), signal, false);
  }

  /** Fills `out` from `offset` of the file (`upTo`: as much of it as the file has). */
  private async get(path: string, offset: number, out: Buffer, signal: AbortSignal | undefined, upTo: boolean, afterRelogin = false): Promise<number> {
    const length = out.length;
    const url = this.url(path);
    const cookie = this.client.sessionCookie;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        dispatcher: this.client.dispatcher,
        headers: { range: `bytes=${offset}-${offset + length - 1}`, ...(cookie ? { cookie } : {}) },
        ...(signal ? { signal } : {}),
      });
    } catch (e) {
      throw await transportError(e, url.href);
    }
    if ((res.statusCode === 401 || res.statusCode === 403) && !afterRelogin) {
      await res.body.dump();
      await this.reloginOnce(cookie);
      return this.get(path, offset, out, signal, upTo, true);
    }
    if (res.statusCode !== 206 && !(res.statusCode === 200 && offset === 0 && upTo)) {
      await res.body.dump();
      throw this.statusError(res.statusCode, path);
    }
    let got = 0;
    let dropped: unknown;
    try {
      // Read to the end, never break off: a body left unread closes the connection instead of reusing it.
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        const room = Math.min(chunk.length, length - got);
        chunk.copy(out, got, 0, room);
        got += room;
      }
    } catch (e) {
      dropped = e;
    }
    if (upTo && !dropped) return got;
    if (got !== length || dropped) {
      // Transient: the engine asks again for this range, not the whole disk.
      throw new SourceError('SOURCE_FAILED', `the connection dropped reading [${this.extent.datastore}] ${path} at offset ${offset} after ${got} of ${length} bytes`, {
        hint: 'check the network between v2v and the host; run the same command again to resume',
        ...(dropped ? { cause: dropped } : {}),
        details: { transient: true, offset },
      });
    }
    return got;
  }

  /** Parallel reads refused together share one new session; a read refused on the new session too fails. */
  private async reloginOnce(refused: string | undefined): Promise<void> {
    // While the new session is being made the client has no cookie: wait for it rather than retry without one.
    if (this.relogin) return this.relogin;
    if (this.client.sessionCookie !== refused) return;
    this.relogin ??= this.client.relogin().then(
      () => {
        this.relogins++;
        this.relogin = undefined;
      },
      (e: unknown) => {
        this.relogin = undefined;
        throw e;
      },
    );
    await this.relogin;
  }

  private statusError(status: number, path: string): SourceError {
    const where = `[${this.extent.datastore}] ${path}`;
    if (status === 404) {
      return new SourceError('DATASTORE_FILE_NOT_FOUND', `${where} is not on the datastore (HTTP 404)`, {
        hint: 'the disk was moved, deleted or renamed since the inventory was read; refresh it, or use --transport vddk',
        details: { status, path: where },
      });
    }
    if (status === 401 || status === 403) {
      return new SourceError('SOURCE_AUTH_FAILED', `the datastore refused the session for ${where} (HTTP ${status}), also after logging in again`, {
        hint: 'the user needs Datastore.Browse and Datastore.FileManagement on this datastore',
        details: { status, path: where },
      });
    }
    if (status === 200) {
      return new SourceError('DATASTORE_NO_RANGES', `the server sent all of ${where} instead of the range asked for`, {
        hint: 'a proxy between v2v and the host drops Range headers; use --transport vddk or go around the proxy',
        details: { status, path: where },
      });
    }
    return new SourceError('SOURCE_FAILED', `reading ${where} answered HTTP ${status}`, {
      hint: status >= 500 ? 'the host failed; the copy retries, then try again later' : 'see the host log',
      details: { status, path: where, transient: status >= 500 },
    });
  }
}
