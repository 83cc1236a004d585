import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start real peers (vcsim, servers); two cores do not
    // take many at once.
    maxWorkers: 2,
  },
});
