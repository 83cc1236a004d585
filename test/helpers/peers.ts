import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// From test/helpers (vitest) or dist/test/helpers (benchmarks run the build): the repository root either way.
const up = fileURLToPath(new URL('../../', import.meta.url));
export const REPO = up.endsWith('/dist/') ? up.slice(0, -'dist/'.length) : up;

/**
 * A test peer binary built by scripts/setup.sh. Missing means the setup did
 * not run: the test must fail, never skip, so a green run proves the peer ran.
 */
export function peerBinary(relative: string, what: string): string {
  const path = `${REPO}${relative}`;
  if (!existsSync(path)) {
    throw new Error(`${what} is missing at ${path}: run scripts/setup.sh (CI does) before the tests`);
  }
  return path;
}
