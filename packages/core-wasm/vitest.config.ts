// vitest setup: enables relaxed SIMD in V8 before any test compiles WASM, so both binaries are tested on Node 20,
// and points src/'s import of the generated ./wasm-bytes.js at build/wasm-bytes.js (written by `pnpm build`);
// the shared settings (timeouts for a busy machine, JSON report).
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.js';

export default mergeConfig(
  sharedTestConfig,
  defineConfig({
    resolve: {
      alias: [
        { find: /^\.\/wasm-bytes\.js$/, replacement: fileURLToPath(new URL('./build/wasm-bytes.js', import.meta.url)) },
      ],
    },
    test: {
      setupFiles: ['./test/setup.ts'],
    },
  }),
);
