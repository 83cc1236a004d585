import { request, type Dispatcher } from 'undici';
import { SourceError } from '../../src/errors.js';
import { redactUrl, registerSecret } from '../../src/redact.js';
import { classifyTransportError, makeAgent, tlsFailureHint, type TlsOptions } from '../../src/net/tls.js';
import { asArray, envelope, escapeXml, isMoRef, moRefXml, readResponse, type MoRef, type SoapFault, type VimObject, type VimValue } from './xml.js';

export interface ServiceContent {
  rootFolder: MoRef;
  propertyCollector: MoRef;
  viewManager: MoRef;
  sessionManager: MoRef;
  about: { fullName: string; apiType: string; apiVersion: string; instanceUuid?: string };
}

export interface ObjectContent {
  obj: MoRef;
  props: Map<string, VimValue>;
  missing: { path: string; fault: string }[];
}

export interface PropertySpec {
  type: string;
  pathSet: string[];
}

export interface VimClientOptions extends TlsOptions {
  /** `https://vcenter/sdk` */
  url: string;
  dispatcher?: Dispatcher;
  requestTimeoutMs?: number;
  /** Stops every call waiting on vCenter (the run was stopped); Logout keeps a short deadline of its own. */
  signal?: AbortSignal;
}

const FAULT_CODES: Record<string, { code: string; hint: string }> = {
  InvalidLogin: { code: 'SOURCE_AUTH_FAILED', hint: 'check the username and the password file of this source' },
  NotAuthenticated: { code: 'SOURCE_AUTH_FAILED', hint: 'the session expired or was never established; check the credentials' },
  NoPermission: { code: 'SOURCE_PERMISSION_DENIED', hint: 'the user needs read access to the inventory (and VirtualMachine.Provisioning for copies)' },
  ManagedObjectNotFound: { code: 'SOURCE_OBJECT_NOT_FOUND', hint: 'the object does not exist (any more) on the source; refresh the inventory' },
  InvalidPowerState: { code: 'SOURCE_INVALID_POWER_STATE', hint: 'power the VM off first' },
  InvalidState: { code: 'SOURCE_INVALID_STATE', hint: 'the object is busy; retry when its current task ends' },
};

/** A vim25 fault, named. */
export class VimFaultError extends SourceError {
  readonly faultType: string;
  constructor(method: string, fault: SoapFault) {
    const known = FAULT_CODES[fault.faultType];
    super(known?.code ?? 'SOURCE_API_ERROR', `${method}: ${fault.faultType}: ${fault.message}`, {
      hint: known?.hint ?? 'the source rejected the request; see the fault type',
      details: { faultType: fault.faultType },
    });
    this.faultType = fault.faultType;
  }
}

const LOGOUT_MS = 10_000;

/**
 * A small hand-written vim25 SOAP client: the handful of calls v2v needs,
 * a session cookie, paged property collection, and named faults.
 */
export class VimClient {
  readonly url: URL;
  /** Every HTTP round trip to /sdk, for benchmarks and tests. */
  roundTrips = 0;
  /** The connections to this host; datastore reads (`/folder`) share them and their TLS checks. */
  readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly tls: TlsOptions;
  private cookie: string | undefined;
  private version = '6.5';
  private credentials: { username: string; password: string } | undefined;
  private content: ServiceContent | undefined;
  private readonly signal: AbortSignal | undefined;

  constructor(options: VimClientOptions) {
    this.url = new URL(options.url);
    this.tls = {
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
      ...(options.pinnedThumbprint ? { pinnedThumbprint: options.pinnedThumbprint } : {}),
    };
    this.ownsDispatcher = !options.dispatcher;
    this.dispatcher = options.dispatcher ?? makeAgent(this.tls, { requestMs: options.requestTimeoutMs ?? 300_000 });
    this.signal = options.signal;
  }

  get serviceContent(): ServiceContent {
    if (!this.content) throw new Error('connect() first');
    return this.content;
  }

  /** RetrieveServiceContent, then Login: the session cookie is kept for later calls. */
  async connect(username: string, password: string): Promise<ServiceContent> {
    const rv = (await this.invoke('RetrieveServiceContent', { type: 'ServiceInstance', value: 'ServiceInstance' }, '')) as VimObject;
    const about = rv['about'] as VimObject;
    this.content = {
      rootFolder: rv['rootFolder'] as MoRef,
      propertyCollector: rv['propertyCollector'] as MoRef,
      viewManager: rv['viewManager'] as MoRef,
      sessionManager: rv['sessionManager'] as MoRef,
      about: {
        fullName: String(about['fullName']),
        apiType: String(about['apiType']),
        apiVersion: String(about['apiVersion']),
        ...(about['instanceUuid'] ? { instanceUuid: String(about['instanceUuid']) } : {}),
      },
    };
    if (/^\d+\.\d+/.test(this.content.about.apiVersion)) this.version = this.content.about.apiVersion;
    this.credentials = { username, password };
    await this.login();
    return this.content;
  }

  private async login(): Promise<void> {
    const { username, password } = this.credentials!;
    await this.invoke('Login', this.serviceContent.sessionManager, `<userName>${escapeXml(username)}</userName><password>${escapeXml(password)}</password>`, { retryAuth: false });
  }

  /** The session's `vmware_soap_session=…` cookie: what `/folder` requests authenticate with. */
  get sessionCookie(): string | undefined {
    return this.cookie;
  }

  /** A new session after the old one expired or was logged out; the new cookie replaces the old. */
  async relogin(): Promise<void> {
    this.cookie = undefined;
    await this.login();
  }

  async logout(): Promise<void> {
    try {
      // Also after a stopped run: a vCenter that does not answer must not hold the exit for long.
      if (this.cookie && this.content) await this.invoke('Logout', this.content.sessionManager, '', { retryAuth: false, signal: AbortSignal.timeout(LOGOUT_MS) });
    } catch {
      // A failed logout leaves a session that times out on its own; not worth failing the run.
    } finally {
      this.cookie = undefined;
      if (this.ownsDispatcher) await this.dispatcher.close().catch(() => undefined);
    }
  }

  /** One SOAP call. A NotAuthenticated fault (expired session) triggers one re-login. */
  async invoke(method: string, self: MoRef, argsXml: string, options: { retryAuth?: boolean; signal?: AbortSignal } = {}): Promise<VimValue | undefined> {
    const body = envelope(`<${method} xmlns="urn:vim25">${moRefXml('_this', self)}${argsXml}</${method}>`);
    const xml = await this.post(body, method, options.signal ?? this.signal);
    const result = readResponse(xml, method);
    if (result.ok) return result.returnval;
    if (result.fault.faultType === 'NotAuthenticated' && options.retryAuth !== false && this.credentials) {
      this.cookie = undefined;
      await this.login();
      return this.invoke(method, self, argsXml, { retryAuth: false });
    }
    throw new VimFaultError(method, result.fault);
  }

  private async post(body: string, method: string, signal: AbortSignal | undefined): Promise<string> {
    this.roundTrips++;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(this.url, {
        method: 'POST',
        dispatcher: this.dispatcher,
        headers: {
          'content-type': 'text/xml; charset=utf-8',
          soapaction: `urn:vim25/${this.version}`,
          ...(this.cookie ? { cookie: this.cookie } : {}),
        },
        body,
        ...(signal ? { signal } : {}),
      });
    } catch (cause) {
      if (signal?.aborted) throw signal.reason;
      throw await this.transportError(cause, method);
    }
    const setCookie = asArray(res.headers['set-cookie']).find((c) => c.startsWith('vmware_soap_session='));
    if (setCookie) {
      this.cookie = setCookie.split(';')[0];
      registerSecret(this.cookie!.slice('vmware_soap_session='.length));
    }
    const text = await res.body.text().catch((cause: unknown) => {
      throw signal?.aborted ? signal.reason : cause;
    });
    if (res.statusCode >= 400 && !text.includes('Fault>')) {
      throw new SourceError('SOURCE_API_ERROR', `${method}: HTTP ${res.statusCode} from ${redactUrl(this.url.href)}`, {
        hint: this.url.pathname.endsWith('/sdk') ? 'is this a vCenter or ESXi endpoint?' : 'the URL of a vSphere source ends in /sdk',
      });
    }
    return text;
  }

  private async transportError(cause: unknown, method: string): Promise<SourceError> {
    const failure = classifyTransportError(cause);
    const where = `${this.url.hostname}:${this.url.port || 443}`;
    if (failure.kind === 'tls') {
      return new SourceError('SOURCE_TLS_UNTRUSTED', `TLS verification of ${where} failed (${failure.code})`, {
        cause,
        hint: await tlsFailureHint(this.url, failure.code, 'set caFile to the CA that signed the server certificate, or verify the server another way'),
        details: { tlsCode: failure.code },
      });
    }
    if (failure.kind === 'unreachable') {
      return new SourceError('SOURCE_UNREACHABLE', `${method}: cannot reach ${where} (${failure.code})`, {
        cause,
        hint: 'check the URL, DNS, the firewall (vCenter and ESXi: port 443) and that the service runs',
        details: { netCode: failure.code },
      });
    }
    return new SourceError('SOURCE_API_ERROR', `${method}: request to ${where} failed${failure.code ? ` (${failure.code})` : ''}`, { cause });
  }

  async createContainerView(container: MoRef, types: string[], recursive = true): Promise<MoRef> {
    const rv = await this.invoke(
      'CreateContainerView',
      this.serviceContent.viewManager,
      `${moRefXml('container', container)}${types.map((t) => `<type>${escapeXml(t)}</type>`).join('')}<recursive>${recursive}</recursive>`,
    );
    if (!isMoRef(rv)) throw new SourceError('SOURCE_API_ERROR', 'CreateContainerView returned no view');
    return rv;
  }

  async destroyView(view: MoRef): Promise<void> {
    await this.invoke('DestroyView', view, '');
  }

  /**
   * RetrievePropertiesEx over a container view, followed through
   * ContinueRetrievePropertiesEx: one round trip per page of `maxObjects`.
   */
  async *retrieveFromView(view: MoRef, specs: PropertySpec[], maxObjects = 500): AsyncGenerator<ObjectContent[]> {
    const specXml =
      `<specSet>` +
      specs.map((s) => `<propSet><type>${escapeXml(s.type)}</type>${s.pathSet.map((p) => `<pathSet>${escapeXml(p)}</pathSet>`).join('')}</propSet>`).join('') +
      `<objectSet>${moRefXml('obj', view)}<skip>true</skip>` +
      `<selectSet xsi:type="TraversalSpec"><name>traverseView</name><type>ContainerView</type><path>view</path><skip>false</skip></selectSet>` +
      `</objectSet></specSet><options><maxObjects>${maxObjects}</maxObjects></options>`;
    yield* this.retrievePages(specXml);
  }

  /** RetrievePropertiesEx for known objects (no traversal). */
  async retrieveObjects(objs: MoRef[], spec: PropertySpec): Promise<ObjectContent[]> {
    if (objs.length === 0) return [];
    const xml =
      `<specSet><propSet><type>${escapeXml(spec.type)}</type>${spec.pathSet.map((p) => `<pathSet>${escapeXml(p)}</pathSet>`).join('')}</propSet>` +
      objs.map((o) => `<objectSet>${moRefXml('obj', o)}<skip>false</skip></objectSet>`).join('') +
      `</specSet><options/>`;
    const out: ObjectContent[] = [];
    for await (const page of this.retrievePages(xml)) out.push(...page);
    return out;
  }

  /** RetrievePropertiesEx, then ContinueRetrievePropertiesEx while vCenter hands out a token: one round trip per page. */
  private async *retrievePages(specXml: string): AsyncGenerator<ObjectContent[]> {
    const pc = this.serviceContent.propertyCollector;
    let result = (await this.invoke('RetrievePropertiesEx', pc, specXml)) as VimObject | undefined;
    while (result) {
      yield asArray(result['objects'] as VimValue[] | VimObject | undefined).map((o) => toObjectContent(o as VimObject));
      const token = result['token'];
      if (typeof token !== 'string' || token === '') return;
      result = (await this.invoke('ContinueRetrievePropertiesEx', pc, `<token>${escapeXml(token)}</token>`)) as VimObject | undefined;
    }
  }

  /** Polls a Task until it ends; a task error becomes a VimFaultError. */
  async waitForTask(task: MoRef, timeoutMs = 120_000): Promise<VimValue | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      const [content] = await this.retrieveObjects([task], { type: 'Task', pathSet: ['info.state', 'info.error', 'info.result'] });
      const state = content?.props.get('info.state');
      if (state === 'success') return content?.props.get('info.result');
      if (state === 'error') {
        const err = content?.props.get('info.error') as VimObject | undefined;
        const fault = err?.['fault'] as VimObject | undefined;
        throw new VimFaultError(task.value, { faultType: fault?._type ?? 'TaskError', message: String(err?.['localizedMessage'] ?? 'task failed'), detail: fault });
      }
      if (Date.now() > deadline)
        throw new SourceError('SOURCE_TASK_TIMEOUT', `task ${task.value} did not finish within ${timeoutMs} ms`, { hint: 'see the task in the vSphere client' });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

function toObjectContent(o: VimObject): ObjectContent {
  const props = new Map<string, VimValue>();
  for (const p of asArray(o['propSet'] as VimObject | VimObject[] | undefined)) {
    props.set(String(p['name']), p['val'] ?? '');
  }
  const missing = asArray(o['missingSet'] as VimObject | VimObject[] | undefined).map((m) => ({
    path: String(m['path']),
    fault: String(((m['fault'] as VimObject | undefined)?.['fault'] as VimObject | undefined)?._type ?? 'unknown'),
  }));
  return { obj: o['obj'] as MoRef, props, missing };
}
