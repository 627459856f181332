// vitest setup for viz: the shared settings (timeouts for a busy machine, JSON report); the browser test bundles
// with esbuild and drives Chromium.
import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.js';

export default mergeConfig(sharedTestConfig, defineConfig({}));
