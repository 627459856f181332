// Tests of the seeded augmentation (src/augment.ts, assembly/augment.ts): exact copies and translations, a float64
// reference of the same sampling map (its elastic field smoothed directly in 2D from the bank's definition), SIMD
// against the scalar reference, determinism per (seed, index), the field's statistics against Simard et al.'s
// construction, and the refusals.
import { beforeAll, describe, expect, it } from 'vitest';
import { Augmenter, CoreError, type AugmentOptions, type AugmentParams, seededRandom } from '../src/index.js';
import { BANK_PERIOD, BANK_SEED, gaussianTaps } from '../src/augment.js';
import { instantiateKernels, type Variant } from '../src/kernels.js';
import { expectSameBits, firstDifference, Heap, maxdiff, mnist, randomF32, rng, variants } from './helpers.js';

const SIDE = 28,
  P = SIDE * SIDE;
const AFFINE: AugmentOptions = { shift: 2, rotate: 15, scale: 0.15 };
const ALL: AugmentOptions = { ...AFFINE, elastic: true };
const T = BANK_PERIOD;
const mod = (a: number, n: number) => ((a % n) + n) % n;

// ---- the float64 reference

/** The bank's noise, by its definition: mulberry32(BANK_SEED), uniform in [-1, 1), field 0 then 1, row by row. */
let noise: Float64Array[] = [];
beforeAll(() => {
  const r = seededRandom(BANK_SEED);
  noise = [0, 1].map(() => Float64Array.from({ length: T * T }, () => 2 * r() - 1));
});

/** Field f of the bank at (row, col), smoothed directly in 2D (not separably) over the torus, in float64. */
function fieldAt(sigma: number): (f: number, row: number, col: number) => number {
  const g = gaussianTaps(sigma),
    R = (g.length - 1) / 2;
  const memo = new Map<number, number>();
  return (f, row, col) => {
    const key = (f * T + row) * T + col;
    let s = memo.get(key);
    if (s === undefined) {
      s = 0;
      for (let a = 0; a < g.length; a++) {
        const base = mod(row + a - R, T) * T;
        for (let b = 0; b < g.length; b++) s += g[a]! * g[b]! * noise[f]![base + mod(col + b - R, T)]!;
      }
      memo.set(key, s);
    }
    return s;
  };
}

/**
 * Image `img` (side x side) under p, in float64, from the definition: output pixel (x, y) reads the input at
 * A^-1(x, y) + e(x, y), A(q) = c + t + scale R (q - c) with R counter-clockwise as displayed (y down), bilinear
 * with 0 outside the image (4 weights, no clamping).
 */
function reference(
  img: ArrayLike<number>,
  side: number,
  p: AugmentParams,
  field?: (f: number, row: number, col: number) => number,
): Float64Array {
  const c = (side - 1) / 2,
    th = (p.angle * Math.PI) / 180,
    cs = Math.cos(th),
    sn = Math.sin(th);
  const get = (x: number, y: number) => (x >= 0 && x < side && y >= 0 && y < side ? img[y * side + x]! : 0);
  const out = new Float64Array(side * side);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      // q - c = R^T (p - c - t) / scale, R = [cos, sin; -sin, cos]
      const X = x - c - p.dx,
        Y = y - c - p.dy;
      let u = c + (cs * X - sn * Y) / p.scale,
        v = c + (sn * X + cs * Y) / p.scale;
      const f = p.field;
      if (f) {
        const row = mod(f.y + (f.flipRows ? -y : y), T),
          col = mod(f.x + x, T);
        u += f.alphaX * field!(f.swap ? 1 : 0, row, col);
        v += f.alphaY * field!(f.swap ? 0 : 1, row, col);
      }
      const x0 = Math.floor(u),
        y0 = Math.floor(v),
        a = u - x0,
        b = v - y0;
      out[y * side + x] =
        (1 - a) * (1 - b) * get(x0, y0) +
        a * (1 - b) * get(x0 + 1, y0) +
        (1 - a) * b * get(x0, y0 + 1) +
        a * b * get(x0 + 1, y0 + 1);
    }
  }
  return out;
}

const image = (x: Float32Array, i: number, side = SIDE) => x.subarray(i * side * side, (i + 1) * side * side);
const identity = (): AugmentParams => ({ angle: 0, scale: 1, dx: 0, dy: 0, field: null });

function expectCode(f: () => unknown, code: string): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CoreError);
    expect((e as CoreError).code, (e as Error).message).toBe(code);
    return;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

async function expectCodeAsync(f: () => Promise<unknown>, code: string): Promise<void> {
  await f().then(
    () => {
      throw new Error(`expected ${code}, nothing was thrown`);
    },
    (e) => {
      expect(e).toBeInstanceOf(CoreError);
      expect((e as CoreError).code, (e as Error).message).toBe(code);
    },
  );
}

const simdOf = (v: Variant) => (v === 'simd' ? 'plain' : 'relaxed');

describe('augmentation: exact cases', () => {
  const { x } = mnist('train', 64);

  it.each(variants())('all-zero options copy the batch exactly (%s, SIMD and scalar kernels)', async (v) => {
    for (const kernel of ['simd', 'scalar'] as const) {
      const aug = await Augmenter.create(
        { shift: 0, rotate: 0, scale: 0, elastic: false },
        { simd: simdOf(v), kernel },
      );
      expectSameBits(aug.apply(x, 64, 123), x, `${v} ${kernel}`);
      expectSameBits(aug.transform(x.subarray(0, P), [identity()]), x.subarray(0, P), `${v} ${kernel} identity`);
      aug.dispose();
    }
  });

  it('an integer shift is the exact translation with zero fill', async () => {
    const aug = await Augmenter.create({});
    for (const [dx, dy] of [
      [3, -2],
      [-5, 7],
      [0, 27],
      [28, 0],
    ] as const) {
      const out = aug.transform(x.subarray(0, 2 * P), [
        { ...identity(), dx, dy },
        { ...identity(), dx: -dy, dy: dx },
      ]);
      for (let n = 0; n < 2; n++) {
        const [sx, sy] = n === 0 ? [dx, dy] : [-dy, dx];
        const want = new Float32Array(P);
        for (let y = 0; y < SIDE; y++)
          for (let xx = 0; xx < SIDE; xx++) {
            const X = xx - sx,
              Y = y - sy;
            if (X >= 0 && X < SIDE && Y >= 0 && Y < SIDE) want[y * SIDE + xx] = x[n * P + Y * SIDE + X]!;
          }
        expectSameBits(image(out, n), want, `shift (${sx}, ${sy})`);
      }
    }
  });

  it('rotates counter-clockwise as displayed and scales about the centre', async () => {
    // side 29: the centre is pixel (14, 14); a dot right of it goes above it at +90 degrees, below at -90
    const side = 29,
      aug = await Augmenter.create({}, { side });
    const dot = new Float32Array(side * side);
    dot[14 * side + 17] = 1;
    const [up, down, twice] = [
      { ...identity(), angle: 90 },
      { ...identity(), angle: -90 },
      { ...identity(), scale: 2 },
    ].map((p) => aug.transform(dot, [p]));
    expect(up![11 * side + 14]).toBeCloseTo(1, 6);
    expect(down![17 * side + 14]).toBeCloseTo(1, 6);
    // scale 2: the dot 3 pixels right of the centre lands 6 pixels right, spread bilinearly over its neighbours
    expect(twice![14 * side + 20]).toBeCloseTo(1, 6);
    expect(twice![14 * side + 19]).toBeCloseTo(0.5, 6);
    expect(twice![13 * side + 20]).toBeCloseTo(0.5, 6);
    expect(twice![13 * side + 19]).toBeCloseTo(0.25, 6);
  });
});

describe('augmentation against a float64 reference of the same map', () => {
  const { x } = mnist('train', 24);
  const r = rng(5);
  const noisy = randomF32(8 * P, r, 0, 1); // gradients of up to 1 per pixel everywhere

  it.each([
    ['shift, rotation and scale', AFFINE],
    ['large rotation and scale', { rotate: 180, scale: 0.5, shift: 6 }],
    ['elastic (Simard defaults)', { elastic: true }],
    ['elastic with affine', ALL],
    ['elastic, strong and smooth', { elastic: { alpha: 60, sigma: 6 }, rotate: 10 }],
  ] as [string, AugmentOptions][])('%s: within 1e-5', async (name, options) => {
    const aug = await Augmenter.create(options);
    const e = aug.options.elastic;
    const field = e ? fieldAt(e.sigma) : undefined;
    let worst = 0;
    // the 2D reference costs (8 sigma + 1)^2 multiply-adds per pixel: fewer images with elastic
    for (const [data, count, seed] of [
      [x, e ? 6 : 24, 42],
      [noisy, e ? 3 : 8, 7],
    ] as const) {
      const out = aug.apply(data, count, seed);
      for (let i = 0; i < count; i++) {
        const p = aug.draw(seed, i);
        expect(p.field !== null).toBe(e !== false);
        worst = Math.max(worst, maxdiff(image(out, i), reference(image(data, i), SIDE, p, field)));
      }
    }
    console.log(`augment vs float64 reference, ${name}: maxdiff ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-5);
    aug.dispose();
  });

  it("every flip, swap and sign of a window, across the bank's wrap-around, within 1e-5", async () => {
    const aug = await Augmenter.create({ elastic: true });
    const field = fieldAt(4);
    const params: AugmentParams[] = Array.from({ length: 16 }, (_, bits) => ({
      angle: 7,
      scale: 1.05,
      dx: 0.5,
      dy: -1.25,
      field: {
        x: [T - 3, 5, 300, T - 27][bits & 3]!, // windows wrapping past column T - 1, and not
        y: [2, T - 10][(bits >> 2) & 1]!, // upwards from row 2 wraps past row 0; downwards from T - 10 past T - 1
        flipRows: (bits & 1) !== 0,
        swap: (bits & 2) !== 0,
        alphaX: bits & 4 ? -34 : 34,
        alphaY: bits & 8 ? -20 : 34,
      },
    }));
    const batch = new Float32Array(16 * P);
    for (let i = 0; i < 16; i++) batch.set(image(x, i), i * P);
    const out = aug.transform(batch, params);
    let worst = 0;
    for (let i = 0; i < 16; i++)
      worst = Math.max(worst, maxdiff(image(out, i), reference(image(x, i), SIDE, params[i]!, field)));
    expect(worst).toBeLessThan(1e-5);
  });

  it('the drawn parameters cover the ranges asked for', async () => {
    const aug = await Augmenter.create(ALL);
    const ps = Array.from({ length: 2000 }, (_, i) => aug.draw(9, i));
    const span = (f: (p: AugmentParams) => number) => [Math.min(...ps.map(f)), Math.max(...ps.map(f))];
    const [a0, a1] = span((p) => p.angle),
      [s0, s1] = span((p) => p.scale),
      [d0, d1] = span((p) => p.dx);
    expect(a0).toBeGreaterThanOrEqual(-15);
    expect(a0).toBeLessThan(-14.9);
    expect(a1).toBeGreaterThan(14.9);
    expect(a1).toBeLessThan(15);
    expect(s0).toBeGreaterThanOrEqual(0.85);
    expect(s1).toBeLessThan(1.15);
    expect(s1 - s0).toBeGreaterThan(0.29);
    expect(d0).toBeGreaterThanOrEqual(-2);
    expect(d1 - d0).toBeGreaterThan(3.98);
    const fields = ps.map((p) => p.field!);
    expect(new Set(fields.map((f) => `${f.flipRows}${f.swap}${f.alphaX}${f.alphaY}`)).size).toBe(16);
    expect(Math.max(...fields.map((f) => f.x))).toBeLessThan(T);
    // 2000 draws of 512 values: ~502 distinct expected
    expect(new Set(fields.map((f) => f.x)).size).toBeGreaterThan(480);
    expect(new Set(fields.map((f) => f.y)).size).toBeGreaterThan(480);
  });
});

describe('augmentation: SIMD kernel, binaries and determinism', () => {
  const { x } = mnist('train', 300);

  it.each([28, 13, 6, 1])(
    'the SIMD kernel gives the scalar reference bits on both binaries (side %i)',
    async (side) => {
      const r = rng(side);
      const data = side === 28 ? x.slice(0, 40 * P) : randomF32(40 * side * side, r, 0, 1);
      // non-finite pixels and -0 too: the zero fill must not touch them (0 * Inf would be NaN)
      for (const [i, v] of [
        [0, Number.NaN],
        [side - 1, Number.POSITIVE_INFINITY],
        [side * side - 1, Number.NEGATIVE_INFINITY],
        [2 * side * side + side + 1, -0],
        [3 * side * side + (side >> 1) * (side + 1), Number.NaN],
      ] as const)
        data[i] = v;
      const options: AugmentOptions = {
        shift: Math.min(2, side),
        rotate: 30,
        scale: 0.2,
        elastic: { alpha: 20, sigma: 2 },
      };
      let first: Float32Array | undefined;
      for (const v of variants()) {
        for (const kernel of ['simd', 'scalar'] as const) {
          const aug = await Augmenter.create(options, { side, simd: simdOf(v), kernel });
          const out = aug.apply(data, 40, 77);
          if (!first) first = out;
          else expectSameBits(out, first, `side ${side}, ${v} ${kernel}`);
        }
      }
    },
  );

  it('image i depends on (seed, i) alone: not on its batch, the count, the chunking or earlier calls', async () => {
    const a = await Augmenter.create(ALL);
    const whole = a.apply(x, 300, 2024); // crosses the 256-image chunks
    a.apply(x, 17, 5); // other calls in between
    const b = await Augmenter.create(ALL);
    for (const [start, n] of [
      [0, 1],
      [7, 3],
      [250, 12],
      [299, 1],
    ] as const) {
      const part = b.apply(x.subarray(start * P), n, 2024, undefined, start);
      expectSameBits(part, whole.subarray(start * P, (start + n) * P), `images ${start}..${start + n - 1}`);
    }
    // the same image at another position of another batch, given its index
    const moved = new Float32Array(5 * P);
    moved.set(image(x, 42), 3 * P);
    expectSameBits(image(b.apply(moved, 5, 2024, undefined, 39), 3), image(whole, 42), 'image 42 at position 3');
    // in place
    const copy = x.slice(0, 10 * P);
    expect(a.apply(copy, 10, 2024, copy)).toBe(copy);
    expectSameBits(copy, whole.subarray(0, 10 * P), 'in place');
    // seeds are 32-bit: -1 and 2^32 - 1 are the same seed
    expectSameBits(a.apply(x, 4, -1), a.apply(x, 4, 2 ** 32 - 1), 'seed -1');
  });

  it('normalize_f32 (the augmented rows of a training step) equals its scalar reference and (x - mean) / std in f32', async () => {
    const r = rng(9);
    const mean = Math.fround(0.1307),
      std = Math.fround(0.3081);
    for (const v of variants()) {
      const { exports: k } = await instantiateKernels(v);
      const heap = new Heap(k);
      for (const n of [0, 1, 3, 4, 7, 784 * 3 + 1]) {
        const data = randomF32(n, r, 0, 1);
        if (n > 2) [data[0], data[1], data[2]] = [Number.NaN, Number.POSITIVE_INFINITY, -0];
        const [a, b] = [heap.put(data), heap.put(data)];
        k.normalize_f32(a, n, mean, std);
        k.normalize_f32_scalar(b, n, mean, std);
        const want = data.map((x) => Math.fround(x - mean) / std);
        expectSameBits(heap.get(a, n), want, `${v} SIMD, n ${n}`);
        expectSameBits(heap.get(b, n), want, `${v} scalar, n ${n}`);
      }
    }
  });

  it('different seeds and different indices give different images', async () => {
    const aug = await Augmenter.create(ALL);
    const s1 = aug.apply(x, 50, 1),
      s2 = aug.apply(x, 50, 2);
    let differ = 0;
    for (let i = 0; i < 50; i++) if (firstDifference(image(s1, i), image(s2, i)) >= 0) differ++;
    expect(differ).toBe(50);
    // one image under 50 indices: 50 different results
    const same = new Float32Array(50 * P);
    for (let i = 0; i < 50; i++) same.set(image(x, 0), i * P);
    const outs = aug.apply(same, 50, 1);
    const keys = new Set(Array.from({ length: 50 }, (_, i) => image(outs, i).join(',')));
    expect(keys.size).toBe(50);
  });

  it('stays within [min, max] of the input (and 0, the fill)', async () => {
    const aug = await Augmenter.create({ rotate: 45, scale: 0.3, shift: 4, elastic: { alpha: 50, sigma: 3 } });
    const out = aug.apply(x, 300, 3);
    let lo = Infinity,
      hi = -Infinity;
    for (const v of out) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBe(0);
    expect(hi).toBeLessThanOrEqual(1);
    expect(hi).toBeGreaterThan(0.99);
    const r = rng(11),
      signed = randomF32(50 * P, r, -0.7, 0.9);
    const inLo = Math.min(0, ...signed),
      inHi = Math.max(0, ...signed);
    const out2 = aug.apply(signed, 50, 4);
    expect(Math.min(...out2)).toBeGreaterThanOrEqual(inLo);
    expect(Math.max(...out2)).toBeLessThanOrEqual(inHi);
  });
});

describe('the elastic field against Simard et al.', () => {
  it("has the paper's per-pixel spread and correlation (fresh noise smoothed by the same Gaussian)", async () => {
    // a ramp image (value = column, or row) turns the output into the source coordinate: bilinear is exact on it
    const { alpha, sigma } = { alpha: 34, sigma: 4 };
    const aug = await Augmenter.create({ elastic: { alpha, sigma } });
    const rampX = new Float32Array(P);
    for (let y = 0; y < SIDE; y++) for (let xx = 0; xx < SIDE; xx++) rampX[y * SIDE + xx] = xx;
    const n = 2000;
    const batch = new Float32Array(n * P);
    for (let i = 0; i < n; i++) batch.set(rampX, i * P);
    const out = aug.apply(batch, n, 8);
    // displacements of the central 12 x 12 (sources stay inside: |e| < 8 at > 5 standard deviations)
    let sum2 = 0,
      count = 0,
      lag = 0,
      lagCount = 0;
    for (let i = 0; i < n; i++) {
      for (let y = 8; y < 20; y++)
        for (let xx = 8; xx < 20; xx++) {
          const e = out[i * P + y * SIDE + xx]! - xx;
          sum2 += e * e;
          count++;
          if (xx + 4 < 20) {
            lag += e * (out[i * P + y * SIDE + xx + 4]! - (xx + 4));
            lagCount++;
          }
        }
    }
    // the paper's field: alpha (g * u), u uniform on [-1, 1] (variance 1/3) per pixel, g the 2D Gaussian:
    // variance alpha^2 / 3 * sum g^2; at lag d its correlation is (g * g)(d) / (g * g)(0), ~exp(-d^2 / (4 sigma^2))
    const g = gaussianTaps(sigma);
    const sumG2 = g.reduce((s, v) => s + v * v, 0);
    const auto = (d: number) => g.reduce((s, v, k) => s + v * (g[k + d] ?? 0), 0);
    const variance = ((alpha * alpha) / 3) * sumG2 * sumG2;
    expect(Math.sqrt(variance)).toBeGreaterThan(1.3); // ~1.38 pixels r.m.s. per axis
    expect(sum2 / count / variance).toBeGreaterThan(0.9);
    expect(sum2 / count / variance).toBeLessThan(1.1);
    expect(Math.abs(lag / lagCount / (sum2 / count) - auto(4) / auto(0))).toBeLessThan(0.05);
  });
});

describe('augmentation refuses bad input', () => {
  it.each([
    [{ shift: -1 }],
    [{ shift: Number.NaN }],
    [{ shift: 29 }],
    [{ rotate: 181 }],
    [{ rotate: '15' }],
    [{ scale: 1 }],
    [{ shear: 10 }],
    [{ elastic: 'yes' }],
    [{ elastic: { alpha: -1, sigma: 4 } }],
    [{ elastic: { alpha: 34, sigma: 0 } }],
    [{ elastic: { alpha: 34, sigma: 100 } }],
    [{ elastic: { alpha: 34 } }],
    [{ elastic: { alpha: 34, sigma: 4, p: 1 } }],
    [null],
  ])('options %j: CORE_BAD_ARGUMENT', async (options) => {
    await expectCodeAsync(() => Augmenter.create(options as AugmentOptions), 'CORE_BAD_ARGUMENT');
  });

  it('bad create options, seeds, indices, params and shapes', async () => {
    await expectCodeAsync(() => Augmenter.create({}, { side: 0 }), 'CORE_BAD_ARGUMENT');
    await expectCodeAsync(() => Augmenter.create({}, { side: 2.5 }), 'CORE_BAD_ARGUMENT');
    await expectCodeAsync(() => Augmenter.create({}, { kernel: 'fast' as 'simd' }), 'CORE_BAD_ARGUMENT');
    await expectCodeAsync(() => Augmenter.create({}, { simd: 'avx' as 'auto' }), 'CORE_BAD_ARGUMENT');
    await expectCodeAsync(() => Augmenter.create({}, { threads: 2 } as object), 'CORE_BAD_ARGUMENT');
    const aug = await Augmenter.create(AFFINE);
    const x = new Float32Array(2 * P);
    expectCode(() => aug.apply(x, 2, 1.5), 'CORE_BAD_ARGUMENT');
    expectCode(() => aug.apply(x, 2, Number.NaN), 'CORE_BAD_ARGUMENT');
    expectCode(() => aug.apply(x, 2, 1, undefined, -1), 'CORE_BAD_ARGUMENT');
    expectCode(() => aug.apply(x, -1, 1), 'CORE_BAD_ARGUMENT');
    expectCode(() => aug.draw(1, 0.5), 'CORE_BAD_ARGUMENT');
    expectCode(() => aug.apply(x, 3, 1), 'CORE_BAD_SHAPE');
    expectCode(() => aug.apply(x, 2, 1, new Float32Array(P)), 'CORE_BAD_SHAPE');
    expectCode(() => aug.transform(x, [{ ...identity(), scale: 0 }]), 'CORE_BAD_ARGUMENT');
    expectCode(() => aug.transform(x, [{ ...identity(), angle: Number.POSITIVE_INFINITY }]), 'CORE_BAD_ARGUMENT');
    const field = { x: 0, y: 0, flipRows: false, swap: false, alphaX: 1, alphaY: 1 };
    expectCode(() => aug.transform(x, [{ ...identity(), field }]), 'CORE_BAD_ARGUMENT'); // no elastic bank
    const elastic = await Augmenter.create({ elastic: true });
    expectCode(() => elastic.transform(x, [{ ...identity(), field: { ...field, x: T } }]), 'CORE_BAD_ARGUMENT');
    expect(elastic.transform(x, [{ ...identity(), field }])).toHaveLength(P);
    expect(aug.apply(x, 0, 1)).toHaveLength(0);
    aug.dispose();
    expectCode(() => aug.apply(x, 1, 1), 'CORE_DISPOSED');
    expect(aug.options).toEqual({ shift: 2, rotate: 15, scale: 0.15, elastic: false });
    expect(elastic.options.elastic).toEqual({ alpha: 34, sigma: 4 });
  });
});
