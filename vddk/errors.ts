import { SourceError, type ErrorOptions } from '../src/errors.js';
import { VixDiskLibError, VixErrorCodes } from '../native/vixdisklib.js';

/** Errors of the VDDK path: the library, the connection to vSphere through it, and disk reads. */
export class VddkError extends SourceError {
  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}

const AUTH = new Set<number>([VixErrorCodes.VIX_E_HOST_USER_PERMISSIONS, VixErrorCodes.VIX_E_AUTHENTICATION_FAIL]);
const UNREACHABLE = new Set<number>([
  VixErrorCodes.VIX_E_CANNOT_CONNECT_TO_HOST,
  VixErrorCodes.VIX_E_HOST_NETWORK_CONN_REFUSED,
  VixErrorCodes.VIX_E_NET_HTTP_COULDNT_CONNECT,
  VixErrorCodes.VIX_E_HOST_CONNECTION_LOST,
  VixErrorCodes.VIX_E_HOST_TCP_CONN_LOST,
  VixErrorCodes.VIX_E_HOST_NOT_CONNECTED,
]);
const TLS = new Set<number>([VixErrorCodes.VIX_E_NET_HTTP_SSL_SECURITY, VixErrorCodes.VIX_E_NET_HTTP_SSL_CONNECT_ERROR]);

export type VddkStep = 'connect' | 'open' | 'read' | 'extents' | 'close';

/**
 * Names a VixDiskLib failure the way a user can act on it. `context` says
 * which server, VM and disk; `presentedThumbprint` (when known) goes into the
 * thumbprint hint so the user can compare.
 */
export function fromVixError(e: unknown, step: VddkStep, context: { server: string; vm: string; disk?: string; presentedThumbprint?: string }): VddkError {
  if (e instanceof VddkError) return e;
  if (!(e instanceof VixDiskLibError)) {
    return new VddkError(`VDDK_${step.toUpperCase()}_FAILED`, `VDDK ${step} failed for ${context.vm} on ${context.server}: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
  const details = { vixError: e.code, vixErrorName: e.codeName, call: e.call };
  if (TLS.has(e.code) || /thumbprint/i.test(e.text)) {
    return new VddkError('VDDK_THUMBPRINT_MISMATCH', `${context.server} did not match the configured certificate thumbprint: ${e.message}`, {
      hint: context.presentedThumbprint
        ? `the server presents ${context.presentedThumbprint}; if you trust it, set thumbprint: "${context.presentedThumbprint}" in the sources file`
        : 'check `thumbprint` in the sources file against the SHA-1 of the certificate the server presents',
      cause: e,
      details,
    });
  }
  if (AUTH.has(e.code)) {
    return new VddkError('SOURCE_AUTH_FAILED', `${context.server} refused the VDDK login: ${e.message}`, {
      hint: 'check the username and the password file of this source (VDDK logs in separately from the vim25 API)',
      cause: e,
      details,
    });
  }
  if (UNREACHABLE.has(e.code)) {
    return new VddkError('SOURCE_UNREACHABLE', `VDDK cannot reach ${context.server}: ${e.message}`, {
      hint: 'VDDK needs TCP 443 and 902 (NFC) to the ESXi host holding the disk, TCP 443 and 5840 to vCenter; check routes, firewalls and egress NetworkPolicies',
      cause: e,
      details,
    });
  }
  if (e.code === VixErrorCodes.VIX_E_SNAPSHOT_NOTFOUND) {
    return new VddkError('VDDK_SNAPSHOT_NOT_FOUND', `the snapshot of ${context.vm} is gone: ${e.message}`, {
      hint: 'take the snapshot again, or drop the snapshot moref',
      cause: e,
      details,
    });
  }
  if (e.code === VixErrorCodes.VIX_E_VM_NOT_FOUND) {
    return new VddkError('VM_NOT_FOUND', `VDDK found no VM ${context.vm} on ${context.server}: ${e.message}`, {
      hint: 'run `v2v inventory` to see the VMs of this source',
      cause: e,
      details,
    });
  }
  if (step === 'open' && (e.code === VixErrorCodes.VIX_E_FILE_NOT_FOUND || e.code === VixErrorCodes.VIX_E_OBJECT_NOT_FOUND)) {
    return new VddkError('VDDK_DISK_NOT_FOUND', `disk ${context.disk ?? '?'} of ${context.vm} not found: ${e.message}`, {
      hint: 'the VM changed since the inventory was read; list it again',
      cause: e,
      details,
    });
  }
  return new VddkError(
    `VDDK_${step.toUpperCase()}_FAILED`,
    `VDDK ${step} failed for ${context.vm}${context.disk ? ` disk ${context.disk}` : ''} on ${context.server}: ${e.message}`,
    {
      hint: 'see the VixError name; VDDK logs (vixDiskLib.log) have the detail',
      cause: e,
      details,
    },
  );
}
