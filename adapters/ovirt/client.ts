import { request, type Dispatcher } from 'undici';
import { ConfigError } from '../../src/errors.js';
import { redactUrl, registerSecret } from '../../src/redact.js';
import { makeAgent, type TlsOptions } from '../../src/net/tls.js';
import { OvirtError, transportError } from './errors.js';
import { decodeBody, encodeJson, encodeXml, str, type ApiNode } from './tree.js';

export type WireFormat = 'xml' | 'json';

/** Token renewals one request may wait for before its 401 is final. */
const MAX_TOKEN_RENEWALS = 3;

export interface OvirtClientOptions extends TlsOptions {
  /** `https://engine.example.com/ovirt-engine/api` */
  url: string;
  username: string;
  password: string;
  /** XML is the engine's default; JSON is asked for with `Accept: application/json`. */
  format?: WireFormat;
  dispatcher?: Dispatcher;
  requestTimeoutMs?: number;
}

export type Query = Record<string, string | number | boolean | undefined>;

interface SsoReply {
  access_token?: string;
  error?: string;
  error_code?: string;
}

/**
 * One engine connection: an SSO bearer token (password grant, scope
 * `ovirt-app-api`) re-acquired once when a request comes back 401, basic auth
 * where the engine has no SSO endpoint, one undici Agent with the engine CA.
 */
export class OvirtClient {
  readonly apiUrl: URL;
  readonly format: WireFormat;
  /** Every HTTP request to the engine (SSO included), for benchmarks and tests. */
  roundTrips = 0;
  readonly dispatcher: Dispatcher;
  /** The engine's TLS trust, reused for the imageio daemons (their certificates come from the engine CA). */
  readonly tls: TlsOptions;
  private readonly ownsDispatcher: boolean;
  private readonly username: string;
  private readonly password: string;
  private token: string | undefined;
  /** Whether the API ever accepted a token of ours: a 401 then means expiry, not a user the API refuses. */
  private tokenAccepted = false;
  private mode: 'sso' | 'basic' = 'sso';
  /** One SSO request at a time: concurrent 401s share the renewal. */
  private acquiring: Promise<void> | undefined;

  constructor(options: OvirtClientOptions) {
    const url = options.url.replace(/\/+$/, '');
    this.apiUrl = new URL(`${url}/`);
    if (!/\/api\/$/.test(this.apiUrl.pathname)) {
      throw new ConfigError('CONFIG_INVALID', `${redactUrl(url)} is not an oVirt API URL`, { hint: 'the URL of an oVirt source is https://<engine>/ovirt-engine/api' });
    }
    this.format = options.format ?? 'xml';
    this.username = options.username;
    this.password = options.password;
    registerSecret(options.password);
    this.tls = { ...(options.ca ? { ca: options.ca } : {}), ...(options.insecureSkipVerify ? { insecureSkipVerify: true } : {}) };
    this.ownsDispatcher = !options.dispatcher;
    this.dispatcher = options.dispatcher ?? makeAgent(this.tls, { requestMs: options.requestTimeoutMs ?? 300_000 });
  }

  /** `https://engine/ovirt-engine/sso/oauth/token`, next to the `api` path. */
  private get ssoUrl(): URL {
    return new URL('../sso/oauth/token', this.apiUrl);
  }

  /** Gets the first SSO token; `signal` stops waiting for an engine that does not answer. */
  async connect(signal?: AbortSignal): Promise<void> {
    await this.acquireToken(signal);
  }

  private acquireToken(signal?: AbortSignal): Promise<void> {
    this.acquiring ??= this.requestToken(signal).finally(() => {
      this.acquiring = undefined;
    });
    return this.acquiring;
  }

  /** Replaces `stale` unless another request already did. */
  private async renewToken(stale: string | undefined, signal?: AbortSignal): Promise<void> {
    if (this.acquiring) return this.acquiring;
    if (this.token !== stale) return;
    this.token = undefined;
    return this.acquireToken(signal);
  }

  private async requestToken(signal?: AbortSignal): Promise<void> {
    this.roundTrips++;
    const form = new URLSearchParams({ grant_type: 'password', scope: 'ovirt-app-api', username: this.username, password: this.password });
    let res: Dispatcher.ResponseData;
    try {
      res = await request(this.ssoUrl, {
        method: 'POST',
        dispatcher: this.dispatcher,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        ...(signal ? { signal } : {}),
      });
    } catch (cause) {
      if (signal?.aborted) throw signal.reason;
      throw await transportError(cause, this.ssoUrl, 'SSO token request');
    }
    const text = await res.body.text();
    if (res.statusCode === 404 || res.statusCode === 405) {
      // No SSO service (an old or stripped-down engine): fall back to basic auth, deprecated but still accepted.
      this.mode = 'basic';
      this.token = undefined;
      return;
    }
    let reply: SsoReply = {};
    try {
      reply = JSON.parse(text) as SsoReply;
    } catch {
      // handled below: a non-JSON reply is not a token
    }
    if (res.statusCode >= 500) {
      throw new OvirtError('SOURCE_API_ERROR', `SSO token request: HTTP ${res.statusCode} from ${this.ssoUrl.host}`, {
        hint: 'the engine SSO service failed; check the engine logs',
      });
    }
    if (res.statusCode !== 200 || !reply.access_token) {
      throw new OvirtError('SOURCE_AUTH_FAILED', `SSO refused ${this.username}: ${reply.error ?? `HTTP ${res.statusCode}`}`, {
        hint: 'check the username (user@domain, e.g. admin@internal) and the password file of this source',
        details: { errorCode: reply.error_code ?? null, status: res.statusCode },
      });
    }
    registerSecret(reply.access_token);
    this.token = reply.access_token;
    this.mode = 'sso';
  }

  private authorization(): string {
    if (this.mode === 'basic') return `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`;
    return `Bearer ${this.token ?? ''}`;
  }

  url(path: string, query: Query = {}): URL {
    const u = new URL(path.replace(/^\/+/, ''), this.apiUrl);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  /**
   * GET a collection or an entity; the body decoded into the JSON shape. `signal` stops waiting (a run
   * stopped while an engine is slow to list); requests that end something (cancel, finalize) take none.
   */
  async get(path: string, query: Query = {}, signal?: AbortSignal): Promise<ApiNode> {
    return this.send('GET', path, query, { ...(signal ? { signal } : {}) });
  }

  /** POST an entity (`add`). */
  async add(path: string, rootName: string, body: ApiNode, query: Query = {}): Promise<ApiNode> {
    return this.send('POST', path, query, { payload: { rootName, body } });
  }

  /** POST an action (`/…/finalize`): the body is an `action` element. */
  async action(path: string, body: ApiNode = {}): Promise<ApiNode> {
    return this.send('POST', path, {}, { payload: { rootName: 'action', body } });
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    query: Query,
    { payload, signal }: { payload?: { rootName: string; body: ApiNode }; signal?: AbortSignal },
    renewals = 0,
  ): Promise<ApiNode> {
    if (this.acquiring) await this.acquiring;
    if (!this.token && this.mode === 'sso') await this.acquireToken(signal);
    const usedToken = this.token;
    const url = this.url(path, query);
    const mime = this.format === 'json' ? 'application/json' : 'application/xml';
    this.roundTrips++;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method,
        dispatcher: this.dispatcher,
        headers: {
          accept: mime,
          authorization: this.authorization(),
          ...(payload ? { 'content-type': mime } : {}),
        },
        ...(payload ? { body: this.format === 'json' ? encodeJson(payload.body) : encodeXml(payload.rootName, payload.body) } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (cause) {
      if (signal?.aborted) throw signal.reason;
      throw await transportError(cause, url, `${method} ${url.pathname}`);
    }
    const text = await res.body.text().catch((cause: unknown) => {
      throw signal?.aborted ? signal.reason : cause;
    });
    if (res.statusCode === 401) {
      if (this.mode === 'basic') {
        throw new OvirtError('SOURCE_AUTH_FAILED', `${method} ${url.pathname}: the engine rejected ${this.username} (HTTP 401, basic authentication)`, {
          hint: 'check the username (user@domain, e.g. admin@internal) and the password file of this source',
        });
      }
      // Tokens expire (the engine has no refresh). Every request that sees its token refused waits for one
      // shared renewal and tries again; a few renewals in a row end it, so a refusing engine is no loop.
      if (renewals < MAX_TOKEN_RENEWALS) {
        await this.renewToken(usedToken, signal);
        return this.send(method, path, query, { ...(payload ? { payload } : {}), ...(signal ? { signal } : {}) }, renewals + 1);
      }
      // SSO took the password each time, so the password is right: what refuses is the API.
      throw new OvirtError(
        'SOURCE_AUTH_FAILED',
        this.tokenAccepted
          ? `${method} ${url.pathname}: the engine's SSO tokens for ${this.username} stop working after a few requests (HTTP 401 after ${renewals} renewals)`
          : `${method} ${url.pathname}: the engine's API refused every SSO token issued to ${this.username} (HTTP 401 after ${renewals} renewals)`,
        {
          hint: this.tokenAccepted
            ? "SSO accepted the credentials; check the engine's SSO token lifetime (engine-config SSO settings) and any proxy between v2v and the engine"
            : 'SSO accepted the credentials; check that the user may use the REST API (a role with login permission on the system) and the engine SSO settings',
          details: { status: 401, renewals },
        },
      );
    }
    if (usedToken !== undefined) this.tokenAccepted = true;
    const contentType = typeof res.headers['content-type'] === 'string' ? res.headers['content-type'] : undefined;
    let decoded: ApiNode;
    try {
      decoded = decodeBody(text, contentType).node;
    } catch (cause) {
      throw new OvirtError('SOURCE_API_ERROR', `${method} ${url.pathname}: HTTP ${res.statusCode} with a body that is neither XML nor JSON`, {
        cause,
        hint: 'is the URL the oVirt API (https://engine/ovirt-engine/api)?',
      });
    }
    if (res.statusCode >= 400) throw faultError(method, url, res.statusCode, decoded);
    return decoded;
  }

  async close(): Promise<void> {
    // SSO tokens are revoked by the engine on expiry; nothing to log out of.
    this.token = undefined;
    if (this.ownsDispatcher) await this.dispatcher.close().catch(() => undefined);
  }
}

/** The engine's `<fault><reason/><detail/></fault>`, as a named error. */
export class OvirtFaultError extends OvirtError {
  constructor(
    readonly status: number,
    message: string,
    code: string,
    hint: string,
  ) {
    super(code, message, { hint, details: { status } });
  }
}

function faultError(method: string, url: URL, status: number, body: ApiNode): OvirtFaultError {
  const reason = str(body, 'reason') ?? '';
  const detail = str(body, 'detail') ?? '';
  const text = [reason, detail].filter(Boolean).join(': ') || `HTTP ${status}`;
  if (status === 404)
    return new OvirtFaultError(status, `${method} ${url.pathname}: not found (${text})`, 'SOURCE_OBJECT_NOT_FOUND', 'the object does not exist (any more) on the engine');
  if (status === 403) return new OvirtFaultError(status, `${method} ${url.pathname}: ${text}`, 'SOURCE_PERMISSION_DENIED', 'the user needs the permissions to read this object');
  return new OvirtFaultError(status, `${method} ${url.pathname}: HTTP ${status}: ${text}`, 'SOURCE_API_ERROR', 'the engine rejected the request; see the reason');
}
