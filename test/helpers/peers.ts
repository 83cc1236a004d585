import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, whether this runs from test/ (vitest) or dist/test/ (benchmarks). */
export const REPO = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || dir.endsWith('/dist')) dir = dirname(dir);
  return `${dir}/`;
})();

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
