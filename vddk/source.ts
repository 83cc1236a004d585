// A vSphere disk read through VDDK, as a copy-engine source: ConnectEx with
// the VM moref (and optionally a snapshot), Open of the disk's backing file,
// the allocation map from QueryAllocatedBlocks, and reads of a few MiB with
// several ReadAsync requests in flight.
import type { Disk, SourceVm } from '../src/model.js';
import type { Extent, RandomAccessSource } from '../src/copy/source.js';
import { registerSecret } from '../src/redact.js';
import { MAX_CHUNKS_PER_QUERY, MIN_CHUNK_SECTORS, OpenFlags, SECTOR_SIZE, type Credentials, type VixConnection, type VixDiskLib, type VixHandle } from '../native/vixdisklib.js';
import { VddkError, fromVixError } from './errors.js';
import { DEFAULT_VDDK_DIR, checkVddkConfig, loadVddk } from './library.js';

export type Transport = 'file' | 'san' | 'hotadd' | 'nbdssl' | 'nbd';
export const DEFAULT_TRANSPORTS: Transport[] = ['nbdssl', 'nbd'];
const KNOWN_TRANSPORTS = new Set<string>(['file', 'san', 'hotadd', 'nbdssl', 'nbd']);

export interface VddkSourceOptions {
  /** The VM as the vSphere adapter described it: its moref and power state are used. */
  vm: SourceVm;
  /** The disk to read (its `file`, e.g. `[LocalDS_0] vm/vm.vmdk`), or that path itself. */
  disk: Disk | string;
  /** vCenter or ESXi host name, as in the source URL. */
  server: string;
  port?: number;
  nfcHostPort?: number;
  credentials: Credentials;
  /** SHA-1 of the server certificate (`AA:BB:…`); VDDK refuses a server that does not match. */
  thumbprint: string;
  /** Read a snapshot's disks (e.g. `snapshot-12`); the VM may then be running. */
  snapshotMoref?: string;
  transports?: Transport[];
  /** The VDDK distribution directory (default /opt/vmware-vix-disklib-distrib). */
  libraryDir?: string;
  /** A VDDK config file passed to InitEx (e.g. `VixDiskLib.nfcAio.Session.BufSizeIn64KB = "16"`). */
  configFile?: string;
  /** Bytes per VDDK read, 1–4 MiB (default 4 MiB). */
  readSize?: number;
  /** Reads in flight per disk (default 4). */
  readsInFlight?: number;
  /**
   * How reads overlap. `handles`: one VDDK handle per read in flight, each
   * doing VixDiskLib_Read on a koffi worker thread (VDDK allows one call per
   * handle at a time; measured fastest). `async`: one handle, VixDiskLib_ReadAsync
   * with completion callbacks. Default: `handles`, except `async` for hotadd
   * and san, where a disk is attached once.
   */
  io?: 'handles' | 'async';
  /** Attempts per read before giving up (default 3). */
  readAttempts?: number;
  /** The certificate thumbprint the server actually presents, for the mismatch hint. */
  presentedThumbprint?: string;
}

const MiB = 1024 * 1024;
const CHUNK_BYTES = MIN_CHUNK_SECTORS * SECTOR_SIZE;
/** Sectors per QueryAllocatedBlocks call: VDDK's cap of 512 Ki chunks (32 GiB at 64 KiB). */
const MAX_QUERY_SECTORS = MAX_CHUNKS_PER_QUERY * MIN_CHUNK_SECTORS;

/** Refuses a VM whose disks are live (check `vmware.power_state.on`), before VDDK is touched. */
export function assertReadable(vm: SourceVm, snapshotMoref: string | undefined): void {
  if (vm.source.type !== 'vsphere') {
    throw new VddkError('VDDK_NOT_VSPHERE', `${vm.name} is not a vSphere VM; VDDK reads vSphere disks only`);
  }
  if (vm.powerState !== 'off' && !snapshotMoref) {
    throw new VddkError('VM_POWERED_ON', `${vm.name} (${vm.source.moref}) is ${vm.powerState === 'on' ? 'powered on' : vm.powerState}; its disks change while they are copied`, {
      hint: 'power the VM off (check vmware.power_state.on), or copy from a snapshot',
      details: { check: 'vmware.power_state.on', powerState: vm.powerState },
    });
  }
}

export function transportList(transports: Transport[] | undefined): string {
  const list = transports && transports.length > 0 ? transports : DEFAULT_TRANSPORTS;
  for (const t of list) {
    if (!KNOWN_TRANSPORTS.has(t)) throw new VddkError('VDDK_TRANSPORT_INVALID', `unknown VDDK transport "${t}"`, { hint: 'use file, san, hotadd, nbdssl or nbd' });
  }
  return list.join(':');
}

/** A FIFO pool of things (handles, or read slots) handed out one at a time. */
class Pool<T> {
  private readonly waiters: ((item: T) => void)[] = [];
  constructor(private readonly idle: T[]) {}
  acquire(): Promise<T> {
    const item = this.idle.pop();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise<T>((resolve) => this.waiters.push(resolve));
  }
  release(item: T): void {
    const next = this.waiters.shift();
    if (next) next(item);
    else this.idle.push(item);
  }
}

export class VddkSource implements RandomAccessSource {
  readonly kind = 'random' as const;
  readonly retryable = true;
  readonly description: string;
  /** Bytes read from VDDK, for tests and progress. */
  bytesRead = 0;
  private closed = false;
  /** `handles`: every handle is a lane. `async`: one handle, `readsInFlight` lanes sharing it. */
  private readonly lanes: Pool<VixHandle>;

  private constructor(
    private readonly lib: VixDiskLib,
    private readonly connection: VixConnection,
    private readonly handles: VixHandle[],
    readonly size: number,
    readonly transport: string,
    readonly io: 'handles' | 'async',
    private readonly context: { server: string; vm: string; disk: string },
    private readonly readSize: number,
    private readonly readsInFlight: number,
    private readonly readAttempts: number,
  ) {
    this.description = `vddk://${context.server}/${context.disk} (${context.vm}, ${transport})`;
    this.lanes = new Pool(io === 'handles' ? [...handles] : Array.from({ length: readsInFlight }, () => handles[0]!));
  }

  static async open(options: VddkSourceOptions): Promise<VddkSource> {
    const { vm } = options;
    assertReadable(vm, options.snapshotMoref);
    const moref = vm.source.type === 'vsphere' ? vm.source.moref : vm.id;
    const diskPath = typeof options.disk === 'string' ? options.disk : options.disk.file;
    if (!diskPath)
      throw new VddkError('VDDK_DISK_NOT_FOUND', `a disk of ${vm.name} has no backing file`, { hint: 'RDM and vVol disks without a file cannot be read through VDDK' });
    const readSize = options.readSize ?? 4 * MiB;
    if (readSize < MiB || readSize > 4 * MiB || readSize % SECTOR_SIZE !== 0) {
      throw new VddkError('VDDK_OPTION_INVALID', `read size ${readSize} is outside 1–4 MiB (whole sectors)`);
    }
    const transports = transportList(options.transports);
    if (options.credentials.type === 'uid') registerSecret(options.credentials.password);
    else registerSecret(options.credentials.cookie);
    if (options.configFile) await checkVddkConfig(options.configFile);
    const context = {
      server: options.server,
      vm: `${vm.name} (${moref})`,
      disk: diskPath,
      ...(options.presentedThumbprint ? { presentedThumbprint: options.presentedThumbprint } : {}),
    };

    const dir = options.libraryDir ?? DEFAULT_VDDK_DIR;
    const { lib } = loadVddk(dir);
    try {
      lib.acquire({ libDir: dir, ...(options.configFile ? { configFile: options.configFile } : {}) });
    } catch (e) {
      throw fromVixError(e, 'connect', context);
    }
    let connection: VixConnection | undefined;
    const handles: VixHandle[] = [];
    try {
      try {
        connection = await lib.connect(
          {
            vmxSpec: `moref=${moref}`,
            serverName: options.server,
            thumbprint: options.thumbprint,
            credentials: options.credentials,
            ...(options.port ? { port: options.port } : {}),
            ...(options.nfcHostPort ? { nfcHostPort: options.nfcHostPort } : {}),
          },
          { readOnly: true, transportModes: transports, ...(options.snapshotMoref ? { snapshotRef: options.snapshotMoref } : {}) },
        );
      } catch (e) {
        throw fromVixError(e, 'connect', context);
      }
      const conn = connection;
      const openOne = async (): Promise<VixHandle> => {
        try {
          const h = await lib.open(conn, diskPath, OpenFlags.readOnly);
          handles.push(h);
          return h;
        } catch (e) {
          throw fromVixError(e, 'open', context);
        }
      };
      const first = await openOne();
      const transport = lib.transportMode(first);
      const readsInFlight = Math.max(1, options.readsInFlight ?? 4);
      const io = options.io ?? (transport === 'hotadd' || transport === 'san' ? 'async' : 'handles');
      if (io === 'handles') while (handles.length < readsInFlight) await openOne();
      const info = lib.getInfo(first);
      return new VddkSource(lib, connection, handles, info.capacitySectors * SECTOR_SIZE, transport, io, context, readSize, readsInFlight, Math.max(1, options.readAttempts ?? 3));
    } catch (e) {
      for (const h of handles) await lib.close(h).catch(() => undefined);
      if (connection) await lib.disconnect(connection).catch(() => undefined);
      lib.release();
      throw e;
    }
  }

  /**
   * Allocated (data) and unallocated (zero) extents from QueryAllocatedBlocks,
   * queried in whole 64 KiB chunks, at most 32 GiB per call. A tail shorter
   * than a chunk is reported as data (VDDK cannot be asked about it).
   */
  async extents(offset: number, length: number, signal?: AbortSignal): Promise<Extent[]> {
    this.assertOpen();
    const end = Math.min(this.size, offset + length);
    if (offset >= end) return [];
    if (!this.lib.canQueryAllocatedBlocks) return [{ offset, length: end - offset, zero: false }];
    const out: Extent[] = [];
    const push = (start: number, stop: number, zero: boolean): void => {
      const s = Math.max(start, offset);
      const t = Math.min(stop, end);
      if (t <= s) return;
      const last = out[out.length - 1];
      if (last && last.zero === zero && last.offset + last.length === s) last.length += t - s;
      else out.push({ offset: s, length: t - s, zero });
    };
    const wholeEnd = Math.floor(this.size / CHUNK_BYTES) * CHUNK_BYTES;
    let pos = Math.floor(offset / CHUNK_BYTES) * CHUNK_BYTES;
    const queryEnd = Math.min(wholeEnd, Math.ceil(end / CHUNK_BYTES) * CHUNK_BYTES);
    while (pos < queryEnd) {
      signal?.throwIfAborted();
      const sectors = Math.min(MAX_QUERY_SECTORS, (queryEnd - pos) / SECTOR_SIZE);
      let blocks;
      const release = await this.exclusive();
      try {
        blocks = await this.lib.queryAllocatedBlocks(release.handle, pos / SECTOR_SIZE, sectors, MIN_CHUNK_SECTORS);
      } catch (e) {
        throw fromVixError(e, 'extents', this.context);
      } finally {
        release.done();
      }
      let cursor = pos;
      for (const b of blocks) {
        const start = b.offset * SECTOR_SIZE;
        const stop = start + b.length * SECTOR_SIZE;
        push(cursor, start, true);
        push(start, stop, false);
        cursor = stop;
      }
      pos += sectors * SECTOR_SIZE;
      push(cursor, pos, true);
    }
    if (end > queryEnd) push(Math.max(queryEnd, offset), end, false);
    return out;
  }

  /** Reads [offset, offset+length), clipped at the end of the disk, in readSize pieces with several in flight. */
  async read(offset: number, length: number, signal?: AbortSignal): Promise<Buffer> {
    this.assertOpen();
    const end = Math.min(this.size, offset + length);
    if (offset >= end) return Buffer.alloc(0);
    // VDDK reads whole sectors; an unaligned request reads the covering sectors and slices.
    const alignedStart = Math.floor(offset / SECTOR_SIZE) * SECTOR_SIZE;
    const alignedEnd = Math.ceil(end / SECTOR_SIZE) * SECTOR_SIZE;
    const buffer = Buffer.allocUnsafe(alignedEnd - alignedStart);
    const pieces: Promise<void>[] = [];
    for (let pos = alignedStart; pos < alignedEnd; pos += this.readSize) {
      const n = Math.min(this.readSize, alignedEnd - pos);
      pieces.push(this.readPiece(pos, buffer.subarray(pos - alignedStart, pos - alignedStart + n), signal));
    }
    const results = await Promise.allSettled(pieces);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return alignedStart === offset && alignedEnd === end ? buffer : buffer.subarray(offset - alignedStart, end - alignedStart);
  }

  private async readPiece(pos: number, into: Buffer, signal?: AbortSignal): Promise<void> {
    const startSector = pos / SECTOR_SIZE;
    const sectors = into.length / SECTOR_SIZE;
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.readAttempts; attempt++) {
      signal?.throwIfAborted();
      const handle = await this.lanes.acquire();
      try {
        if (this.io === 'handles') await this.lib.read(handle, startSector, sectors, into);
        else await this.lib.readAsync(handle, startSector, sectors, into);
        this.bytesRead += into.length;
        return;
      } catch (e) {
        lastError = e;
      } finally {
        this.lanes.release(handle);
      }
      if (attempt < this.readAttempts) await new Promise((r) => setTimeout(r, 50 * attempt));
    }
    const last = startSector + sectors - 1;
    const named = fromVixError(lastError, 'read', this.context);
    throw new VddkError(
      'VDDK_READ_FAILED',
      `reading sectors ${startSector}–${last} (bytes ${pos}–${pos + into.length - 1}) of ${this.context.disk} failed ${this.readAttempts} times: ${named.message}`,
      {
        hint: 'the host or datastore failed the read; check the ESXi host and datastore health, then run again to resume',
        cause: lastError,
        details: { startSector, endSector: last, attempts: this.readAttempts, ...(named.details ?? {}) },
      },
    );
  }

  /**
   * A handle no other call is using: any idle one with one handle per lane;
   * with ReadAsync lanes sharing one handle, all lanes (no reads in flight).
   */
  private async exclusive(): Promise<{ handle: VixHandle; done: () => void }> {
    if (this.io === 'handles') {
      const handle = await this.lanes.acquire();
      return { handle, done: () => this.lanes.release(handle) };
    }
    return this.allLanes();
  }

  /** Every lane: no read or query is running on any handle once this resolves. */
  private async allLanes(): Promise<{ handle: VixHandle; done: () => void }> {
    const held: VixHandle[] = [];
    const count = this.io === 'handles' ? this.handles.length : this.readsInFlight;
    for (let i = 0; i < count; i++) held.push(await this.lanes.acquire());
    return { handle: this.handles[0]!, done: () => held.forEach((h) => this.lanes.release(h)) };
  }

  private assertOpen(): void {
    if (this.closed) throw new VddkError('VDDK_CLOSED', `${this.description} is closed`);
  }

  /** Waits for reads in flight, closes the disk, disconnects and releases the library. Idempotent. */
  async close(_ok: boolean): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Reads still running (a failed copy stops without waiting for its siblings) finish first: VDDK takes one call per handle.
    await this.allLanes();
    try {
      let failure: unknown;
      for (const h of this.handles) await this.lib.close(h).catch((e: unknown) => (failure ??= e));
      if (failure) throw failure;
    } finally {
      try {
        await this.lib.disconnect(this.connection);
      } finally {
        this.lib.release();
      }
    }
  }
}
