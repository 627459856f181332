// Test settings every package's vitest.config.ts merges in, so that they live in one place: timeouts sized for a
// busy shared 2-core machine (tests take 3-4x their idle time there; no test's pass depends on speed), and the JSON
// report that .ci/run totals (scripts/test-totals.mjs). Plain data: this file imports nothing.
export const sharedTestConfig = {
  test: {
    testTimeout: 120_000,
    hookTimeout: 180_000,
    expect: { poll: { timeout: 30_000 } },
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
  },
};
