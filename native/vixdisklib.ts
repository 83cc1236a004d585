// koffi declarations of VMware's VixDiskLib (VDDK 6.7 – 8), the library the
// worker loads from the VDDK init image. The same code loads the project's
// fake (native/fake-vddk) in tests; only the directory differs.
//
// Blocking calls (ConnectEx, Open, Close, Read, QueryAllocatedBlocks, Wait)
// run on koffi's worker threads so progress, metrics and signals stay live.
// Every handle and every library allocation is released by the method that
// made it or by its documented partner (Disconnect, Close, FreeInfo,
// FreeBlockList, FreeErrorText, FreeConnectParams).
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import koffi, { type LibraryHandle, type TypeObject } from 'koffi';

export const SECTOR_SIZE = 512;
/** QueryAllocatedBlocks: the smallest chunk (sectors) and most chunks per call VDDK accepts. */
export const MIN_CHUNK_SECTORS = 128;
export const MAX_CHUNKS_PER_QUERY = 512 * 1024;

export const OpenFlags = { unbuffered: 1, singleLink: 2, readOnly: 4 } as const;

/** The VixError codes v2v names (vix.h); the rest are reported by number and VDDK's text. */
export const VixErrorCodes = {
  VIX_OK: 0,
  VIX_E_FAIL: 1,
  VIX_E_OUT_OF_MEMORY: 2,
  VIX_E_INVALID_ARG: 3,
  VIX_E_FILE_NOT_FOUND: 4,
  VIX_E_NOT_SUPPORTED: 6,
  VIX_E_FILE_ERROR: 7,
  VIX_E_FILE_ACCESS_ERROR: 13,
  VIX_E_OBJECT_NOT_FOUND: 25,
  VIX_E_HOST_NOT_CONNECTED: 26,
  VIX_E_AUTHENTICATION_FAIL: 35,
  VIX_E_HOST_CONNECTION_LOST: 36,
  VIX_E_HOST_USER_PERMISSIONS: 3014,
  VIX_E_VM_NOT_FOUND: 4000,
  VIX_E_SNAPSHOT_NOTFOUND: 13003,
  VIX_E_HOST_NETWORK_CONN_REFUSED: 14009,
  VIX_E_HOST_TCP_CONN_LOST: 14011,
  VIX_E_DISK_INVAL: 16000,
  VIX_E_DISK_NOINIT: 16001,
  VIX_E_DISK_OUTOFRANGE: 16007,
  VIX_E_DISK_INVALID_CONNECTION: 16054,
  VIX_E_CANNOT_CONNECT_TO_HOST: 18000,
  VIX_ASYNC: 25000,
  VIX_E_NET_HTTP_COULDNT_CONNECT: 30007,
  VIX_E_NET_HTTP_SSL_CONNECT_ERROR: 30035,
  VIX_E_NET_HTTP_SSL_SECURITY: 30201,
} as const;

const codeNames = new Map<number, string>(Object.entries(VixErrorCodes).map(([name, code]) => [code, name]));

/** The low 16 bits carry the code; VDDK may set higher bits. */
export function vixCode(err: number | bigint): number {
  return Number(BigInt(err) & 0xffffn);
}

/** A failed VixDiskLib call: the call, the code, its symbolic name and VDDK's own text. */
export class VixDiskLibError extends Error {
  constructor(
    readonly call: string,
    readonly code: number,
    readonly text: string,
  ) {
    super(`${call}: ${text} (${codeNames.get(code) ?? 'VixError'} ${code})`);
    this.name = 'VixDiskLibError';
  }
  get codeName(): string | undefined {
    return codeNames.get(this.code);
  }
}

/** The shared object could be opened but is not a usable libvixDiskLib. */
export class VixLoadError extends Error {
  constructor(
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'VixLoadError';
  }
}

declare const connectionBrand: unique symbol;
declare const handleBrand: unique symbol;
/** A `VixDiskLibConnection` (a C pointer); only this module makes and frees them. */
export type VixConnection = bigint & { readonly [connectionBrand]: true };
/** A `VixDiskLibHandle` (a C pointer); only this module makes and frees them. */
export type VixHandle = bigint & { readonly [handleBrand]: true };

export type Credentials =
  | { type: 'uid'; userName: string; password: string }
  /** A vim25 session cookie (`vmware_soap_session="…"`), as Forklift passes it. */
  | { type: 'session'; cookie: string; userName?: string; key?: string };

export interface ConnectParams {
  /** `moref=vm-123` */
  vmxSpec: string;
  serverName: string;
  /** SHA-1 of the server certificate, `AA:BB:…`. */
  thumbprint: string;
  credentials: Credentials;
  /** vCenter/ESXi HTTPS port (0: 443). */
  port?: number;
  /** ESXi NFC port (0: 902). */
  nfcHostPort?: number;
}

export interface DiskInfo {
  capacitySectors: number;
  adapterType: number;
  numLinks: number;
  parentFileNameHint: string | null;
  uuid: string | null;
  /** Present from VDDK 7 on; 512 before. */
  logicalSectorSize: number;
  physicalSectorSize: number;
}

export interface AllocatedBlock {
  /** In sectors. */
  offset: number;
  length: number;
}

const CredType = { uid: 1, session: 2 } as const;

// Opaque handles and the callback type.
const ConnectionType = koffi.pointer('VixDiskLibConnection', koffi.opaque('VixDiskLibConnectParam'));
const HandleType = koffi.pointer('VixDiskLibHandle', koffi.opaque('VixDiskLibHandleStruct'));
const CompletionCB = koffi.proto('void VixDiskLibCompletionCB(void *cbData, uint64_t result)');

// The creds and spec unions are declared as their largest member (three
// pointers): the same size, alignment and offsets as the C unions, without
// koffi union objects on every call.
const ConnectParamsType = koffi.struct('VixDiskLibConnectParams', {
  vmxSpec: 'char *',
  serverName: 'char *',
  thumbPrint: 'char *',
  privateUse: 'long',
  credType: 'int',
  creds: koffi.struct('VixDiskLibCreds', { p0: 'char *', p1: 'char *', p2: 'char *' }),
  port: 'uint32_t',
  nfcHostPort: 'uint32_t',
  privateUse2: 'char *',
  reserved: koffi.array('char', 8),
  reserved2: 'void *',
  spec: koffi.struct('VixDiskLibSpec', { id: 'char *', datastoreMoRef: 'char *', ssId: 'char *' }),
  specType: 'int',
});

const GeometryType = koffi.struct('VixDiskLibGeometry', { cylinders: 'uint32_t', heads: 'uint32_t', sectors: 'uint32_t' });
const InfoType = koffi.struct('VixDiskLibInfo', {
  biosGeo: GeometryType,
  physGeo: GeometryType,
  capacity: 'uint64_t',
  adapterType: 'int',
  numLinks: 'int',
  parentFileNameHint: 'char *',
  uuid: 'char *',
  logicalSectorSize: 'uint32_t',
  physicalSectorSize: 'uint32_t',
});
/** VDDK 6.x ends the struct at `uuid`; reading the sector sizes there would read past it. */
const InfoTypeV6 = koffi.struct('VixDiskLibInfoV6', {
  biosGeo: GeometryType,
  physGeo: GeometryType,
  capacity: 'uint64_t',
  adapterType: 'int',
  numLinks: 'int',
  parentFileNameHint: 'char *',
  uuid: 'char *',
});
const BlockType = koffi.struct('VixDiskLibBlock', { offset: 'uint64_t', length: 'uint64_t' });

/** For the layout test: koffi's view of the structs the C side declares. */
export const layouts = { ConnectParamsType, InfoType, BlockType, GeometryType };

type Fn = ReturnType<LibraryHandle['func']>;

interface Functions {
  InitEx: Fn;
  Exit: Fn;
  GetErrorText: Fn;
  FreeErrorText: Fn;
  ConnectEx: Fn;
  Disconnect: Fn;
  Open: Fn;
  Close: Fn;
  GetInfo: Fn;
  FreeInfo: Fn;
  Read: Fn;
  ReadAsync: Fn;
  Wait: Fn;
  GetTransportMode: Fn;
  QueryAllocatedBlocks?: Fn;
  FreeBlockList?: Fn;
  AllocateConnectParams?: Fn;
  FreeConnectParams?: Fn;
}

function callAsync(fn: Fn, ...args: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    fn.async(...args, (err: unknown, result: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result)));
  });
}

/**
 * One loaded libvixDiskLib. VDDK keeps process-wide state (InitEx/Exit), so
 * there is one instance per library file, shared by every source.
 */
export class VixDiskLib {
  private static readonly loaded = new Map<string, VixDiskLib>();
  private initializedWith: { configFile: string | undefined } | undefined;
  private users = 0;
  private nextRequest = 1n;
  private readonly pendingReads = new Map<bigint, (result: number) => void>();
  private completion: bigint | undefined;
  /** A ref'd timer while async reads are outstanding: koffi delivers their completions only while the event loop is alive. */
  private keepAlive: NodeJS.Timeout | undefined;

  private constructor(
    readonly path: string,
    /** The soname version: 8 for `libvixDiskLib.so.8`. */
    readonly version: number,
    private readonly lib: LibraryHandle,
    private readonly fns: Functions,
  ) {}

  /**
   * Loads (once per path) the library; throws VixLoadError when it cannot be
   * loaded or lacks a required symbol. VMware ships libvixDiskLib's own
   * dependencies beside it without an RPATH (nbdkit re-execs itself with
   * LD_LIBRARY_PATH); a process cannot change its own library path, so when
   * they are not found the libraries of that directory are loaded first, and
   * the dynamic linker then matches them by soname. Everything from the VDDK
   * directory is loaded with RTLD_DEEPBIND so VDDK's OpenSSL binds to VDDK's
   * own, not to the one Node exports.
   */
  static load(path: string): VixDiskLib {
    const cached = VixDiskLib.loaded.get(path);
    if (cached) return cached;
    let lib: LibraryHandle;
    try {
      lib = koffi.load(path, { deep: true });
    } catch (first) {
      const message = first instanceof Error ? first.message : String(first);
      if (!/cannot open shared object file/.test(message)) throw new VixLoadError(`cannot load ${path}: ${message}`, path, { cause: first });
      preloadDependencies(dirname(path), basename(path));
      try {
        lib = koffi.load(path, { deep: true });
      } catch (cause) {
        throw new VixLoadError(`cannot load ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, path, { cause });
      }
    }
    const version = Number(/\.so\.(\d+)/.exec(path)?.[1] ?? 8);
    const required = (name: string, result: TypeObject | string, args: (TypeObject | string | ReturnType<typeof koffi.out>)[]): Fn => {
      try {
        return lib.func(`VixDiskLib_${name}`, result, args);
      } catch (cause) {
        throw new VixLoadError(`${path} does not export VixDiskLib_${name}: not a libvixDiskLib`, path, { cause });
      }
    };
    const optional = (...a: Parameters<typeof required>): Fn | undefined => {
      try {
        return required(...a);
      } catch {
        return undefined;
      }
    };
    const ConnPtr = koffi.out(koffi.pointer(ConnectionType));
    const HandlePtr = koffi.out(koffi.pointer(HandleType));
    const fns: Functions = {
      InitEx: required('InitEx', 'uint64_t', ['uint32_t', 'uint32_t', 'void *', 'void *', 'void *', 'const char *', 'const char *']),
      Exit: required('Exit', 'void', []),
      GetErrorText: required('GetErrorText', 'void *', ['uint64_t', 'const char *']),
      FreeErrorText: required('FreeErrorText', 'void', ['void *']),
      ConnectEx: required('ConnectEx', 'uint64_t', ['void *', 'char', 'const char *', 'const char *', ConnPtr]),
      Disconnect: required('Disconnect', 'uint64_t', [ConnectionType]),
      Open: required('Open', 'uint64_t', [ConnectionType, 'const char *', 'uint32_t', HandlePtr]),
      Close: required('Close', 'uint64_t', [HandleType]),
      GetInfo: required('GetInfo', 'uint64_t', [HandleType, koffi.out(koffi.pointer('void *'))]),
      FreeInfo: required('FreeInfo', 'void', ['void *']),
      Read: required('Read', 'uint64_t', [HandleType, 'uint64_t', 'uint64_t', 'void *']),
      ReadAsync: required('ReadAsync', 'uint64_t', [HandleType, 'uint64_t', 'uint64_t', 'void *', koffi.pointer(CompletionCB), 'void *']),
      Wait: required('Wait', 'uint64_t', [HandleType]),
      GetTransportMode: required('GetTransportMode', 'const char *', [HandleType]),
      QueryAllocatedBlocks: optional('QueryAllocatedBlocks', 'uint64_t', [HandleType, 'uint64_t', 'uint64_t', 'uint64_t', koffi.out(koffi.pointer('void *'))]),
      FreeBlockList: optional('FreeBlockList', 'uint64_t', ['void *']),
      AllocateConnectParams: optional('AllocateConnectParams', 'void *', []),
      FreeConnectParams: optional('FreeConnectParams', 'void', ['void *']),
    };
    const instance = new VixDiskLib(path, version, lib, fns);
    VixDiskLib.loaded.set(path, instance);
    return instance;
  }

  get canQueryAllocatedBlocks(): boolean {
    return this.fns.QueryAllocatedBlocks !== undefined && this.fns.FreeBlockList !== undefined;
  }

  /** VDDK's text for a code (GetErrorText, freed with FreeErrorText). */
  errorText(err: number): string {
    const ptr = this.fns.GetErrorText(err, null) as bigint | null;
    if (!ptr) return `VixError ${err}`;
    try {
      return koffi.decode.string(ptr);
    } finally {
      this.fns.FreeErrorText(ptr);
    }
  }

  private check(call: string, result: unknown): void {
    const code = vixCode(result as number | bigint);
    if (code !== VixErrorCodes.VIX_OK) throw new VixDiskLibError(call, code, this.errorText(Number(result)));
  }

  /**
   * InitEx once per process and configuration (VDDK's state is global);
   * each acquire is paired with a release, and the last release calls Exit.
   */
  acquire(options: { libDir: string; configFile?: string }): void {
    if (this.initializedWith) {
      if (this.initializedWith.configFile !== options.configFile) {
        throw new VixDiskLibError(
          'VixDiskLib_InitEx',
          VixErrorCodes.VIX_E_INVALID_ARG,
          `already initialized with config file ${this.initializedWith.configFile ?? '(none)'}; one VDDK configuration per process`,
        );
      }
    } else {
      // 6.5 is the API level every VDDK from 6.5 to 8 accepts (nbdkit asks for the same). Log callbacks
      // take a va_list, which koffi cannot receive; NULL keeps VDDK's own logging.
      this.check('VixDiskLib_InitEx', this.fns.InitEx(6, 5, null, null, null, options.libDir, options.configFile ?? null));
      this.initializedWith = { configFile: options.configFile };
    }
    this.users++;
  }

  release(): void {
    if (this.users === 0) return;
    this.users--;
    if (this.users === 0 && this.initializedWith) {
      this.fns.Exit();
      this.initializedWith = undefined;
      if (this.completion !== undefined && this.pendingReads.size === 0) {
        koffi.unregister(this.completion);
        this.completion = undefined;
      }
    }
  }

  async connect(params: ConnectParams | null, options: { readOnly: boolean; snapshotRef?: string; transportModes?: string }): Promise<VixConnection> {
    const out: [bigint | null] = [null];
    const value = params ? connectParamsValue(params) : null;
    let struct: unknown = value;
    const allocated = value && this.fns.AllocateConnectParams && this.fns.FreeConnectParams ? (this.fns.AllocateConnectParams() as bigint | null) : null;
    if (allocated) {
      koffi.encode(allocated, ConnectParamsType, value);
      struct = allocated;
    } else if (value) {
      struct = koffi.as(value, koffi.pointer(ConnectParamsType));
    }
    try {
      const result = await callAsync(this.fns.ConnectEx, struct, options.readOnly ? 1 : 0, options.snapshotRef ?? null, options.transportModes ?? null, out);
      this.check('VixDiskLib_ConnectEx', result);
    } finally {
      if (allocated) {
        // Re-encoding with empty strings releases the copies koffi bound to this memory (the password among them).
        koffi.encode(allocated, ConnectParamsType, emptyConnectParams());
        this.fns.FreeConnectParams!(allocated);
      }
    }
    if (!out[0]) throw new VixDiskLibError('VixDiskLib_ConnectEx', VixErrorCodes.VIX_E_FAIL, 'returned no connection');
    return out[0] as VixConnection;
  }

  async disconnect(connection: VixConnection): Promise<void> {
    this.check('VixDiskLib_Disconnect', await callAsync(this.fns.Disconnect, connection));
  }

  async open(connection: VixConnection, path: string, flags: number): Promise<VixHandle> {
    const out: [bigint | null] = [null];
    this.check('VixDiskLib_Open', await callAsync(this.fns.Open, connection, path, flags, out));
    if (!out[0]) throw new VixDiskLibError('VixDiskLib_Open', VixErrorCodes.VIX_E_FAIL, 'returned no handle');
    return out[0] as VixHandle;
  }

  /** Waits for the handle's outstanding async reads, then closes it. */
  async close(handle: VixHandle): Promise<void> {
    await this.wait(handle).catch(() => undefined);
    this.check('VixDiskLib_Close', await callAsync(this.fns.Close, handle));
  }

  transportMode(handle: VixHandle): string {
    return (this.fns.GetTransportMode(handle) as string | null) ?? 'unknown';
  }

  getInfo(handle: VixHandle): DiskInfo {
    const out: [bigint | null] = [null];
    this.check('VixDiskLib_GetInfo', this.fns.GetInfo(handle, out));
    const ptr = out[0];
    if (!ptr) throw new VixDiskLibError('VixDiskLib_GetInfo', VixErrorCodes.VIX_E_FAIL, 'returned no info');
    try {
      const info = koffi.decode(ptr, this.version >= 7 ? InfoType : InfoTypeV6) as {
        capacity: number | bigint;
        adapterType: number;
        numLinks: number;
        parentFileNameHint: string | null;
        uuid: string | null;
        logicalSectorSize?: number;
        physicalSectorSize?: number;
      };
      return {
        capacitySectors: Number(info.capacity),
        adapterType: info.adapterType,
        numLinks: info.numLinks,
        parentFileNameHint: info.parentFileNameHint,
        uuid: info.uuid,
        logicalSectorSize: info.logicalSectorSize || SECTOR_SIZE,
        physicalSectorSize: info.physicalSectorSize || SECTOR_SIZE,
      };
    } finally {
      this.fns.FreeInfo(ptr);
    }
  }

  /** A synchronous-in-VDDK read on a koffi worker thread. */
  async read(handle: VixHandle, startSector: number, sectors: number, into: Buffer): Promise<void> {
    if (into.length < sectors * SECTOR_SIZE) throw new RangeError('buffer smaller than the read');
    this.check('VixDiskLib_Read', await callAsync(this.fns.Read, handle, startSector, sectors, into));
  }

  /**
   * ReadAsync: VDDK fills `into` from its own threads and reports through the
   * completion callback; several may be in flight on one handle. `into` must
   * stay referenced until the promise settles (the caller holds it).
   */
  readAsync(handle: VixHandle, startSector: number, sectors: number, into: Buffer): Promise<void> {
    if (into.length < sectors * SECTOR_SIZE) return Promise.reject(new RangeError('buffer smaller than the read'));
    this.completion ??= koffi.register(this.onReadComplete.bind(this), koffi.pointer(CompletionCB));
    const id = this.nextRequest++;
    return new Promise<void>((resolve, reject) => {
      this.pendingReads.set(id, (result) => {
        const code = vixCode(result);
        if (code === VixErrorCodes.VIX_OK) resolve();
        else reject(new VixDiskLibError('VixDiskLib_ReadAsync', code, this.errorText(result)));
      });
      this.keepAlive ??= setInterval(() => undefined, 1 << 30);
      let submitted: unknown;
      try {
        submitted = this.fns.ReadAsync(handle, startSector, sectors, into, this.completion, id);
      } catch (e) {
        this.settle(id, VixErrorCodes.VIX_E_FAIL);
        reject(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      const code = vixCode(submitted as number | bigint);
      // VIX_ASYNC: queued, the callback will come. VIX_OK: done at once (VDDK may call back first). Else: refused.
      if (code !== VixErrorCodes.VIX_ASYNC && code !== VixErrorCodes.VIX_OK) this.settle(id, Number(submitted));
    });
  }

  private onReadComplete(data: bigint | null, result: number | bigint): void {
    if (data !== null) this.settle(BigInt(data), Number(result));
  }

  private settle(id: bigint, result: number): void {
    const done = this.pendingReads.get(id);
    if (!done) return;
    this.pendingReads.delete(id);
    if (this.pendingReads.size === 0 && this.keepAlive) {
      clearInterval(this.keepAlive);
      this.keepAlive = undefined;
    }
    done(result);
  }

  async wait(handle: VixHandle): Promise<void> {
    this.check('VixDiskLib_Wait', await callAsync(this.fns.Wait, handle));
  }

  /** Allocated ranges (sectors) in [startSector, startSector+sectors); the caller keeps within VDDK's chunk rules. */
  async queryAllocatedBlocks(handle: VixHandle, startSector: number, sectors: number, chunkSectors: number): Promise<AllocatedBlock[]> {
    if (!this.fns.QueryAllocatedBlocks || !this.fns.FreeBlockList) {
      throw new VixDiskLibError('VixDiskLib_QueryAllocatedBlocks', VixErrorCodes.VIX_E_NOT_SUPPORTED, 'not exported by this VDDK (needs 6.7 or later)');
    }
    const out: [bigint | null] = [null];
    this.check('VixDiskLib_QueryAllocatedBlocks', await callAsync(this.fns.QueryAllocatedBlocks, handle, startSector, sectors, chunkSectors, out));
    const list = out[0];
    if (!list) return [];
    try {
      const count = koffi.decode(list, 'uint32_t') as number;
      if (count === 0) return [];
      // blocks[] follows numBlocks at the struct's 8-byte alignment.
      const blocks = koffi.decode(list, koffi.offsetof(koffi.struct({ n: 'uint32_t', b: BlockType }), 'b'), BlockType, count) as {
        offset: number | bigint;
        length: number | bigint;
      }[];
      return blocks.map((b) => ({ offset: Number(b.offset), length: Number(b.length) }));
    } finally {
      this.fns.FreeBlockList(list);
    }
  }

  /** Outstanding ReadAsync requests, for tests. */
  get readsInFlight(): number {
    return this.pendingReads.size;
  }

  /** Unloads nothing (VDDK does not support dlclose while its threads live); kept for symmetry in tests. */
  get libraryHandle(): LibraryHandle {
    return this.lib;
  }
}

/** Libraries loaded only so libvixDiskLib finds its dependencies; kept referenced for the process's life. */
const preloaded = new Map<string, LibraryHandle>();

/** Loads every other shared object of `dir`, in rounds until no more load (one may need another). */
function preloadDependencies(dir: string, except: string): void {
  let pending = readdirSync(dir).filter((f) => /\.so(\.\d+)*$/.test(f) && !f.startsWith('libvixDiskLib.so') && f !== except && !preloaded.has(join(dir, f)));
  for (let progress = true; progress && pending.length > 0;) {
    progress = false;
    const failed: string[] = [];
    for (const file of pending) {
      try {
        preloaded.set(join(dir, file), koffi.load(join(dir, file), { deep: true }));
        progress = true;
      } catch {
        failed.push(file);
      }
    }
    pending = failed;
  }
}

function connectParamsValue(p: ConnectParams): Record<string, unknown> {
  const creds =
    p.credentials.type === 'uid'
      ? { p0: p.credentials.userName, p1: p.credentials.password, p2: null }
      : { p0: p.credentials.cookie, p1: p.credentials.userName ?? null, p2: p.credentials.key ?? null };
  return {
    ...emptyConnectParams(),
    vmxSpec: p.vmxSpec,
    serverName: p.serverName,
    thumbPrint: p.thumbprint,
    credType: CredType[p.credentials.type],
    creds,
    port: p.port ?? 0,
    nfcHostPort: p.nfcHostPort ?? 0,
  };
}

function emptyConnectParams(): Record<string, unknown> {
  return {
    vmxSpec: null,
    serverName: null,
    thumbPrint: null,
    privateUse: 0,
    credType: 0,
    creds: { p0: null, p1: null, p2: null },
    port: 0,
    nfcHostPort: 0,
    privateUse2: null,
    reserved: [0, 0, 0, 0, 0, 0, 0, 0],
    reserved2: null,
    spec: { id: null, datastoreMoRef: null, ssId: null },
    specType: 0,
  };
}
