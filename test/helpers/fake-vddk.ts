import { existsSync } from 'node:fs';
import { REPO } from './peers.js';

/**
 * The VDDK distribution directory of the fake libvixDiskLib built by
 * scripts/setup.sh (native/fake-vddk/build.sh). V2V_FAKE_VDDK_DIR overrides
 * it (a worktree building its own copy). Missing → the test fails.
 */
export function fakeVddkDir(): string {
  const dir = process.env['V2V_FAKE_VDDK_DIR'] ?? `${REPO}.cache/fake-vddk`;
  const lib = `${dir}/lib64/libvixDiskLib.so.8`;
  if (!existsSync(lib)) {
    throw new Error(`the fake libvixDiskLib is missing at ${lib}: run scripts/setup.sh (CI does) before the tests`);
  }
  return dir;
}

/** Sets the fake's configuration (read by the library at InitEx / ConnectEx / Open / each read). */
export function configureFakeVddk(settings: {
  datastores?: Map<string, string>;
  thumbprint?: string;
  user?: string;
  password?: string;
  faults?: string;
  trace?: string;
}): void {
  const set = (key: string, value: string | undefined) => {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  };
  if (settings.datastores) set('FAKE_VDDK_DATASTORES', [...settings.datastores].map(([k, v]) => `${k}=${v}`).join(';'));
  if ('thumbprint' in settings) set('FAKE_VDDK_THUMBPRINT', settings.thumbprint);
  if ('user' in settings) set('FAKE_VDDK_USER', settings.user);
  if ('password' in settings) set('FAKE_VDDK_PASSWORD', settings.password);
  if ('faults' in settings) set('FAKE_VDDK_FAULTS', settings.faults);
  if ('trace' in settings) set('FAKE_VDDK_TRACE', settings.trace);
}
