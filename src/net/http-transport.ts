// What HTTP-based disk sources (HTTP, registry) share: a dispatcher that
// honours the CA and the proxy environment, the answer deadline, redirects,
// dropping a body, and the mapping of transport and status failures to the
// foundation's source error codes.
import { EnvHttpProxyAgent, type Dispatcher } from 'undici';
import { SourceError } from '../errors.js';
import { classifyTransportError, makeAgent, tlsFailureHint, type TlsOptions } from './tls.js';
import { redactUrl } from '../redact.js';

function proxyConfigured(env: Readonly<NodeJS.ProcessEnv>): boolean {
  return Boolean(env['HTTPS_PROXY'] || env['https_proxy'] || env['HTTP_PROXY'] || env['http_proxy']);
}

/**
 * How long a server that took the connection may take to begin its answer. A
 * server that never answers fails with SOURCE_NOT_RESPONDING after this, not
 * after the minutes a long body may legitimately pause for.
 */
export const ANSWER_DEADLINE_MS = 60_000;
// Silence inside a body: the copy engine's stall timer (--stall-timeout) usually speaks first.
const BODY_SILENCE_MS = 300_000;

/**
 * One dispatcher per source. With HTTP(S)_PROXY set, undici's EnvHttpProxyAgent
 * routes requests through the proxy and honours NO_PROXY; the CA applies to
 * the origin either way.
 */
export function makeDispatcher(tls: TlsOptions, env: Readonly<NodeJS.ProcessEnv> = {}, answerMs = ANSWER_DEADLINE_MS): Dispatcher {
  if (!proxyConfigured(env)) return makeAgent(tls, { requestMs: BODY_SILENCE_MS, answerMs });
  const connect = { ...(tls.ca ? { ca: tls.ca } : {}), rejectUnauthorized: !tls.insecureSkipVerify, timeout: 15_000 };
  return new EnvHttpProxyAgent({
    ...(env['HTTP_PROXY'] || env['http_proxy'] ? { httpProxy: env['HTTP_PROXY'] ?? env['http_proxy'] } : {}),
    ...(env['HTTPS_PROXY'] || env['https_proxy'] ? { httpsProxy: env['HTTPS_PROXY'] ?? env['https_proxy'] } : {}),
    ...(env['NO_PROXY'] || env['no_proxy'] ? { noProxy: env['NO_PROXY'] ?? env['no_proxy'] } : {}),
    connect,
    requestTls: connect,
    headersTimeout: answerMs,
    bodyTimeout: BODY_SILENCE_MS,
  });
}

/**
 * Maps a failed request (network/TLS) to SOURCE_TLS_UNTRUSTED (naming the presented certificate),
 * SOURCE_NOT_RESPONDING (connected, then silence past `silenceMs`) or SOURCE_UNREACHABLE.
 */
export async function transportError(e: unknown, url: string, silenceMs = ANSWER_DEADLINE_MS): Promise<SourceError> {
  const failure = classifyTransportError(e);
  const shown = redactUrl(url);
  if (failure.code === 'UND_ERR_HEADERS_TIMEOUT' || failure.code === 'UND_ERR_BODY_TIMEOUT') {
    const what = failure.code === 'UND_ERR_HEADERS_TIMEOUT' ? 'accepted the connection but did not answer' : 'began to answer, then sent nothing';
    return new SourceError('SOURCE_NOT_RESPONDING', `${shown} ${what} within ${Math.round(silenceMs / 1000)} s`, {
      hint: 'the server (or a proxy in between) is up but stuck: check it, then run again',
      cause: e,
      details: { url: shown, timeoutMs: silenceMs, transient: true },
    });
  }
  if (failure.kind === 'tls') {
    const hint = await tlsFailureHint(new URL(url), failure.code, 'pass the CA that signed the server certificate (--ca, or the certConfigMap ca.pem)');
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

/**
 * Drops a reply body that will not be read. undici turns a destroy before the
 * end into an 'error' event, which ends the process when nobody listens.
 */
export function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Where a redirect reply leads, or undefined when `status` is not a redirect. A redirect to another
 * scheme (https → http, http → file:) is refused: it would drop TLS, or read what the server names.
 */
export function redirectTarget(status: number, location: string | string[] | undefined, from: string): string | undefined {
  const value = Array.isArray(location) ? location[0] : location;
  if (!REDIRECTS.has(status) || value === undefined) return undefined;
  const shownFrom = redactUrl(from);
  let to: URL;
  try {
    to = new URL(value, from);
  } catch {
    throw new SourceError('SOURCE_FAILED', `${shownFrom} redirects to "${redactUrl(value)}", which is not a URL`, { hint: 'check the URL', details: { url: shownFrom } });
  }
  const scheme = new URL(from).protocol;
  if (to.protocol !== scheme) {
    const shownTo = redactUrl(to.toString());
    throw new SourceError('SOURCE_REDIRECT_REFUSED', `${shownFrom} redirects to ${shownTo}: a redirect from ${scheme.slice(0, -1)} to ${to.protocol.slice(0, -1)} is refused`, {
      hint: 'if you trust that location, give it as the URL yourself',
      details: { url: shownFrom, location: shownTo },
    });
  }
  return to.toString();
}

export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
