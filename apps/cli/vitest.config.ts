// vitest setup for the CLI: tests run the built dist/mnist.js as a subprocess, some of them train: long timeouts.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 180_000,
    expect: { poll: { timeout: 30_000 } },
  },
});
