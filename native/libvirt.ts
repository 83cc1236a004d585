// koffi bindings to libvirt (libvirt.so.0): open a connection (with a
// password for vpx:// and esx://), list and look up domains, read state and
// XML, define and undefine. The worker uses it to validate every domain XML it
// writes for virt-v2v (defined on `test:///default`), and to read domains from
// libvirt URIs a user already has.
//
// libvirt keeps its last error per thread, and koffi runs async calls on
// worker threads, so errors are captured by a virSetErrorFunc handler (it runs
// on the failing call's thread, before the call returns) and calls are
// serialized: the error captured belongs to the call that just failed. Calls
// made on the main thread read virGetLastError as well.
import koffi, { type LibraryHandle } from 'koffi';
import { SourceError } from '../src/errors.js';
import type { PowerState } from '../src/model.js';
import { registerSecret } from '../src/redact.js';

declare const connectBrand: unique symbol;
declare const domainBrand: unique symbol;
type VirConnectPtr = bigint & { readonly [connectBrand]: true };
type VirDomainPtr = bigint & { readonly [domainBrand]: true };

export const VirErrorCode = {
  NO_SUPPORT: 3,
  NO_CONNECT: 5,
  INVALID_ARG: 8,
  OPERATION_FAILED: 9,
  XML_ERROR: 27,
  DOM_EXIST: 28,
  OPERATION_DENIED: 29,
  XML_DETAIL: 35,
  SYSTEM_ERROR: 38,
  NO_DOMAIN: 42,
  AUTH_FAILED: 45,
  OPERATION_INVALID: 55,
  CONFIG_UNSUPPORTED: 67,
} as const;

export interface VirErrorInfo {
  code: number;
  domain: number;
  message: string;
}

const ERROR_CODES: Record<number, { code: string; hint: string }> = {
  [VirErrorCode.AUTH_FAILED]: { code: 'SOURCE_AUTH_FAILED', hint: 'check the username and password for this libvirt URI' },
  [VirErrorCode.NO_DOMAIN]: { code: 'VM_NOT_FOUND', hint: 'list the domains of this URI (`virsh -c URI list --all`)' },
  [VirErrorCode.NO_CONNECT]: { code: 'SOURCE_UNREACHABLE', hint: 'check the libvirt URI and that its host is reachable' },
  [VirErrorCode.SYSTEM_ERROR]: { code: 'SOURCE_UNREACHABLE', hint: 'check the libvirt URI and that its host is reachable' },
  [VirErrorCode.XML_ERROR]: { code: 'LIBVIRT_XML_INVALID', hint: 'the domain XML does not parse or validate; see the libvirt message' },
  [VirErrorCode.XML_DETAIL]: { code: 'LIBVIRT_XML_INVALID', hint: 'the domain XML does not parse or validate; see the libvirt message' },
  [VirErrorCode.CONFIG_UNSUPPORTED]: { code: 'LIBVIRT_XML_INVALID', hint: 'libvirt does not support this domain configuration' },
  [VirErrorCode.DOM_EXIST]: { code: 'LIBVIRT_DOMAIN_EXISTS', hint: 'a domain with this name or UUID is already defined' },
};

/** A failed libvirt call, with libvirt's own message and error code. */
export class LibvirtError extends SourceError {
  constructor(
    readonly call: string,
    readonly virError: VirErrorInfo | undefined,
  ) {
    // The esx/vpx drivers report a refused vim25 Login as an internal error carrying the SOAP fault.
    const refusedLogin = virError && /Login failure|InvalidLogin|authentication failed/i.test(virError.message) ? ERROR_CODES[VirErrorCode.AUTH_FAILED] : undefined;
    const known = virError ? (ERROR_CODES[virError.code] ?? refusedLogin) : undefined;
    super(known?.code ?? 'LIBVIRT_ERROR', `${call}: ${virError?.message ?? 'failed without an error message'}`, {
      hint: known?.hint ?? 'see the libvirt message',
      details: virError ? { virErrorCode: virError.code, virErrorDomain: virError.domain } : {},
    });
  }
}

export const DomainState = ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended'] as const;
export type DomainStateName = (typeof DomainState)[number];

/** libvirt's domain state as the core's power state: virt-v2v refuses running and paused domains alike. */
export function powerStateOf(state: DomainStateName): PowerState {
  switch (state) {
    case 'running':
    case 'blocked':
    case 'paused':
    case 'shutdown':
      return 'on';
    case 'shutoff':
      return 'off';
    case 'pmsuspended':
      return 'suspended';
    default:
      return 'unknown';
  }
}

export interface DomainSummary {
  name: string;
  uuid: string;
  state: DomainStateName;
  powerState: PowerState;
}

const CredType = { USERNAME: 1, AUTHNAME: 2, PASSPHRASE: 5, ECHOPROMPT: 6, NOECHOPROMPT: 7 } as const;

const ConnectType = koffi.pointer('virConnectPtr', koffi.opaque('virConnect'));
const DomainType = koffi.pointer('virDomainPtr', koffi.opaque('virDomain'));
const ErrorStruct = koffi.struct('virError', {
  code: 'int',
  domain: 'int',
  message: 'char *',
  level: 'int',
  conn: 'void *',
  dom: 'void *',
  str1: 'char *',
  str2: 'char *',
  str3: 'char *',
  int1: 'int',
  int2: 'int',
  net: 'void *',
});
const CredentialStruct = koffi.struct('virConnectCredential', {
  type: 'int',
  prompt: 'const char *',
  challenge: 'const char *',
  defresult: 'const char *',
  result: 'void *',
  resultlen: 'unsigned int',
});
const AuthCallback = koffi.proto('int virConnectAuthCallback(void *cred, unsigned int ncred, void *cbdata)');
const ErrorFunc = koffi.proto('void virErrorFunc(void *userData, void *error)');
const AuthStruct = koffi.struct('virConnectAuth', {
  credtype: 'int *',
  ncredtype: 'unsigned int',
  cb: koffi.pointer(AuthCallback),
  cbdata: 'void *',
});
/** A C string libvirt hands over to the caller, freed with free() once read. */
const OwnedString = koffi.disposable('virOwnedString', 'str');

type Fn = ReturnType<LibraryHandle['func']>;

interface Api {
  virConnectOpenAuth: Fn;
  virConnectClose: Fn;
  virConnectListAllDomains: Fn;
  virDomainLookupByName: Fn;
  virDomainLookupByUUIDString: Fn;
  virDomainGetName: Fn;
  virDomainGetUUIDString: Fn;
  virDomainGetState: Fn;
  virDomainGetXMLDesc: Fn;
  virDomainDefineXML: Fn;
  virDomainUndefine: Fn;
  virDomainFree: Fn;
  virGetLastError: Fn;
  virResetLastError: Fn;
  virSetErrorFunc: Fn;
  malloc: Fn;
  free: Fn;
}

let api: Api | undefined;
let captured: VirErrorInfo | undefined;
let errorHandler: bigint | undefined;
/** One libvirt call at a time (see the header comment). */
let queue: Promise<unknown> = Promise.resolve();

function load(): Api {
  if (api) return api;
  let lib: LibraryHandle;
  let libc: LibraryHandle;
  try {
    lib = koffi.load('libvirt.so.0');
    libc = koffi.load('libc.so.6');
  } catch (cause) {
    throw new SourceError('LIBVIRT_MISSING', `cannot load libvirt.so.0: ${cause instanceof Error ? cause.message : String(cause)}`, {
      hint: 'install the libvirt client library (Debian: libvirt0)',
      cause,
    });
  }
  api = {
    virConnectOpenAuth: lib.func('virConnectOpenAuth', ConnectType, ['const char *', koffi.pointer(AuthStruct), 'unsigned int']),
    virConnectClose: lib.func('virConnectClose', 'int', [ConnectType]),
    virConnectListAllDomains: lib.func('virConnectListAllDomains', 'int', [ConnectType, koffi.out(koffi.pointer('void *')), 'unsigned int']),
    virDomainLookupByName: lib.func('virDomainLookupByName', DomainType, [ConnectType, 'const char *']),
    virDomainLookupByUUIDString: lib.func('virDomainLookupByUUIDString', DomainType, [ConnectType, 'const char *']),
    virDomainGetName: lib.func('virDomainGetName', 'const char *', [DomainType]),
    virDomainGetUUIDString: lib.func('virDomainGetUUIDString', 'int', [DomainType, 'void *']),
    virDomainGetState: lib.func('virDomainGetState', 'int', [DomainType, koffi.out(koffi.pointer('int')), koffi.out(koffi.pointer('int')), 'unsigned int']),
    virDomainGetXMLDesc: lib.func('virDomainGetXMLDesc', OwnedString, [DomainType, 'unsigned int']),
    virDomainDefineXML: lib.func('virDomainDefineXML', DomainType, [ConnectType, 'const char *']),
    virDomainUndefine: lib.func('virDomainUndefine', 'int', [DomainType]),
    virDomainFree: lib.func('virDomainFree', 'int', [DomainType]),
    virGetLastError: lib.func('virGetLastError', 'void *', []),
    virResetLastError: lib.func('virResetLastError', 'void', []),
    virSetErrorFunc: lib.func('virSetErrorFunc', 'void', ['void *', koffi.pointer(ErrorFunc)]),
    malloc: libc.func('malloc', 'void *', ['size_t']),
    free: libc.func('free', 'void', ['void *']),
  };
  // Also keeps libvirt from printing every error to stderr.
  errorHandler = koffi.register((_user: unknown, err: bigint | null) => {
    captured = err ? decodeError(err) : undefined;
  }, koffi.pointer(ErrorFunc));
  api.virSetErrorFunc(null, errorHandler);
  return api;
}

function decodeError(ptr: bigint): VirErrorInfo {
  const e = koffi.decode(ptr, ErrorStruct) as { code: number; domain: number; message: string | null };
  return { code: e.code, domain: e.domain, message: e.message ?? `libvirt error ${e.code}` };
}

function serialized<T>(work: () => Promise<T>): Promise<T> {
  const run = queue.then(work, work);
  queue = run.catch(() => undefined);
  return run;
}

/** Runs one libvirt call on a koffi worker thread; `failed(result)` says whether it failed, then libvirt's error is attached. */
function call<T>(name: keyof Api, failed: (r: T) => boolean, ...args: unknown[]): Promise<T> {
  const fns = load();
  return serialized(
    () =>
      new Promise<T>((resolve, reject) => {
        captured = undefined;
        fns[name].async(...args, (err: unknown, result: T) => {
          if (err) reject(err instanceof Error ? err : new Error(String(err)));
          else if (failed(result)) reject(new LibvirtError(name, captured ?? lastErrorOnThisThread(fns)));
          else resolve(result);
        });
      }),
  );
}

function lastErrorOnThisThread(fns: Api): VirErrorInfo | undefined {
  const ptr = fns.virGetLastError() as bigint | null;
  return ptr ? decodeError(ptr) : undefined;
}

const isNull = (p: unknown): boolean => p === null || p === 0n;
const isNegative = (r: number): boolean => r < 0;

async function withDomain<T>(dom: VirDomainPtr, use: (dom: VirDomainPtr) => Promise<T>): Promise<T> {
  try {
    return await use(dom);
  } finally {
    await call('virDomainFree', isNegative, dom).catch(() => undefined);
  }
}

export interface OpenOptions {
  /** For vpx://, esx://, qemu+ssh:// with password authentication. */
  username?: string;
  password?: string;
  readOnly?: boolean;
}

export class LibvirtConnection {
  private closed = false;
  private constructor(
    readonly uri: string,
    private readonly conn: VirConnectPtr,
  ) {}

  static async open(uri: string, options: OpenOptions = {}): Promise<LibvirtConnection> {
    const fns = load();
    if (options.password) registerSecret(options.password);
    // libvirt asks through the callback; each answer is malloc'd because libvirt frees it.
    const answer = (cred: { type: number; defresult: string | null }): string | null => {
      if (cred.type === CredType.USERNAME || cred.type === CredType.AUTHNAME || cred.type === CredType.ECHOPROMPT) return options.username ?? cred.defresult;
      if (cred.type === CredType.PASSPHRASE || cred.type === CredType.NOECHOPROMPT) return options.password ?? null;
      return cred.defresult;
    };
    const callback = koffi.register((credPtr: bigint, ncred: number): number => {
      const size = koffi.sizeof(CredentialStruct);
      for (let i = 0; i < ncred; i++) {
        const cred = koffi.decode(credPtr, i * size, CredentialStruct) as { type: number; defresult: string | null };
        const value = answer(cred);
        if (value === null) return -1;
        const bytes = Buffer.from(value, 'utf8');
        const mem = fns.malloc(bytes.length + 1) as bigint;
        koffi.encode(mem, koffi.array('uint8_t', bytes.length + 1), [...bytes, 0]);
        koffi.encode(credPtr, i * size + koffi.offsetof(CredentialStruct, 'result'), 'void *', mem);
        koffi.encode(credPtr, i * size + koffi.offsetof(CredentialStruct, 'resultlen'), 'unsigned int', bytes.length);
      }
      return 0;
    }, koffi.pointer(AuthCallback));
    const credTypes = [CredType.USERNAME, CredType.AUTHNAME, CredType.PASSPHRASE, CredType.ECHOPROMPT, CredType.NOECHOPROMPT];
    try {
      const conn = await call<VirConnectPtr | null>(
        'virConnectOpenAuth',
        isNull,
        uri,
        { credtype: credTypes, ncredtype: credTypes.length, cb: callback, cbdata: null },
        options.readOnly ? 1 : 0,
      );
      return new LibvirtConnection(uri, conn!);
    } finally {
      koffi.unregister(callback);
    }
  }

  async listDomains(): Promise<DomainSummary[]> {
    const fns = load();
    const out: [bigint | null] = [null];
    const count = await call<number>('virConnectListAllDomains', isNegative, this.conn, out, 0);
    const array = out[0];
    if (!array) return [];
    const pointers = (count > 0 ? koffi.decode(array, 'void *', count) : []) as VirDomainPtr[];
    try {
      const summaries: DomainSummary[] = [];
      for (const dom of pointers) summaries.push(await this.summary(dom));
      return summaries.sort((a, b) => a.name.localeCompare(b.name));
    } finally {
      for (const dom of pointers) await call('virDomainFree', isNegative, dom).catch(() => undefined);
      fns.free(array);
    }
  }

  private async summary(dom: VirDomainPtr): Promise<DomainSummary> {
    const name = await call<string | null>('virDomainGetName', (r) => r === null, dom);
    const uuid = Buffer.alloc(37); // VIR_UUID_STRING_BUFLEN
    await call<number>('virDomainGetUUIDString', isNegative, dom, uuid);
    const state: [number] = [0];
    await call<number>('virDomainGetState', isNegative, dom, state, [0], 0);
    const stateName = DomainState[state[0]] ?? 'nostate';
    return { name: name!, uuid: uuid.toString('latin1', 0, Math.max(0, uuid.indexOf(0))), state: stateName, powerState: powerStateOf(stateName) };
  }

  private async lookup(ref: string): Promise<VirDomainPtr> {
    const byUuid = /^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(ref);
    return (await call<VirDomainPtr | null>(byUuid ? 'virDomainLookupByUUIDString' : 'virDomainLookupByName', isNull, this.conn, ref))!;
  }

  /** Name, UUID and state of one domain (by name or UUID). */
  async domain(ref: string): Promise<DomainSummary> {
    return withDomain(await this.lookup(ref), (dom) => this.summary(dom));
  }

  /** The domain XML (`flags` as virDomainGetXMLDesc: 1 secure, 2 inactive). */
  async xml(ref: string, flags = 0): Promise<string> {
    return withDomain(await this.lookup(ref), async (dom) => (await call<string | null>('virDomainGetXMLDesc', (r) => r === null, dom, flags))!);
  }

  /** Defines a persistent domain; libvirt parses and validates the XML. */
  async define(xml: string): Promise<DomainSummary> {
    const dom = await call<VirDomainPtr | null>('virDomainDefineXML', isNull, this.conn, xml);
    return withDomain(dom!, (d) => this.summary(d));
  }

  async undefine(ref: string): Promise<void> {
    await withDomain(await this.lookup(ref), (dom) => call<number>('virDomainUndefine', isNegative, dom).then(() => undefined));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await call<number>('virConnectClose', isNegative, this.conn);
  }
}

/**
 * Validates a domain XML the way virt-v2v's `-i libvirtxml` will read it:
 * defines it on libvirt's test driver (nothing runs), reads it back, and
 * undefines it. Returns libvirt's normalized XML; throws LIBVIRT_XML_INVALID
 * with libvirt's message otherwise.
 */
export async function validateDomainXml(xml: string, uri = 'test:///default'): Promise<string> {
  const conn = await LibvirtConnection.open(uri);
  try {
    const defined = await conn.define(xml);
    try {
      return await conn.xml(defined.uuid, 2);
    } finally {
      await conn.undefine(defined.uuid);
    }
  } finally {
    await conn.close();
  }
}

/** For tests: the error handler is registered once per process. */
export function libvirtLoaded(): boolean {
  return errorHandler !== undefined;
}
