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

export interface FakeVddkSettings {
  datastores?: Map<string, string>;
  thumbprint?: string;
  user?: string;
  password?: string;
  faults?: string;
  trace?: string;
}

/** The environment the fake reads (at InitEx / ConnectEx / Open / each read); `undefined` unsets a variable. */
export function fakeVddkEnv(settings: FakeVddkSettings): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  if (settings.datastores) env['FAKE_VDDK_DATASTORES'] = [...settings.datastores].map(([k, v]) => `${k}=${v}`).join(';');
  if ('thumbprint' in settings) env['FAKE_VDDK_THUMBPRINT'] = settings.thumbprint;
  if ('user' in settings) env['FAKE_VDDK_USER'] = settings.user;
  if ('password' in settings) env['FAKE_VDDK_PASSWORD'] = settings.password;
  if ('faults' in settings) env['FAKE_VDDK_FAULTS'] = settings.faults;
  if ('trace' in settings) env['FAKE_VDDK_TRACE'] = settings.trace;
  return env;
}

/** Configures the fake in this process (the library is loaded in-process by koffi). */
export function configureFakeVddk(settings: FakeVddkSettings): void {
  for (const [key, value] of Object.entries(fakeVddkEnv(settings))) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
}
