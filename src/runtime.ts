/**
 * What `main` reads from the process, once, and hands down. Nothing below main
 * reads `process.env`: tests and the pod give their own.
 */
export interface Runtime {
  /** The environment child tools inherit and lookups read (passwordEnv, HTTP(S)_PROXY, LIBGUESTFS_*). */
  env: Readonly<NodeJS.ProcessEnv>;
  logLevel: string;
  /** The VDDK distribution directory (vSphere disks). */
  vddkLibDir: string;
  /** Where partial markers of block-device targets live. */
  stateDir: string;
}

export const DEFAULT_VDDK_LIBDIR = '/opt/vmware-vix-disklib-distrib';

export function runtimeFromEnv(env: Readonly<NodeJS.ProcessEnv>): Runtime {
  return {
    env,
    logLevel: env['V2V_LOG_LEVEL'] ?? 'info',
    vddkLibDir: env['V2V_VDDK_LIBDIR'] ?? DEFAULT_VDDK_LIBDIR,
    stateDir: env['V2V_STATE_DIR'] ?? '/var/lib/v2v',
  };
}
