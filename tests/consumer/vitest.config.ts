// vitest setup for the consumer test: the shared settings (JSON report), with longer timeouts than theirs: its
// beforeAll packs three packages and runs npm install in a fresh project, and its cases run tsc four times and drive
// Chromium, several times their idle time on a busy shared 2-core machine. No test's pass depends on speed.
import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.js';

export default mergeConfig(
  sharedTestConfig,
  defineConfig({
    test: {
      testTimeout: 300_000,
      hookTimeout: 600_000,
    },
  }),
);
