// The architectures.json manifest (issue 12 fixtures) and a float64 forward with named activations (the reference the
// loader's layers are run with), for the architectures, safetensors and TorchScript tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { MlpActivation } from '../src/index.js';
import { FIXTURES } from './helpers.js';

export interface Entry {
  file: string;
  kind: string;
  expect: {
    source: string;
    code?: string;
    activations: string[] | null;
    /** LeakyReLU's slope and ELU's alpha, where the activations have them */
    negative_slope?: number;
    alpha?: number;
    dropout?: number[];
    warnings?: string[];
    /** refusals: what the message must name */
    found?: string;
    options?: { activation: string; negative_slope?: number };
    layers?: { name: string; in: number; out: number; bias: boolean }[];
    dtypes?: Record<string, string>;
  };
  reference: { logits: { base64: string } };
}
export const manifest = JSON.parse(readFileSync(join(FIXTURES, 'architectures.json'), 'utf8')) as { files: Entry[] };
export const entriesOf = (kind: string) => manifest.files.filter((e) => e.kind === kind);
export const fixturePath = (file: string) => join(FIXTURES, 'architectures', file);

export function referenceLogits(e: Entry): Float32Array {
  const b = Buffer.from(e.reference.logits.base64, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

/** The manifest's activation names in the loader's form: leaky_relu gets `slope` (negative_slope), elu `alpha`. */
export function activationSpecs(e: Entry): MlpActivation[] {
  const slope = e.expect.negative_slope ?? e.expect.options?.negative_slope ?? 0.01;
  return (e.expect.activations ?? []).map((a) =>
    a === 'leaky_relu' ? { name: a, slope } : a === 'elu' ? { name: a, alpha: e.expect.alpha ?? 1 } : a,
  );
}

/** erf to ~1e-15 (series near 0, continued fraction in the tails): for the exact GELU. */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax,
      sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * sum);
  }
  // erfc(x) = exp(-x^2) / sqrt(pi) * 1 / (x + 1/2 / (x + 1 / (x + 3/2 / (x + ...))))
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f);
}

/** PyTorch's activations in float64 (defaults: slope 0.01, alpha 1). */
export function activate(a: MlpActivation, x: number): number {
  const name = typeof a === 'string' ? a : a.name;
  switch (name) {
    case 'relu':
      return Math.max(0, x);
    case 'leaky_relu':
      return x >= 0 ? x : x * (typeof a === 'string' ? 0.01 : (a.slope ?? 0.01));
    case 'tanh':
      return Math.tanh(x);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_tanh':
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case 'silu':
      return x / (1 + Math.exp(-x));
    case 'elu':
      return x > 0 ? x : (typeof a === 'string' ? 1 : (a.alpha ?? 1)) * Math.expm1(x);
    case 'identity':
      return x;
  }
  throw new Error(`unknown activation ${name}`);
}

/** Float64 forward of a Linear chain with the given activation after each hidden layer: logits [batch, classes]. */
export function forwardWith(
  layers: { weight: Float32Array; bias: Float32Array; in: number; out: number }[],
  activations: readonly MlpActivation[],
  x: Float32Array,
  batch: number,
): Float64Array {
  let h = Float64Array.from(x);
  layers.forEach((L, li) => {
    const out = new Float64Array(batch * L.out);
    for (let b = 0; b < batch; b++)
      for (let o = 0; o < L.out; o++) {
        let s = L.bias[o];
        for (let i = 0; i < L.in; i++) s += L.weight[o * L.in + i] * h[b * L.in + i];
        out[b * L.out + o] = li < layers.length - 1 ? activate(activations[li], s) : s;
      }
    h = out;
  });
  return h;
}

/** Largest |a - b| / max(1, |b|). */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}
