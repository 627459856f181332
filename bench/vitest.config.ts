// vitest setup for the bench's tests (the bench itself is a script, `pnpm bench`): the shared settings (timeouts for
// a busy machine, JSON report). The tests import @mnist/core-wasm's built dist, as the bench does.
import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedTestConfig } from '../vitest.shared.js';

export default mergeConfig(sharedTestConfig, defineConfig({}));
