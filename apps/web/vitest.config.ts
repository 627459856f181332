// Browser tests drive a real Chromium through playwright-core: one file at a time, in order; the shared settings
// (timeouts for a busy machine, JSON report), with a longer hook timeout for building the site and starting Chromium.
import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.js';

export default mergeConfig(
  sharedTestConfig,
  defineConfig({
    test: {
      include: ['test/**/*.test.ts'],
      hookTimeout: 300_000,
      fileParallelism: false,
    },
  }),
);
