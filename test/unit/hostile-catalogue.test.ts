// The hostile-input catalogue itself: one table, every item of the security
// and robustness issue in it, each area run by its own test file, and the
// count the README states.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { areaOf, CATALOGUE } from '../hostile/catalogue.js';
import { REPO } from '../helpers/peers.js';

describe('the hostile-input catalogue', () => {
  it('has unique ids, each named by its area', () => {
    const ids = CATALOGUE.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z-]+\.[\w.-]+$/);
  });

  it('covers every item of the issue (1–11)', () => {
    const items = new Set(CATALOGUE.map((c) => c.item));
    for (let i = 1; i <= 11; i++) expect(items, `item ${i}`).toContain(String(i));
  });

  it('runs every area in test/integration/hostile-<area>.test.ts', () => {
    for (const area of new Set(CATALOGUE.map(areaOf))) expect(existsSync(`${REPO}test/integration/hostile-${area}.test.ts`), area).toBe(true);
  });

  it('is counted in the README', () => {
    expect(readFileSync(`${REPO}README.md`, 'utf8')).toContain(`${CATALOGUE.length} hostile inputs`);
  });
});
