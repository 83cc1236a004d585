import { X509Certificate, createHash } from 'node:crypto';
import { connect, type TLSSocket } from 'node:tls';
import { Agent, buildConnector } from 'undici';

/** `AA:BB:…` — SHA-1 over the DER certificate, as vCenter and VDDK print it. */
export function sha1Thumbprint(der: Buffer): string {
  return createHash('sha1').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}

export interface PresentedCertificate {
  thumbprint: string;
  subject: string;
  issuer: string;
  validTo: string;
  pem: string;
  /** The names it is valid for: its subject alternative names (DNS names, IP addresses), else its common name. */
  names: string[];
}

function namesOf(x509: X509Certificate): string[] {
  const alt = (x509.subjectAltName ?? '')
    .split(/,\s*/)
    .map((n) => /^(?:DNS|IP Address):(.+)$/.exec(n.trim())?.[1])
    .filter((n): n is string => !!n);
  if (alt.length) return alt;
  const cn = /^CN=(.+)$/m.exec(x509.subject)?.[1];
  return cn ? [cn] : [];
}

/**
 * Reads the certificate a TLS server presents, without trusting it. Used to
 * name the certificate when verification fails, and for the VDDK thumbprint.
 */
export function fetchPresentedCertificate(host: string, port: number, timeoutMs = 10_000): Promise<PresentedCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, servername: isIp(host) ? undefined : host, rejectUnauthorized: false, timeout: timeoutMs }, () => {
      const peer = socket.getPeerCertificate(false);
      socket.end();
      if (!peer?.raw) {
        reject(new Error(`${host}:${port} presented no certificate`));
        return;
      }
      const x509 = new X509Certificate(peer.raw);
      resolve({ thumbprint: sha1Thumbprint(peer.raw), subject: x509.subject, issuer: x509.issuer, validTo: x509.validTo, pem: x509.toString(), names: namesOf(x509) });
    });
    socket.on('timeout', () => socket.destroy(new Error(`TLS handshake with ${host}:${port} timed out`)));
    socket.on('error', reject);
  });
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

const TLS_TRUST_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_THUMBPRINT_MISMATCH',
]);

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** Walks an error's cause chain for a Node/undici error code. */
export function errorCode(e: unknown): string | undefined {
  for (let cur = e, depth = 0; cur && depth < 6; cur = (cur as { cause?: unknown }).cause, depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && (TLS_TRUST_CODES.has(code) || UNREACHABLE_CODES.has(code))) return code;
  }
  for (let cur = e, depth = 0; cur && depth < 6; cur = (cur as { cause?: unknown }).cause, depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Node checks the name only after the chain verified: these codes mean the CA is right and the name is not. */
const NAME_MISMATCH_CODES = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);

/**
 * The hint for a TLS verification failure against `url`: for a name mismatch, that the certificate is
 * trusted and which names it holds; otherwise `trustAdvice` (how to trust the server: caFile, --ca, …).
 * Either way it names the certificate the server presented, read without trusting it.
 */
export async function tlsFailureHint(url: URL, code: string, trustAdvice: string): Promise<string> {
  let cert: PresentedCertificate | undefined;
  try {
    cert = await fetchPresentedCertificate(url.hostname, Number(url.port || 443));
  } catch {
    // The hint stays useful without the certificate.
  }
  const presented = cert
    ? ` The server presented a certificate with SHA-1 thumbprint ${cert.thumbprint} (subject ${cert.subject.replace(/\n/g, ', ')}; issuer ${cert.issuer.replace(/\n/g, ', ')}).`
    : '';
  if (NAME_MISMATCH_CODES.has(code)) {
    const names = cert?.names.length ? cert.names.join(', ') : 'other names';
    return `the certificate verifies against the trusted CA, but it is issued for ${names}, not ${url.hostname}: use one of those names in the URL, or reissue the certificate with ${url.hostname}.${presented}`;
  }
  return `${trustAdvice}.${presented}`;
}

export type TransportFailure = { kind: 'tls'; code: string } | { kind: 'unreachable'; code: string } | { kind: 'other'; code?: string };

export function classifyTransportError(e: unknown): TransportFailure {
  const code = errorCode(e);
  if (code && TLS_TRUST_CODES.has(code)) return { kind: 'tls', code };
  if (code && UNREACHABLE_CODES.has(code)) return { kind: 'unreachable', code };
  return code ? { kind: 'other', code } : { kind: 'other' };
}

export interface TlsOptions {
  ca?: string;
  insecureSkipVerify?: boolean;
  /**
   * Trust exactly the certificate with this SHA-1 thumbprint (vm-import-operator's
   * VMware Secret `thumbprint`), checked on every connection instead of a CA chain.
   */
  pinnedThumbprint?: string;
}

/** A connector that accepts only a server certificate with the pinned SHA-1 thumbprint. */
function pinnedConnector(thumbprint: string, timeoutMs: number): buildConnector.connector {
  // No TLS session resumption: a resumed session carries no peer certificate to compare.
  const base = buildConnector({ rejectUnauthorized: false, timeout: timeoutMs, maxCachedSessions: 0 });
  const want = thumbprint.toUpperCase();
  return (opts, callback) =>
    base(opts, (...args) => {
      const [err, socket] = args;
      if (err || !socket) {
        callback(err ?? new Error('connection failed'), null);
        return;
      }
      const presented = (socket as TLSSocket).getPeerCertificate?.()?.fingerprint?.toUpperCase();
      if (presented !== want) {
        socket.destroy();
        const e = Object.assign(new Error(`the server certificate thumbprint ${presented ?? '(none)'} is not the pinned ${want}`), { code: 'ERR_TLS_CERT_THUMBPRINT_MISMATCH' });
        callback(e, null);
        return;
      }
      callback(null, socket);
    });
}

/**
 * One undici Agent per endpoint: TLS trust, timeouts and keep-alive in one place. `requestMs` bounds the
 * wait for an answer and each silence in a body; `answerMs`, when given, the wait for an answer alone.
 */
export function makeAgent(tls: TlsOptions, timeouts: { connectMs?: number; requestMs?: number; answerMs?: number } = {}): Agent {
  return new Agent({
    connect: tls.pinnedThumbprint
      ? pinnedConnector(tls.pinnedThumbprint, timeouts.connectMs ?? 15_000)
      : {
          ...(tls.ca ? { ca: tls.ca } : {}),
          rejectUnauthorized: !tls.insecureSkipVerify,
          timeout: timeouts.connectMs ?? 15_000,
        },
    headersTimeout: timeouts.answerMs ?? timeouts.requestMs ?? 120_000,
    bodyTimeout: timeouts.requestMs ?? 120_000,
    keepAliveTimeout: 30_000,
    connections: 8,
  });
}
