// Registry disk source (CDI `source.registry`, `docker://host/repo:tag`): a
// containerDisk image whose layer holds the disk under `disk/`. Docker v2 and
// OCI manifests and indexes, bearer-token and basic auth, insecure registries,
// a custom CA. Tar entries escaping the root are refused.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import { ChildProcesses } from '../../src/copy/children.js';
import { CopyError } from '../../src/copy/errors.js';
import { decompress, detectCompression, peek } from '../../src/copy/format.js';
import type { StreamSource } from '../../src/copy/source.js';
import { walkTar } from '../../src/copy/tar.js';
import { SourceError, UsageError } from '../../src/errors.js';
import { registerSecret } from '../../src/redact.js';
import { basicAuth, discard, makeDispatcher, redirectTarget, statusError, transportError } from '../../src/net/http-transport.js';

export interface ImageRef {
  registry: string;
  repository: string;
  reference: string;
}

/** `docker://host:5000/ns/repo:tag`, `docker://repo@sha256:…`, Docker Hub shorthands. */
export function parseImageRef(url: string): ImageRef {
  const m = /^docker:\/\/(.+)$/.exec(url);
  if (!m) throw new UsageError('IMAGE_REF_INVALID', `"${url}" is not a docker:// image reference`, { hint: 'use docker://registry.example.com/repo:tag' });
  let rest = m[1]!;
  let registry = 'registry-1.docker.io';
  const slash = rest.indexOf('/');
  const first = slash === -1 ? '' : rest.slice(0, slash);
  if (first && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first === 'docker.io' ? 'registry-1.docker.io' : first;
    rest = rest.slice(slash + 1);
  }
  let reference = 'latest';
  const at = rest.indexOf('@');
  if (at !== -1) {
    reference = rest.slice(at + 1);
    rest = rest.slice(0, at);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon !== -1 && !rest.slice(colon).includes('/')) {
      reference = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
  }
  if (registry === 'registry-1.docker.io' && !rest.includes('/')) rest = `library/${rest}`;
  if (!/^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/.test(rest))
    throw new UsageError('IMAGE_REF_INVALID', `"${url}": "${rest}" is not a repository name`, { hint: 'lowercase letters, digits, . _ - /' });
  return { registry, repository: rest, reference };
}

export interface RegistrySourceOptions {
  url: string;
  username?: string;
  password?: string;
  ca?: string;
  /** Hosts (`host:port`) that may use plain HTTP or unverified TLS (CDI `insecureRegistries`). */
  insecureRegistries?: string[];
  env?: Readonly<NodeJS.ProcessEnv>;
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: { os?: string; architecture?: string };
}
interface Manifest {
  schemaVersion?: number;
  mediaType?: string;
  layers?: Descriptor[];
  manifests?: Descriptor[];
}

/** `Bearer realm="https://auth/token",service="registry",scope="repository:x:pull"` */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const space = header.indexOf(' ');
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  for (const m of header.slice(space + 1).matchAll(/(\w+)="([^"]*)"/g)) params[m[1]!.toLowerCase()] = m[2]!;
  return { scheme, params };
}

class RegistryClient {
  private authorization: string | undefined;
  private base: string;
  private dispatcher: Dispatcher;
  private triedPlainHttp = false;

  constructor(
    private readonly ref: ImageRef,
    private readonly o: RegistrySourceOptions,
  ) {
    const insecure = (o.insecureRegistries ?? []).includes(ref.registry);
    this.base = `https://${ref.registry}`;
    this.dispatcher = makeDispatcher({ ...(o.ca ? { ca: o.ca } : {}), ...(insecure ? { insecureSkipVerify: true } : {}) }, o.env);
  }

  private get insecure(): boolean {
    return (this.o.insecureRegistries ?? []).includes(this.ref.registry);
  }

  async close(): Promise<void> {
    // destroy, not close: close() waits for a body the engine may have stopped reading.
    await this.dispatcher.destroy().catch(() => undefined);
  }

  private async fetchToken(params: Record<string, string>): Promise<string> {
    const realm = params['realm'];
    if (!realm) throw new SourceError('SOURCE_AUTH_FAILED', `${this.ref.registry} asked for a bearer token without a realm`, {});
    const u = new URL(realm);
    if (params['service']) u.searchParams.set('service', params['service']);
    u.searchParams.set('scope', params['scope'] ?? `repository:${this.ref.repository}:pull`);
    const headers: Record<string, string> = this.o.username && this.o.password ? { authorization: basicAuth(this.o.username, this.o.password) } : {};
    let res;
    try {
      res = await request(u, { dispatcher: this.dispatcher, headers });
    } catch (e) {
      throw await transportError(e, u.toString());
    }
    if (res.statusCode !== 200) {
      discard(res.body);
      throw statusError(res.statusCode === 400 ? 401 : res.statusCode, u.toString(), 'the registry token');
    }
    const body = (await res.body.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new SourceError('SOURCE_AUTH_FAILED', `the token service of ${this.ref.registry} returned no token`, {});
    registerSecret(token);
    return `Bearer ${token}`;
  }

  /** GET with auth negotiation, redirects, and the insecure-registry HTTP fallback. */
  async get(path: string, accept: string[] = [], signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
    let url = `${this.base}${path}`;
    let authRetried = false;
    for (let hop = 0; hop < 6; hop++) {
      const sameHost = new URL(url).host === this.ref.registry;
      const headers: Record<string, string> = {
        ...(accept.length ? { accept: accept.join(', ') } : {}),
        ...(sameHost && this.authorization ? { authorization: this.authorization } : {}),
      };
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, { dispatcher: this.dispatcher, headers, ...(signal ? { signal } : {}) });
      } catch (e) {
        if (signal?.aborted) throw signal.reason;
        if (this.insecure && !this.triedPlainHttp && url.startsWith('https://')) {
          // An insecure registry may not speak TLS at all.
          this.triedPlainHttp = true;
          this.base = `http://${this.ref.registry}`;
          url = `${this.base}${path}`;
          continue;
        }
        throw await transportError(e, url);
      }
      // Whoever drops this body later (a consumer that stops early, an error path) must not crash the process.
      res.body.on('error', () => undefined);
      if (res.statusCode === 401 && sameHost && !authRetried) {
        discard(res.body);
        authRetried = true;
        const challenge = parseChallenge(String(res.headers['www-authenticate'] ?? ''));
        if (challenge.scheme === 'bearer') this.authorization = await this.fetchToken(challenge.params);
        else if (this.o.username && this.o.password) this.authorization = basicAuth(this.o.username, this.o.password);
        else throw statusError(401, url, 'the image');
        continue;
      }
      const next = redirectTarget(res.statusCode, res.headers['location'], url);
      if (next !== undefined) {
        discard(res.body);
        url = next;
        continue;
      }
      return res;
    }
    throw new SourceError('SOURCE_FAILED', `too many redirects from ${this.ref.registry}${path}`, {});
  }

  async manifest(reference: string): Promise<{ manifest: Manifest; digest: string }> {
    const res = await this.get(`/v2/${this.ref.repository}/manifests/${reference}`, MANIFEST_TYPES);
    if (res.statusCode !== 200) {
      discard(res.body);
      throw statusError(res.statusCode, `${this.base}/v2/${this.ref.repository}/manifests/${reference}`, `the image ${this.ref.repository}:${reference}`);
    }
    const text = await res.body.text();
    const digest = String(res.headers['docker-content-digest'] ?? `sha256:${createHash('sha256').update(text).digest('hex')}`);
    return { manifest: JSON.parse(text) as Manifest, digest };
  }

  /** Resolves indexes to the linux/amd64 image manifest. */
  async imageManifest(): Promise<{ layers: Descriptor[]; digest: string }> {
    let { manifest, digest } = await this.manifest(this.ref.reference);
    if (manifest.manifests) {
      const pick = manifest.manifests.find((m) => m.platform?.os === 'linux' && m.platform?.architecture === 'amd64') ?? manifest.manifests[0];
      if (!pick) throw new CopyError('IMAGE_NOT_FOUND', `${this.ref.repository}:${this.ref.reference} is an empty index`, {});
      ({ manifest, digest } = await this.manifest(pick.digest));
    }
    if (!manifest.layers)
      throw new CopyError(
        'IMAGE_UNSUPPORTED',
        `${this.ref.repository}:${this.ref.reference} has no layers (schema ${manifest.schemaVersion ?? '?'}, ${manifest.mediaType ?? 'no media type'})`,
        { hint: 'push the image as a Docker v2 or OCI manifest' },
      );
    return { layers: manifest.layers, digest };
  }

  async blob(d: Descriptor, signal?: AbortSignal): Promise<AsyncIterable<Buffer>> {
    const url = `/v2/${this.ref.repository}/blobs/${d.digest}`;
    const res = await this.get(url, [], signal);
    if (res.statusCode !== 200) {
      discard(res.body);
      throw statusError(res.statusCode, `${this.base}${url}`, `layer ${d.digest}`);
    }
    return res.body as AsyncIterable<Buffer>;
  }
}

/** The first regular file under `disk/` in the image's layers, as a stream the engine decodes. */
export async function openRegistrySource(options: RegistrySourceOptions): Promise<StreamSource> {
  const ref = parseImageRef(options.url);
  if (options.password) registerSecret(options.password);
  const client = new RegistryClient(ref, options);
  let image: { layers: Descriptor[]; digest: string };
  try {
    image = await client.imageManifest();
  } catch (e) {
    await client.close();
    throw e;
  }
  const description = `docker://${ref.registry}/${ref.repository}:${ref.reference}`;
  // A layer's decompressor runs as long as the stream is read; close() ends it.
  const children = new ChildProcesses();
  return {
    kind: 'stream',
    description,
    identity: `${description}@${image.digest}`,
    resumable: false,
    async open(_offset, signal) {
      // Upper layers win: search from the last layer down.
      for (const layer of [...image.layers].reverse()) {
        if (layer.mediaType?.includes('zstd'))
          throw new CopyError('IMAGE_UNSUPPORTED', `${description}: layer ${layer.digest} is zstd-compressed`, { hint: 'push the containerDisk with gzip or uncompressed layers' });
        const blob = await client.blob(layer, signal);
        const first = await peek(blob, 6);
        const tarStream = decompress(first.rest, detectCompression(first.head), `${description} layer ${layer.digest}`, children);
        const found = await new Promise<Readable | undefined>((resolve, reject) => {
          walkTar(tarStream, `${description} layer ${layer.digest}`, async (entry, data) => {
            if (entry.type !== 'file' || !entry.name.startsWith('disk/')) return false;
            let finished!: () => void;
            const consumed = new Promise<void>((r) => (finished = r));
            resolve(
              Readable.from(
                (async function* () {
                  try {
                    yield* data;
                  } finally {
                    finished();
                  }
                })(),
                { objectMode: false },
              ),
            );
            await consumed;
            return true;
          }).then(() => resolve(undefined), reject);
        });
        if (found) return found;
      }
      throw new CopyError('IMAGE_NOT_FOUND', `${description} has no file under disk/ in any layer`, {
        hint: 'a containerDisk image holds the disk at /disk/<name> (qcow2 or raw)',
      });
    },
    async close() {
      await children.stop();
      await client.close();
    },
  };
}
