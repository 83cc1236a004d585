// From a sources-file entry (SPEC §4.2) to VddkSource options: the password
// the source connection read, host and port from the URL, and the thumbprint
// either configured or read from a certificate that verifies.
import { connect } from 'node:tls';
import type { SourceConfig } from '../src/config/sources.js';
import { readSourceCa } from '../src/config/sources.js';
import type { Disk, SourceVm } from '../src/model.js';
import { fetchPresentedCertificate, sha1Thumbprint } from '../src/net/tls.js';
import { VddkError } from './errors.js';
import type { VddkSourceOptions } from './source.js';

/** The thumbprint of a certificate the server presents AND that verifies against the CA (or the system store). */
export function verifiedThumbprint(host: string, port: number, ca: string | undefined, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const socket = connect({ host, port, ...(ca ? { ca } : {}), rejectUnauthorized: true, servername: /^[\d.:]+$/.test(host) ? undefined : host, timeout: timeoutMs }, () => {
      const raw = socket.getPeerCertificate(false)?.raw;
      socket.end();
      if (!raw) reject(new Error(`${host}:${port} presented no certificate`));
      else resolvePromise(sha1Thumbprint(raw));
    });
    socket.on('timeout', () => socket.destroy(new Error(`TLS handshake with ${host}:${port} timed out`)));
    socket.on('error', reject);
  });
}

export async function vddkOptionsFromSource(
  config: SourceConfig,
  password: string,
  vm: SourceVm,
  disk: Disk | string,
  extra: Partial<Omit<VddkSourceOptions, 'vm' | 'disk' | 'server' | 'credentials' | 'thumbprint'>> = {},
): Promise<VddkSourceOptions> {
  if (config.type !== 'vsphere') throw new VddkError('VDDK_NOT_VSPHERE', `source "${config.name}" is ${config.type}; VDDK reads vSphere disks only`);
  const url = new URL(config.url);
  const port = url.port ? Number(url.port) : 443;
  let thumbprint = config.thumbprint;
  let presented: string | undefined;
  try {
    presented = (await fetchPresentedCertificate(url.hostname, port)).thumbprint;
  } catch {
    presented = undefined;
  }
  if (!thumbprint) {
    if (config.insecureSkipVerify) {
      throw new VddkError('VDDK_THUMBPRINT_REQUIRED', `source "${config.name}" skips TLS verification, so its certificate thumbprint cannot be trusted for VDDK`, {
        hint: presented ? `if ${presented} is the server's certificate, set thumbprint: "${presented}" in the sources file` : 'set `thumbprint` in the sources file',
      });
    }
    const ca = await readSourceCa(config);
    try {
      thumbprint = await verifiedThumbprint(url.hostname, port, ca);
    } catch (cause) {
      throw new VddkError('SOURCE_TLS_UNTRUSTED', `cannot verify the certificate of ${url.hostname}:${port} to take its thumbprint for VDDK`, {
        hint: presented
          ? `the server presents ${presented}; set thumbprint: "${presented}" in the sources file if you trust it, or fix caFile`
          : 'set `thumbprint` in the sources file, or fix caFile',
        cause,
      });
    }
  }
  return {
    vm,
    disk,
    server: url.hostname,
    port,
    credentials: { type: 'uid', userName: config.username, password },
    thumbprint,
    ...(presented ? { presentedThumbprint: presented } : {}),
    ...extra,
  };
}
