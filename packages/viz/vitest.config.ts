// vitest setup for viz: timeouts sized for a busy shared 2-core machine (the browser test bundles with esbuild and
// drives Chromium; under load that takes several times its idle time). No test's pass depends on speed.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 180_000,
    expect: { poll: { timeout: 30_000 } },
  },
});
