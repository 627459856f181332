// vitest setup: enables relaxed SIMD in V8 before any test compiles WASM, so both binaries are tested on Node 20.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    setupFiles: ['./test/setup.ts'],
    testTimeout: 60_000,
  },
});
