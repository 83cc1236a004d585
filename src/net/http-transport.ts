// What HTTP-based disk sources (HTTP, registry) share: a dispatcher that
// honours the CA and the proxy environment, and the mapping of transport and
// status failures to the foundation's source error codes.
import { EnvHttpProxyAgent, type Dispatcher } from 'undici';
import { SourceError } from '../errors.js';
import { fetchPresentedCertificate, classifyTransportError, makeAgent, type TlsOptions } from './tls.js';
import { redactUrl } from '../redact.js';

function proxyConfigured(env: Readonly<NodeJS.ProcessEnv>): boolean {
  return Boolean(env['HTTPS_PROXY'] || env['https_proxy'] || env['HTTP_PROXY'] || env['http_proxy']);
}

/**
 * One dispatcher per source. With HTTP(S)_PROXY set, undici's EnvHttpProxyAgent
 * routes requests through the proxy and honours NO_PROXY; the CA applies to
 * the origin either way.
 */
export function makeDispatcher(tls: TlsOptions, env: Readonly<NodeJS.ProcessEnv> = {}): Dispatcher {
  if (!proxyConfigured(env)) return makeAgent(tls, { requestMs: 300_000 });
  const connect = { ...(tls.ca ? { ca: tls.ca } : {}), rejectUnauthorized: !tls.insecureSkipVerify, timeout: 15_000 };
  return new EnvHttpProxyAgent({
    ...(env['HTTP_PROXY'] || env['http_proxy'] ? { httpProxy: env['HTTP_PROXY'] ?? env['http_proxy'] } : {}),
    ...(env['HTTPS_PROXY'] || env['https_proxy'] ? { httpsProxy: env['HTTPS_PROXY'] ?? env['https_proxy'] } : {}),
    ...(env['NO_PROXY'] || env['no_proxy'] ? { noProxy: env['NO_PROXY'] ?? env['no_proxy'] } : {}),
    connect,
    requestTls: connect,
    headersTimeout: 300_000,
    bodyTimeout: 300_000,
  });
}

/** Maps a failed request (network/TLS) to SOURCE_TLS_UNTRUSTED / SOURCE_UNREACHABLE, naming the presented certificate. */
export async function transportError(e: unknown, url: string): Promise<SourceError> {
  const failure = classifyTransportError(e);
  const shown = redactUrl(url);
  if (failure.kind === 'tls') {
    const u = new URL(url);
    let hint = 'pass the CA that signed the server certificate (--ca, or the certConfigMap ca.pem)';
    try {
      const cert = await fetchPresentedCertificate(u.hostname, Number(u.port || 443));
      hint += `; the server presented "${cert.subject.replace(/\n/g, ', ')}" issued by "${cert.issuer.replace(/\n/g, ', ')}", SHA-1 ${cert.thumbprint}`;
    } catch {
      // the hint stays generic
    }
    return new SourceError('SOURCE_TLS_UNTRUSTED', `the TLS certificate of ${shown} is not trusted (${failure.code})`, {
      hint,
      cause: e,
      details: { url: shown, tls: failure.code },
    });
  }
  if (failure.kind === 'unreachable') {
    return new SourceError('SOURCE_UNREACHABLE', `cannot reach ${shown} (${failure.code})`, {
      hint: 'check the URL, the network and any proxy settings',
      cause: e,
      details: { url: shown, transient: true },
    });
  }
  return new SourceError('SOURCE_FAILED', `request to ${shown} failed: ${(e as Error).message}`, { cause: e, details: { url: shown, transient: true } });
}

/** Maps an unwanted HTTP status to a source error. */
export function statusError(status: number, url: string, what = 'the image'): SourceError {
  const shown = redactUrl(url);
  if (status === 401 || status === 403) {
    return new SourceError('SOURCE_AUTH_FAILED', `${shown} refused the credentials (HTTP ${status})`, {
      hint: 'check the endpoint Secret (accessKeyId / secretKey)',
      details: { url: shown, status },
    });
  }
  if (status === 404) return new SourceError('SOURCE_NOT_FOUND', `${what} is not at ${shown} (HTTP 404)`, { hint: 'check the URL', details: { url: shown, status } });
  return new SourceError('SOURCE_FAILED', `${shown} answered HTTP ${status}`, {
    hint: status >= 500 ? 'the server failed: try again later' : 'check the URL',
    details: { url: shown, status, transient: status >= 500 },
  });
}

export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
