import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { XMLParser } from 'fast-xml-parser';
import { makePki, type TestPki } from '../../helpers/certs.js';
import { defaultInventory, type Entity, type FakeInventory, type FakeVm } from './fixtures.js';
import { API, TEMPLATE_SUBCOLLECTIONS, VM_SUBCOLLECTIONS, collectionToJson, collectionToXml, parseFollow, renderEntity, renderSubEntity, toJson, toXml } from './render.js';

// A loopback oVirt engine + imageio daemon for tests: the SSO token endpoint,
// the REST API (XML and JSON, search with page/max, follow), image transfers
// and the imageio data endpoint (OPTIONS, /extents, ranged GET) over real
// local sparse files. Every request is logged; faults are knobs.

const run = promisify(execFile);

export interface ImageioFault {
  /** `status`: answer a GET whose range covers `offset` with `status`; `drop`: send the bytes before `offset`, then close the connection. */
  kind: 'status' | 'drop';
  offset: number;
  status?: number;
  /** How many times the fault fires (default 1). */
  times?: number;
}

export interface OvirtFakeOptions {
  pki?: TestPki;
  inventory?: FakeInventory;
  /** Extra clean VMs `vm-bulk-NNNN` on top of the default fixtures. */
  extraCleanVms?: number;
  username?: string;
  password?: string;
  /** false: no SSO endpoint (404), basic auth only. */
  sso?: boolean;
  /** A token is rejected (401) after this many API requests. */
  tokenMaxUses?: number;
  /** Local files backing disks (raw); other disks get an all-hole file of their provisioned size. */
  diskFiles?: Record<string, string>;
  /** GETs of a transfer before it leaves `initializing` (default 1); `Infinity` = stuck. */
  initializingPolls?: number;
  /** `missing`: no transfer_url (only proxy_url); `unreachable`: transfer_url points at a closed port. */
  transferUrl?: 'ok' | 'missing' | 'unreachable';
  imageioFaults?: ImageioFault[];
  /** Delay before each imageio data response (to make a copy slow enough to interrupt). */
  imageioDelayMs?: number;
  /** max_readers in the OPTIONS reply. */
  maxReaders?: number;
  /** Searches ignore the `page` clause (every page is page 1), as a broken engine or proxy might. */
  ignorePage?: boolean;
  /** Collections this engine has no service for (404), e.g. `networkfilters` on an engine older than 4.2. */
  missingCollections?: string[];
}

export interface LoggedRequest {
  server: 'engine' | 'imageio';
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  auth: 'bearer' | 'basic' | 'none';
  range?: string;
}

export interface FakeTransfer {
  id: string;
  diskId: string;
  ticket: string;
  phase: string;
  phases: string[];
  actions: string[];
  inactivityTimeoutS: number;
  lastActivity: number;
  polls: number;
}

export interface OvirtFake {
  /** `https://127.0.0.1:PORT/ovirt-engine/api` */
  url: string;
  imageioUrl: string;
  username: string;
  password: string;
  pki: TestPki;
  inventory: FakeInventory;
  log: LoggedRequest[];
  transfers: FakeTransfer[];
  options: OvirtFakeOptions;
  /** Every token issued so far is rejected from now on. */
  expireTokens(): void;
  /** API requests (engine, not SSO) in the log. */
  apiRequests(): LoggedRequest[];
  /** Writes a sources file (+ password file) for this engine; returns its path. */
  sourcesFile(extra?: Record<string, unknown>, name?: string): Promise<string>;
  stop(): Promise<void>;
}

const COLLECTIONS: Record<string, { singular: string; list: (inv: FakeInventory) => Entity[] }> = {
  vms: { singular: 'vm', list: (inv) => inv.vms.map((v) => v.vm) },
  templates: { singular: 'template', list: (inv) => inv.templates.map((v) => v.vm) },
  disks: { singular: 'disk', list: (inv) => inv.disks },
  vnicprofiles: { singular: 'vnic_profile', list: (inv) => inv.vnicprofiles },
  networks: { singular: 'network', list: (inv) => inv.networks },
  storagedomains: { singular: 'storage_domain', list: (inv) => inv.storagedomains },
  clusters: { singular: 'cluster', list: (inv) => inv.clusters },
  datacenters: { singular: 'data_center', list: (inv) => inv.datacenters },
  networkfilters: { singular: 'network_filter', list: (inv) => inv.networkfilters },
};

const xmlParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false });

function wantsJson(req: IncomingMessage): boolean {
  return /application\/json/.test(req.headers.accept ?? '');
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The engine's search language, the part v2v uses: `a=b and c="d e"`, `sortby name asc|desc`, `page N`. */
export function runSearch(list: Entity[], search: string | null, caseSensitive: boolean, inv: FakeInventory, max: number | undefined): Entity[] | { error: string } {
  let text = search ?? '';
  let page: number | undefined;
  let sortby: { field: string; desc: boolean } | undefined;
  text = text.replace(/\bpage\s+(\d+)\s*$/i, (_m, n: string) => {
    page = Number(n);
    return '';
  });
  text = text.replace(/\bsortby\s+(\w+)(?:\s+(asc|desc))?\s*$/i, (_m, f: string, dir?: string) => {
    sortby = { field: f, desc: dir?.toLowerCase() === 'desc' };
    return '';
  });
  const terms = text.trim() ? text.trim().split(/\s+and\s+/i) : [];
  let out = [...list];
  for (const term of terms) {
    const m = /^(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|(\S+))$/.exec(term.trim());
    if (!m) return { error: `Cannot parse search term "${term}"` };
    const key = m[1]!.toLowerCase();
    const raw = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
    const pattern = new RegExp(`^${raw.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, caseSensitive ? '' : 'i');
    const valueOf = (e: Entity): string => {
      if (key === 'cluster') return String(inv.clusters.find((c) => c.id === (e['cluster'] as { id: string } | undefined)?.id)?.['name'] ?? '');
      if (key === 'name' || key === 'id' || key === 'status') return String(e[key] ?? '');
      return '\u0000';
    };
    if (!['name', 'id', 'status', 'cluster'].includes(key)) return { error: `Unknown search field "${key}"` };
    out = out.filter((e) => pattern.test(valueOf(e)));
  }
  if (sortby) {
    const f = sortby.field;
    out.sort((a, b) => String(a[f] ?? '').localeCompare(String(b[f] ?? '')) * (sortby!.desc ? -1 : 1));
  }
  if (max !== undefined) {
    const p = page ?? 1;
    out = out.slice((p - 1) * max, p * max);
  }
  return out;
}

export async function startOvirtFake(options: OvirtFakeOptions = {}): Promise<OvirtFake> {
  const pki = options.pki ?? makePki('ovirt-fake');
  const [key, cert] = await Promise.all([readFile(pki.serverKey), readFile(pki.serverCert)]);
  const inventory = options.inventory ?? defaultInventory(options.extraCleanVms !== undefined ? { extraCleanVms: options.extraCleanVms } : {});
  const username = options.username ?? 'admin@internal';
  const password = options.password ?? 'ovirt-Fake-Passw0rd';
  const log: LoggedRequest[] = [];
  const transfers: FakeTransfer[] = [];
  const tokens = new Map<string, { uses: number; revoked: boolean }>();
  const faults = (options.imageioFaults ?? []).map((f) => ({ ...f, left: f.times ?? 1 }));
  const workDir = await mkdtemp(join(tmpdir(), 'ovirt-fake-'));
  const diskFiles = new Map<string, string>(Object.entries(options.diskFiles ?? {}));
  // A disk backed by a file is as large as the file.
  for (const [diskId, path] of diskFiles) {
    const disk = inventory.disks.find((d) => d.id === diskId);
    if (disk) disk['provisioned_size'] = (await stat(path)).size;
  }

  async function backingFile(diskId: string): Promise<string> {
    let path = diskFiles.get(diskId);
    if (!path) {
      const disk = inventory.disks.find((d) => d.id === diskId);
      path = join(workDir, `${diskId}.raw`);
      const fh = await open(path, 'w');
      await fh.truncate(Number(disk?.['provisioned_size'] ?? 0));
      await fh.close();
      diskFiles.set(diskId, path);
    }
    return path;
  }

  function authOf(req: IncomingMessage): { kind: LoggedRequest['auth']; ok: boolean } {
    const h = req.headers.authorization ?? '';
    if (h.startsWith('Bearer ')) {
      const t = tokens.get(h.slice(7));
      if (!t || t.revoked) return { kind: 'bearer', ok: false };
      t.uses++;
      if (options.tokenMaxUses !== undefined && t.uses > options.tokenMaxUses) {
        t.revoked = true;
        return { kind: 'bearer', ok: false };
      }
      return { kind: 'bearer', ok: true };
    }
    if (h.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(h.slice(6), 'base64').toString('utf8').split(':');
      return { kind: 'basic', ok: u === username && p.join(':') === password };
    }
    return { kind: 'none', ok: false };
  }

  function send(req: IncomingMessage, res: ServerResponse, status: number, xml: string, json: string): void {
    const j = wantsJson(req);
    res.writeHead(status, { 'content-type': j ? 'application/json' : 'application/xml', 'content-length': Buffer.byteLength(j ? json : xml) });
    res.end(j ? json : xml);
  }

  function fault(req: IncomingMessage, res: ServerResponse, status: number, reason: string, detail: string): void {
    send(req, res, status, toXml('fault', { reason, detail }), toJson({ reason, detail }));
  }

  function sendEntity(req: IncomingMessage, res: ServerResponse, status: number, root: string, entity: Record<string, unknown>): void {
    send(req, res, status, toXml(root, entity), toJson(entity));
  }

  function transferView(t: FakeTransfer): Record<string, unknown> {
    const transferring = !['initializing'].includes(t.phase);
    const imageio = `${imageioBase}/images/${t.ticket}`;
    const transferUrl = options.transferUrl === 'missing' ? undefined : options.transferUrl === 'unreachable' ? `https://127.0.0.1:1/images/${t.ticket}` : imageio;
    return {
      href: `${API}/imagetransfers/${t.id}`,
      id: t.id,
      active: t.phase === 'transferring',
      direction: 'download',
      format: 'raw',
      inactivity_timeout: t.inactivityTimeoutS,
      phase: t.phase,
      shallow: false,
      timeout_policy: 'legacy',
      transferred: 0,
      ...(transferring && transferUrl ? { transfer_url: transferUrl } : {}),
      ...(transferring ? { proxy_url: imageio } : {}),
      disk: { href: `${API}/disks/${t.diskId}`, id: t.diskId },
      image: { id: t.diskId },
    };
  }

  function setPhase(t: FakeTransfer, phase: string): void {
    t.phase = phase;
    t.phases.push(phase);
  }

  /** The engine pauses a transfer nobody touched for its inactivity timeout. */
  function checkIdle(t: FakeTransfer): void {
    if (t.phase === 'transferring' && Date.now() - t.lastActivity > t.inactivityTimeoutS * 1000) setPhase(t, 'paused_system');
  }

  async function engine(req: IncomingMessage, res: ServerResponse, url: URL, entry: LoggedRequest): Promise<void> {
    const path = url.pathname;
    if (path === '/ovirt-engine/sso/oauth/token' && req.method === 'POST') {
      if (options.sso === false) {
        res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>Not Found</body></html>');
        return;
      }
      const form = new URLSearchParams(await body(req));
      res.setHeader('content-type', 'application/json');
      if (form.get('grant_type') !== 'password' || !(form.get('scope') ?? '').split(' ').includes('ovirt-app-api')) {
        res.writeHead(400).end(JSON.stringify({ error_code: 'invalid_grant', error: 'The provided authorization grant for the scope is invalid.' }));
        return;
      }
      if (form.get('username') !== username || form.get('password') !== password) {
        res
          .writeHead(400)
          .end(JSON.stringify({ error_code: 'access_denied', error: `Cannot authenticate user '${form.get('username') ?? ''}': The username or password is incorrect..` }));
        return;
      }
      const token = randomBytes(48).toString('base64url');
      tokens.set(token, { uses: 0, revoked: false });
      res
        .writeHead(200)
        .end(JSON.stringify({ access_token: token, scope: 'ovirt-app-api ovirt-ext=token-info:validate', exp: String(Date.now() + 3_600_000), token_type: 'bearer' }));
      return;
    }
    if (!path.startsWith(`${API}`)) {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>Not Found</body></html>');
      return;
    }
    const auth = authOf(req);
    entry.auth = auth.kind;
    if (!auth.ok) {
      res
        .writeHead(401, { 'content-type': 'text/html', 'www-authenticate': 'Bearer realm="RESTAPI"' })
        .end('<html><head><title>Error</title></head><body>Unauthorized</body></html>');
      return;
    }
    const parts = path.slice(API.length).split('/').filter(Boolean).map(decodeURIComponent);
    const follow = parseFollow(url.searchParams.get('follow'));
    if (parts.length === 0) {
      const api = { product_info: { name: 'oVirt Engine', vendor: 'ovirt.org', version: { build: 5, full_version: '4.5.5-1.el8', major: 4, minor: 5, revision: 0 } } };
      sendEntity(req, res, 200, 'api', api);
      return;
    }
    const [collection, id, sub, subId] = parts;
    if (collection === 'imagetransfers') return imageTransfers(req, res, id, sub);
    const coll = options.missingCollections?.includes(collection!) ? undefined : COLLECTIONS[collection!];
    if (!coll || req.method !== 'GET') {
      fault(req, res, 404, 'Not Found', `No service for ${req.method} ${path}`);
      return;
    }
    if (id === undefined) {
      const maxParam = url.searchParams.get('max');
      const searchText = options.ignorePage ? (url.searchParams.get('search') ?? '').replace(/\bpage\s+\d+/i, '') : url.searchParams.get('search');
      const found = runSearch(coll.list(inventory), searchText, url.searchParams.get('case_sensitive') === 'true', inventory, maxParam === null ? undefined : Number(maxParam));
      if ('error' in found) {
        fault(req, res, 400, 'Operation Failed', found.error);
        return;
      }
      const rendered = found.map((e) => renderEntity(inventory, collection!, e, follow));
      send(req, res, 200, collectionToXml(collection!, coll.singular, rendered), collectionToJson(coll.singular, rendered));
      return;
    }
    const entity = coll.list(inventory).find((e) => e.id === id);
    if (!entity) {
      fault(req, res, 404, 'Operation Failed', `Entity not found: ${id}`);
      return;
    }
    if (sub === undefined) {
      sendEntity(req, res, 200, coll.singular, renderEntity(inventory, collection!, entity, follow));
      return;
    }
    const subs = collection === 'vms' ? VM_SUBCOLLECTIONS : collection === 'templates' ? TEMPLATE_SUBCOLLECTIONS : [];
    const subDef = subs.find((s) => s.rel === sub);
    if (!subDef || (collection !== 'vms' && collection !== 'templates')) {
      fault(req, res, 404, 'Not Found', `No service for ${path}`);
      return;
    }
    const fakeVm = inventory[collection].find((v) => v.vm.id === id) as FakeVm;
    const list = fakeVm[subDef.key];
    if (subId !== undefined) {
      const item = list.find((i) => i.id === subId);
      if (!item) fault(req, res, 404, 'Operation Failed', `Entity not found: ${subId}`);
      else sendEntity(req, res, 200, subDef.item, renderSubEntity(inventory, fakeVm, collection, subDef.rel, item, follow));
      return;
    }
    const rendered = list.map((item) => renderSubEntity(inventory, fakeVm, collection, subDef.rel, item, follow));
    send(req, res, 200, collectionToXml(subDef.attr, subDef.item, rendered), collectionToJson(subDef.item, rendered));
  }

  async function imageTransfers(req: IncomingMessage, res: ServerResponse, id: string | undefined, action: string | undefined): Promise<void> {
    if (id === undefined && req.method === 'POST') {
      const text = await body(req);
      let spec: { disk?: { id?: string }; direction?: string; format?: string; inactivity_timeout?: string | number };
      if (/json/.test(req.headers['content-type'] ?? '')) spec = JSON.parse(text) as typeof spec;
      else spec = ((xmlParser.parse(text) as { image_transfer?: typeof spec }).image_transfer ?? {}) as typeof spec;
      const diskId = spec.disk?.id;
      const disk = inventory.disks.find((d) => d.id === diskId);
      if (!disk) {
        fault(req, res, 404, 'Operation Failed', `Entity not found: disk ${diskId ?? '(none)'}`);
        return;
      }
      if (spec.direction !== 'download') {
        fault(req, res, 400, 'Operation Failed', 'this fake serves downloads only');
        return;
      }
      const t: FakeTransfer = {
        id: randomUUID(),
        diskId: disk.id,
        ticket: randomUUID(),
        phase: 'initializing',
        phases: ['initializing'],
        actions: ['add'],
        inactivityTimeoutS: Number(spec.inactivity_timeout ?? 60),
        lastActivity: Date.now(),
        polls: 0,
      };
      transfers.push(t);
      sendEntity(req, res, 201, 'image_transfer', transferView(t));
      return;
    }
    const t = transfers.find((x) => x.id === id);
    if (!t) {
      fault(req, res, 404, 'Operation Failed', `Entity not found: ${id ?? ''}`);
      return;
    }
    if (action === undefined && req.method === 'GET') {
      t.polls++;
      if (t.phase === 'initializing' && t.polls >= (options.initializingPolls ?? 1)) {
        setPhase(t, 'transferring');
        t.lastActivity = Date.now();
      } else if (t.phase === 'finalizing_success') setPhase(t, 'finished_success');
      checkIdle(t);
      sendEntity(req, res, 200, 'image_transfer', transferView(t));
      return;
    }
    if (req.method === 'POST' && action && ['extend', 'finalize', 'cancel', 'pause', 'resume'].includes(action)) {
      await body(req);
      t.actions.push(action);
      if (action === 'extend') t.lastActivity = Date.now();
      if (action === 'finalize') setPhase(t, 'finalizing_success');
      if (action === 'cancel') setPhase(t, 'cancelled_user');
      sendEntity(req, res, 200, 'action', { status: 'complete' });
      return;
    }
    fault(req, res, 404, 'Not Found', `No service for ${req.method} ${req.url ?? ''}`);
  }

  async function imageio(req: IncomingMessage, res: ServerResponse, url: URL, entry: LoggedRequest): Promise<void> {
    const m = /^\/images\/([^/]+)(\/extents)?$/.exec(url.pathname);
    const t = m ? transfers.find((x) => x.ticket === m[1]) : undefined;
    if (t) checkIdle(t);
    if (!m || !t || t.phase !== 'transferring') {
      const msg = JSON.stringify({ error: `You are not allowed to access this resource: No such ticket ${m?.[1] ?? ''}` });
      res.writeHead(403, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(msg) }).end(msg);
      return;
    }
    t.lastActivity = Date.now();
    const file = await backingFile(t.diskId);
    const size = (await stat(file)).size;
    if (req.method === 'OPTIONS') {
      const doc = JSON.stringify({ unix_socket: null, features: ['extents'], max_readers: options.maxReaders ?? 8, max_writers: options.maxReaders ?? 8 });
      res.writeHead(200, { 'content-type': 'application/json', allow: 'OPTIONS,GET', 'content-length': Buffer.byteLength(doc) }).end(doc);
      return;
    }
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'OPTIONS,GET' }).end();
      return;
    }
    if (m[2]) {
      const { stdout } = await run('qemu-img', ['map', '--output=json', '-f', 'raw', file]);
      const map = JSON.parse(stdout) as { start: number; length: number; zero: boolean; data: boolean }[];
      const doc = JSON.stringify(map.map((e) => ({ start: e.start, length: e.length, zero: e.zero, hole: !e.data })));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(doc) }).end(doc);
      return;
    }
    if (options.imageioDelayMs) await new Promise((r) => setTimeout(r, options.imageioDelayMs));
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const end = range && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (range) entry.range = `${start}-${end}`;
    if (start > end || start >= size) {
      res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      return;
    }
    const hit = faults.find((f) => f.left > 0 && f.offset >= start && f.offset <= end);
    if (hit?.kind === 'status') {
      hit.left--;
      const msg = JSON.stringify({ error: 'Internal server error' });
      res.writeHead(hit.status ?? 500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(msg) }).end(msg);
      entry.status = hit.status ?? 500;
      return;
    }
    res.writeHead(range ? 206 : 200, {
      'content-type': 'application/octet-stream',
      'content-length': end - start + 1,
      ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (hit?.kind === 'drop') {
      hit.left--;
      // Send what lies before the fault offset, then end the connection mid-body.
      if (hit.offset > start) {
        for await (const chunk of createReadStream(file, { start, end: hit.offset - 1 })) {
          if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
        }
      }
      await new Promise<void>((r) => (res.socket ? res.socket.end(r) : r()));
      res.socket?.destroy();
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const stream = createReadStream(file, { start, end });
      stream.on('error', reject);
      res.on('close', () => {
        stream.destroy();
        resolve();
      });
      stream.pipe(res).on('finish', resolve);
    });
  }

  function handler(kind: 'engine' | 'imageio') {
    return (req: IncomingMessage, res: ServerResponse): void => {
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const entry: LoggedRequest = { server: kind, method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), status: 0, auth: 'none' };
      log.push(entry);
      res.on('finish', () => {
        if (!entry.status) entry.status = res.statusCode;
      });
      res.on('close', () => {
        if (!entry.status) entry.status = res.statusCode;
      });
      (kind === 'engine' ? engine(req, res, url, entry) : imageio(req, res, url, entry)).catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end(String(e));
        else res.destroy();
      });
    };
  }

  async function listen(server: Server): Promise<number> {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  }

  const engineServer = createServer({ key, cert }, handler('engine'));
  const imageioServer = createServer({ key, cert }, handler('imageio'));
  const enginePort = await listen(engineServer);
  const imageioPort = await listen(imageioServer);
  const imageioBase = `https://127.0.0.1:${imageioPort}`;
  let sourcesDir: string | undefined;

  return {
    url: `https://127.0.0.1:${enginePort}${API}`,
    imageioUrl: imageioBase,
    username,
    password,
    pki,
    inventory,
    log,
    transfers,
    options,
    expireTokens() {
      for (const t of tokens.values()) t.revoked = true;
    },
    apiRequests() {
      return log.filter((e) => e.server === 'engine' && e.path.startsWith(API));
    },
    async sourcesFile(extra = { caFile: pki.caCert }, name = 'rhv') {
      sourcesDir ??= await mkdtemp(join(tmpdir(), 'v2v-ovirt-'));
      const pwFile = join(sourcesDir, `password-${name}`);
      const { writeFile } = await import('node:fs/promises');
      await writeFile(pwFile, `${password}\n`, { mode: 0o600 });
      const file = join(sourcesDir, `sources-${name}.yaml`);
      const entry = { name, type: 'ovirt', url: `https://127.0.0.1:${enginePort}${API}`, username, passwordFile: pwFile, ...extra };
      await writeFile(
        file,
        `sources:\n  - ${Object.entries(entry)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
          .join('\n    ')}\n`,
      );
      return file;
    },
    async stop() {
      for (const s of [engineServer, imageioServer]) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
      await rm(workDir, { recursive: true, force: true });
      if (sourcesDir) await rm(sourcesDir, { recursive: true, force: true });
    },
  };
}
