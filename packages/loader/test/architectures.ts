// The architectures.json manifest (issue 12 fixtures) and a float64 forward with named activations, for the
// safetensors and TorchScript tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { FIXTURES } from './helpers.js';

export interface Entry {
  file: string;
  kind: string;
  expect: {
    source: string;
    code?: string;
    activations: string[] | null;
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

/** Float64 forward of a Linear chain with the named activation after each hidden layer: logits [batch, classes]. */
export function forwardWith(
  layers: { weight: Float32Array; bias: Float32Array; in: number; out: number }[],
  activations: string[],
  x: Float32Array,
  batch: number,
): Float64Array {
  const act: Record<string, (v: number) => number> = {
    relu: (v) => Math.max(0, v),
    tanh: Math.tanh,
    sigmoid: (v) => 1 / (1 + Math.exp(-v)),
    identity: (v) => v,
  };
  let h = Float64Array.from(x);
  layers.forEach((L, li) => {
    const f = li < layers.length - 1 ? act[activations[li]] : act.identity;
    const out = new Float64Array(batch * L.out);
    for (let b = 0; b < batch; b++)
      for (let o = 0; o < L.out; o++) {
        let s = L.bias[o];
        for (let i = 0; i < L.in; i++) s += L.weight[o * L.in + i] * h[b * L.in + i];
        out[b * L.out + o] = f(s);
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
