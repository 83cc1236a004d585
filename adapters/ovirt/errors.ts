import { SourceError } from '../../src/errors.js';
import { classifyTransportError, tlsFailureHint } from '../../src/net/tls.js';

/** The oVirt engine or its imageio daemon failed or refused. */
export class OvirtError extends SourceError {}

/** Names a transport failure (TLS trust, unreachable) against `url`. */
export async function transportError(cause: unknown, url: URL, what: string): Promise<OvirtError> {
  const failure = classifyTransportError(cause);
  const port = Number(url.port || 443);
  const where = `${url.hostname}:${port}`;
  if (failure.kind === 'tls') {
    return new OvirtError('SOURCE_TLS_UNTRUSTED', `${what}: TLS verification of ${where} failed (${failure.code})`, {
      cause,
      hint: await tlsFailureHint(url, failure.code, 'set caFile to the engine CA (https://<engine>/ovirt-engine/services/pki-resource?resource=ca-certificate&format=X509-PEM-CA)'),
      details: { tlsCode: failure.code },
    });
  }
  if (failure.kind === 'unreachable') {
    return new OvirtError('SOURCE_UNREACHABLE', `${what}: cannot reach ${where} (${failure.code})`, {
      cause,
      hint: 'check the URL, DNS, the firewall (engine: 443; imageio: 54322 on hosts, 54323 on the engine) and that the service runs',
      details: { netCode: failure.code },
    });
  }
  return new OvirtError('SOURCE_API_ERROR', `${what}: request to ${where} failed${failure.code ? ` (${failure.code})` : ''}`, { cause });
}
