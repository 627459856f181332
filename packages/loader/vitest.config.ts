// vitest setup for the loader: the shared settings (timeouts for a busy machine, JSON report); several tests call
// real PyTorch or compile the WASM engine.
import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.js';

export default mergeConfig(sharedTestConfig, defineConfig({}));
