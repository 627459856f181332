// vitest setup: enables relaxed SIMD in V8 before any test compiles WASM, so both binaries are tested on Node 20,
// and points src/'s import of the generated ./wasm-bytes.js at build/wasm-bytes.js (written by `pnpm build`).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: [{ find: /^\.\/wasm-bytes\.js$/, replacement: fileURLToPath(new URL('./build/wasm-bytes.js', import.meta.url)) }],
  },
  test: {
    setupFiles: ['./test/setup.ts'],
    // sized for a busy shared 2-core machine (3-4x idle times); no test's pass depends on speed
    testTimeout: 120_000,
    hookTimeout: 180_000,
    expect: { poll: { timeout: 30_000 } },
  },
});
