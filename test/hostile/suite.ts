import { describe, expect, it } from 'vitest';
import { areaOf, CATALOGUE } from './catalogue.js';
import { runHostileCase } from './harness.js';

/** One vitest test per case of `area`, each holding every invariant of the harness. */
export function hostileSuite(area: string): void {
  const cases = CATALOGUE.filter((c) => areaOf(c) === area);
  describe(`hostile inputs: ${area}`, () => {
    it('has cases', () => expect(cases.length).toBeGreaterThan(0));
    for (const c of cases) {
      it(`${c.id}: ${c.what}`, { timeout: (c.expect.deadlineMs ?? 60_000) + 30_000 }, async () => {
        const { problems, result } = await runHostileCase(c);
        expect(problems, `exit ${result.exit}\n--- stderr\n${result.stderr.slice(-3000)}`).toEqual([]);
      });
    }
  });
}
