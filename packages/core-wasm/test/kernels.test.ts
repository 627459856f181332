// Every SIMD kernel against its scalar reference and the float64 reference, on both binaries, over shapes with
// odd tails, batch 1 and zero sizes. Plain SIMD does the same operations in the same order as the scalar kernels,
// so it must match them bit for bit; relaxed SIMD fuses multiply-adds, so it gets a tolerance.
import { describe, expect, it } from 'vitest';
import { instantiateKernels } from '../src/kernels.js';
import { Heap, maxdiff, randomF32, rng, variants } from './helpers.js';
import * as ref from './reference.js';

// [B, C, OC]: 1s, tails of every width mod 4 and mod 8, the real layer sizes, and zeros
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 784, 10],
  [2, 3, 5],
  [3, 5, 7],
  [4, 8, 8],
  [5, 13, 9],
  [6, 9, 13],
  [7, 33, 17],
  [13, 20, 14],
  [9, 17, 131],
  [17, 130, 129],
  [64, 784, 10],
  [33, 784, 512],
  [1, 33, 29],
  [5, 13, 30],
  [2, 7, 32],
  [0, 5, 7],
  [3, 0, 7],
  [3, 5, 0],
  // and 24 seeded random shapes
  ...(() => {
    const r = rng(99);
    return Array.from(
      { length: 24 },
      () => [1 + Math.floor(r() * 19), 1 + Math.floor(r() * 70), 1 + Math.floor(r() * 45)] as [number, number, number],
    );
  })(),
];

/** |got - want| <= rel * sum_c |x_c w_c| + 1e-7: the error bound of an f32 dot product, generously. */
function expectDense(got: Float32Array, want: Float64Array, scale: Float64Array, rel: number) {
  for (let i = 0; i < want.length; i++) {
    const tol = rel * scale[i] + 1e-7;
    if (!(Math.abs(got[i] - want[i]) <= tol)) {
      throw new Error(`element ${i}: got ${got[i]}, want ${want[i]} (tol ${tol})`);
    }
  }
}

function absScale(a: Float32Array, b: Float32Array, bias: Float32Array | null, B: number, C: number, OC: number) {
  return ref.denseForward(a.map(Math.abs), b.map(Math.abs), bias ? bias.map(Math.abs) : null, B, C, OC);
}

for (const variant of variants()) {
  describe(`kernels (${variant})`, async () => {
    const { exports: k } = await instantiateKernels(variant);
    const heap = new Heap(k);
    const exact = variant === 'simd';

    it('dense_forward_f32 (packed) matches the scalar kernel and float64', () => {
      const rand = rng(1);
      for (const [B, C, OC] of SHAPES) {
        const x = randomF32(B * C, rand),
          w = randomF32(OC * C, rand),
          bias = randomF32(OC, rand);
        for (const withBias of [true, false]) {
          const px = heap.put(x),
            pw = heap.put(w),
            pb = withBias ? heap.put(bias) : 0;
          const size = k.dense_packed_size(C, OC);
          expect(size).toBe(Math.ceil(OC / 8) * 8 * (C + 1));
          const ppk = heap.put(new Float32Array(size).fill(NaN));
          k.dense_pack_f32(ppk, pw, pb, OC, C);
          // panel p: 8 biases, then for each c the 8 weights W[8p..8p+7, c], zeros past OC
          const pk = heap.get(ppk, size);
          let packedOk = true;
          for (let o = 0; o < Math.ceil(OC / 8) * 8; o++) {
            const p = o >> 3,
              j = o & 7,
              base = p * 8 * (C + 1);
            if (pk[base + j] !== (o < OC && withBias ? bias[o] : 0)) packedOk = false;
            for (let c = 0; c < C; c++) if (pk[base + 8 + c * 8 + j] !== (o < OC ? w[o * C + c] : 0)) packedOk = false;
          }
          expect(packedOk).toBe(true);
          const sentinel = new Float32Array(B * OC).fill(123);
          const pyScalar = heap.put(sentinel),
            pySimd = heap.put(sentinel);
          k.dense_forward_f32_scalar(pyScalar, px, pw, pb, B, C, OC);
          k.dense_forward_f32(pySimd, px, ppk, B, C, OC);
          const yScalar = heap.get(pyScalar, B * OC),
            ySimd = heap.get(pySimd, B * OC);
          const want = ref.denseForward(x, w, withBias ? bias : null, B, C, OC);
          const scale = absScale(x, w, withBias ? bias : null, B, C, OC);
          expectDense(yScalar, want, scale, 2 * C * 6e-8);
          expectDense(ySimd, want, scale, 2 * C * 6e-8);
          if (exact) expect(Array.from(ySimd)).toEqual(Array.from(yScalar));
          if (C === 0) {
            // an empty dot product: every row is the bias (or 0), never the sentinel left in the buffer
            const row = Array.from(withBias ? bias : new Float32Array(OC));
            expect(Array.from(ySimd)).toEqual(Array.from({ length: B }, () => row).flat());
          }
        }
      }
    });

    it('dense_backward_f32 matches the scalar kernel and float64, and accumulates into dweight/dbias', () => {
      const rand = rng(2);
      for (const [B, C, OC] of SHAPES) {
        const x = randomF32(B * C, rand),
          w = randomF32(OC * C, rand),
          dy = randomF32(B * OC, rand);
        const dw0 = randomF32(OC * C, rand),
          db0 = randomF32(OC, rand);
        const px = heap.put(x),
          pw = heap.put(w),
          pdy = heap.put(dy);
        const results = (['scalar', 'simd'] as const).map((kind) => {
          const pdx = heap.put(new Float32Array(B * C).fill(7)),
            pdw = heap.put(dw0),
            pdb = heap.put(db0);
          (kind === 'scalar' ? k.dense_backward_f32_scalar : k.dense_backward_f32)(
            pdx,
            pdw,
            pdb,
            pdy,
            px,
            pw,
            B,
            C,
            OC,
          );
          return { dx: heap.get(pdx, B * C), dw: heap.get(pdw, OC * C), db: heap.get(pdb, OC) };
        });
        const want = ref.denseBackward(dy, x, w, B, C, OC);
        const dxScale = ref.denseForward(dy.map(Math.abs), transpose(w, OC, C).map(Math.abs), null, B, OC, C);
        const dwScale = ref.denseForward(
          transpose(dy, B, OC).map(Math.abs),
          transpose(x, B, C).map(Math.abs),
          dw0.map(Math.abs),
          OC,
          B,
          C,
        );
        for (const r of results) {
          expectDense(r.dx, want.dinp, dxScale, 2 * OC * 6e-8);
          expectDense(
            r.dw,
            want.dweight.map((v, i) => v + dw0[i]),
            dwScale,
            2 * (B + 1) * 6e-8,
          );
          for (let o = 0; o < OC; o++) expect(r.db[o]).toBeCloseTo(db0[o] + want.dbias[o], 5);
        }
        if (exact) {
          expect(Array.from(results[1].dx)).toEqual(Array.from(results[0].dx));
          expect(Array.from(results[1].dw)).toEqual(Array.from(results[0].dw));
        }
        expect(Array.from(results[1].db)).toEqual(Array.from(results[0].db));
      }
    });

    it('dense_backward_f32 with dinp = 0 skips the input gradient (first layer)', () => {
      const rand = rng(3);
      const [B, C, OC] = [5, 11, 6];
      const x = randomF32(B * C, rand),
        w = randomF32(OC * C, rand),
        dy = randomF32(B * OC, rand);
      const pdw = heap.put(new Float32Array(OC * C)),
        pdb = heap.put(new Float32Array(OC));
      k.dense_backward_f32(0, pdw, pdb, heap.put(dy), heap.put(x), heap.put(w), B, C, OC);
      const want = ref.denseBackward(dy, x, w, B, C, OC);
      expect(maxdiff(heap.get(pdw, OC * C), want.dweight)).toBeLessThan(1e-5);
    });

    it('relu forward/backward match the scalar kernels and the definition, NaN propagates', () => {
      const rand = rng(4);
      for (const n of [0, 1, 3, 4, 5, 17, 1000]) {
        const x = randomF32(n, rand);
        if (n > 2) {
          x[1] = NaN;
          x[2] = 0;
        }
        const dy = randomF32(n, rand);
        const px = heap.put(x),
          pdy = heap.put(dy);
        const pa = heap.put(new Float32Array(n)),
          pb = heap.put(new Float32Array(n));
        k.relu_forward_f32_scalar(pa, px, n);
        k.relu_forward_f32(pb, px, n);
        const a = heap.get(pa, n),
          b = heap.get(pb, n);
        expect(Array.from(b)).toEqual(Array.from(a));
        for (let i = 0; i < n; i++) {
          if (Number.isNaN(x[i])) expect(b[i]).toBeNaN();
          else expect(b[i]).toBe(Math.max(x[i], 0));
        }
        const pga = heap.put(new Float32Array(n)),
          pgb = heap.put(new Float32Array(n));
        k.relu_backward_f32_scalar(pga, pdy, pb, n);
        k.relu_backward_f32(pgb, pdy, pb, n);
        const ga = heap.get(pga, n),
          gb = heap.get(pgb, n);
        expect(Array.from(gb)).toEqual(Array.from(ga));
        for (let i = 0; i < n; i++) expect(gb[i]).toBe(b[i] > 0 ? dy[i] : 0);
        // in place
        k.relu_forward_f32(px, px, n);
        expect(Array.from(heap.get(px, n))).toEqual(Array.from(b));
      }
    });

    it('softmax and cross-entropy match float64 on ordinary logits, including V = 1 and odd widths', () => {
      const rand = rng(6);
      for (const [B, V] of [
        [1, 1],
        [1, 10],
        [3, 7],
        [13, 10],
        [64, 10],
      ]) {
        const logits = randomF32(B * V, rand, -5, 5);
        const targets = Uint8Array.from({ length: B }, () => Math.floor(rand() * V));
        const pl = heap.put(logits),
          pt = heap.putBytes(targets);
        const pp = heap.put(new Float32Array(B * V)),
          plosses = heap.put(new Float32Array(B)),
          pd = heap.put(new Float32Array(B * V));
        const mean = k.softmax_xent_forward_f32(plosses, pp, pl, pt, B, V);
        const wantP = ref.softmax(logits, B, V);
        expect(maxdiff(heap.get(pp, B * V), wantP)).toBeLessThan(1e-6);
        expect(mean).toBeCloseTo(ref.crossEntropy(logits, targets, B, V), 5);
        const losses = heap.get(plosses, B);
        for (let b = 0; b < B; b++)
          expect(losses[b]).toBeCloseTo(
            ref.crossEntropy(logits.subarray(b * V, (b + 1) * V), targets.subarray(b, b + 1), 1, V),
            5,
          );
        k.softmax_xent_backward_f32(pd, pp, pt, B, V);
        const d = heap.get(pd, B * V);
        for (let b = 0; b < B; b++)
          for (let v = 0; v < V; v++) {
            expect(d[b * V + v]).toBeCloseTo((wantP[b * V + v] - (v === targets[b] ? 1 : 0)) / B, 6);
          }
      }
    });

    it('softmax/cross-entropy stay finite for logits of +-1e4 (overflow and underflow)', () => {
      const B = 3,
        V = 4;
      const logits = Float32Array.from([1e4, -1e4, 0, 1e4, /**/ -1e4, -1e4, -1e4, -1e4, /**/ 1e4, -1e4, 5, 3]);
      const targets = Uint8Array.from([1, 2, 0]);
      const pl = heap.put(logits),
        pt = heap.putBytes(targets);
      const pp = heap.put(new Float32Array(B * V)),
        plosses = heap.put(new Float32Array(B)),
        pd = heap.put(new Float32Array(B * V));
      const mean = k.softmax_xent_forward_f32(plosses, pp, pl, pt, B, V);
      const p = heap.get(pp, B * V),
        losses = heap.get(plosses, B);
      // row 0: two logits tie at 1e4, the target sits at -1e4: loss = 2e4 + log 2
      expect(Array.from(p.subarray(0, 4))).toEqual([0.5, 0, 0, 0.5]);
      expect(losses[0]).toBeCloseTo(2e4 + Math.log(2), 1);
      // row 1: all equal at -1e4 (exp would underflow without the max shift): uniform, loss log 4
      expect(Array.from(p.subarray(4, 8)).map((v) => +v.toFixed(6))).toEqual([0.25, 0.25, 0.25, 0.25]);
      expect(losses[1]).toBeCloseTo(Math.log(4), 6);
      // row 2: the target holds the max: loss ~ 0, probability 1
      expect(losses[2]).toBeCloseTo(0, 6);
      expect(p[8]).toBe(1);
      expect(Number.isFinite(mean)).toBe(true);
      k.softmax_xent_backward_f32(pd, pp, pt, B, V);
      const d = heap.get(pd, B * V);
      expect(d.every(Number.isFinite)).toBe(true);
      expect(d[1]).toBeCloseTo(-1 / 3, 6);
    });

    it('a NaN logit makes its row NaN and the mean loss NaN (NaN in, NaN out)', () => {
      const B = 2,
        V = 3;
      const logits = Float32Array.from([1, NaN, 2, 0.5, 0.25, 0]);
      const targets = Uint8Array.from([0, 1]);
      const pl = heap.put(logits),
        pt = heap.putBytes(targets);
      const pp = heap.put(new Float32Array(B * V)),
        plosses = heap.put(new Float32Array(B));
      const mean = k.softmax_xent_forward_f32(plosses, pp, pl, pt, B, V);
      expect(mean).toBeNaN();
      const p = heap.get(pp, B * V),
        losses = heap.get(plosses, B);
      expect(Array.from(p.subarray(0, 3)).every(Number.isNaN)).toBe(true);
      expect(losses[0]).toBeNaN();
      expect(Array.from(p.subarray(3)).every(Number.isFinite)).toBe(true);
      expect(losses[1]).toBeCloseTo(ref.crossEntropy([0.5, 0.25, 0], [1], 1, 3), 6);
    });

    it("dense_forward_sparse_f32 skips zero inputs with the dense kernel's bits, at every density and crossover", () => {
      const rand = rng(5);
      // [B, C, OC] with tails of C mod 4 and OC mod 8 (and mod 24: the 3-panel tile), batch 1, zeros, the real layer
      const shapes: [number, number, number][] = [
        [1, 1, 1],
        [1, 784, 512],
        [3, 5, 7],
        [9, 13, 33],
        [6, 30, 31],
        [5, 33, 40],
        [7, 20, 64],
        [17, 130, 129],
        [40, 784, 512],
        [2, 3, 100],
        // more rows than one sweep of the panels takes (64): the second group starts mid-batch
        [70, 37, 29],
        [131, 20, 50],
        [0, 5, 7],
        [3, 0, 7],
        [3, 5, 0],
      ];
      for (const [B, C, OC] of shapes) {
        for (const density of [0, 0.05, 0.2, 0.5, 1]) {
          // rows of every kind: at the given density, all zero (row 1), fully dense (row 2)
          const x = new Float32Array(B * C);
          for (let i = 0; i < B * C; i++) {
            const row = Math.floor(i / C);
            const keep = row === 1 ? false : row === 2 ? true : rand() < density;
            x[i] = keep ? rand(-1, 1) : 0;
          }
          const w = randomF32(OC * C, rand),
            bias = randomF32(OC, rand);
          const px = heap.put(x),
            pw = heap.put(w),
            pb = heap.put(bias);
          const ppk = heap.put(new Float32Array(k.dense_packed_size(C, OC)));
          k.dense_pack_f32(ppk, pw, pb, OC, C);
          const list = k.alloc(k.dense_sparse_list_bytes(C));
          const sentinel = new Float32Array(B * OC).fill(123);
          const pDense = heap.put(sentinel),
            pScalar = heap.put(sentinel),
            pDenseScalar = heap.put(sentinel);
          k.dense_forward_f32(pDense, px, ppk, B, C, OC);
          k.dense_forward_sparse_f32_scalar(pScalar, px, pw, pb, B, C, OC);
          k.dense_forward_f32_scalar(pDenseScalar, px, pw, pb, B, C, OC);
          const dense = heap.get(pDense, B * OC),
            scalar = heap.get(pScalar, B * OC);
          const want = ref.denseForward(x, w, bias, B, C, OC);
          expectDense(scalar, want, absScale(x, w, bias, B, C, OC), 2 * C * 6e-8);
          // dropping exact zeros changes no rounding: the scalar reference equals the dense scalar kernel
          expectSame(scalar, heap.get(pDenseScalar, B * OC), `scalar ${B}x${C}->${OC} density ${density}`);
          // every crossover (-1: all rows dense, 0: only all-zero rows sparse, C: all rows sparse) gives the same bits
          for (const maxNonzero of [-1, 0, Math.floor(C / 3), C]) {
            const pSparse = heap.put(sentinel);
            k.dense_forward_sparse_f32(pSparse, px, ppk, list, B, C, OC, maxNonzero);
            const sparse = heap.get(pSparse, B * OC);
            expectSame(sparse, dense, `${B}x${C}->${OC} density ${density} maxNonzero ${maxNonzero}`);
            if (exact) expectSame(sparse, scalar, `plain SIMD vs scalar, ${B}x${C}->${OC} density ${density}`);
          }
        }
      }
    });

    it('dense_nonzero_list_f32 lists (32 c, x[c]) for every nonzero, NaN and Inf included, -0 not', () => {
      for (const C of [0, 1, 3, 4, 7, 8, 13, 784]) {
        const rand = rng(C + 1);
        const x = Float32Array.from({ length: C }, () => (rand() < 0.3 ? rand(-2, 2) : 0));
        if (C > 3) {
          x[1] = NaN;
          x[2] = -0;
          x[3] = -Infinity;
        }
        if (C > 0) x[C - 1] = Infinity;
        const px = heap.put(x),
          list = heap.put(new Float32Array(2 * Math.max(C, 1)));
        const n = k.dense_nonzero_list_f32(list, px, C);
        const want = [...x.keys()].filter((c) => !(x[c] === 0));
        expect(n).toBe(want.length);
        const offsets = new Int32Array(k.memory.buffer, list, 2 * n),
          values = new Float32Array(k.memory.buffer, list, 2 * n);
        for (let i = 0; i < n; i++) {
          expect(offsets[2 * i]).toBe(32 * want[i]);
          expect(Object.is(values[2 * i + 1], x[want[i]])).toBe(true);
        }
      }
    });

    it('a NaN input gives NaN outputs on the sparse path; all_finite_f32 finds a NaN or Inf anywhere', () => {
      const B = 3,
        C = 37,
        OC = 19,
        rand = rng(8);
      const x = Float32Array.from({ length: B * C }, () => (rand() < 0.2 ? rand() : 0));
      x[C + 5] = NaN; // row 1
      const w = randomF32(OC * C, rand),
        bias = randomF32(OC, rand);
      const px = heap.put(x),
        pw = heap.put(w),
        pb = heap.put(bias);
      const ppk = heap.put(new Float32Array(k.dense_packed_size(C, OC)));
      k.dense_pack_f32(ppk, pw, pb, OC, C);
      const py = heap.put(new Float32Array(B * OC)),
        list = k.alloc(k.dense_sparse_list_bytes(C));
      k.dense_forward_sparse_f32(py, px, ppk, list, B, C, OC, C);
      const y = heap.get(py, B * OC);
      expect(y.subarray(OC, 2 * OC).every(Number.isNaN)).toBe(true);
      expect([...y.subarray(0, OC), ...y.subarray(2 * OC)].every(Number.isFinite)).toBe(true);
      for (const n of [0, 1, 5, 8, 4099]) {
        const a = randomF32(n, rand, -1e30, 1e30);
        expect(k.all_finite_f32(heap.put(a), n)).toBe(1);
        for (const bad of [NaN, Infinity, -Infinity]) {
          for (const at of n > 0 ? [0, n - 1, n >> 1] : []) {
            const b = a.slice();
            b[at] = bad;
            expect(k.all_finite_f32(heap.put(b), n), `${bad} at ${at} of ${n}`).toBe(0);
          }
        }
      }
    });

    it('zero-size batches are no-ops and return a zero mean', () => {
      const p = heap.put(Float32Array.from([42]));
      expect(k.softmax_xent_forward_f32(0, p, p, p, 0, 10)).toBe(0);
      k.softmax_xent_backward_f32(p, p, p, 0, 10);
      k.relu_forward_f32(p, p, 0);
      k.sgd_step_f32(p, p, p, 0, 1, 0, 0, 0, 0);
      expect(heap.get(p, 1)[0]).toBe(42);
    });
  });
}

/** Same values element by element: NaN matches NaN, and 0 matches -0 (a skipped 0 * w may leave the other sign). */
function expectSame(a: Float32Array, b: Float32Array, what: string): void {
  for (let i = 0; i < a.length; i++) {
    if (!(a[i] === b[i] || (Number.isNaN(a[i]) && Number.isNaN(b[i]))))
      throw new Error(`${what}: element ${i}: ${a[i]} vs ${b[i]}`);
  }
  expect(a.length).toBe(b.length);
}

function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}

describe('simd_madd_peak_f32 (the benchmark ceiling) computes what it claims', () => {
  for (const variant of variants()) {
    it(variant, async () => {
      const { exports: k } = await instantiateKernels(variant);
      // every one of the 12 chains runs c = c * 0.999 + s from 0; the lanes of the 12 are summed
      for (const [iters, s] of [
        [0, 1],
        [1, 2],
        [3, 1],
        [50, 0.5],
      ] as const) {
        let c = 0;
        for (let i = 0; i < iters; i++) c = c * 0.999 + s;
        expect(k.simd_madd_peak_f32(iters, s)).toBeCloseTo(12 * c, 3);
      }
    });
  }
});
