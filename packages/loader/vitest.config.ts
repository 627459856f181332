// vitest setup for the loader: timeouts sized for a busy shared 2-core machine (several tests call real PyTorch
// or compile the WASM engine; under load they take 3-4x their idle time). No test's pass depends on speed.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 180_000,
    expect: { poll: { timeout: 30_000 } },
  },
});
