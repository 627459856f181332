// vitest setup for the CLI: tests run the built dist/mnist.js as a subprocess, some of them train; the shared
// settings (timeouts for a busy machine, JSON report).
import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.js';

export default mergeConfig(sharedTestConfig, defineConfig({}));
