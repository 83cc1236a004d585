// The hostile-input catalogue: every bad input and fault v2v must meet with a
// named error, and nothing else. One table; each area's cases live beside it
// in cases/, and test/integration/hostile-<area>.test.ts runs one area.
import type { HostileCase } from './harness.js';
import { archiveCases } from './cases/archive.js';
import { cliCases } from './cases/cli.js';
import { cliArgsCases } from './cases/cli-args.js';
import { configCases } from './cases/config.js';
import { imageCases } from './cases/image.js';
import { netCases } from './cases/net.js';
import { signalCases } from './cases/signal.js';
import { sourceCases } from './cases/source.js';

export const CATALOGUE: readonly HostileCase[] = [...cliCases, ...netCases, ...imageCases, ...archiveCases, ...signalCases, ...sourceCases, ...configCases, ...cliArgsCases];

/** The catalogue's areas: the part of a case id before the first dot. */
export const areaOf = (c: HostileCase): string => c.id.slice(0, c.id.indexOf('.'));
