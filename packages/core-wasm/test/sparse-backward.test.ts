// The first layer's weight gradient with the input's zeros skipped (assembly/dense.ts, issue 16), and its fusion with
// the SGD step: the same bits as the dense kernel (dout finite) and as the unfused chain (zeroed dW, the sparse
// gradient, sgd_step_f32, dense_pack_panels_f32), for every tail of C mod 8 and OC mod 4 / 8, row ranges on 8-row
// boundaries (what threads get), densities 0-100% with all-zero and dense rows, -0, NaN and Inf inputs, every SGD
// flag; plain SIMD equal to the scalar references; the block lists against a JS construction.
import { describe, expect, it } from 'vitest';
import { instantiateKernels } from '../src/kernels.js';
import { OPT_FLAG_FIRST, OPT_FLAG_MOMENTUM, OPT_FLAG_NESTEROV } from '../src/layout.js';
import { expectSameBits, Heap, randomF32, rng, variants } from './helpers.js';

// [B, C, OC]: C mod 8 = 0..7, OC mod 4 and mod 8 tails, batch 1, the real layer, and zero sizes
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 7, 5],
  [5, 8, 8],
  [6, 9, 12],
  [7, 13, 13],
  [9, 17, 20],
  [13, 20, 14],
  [4, 31, 29],
  [11, 33, 40],
  [17, 130, 37],
  [64, 784, 64],
  [2, 10, 3],
  [0, 9, 12],
  [3, 0, 8],
  [3, 9, 0],
];

/** Rows at a density with an all-zero row 1 and a fully nonzero row 2; zeros are +0 or -0. */
function sparseRows(B: number, C: number, density: number, rand: (lo?: number, hi?: number) => number): Float32Array {
  const x = new Float32Array(B * C);
  for (let i = 0; i < B * C; i++) {
    const row = Math.floor(i / C);
    const keep = row === 1 ? false : row === 2 ? true : rand() < density;
    x[i] = keep ? rand(-1, 1) : rand() < 0.5 ? 0 : -0;
  }
  return x;
}

/** Row ranges [o0, o1) that split OC on multiples of 8, as the threads do. */
function splits(OC: number): [number, number][][] {
  const cut = Math.min(OC, 8 * Math.ceil(OC / 16));
  return [
    [[0, OC]],
    [
      [0, cut],
      [cut, OC],
    ],
  ];
}

for (const variant of variants()) {
  describe(`sparse weight gradient (${variant})`, async () => {
    const { exports: k } = await instantiateKernels(variant);
    const heap = new Heap(k);
    const exact = variant === 'simd';

    it('dense_backward_weight_sparse_f32: the dense kernel’s bits, accumulating, for any split of the rows', () => {
      const rand = rng(11);
      for (const [B, C, OC] of SHAPES) {
        for (const density of [0, 0.05, 0.3, 1]) {
          const x = sparseRows(B, C, density, rand),
            dy = randomF32(B * OC, rand);
          const dw0 = randomF32(OC * C, rand),
            db0 = randomF32(OC, rand);
          const px = heap.put(x),
            pdy = heap.put(dy);
          const list = k.alloc(k.dense_block_list_bytes(B, C));
          const pdwDense = heap.put(dw0),
            pdbDense = heap.put(db0);
          k.dense_backward_weight_f32(pdwDense, pdbDense, pdy, px, B, C, OC, 0, OC);
          const dense = heap.get(pdwDense, OC * C),
            denseB = heap.get(pdbDense, OC);
          for (const ranges of splits(OC)) {
            const pdw = heap.put(dw0),
              pdb = heap.put(db0);
            for (const [o0, o1] of ranges)
              k.dense_backward_weight_sparse_f32(pdw, pdb, pdy, px, list, B, C, OC, o0, o1);
            const what = `${B}x${C}->${OC} density ${density} rows ${JSON.stringify(ranges)}`;
            expectSameBits(heap.get(pdw, OC * C), dense, `${what}: dW`);
            expectSameBits(heap.get(pdb, OC), denseB, `${what}: db`);
          }
          // the scalar references: skipping zeros changes no rounding, and plain SIMD does their operations
          const pdwScalar = heap.put(dw0),
            pdbScalar = heap.put(db0),
            pdwDenseScalar = heap.put(dw0);
          k.dense_backward_weight_sparse_f32_scalar(pdwScalar, pdbScalar, pdy, px, B, C, OC);
          k.dense_backward_f32_scalar(0, pdwDenseScalar, 0, pdy, px, 0, B, C, OC);
          const scalar = heap.get(pdwScalar, OC * C);
          expectSameBits(scalar, heap.get(pdwDenseScalar, OC * C), `scalar ${B}x${C}->${OC} density ${density}`);
          if (exact) expectSameBits(dense, scalar, `plain SIMD vs scalar ${B}x${C}->${OC} density ${density}`);
        }
      }
    });

    it('a NaN or Inf input is kept (NaN gradients as in the dense sum); all_finite_rows_f32 finds NaN/Inf in dout', () => {
      const rand = rng(12);
      const [B, C, OC] = [6, 21, 13];
      const x = sparseRows(B, C, 0.2, rand);
      x[3 * C + 4] = NaN;
      x[4 * C + 17] = Infinity;
      const dy = randomF32(B * OC, rand);
      dy[4 * OC + 2] = 0; // 0 * Inf = NaN in the dense sum: kept here too
      const px = heap.put(x),
        pdy = heap.put(dy);
      const dense = heap.put(new Float32Array(OC * C)),
        sparse = heap.put(new Float32Array(OC * C));
      k.dense_backward_weight_f32(dense, 0, pdy, px, B, C, OC, 0, OC);
      k.dense_backward_weight_sparse_f32(sparse, 0, pdy, px, k.alloc(k.dense_block_list_bytes(B, C)), B, C, OC, 0, OC);
      const got = heap.get(sparse, OC * C);
      expectSameBits(got, heap.get(dense, OC * C), 'NaN/Inf inputs');
      expect(Number.isNaN(got[2 * C + 17])).toBe(true);
      expect(Number.isNaN(got[5 * C + 4])).toBe(true);
      // dout: each row range, with its stride
      const a = randomF32(7 * 10, rand);
      expect(k.all_finite_rows_f32(heap.put(a), 7, 10, 10)).toBe(1);
      expect(k.all_finite_rows_f32(heap.put(a), 0, 10, 10)).toBe(1);
      for (const bad of [NaN, Infinity, -Infinity]) {
        const b = a.slice();
        b[6 * 10 + 9] = bad;
        expect(k.all_finite_rows_f32(heap.put(b), 7, 10, 10), `${bad} in the last row`).toBe(0);
        // columns 3..8 of 7 rows (stride 10): the bad value at column 9 is outside, one at column 3 inside
        expect(k.all_finite_rows_f32(heap.put(b) + 12, 7, 6, 10)).toBe(1);
        b[2 * 10 + 3] = bad;
        expect(k.all_finite_rows_f32(heap.put(b) + 12, 7, 6, 10)).toBe(0);
      }
    });

    it('dense_block_list_f32 lists, per block of 8 columns, the rows with a nonzero (NaN and Inf kept, -0 not)', () => {
      const rand = rng(13);
      for (const [B, C] of [
        [1, 1],
        [3, 7],
        [4, 8],
        [5, 9],
        [6, 20],
        [9, 33],
        [2, 0],
        [0, 5],
      ]) {
        const OC = 3;
        const x = sparseRows(B, C, 0.15, rand);
        if (B * C > 3) {
          x[0] = NaN;
          x[B * C - 1] = -Infinity;
          x[1] = -0;
        }
        const list = k.alloc(k.dense_block_list_bytes(B, C));
        const n = k.dense_block_list_f32(list, heap.put(x), B, C, OC);
        const nb = Math.ceil(C / 8);
        const i32 = new Int32Array(k.memory.buffer, list, nb + 1);
        const xs = list + Math.ceil(((nb + 1) * 4) / 16) * 16;
        const offs = new Int32Array(k.memory.buffer, xs + nb * B * 32, n);
        const vals = new Float32Array(k.memory.buffer, xs, n * 8);
        let e = 0;
        for (let j = 0; j < nb; j++) {
          expect(i32[j], `start of block ${j}`).toBe(e);
          for (let b = 0; b < B; b++) {
            const v = Array.from({ length: 8 }, (_, c) => (8 * j + c < C ? x[b * C + 8 * j + c] : 0));
            if (!v.some((u) => u !== 0)) continue; // NaN !== 0: kept
            expect(offs[e]).toBe(b * OC * 4);
            expectSameBits(
              vals.subarray(8 * e, 8 * e + 8),
              v.map((u) => (Object.is(u, -0) ? -0 : u)),
              `C ${C} block ${j} row ${b}`,
            );
            e++;
          }
        }
        expect(n).toBe(e);
        expect(i32[nb]).toBe(e);
      }
    });

    it('dense_backward_weight_sparse_sgd_f32: the unfused chain’s W, momentum and panels, every SGD flag', () => {
      const rand = rng(14);
      const flagSets = [
        0,
        OPT_FLAG_MOMENTUM | OPT_FLAG_FIRST,
        OPT_FLAG_MOMENTUM,
        OPT_FLAG_MOMENTUM | OPT_FLAG_NESTEROV,
      ];
      for (const [B, C, OC] of SHAPES) {
        for (const flags of flagSets) {
          for (const [wd, damp] of [
            [0, 0],
            [0.01, flags & OPT_FLAG_NESTEROV ? 0 : 0.1],
          ]) {
            const x = sparseRows(B, C, 0.2, rand),
              dy = randomF32(B * OC, rand);
            const w = randomF32(OC * C, rand),
              bias = randomF32(OC, rand),
              v = randomF32(OC * C, rand);
            const [lr, mu] = [0.05, 0.9];
            const px = heap.put(x),
              pdy = heap.put(dy),
              pb = heap.put(bias);
            const list = k.alloc(k.dense_block_list_bytes(B, C));
            const size = k.dense_packed_size(C, OC);
            for (const ranges of splits(OC)) {
              const what = `${B}x${C}->${OC} flags ${flags} wd ${wd} rows ${JSON.stringify(ranges)}`;
              // the chain (SIMD, and the scalar references for the plain binary)
              const chains = [false, true].map((scalar) => {
                const pw = heap.put(w),
                  pv = heap.put(v),
                  pdw = heap.put(new Float32Array(OC * C)),
                  ppk = k.alloc(size * 4);
                k.dense_pack_f32(ppk, pw, pb, OC, C);
                if (scalar) k.dense_backward_weight_sparse_f32_scalar(pdw, 0, pdy, px, B, C, OC); // all rows at once
                for (const [o0, o1] of ranges) {
                  if (!scalar) k.dense_backward_weight_sparse_f32(pdw, 0, pdy, px, list, B, C, OC, o0, o1);
                  const n = (o1 - o0) * C;
                  const at = o0 * C * 4;
                  (scalar ? k.sgd_step_f32_scalar : k.sgd_step_f32)(
                    pw + at,
                    pdw + at,
                    pv + at,
                    n,
                    lr,
                    mu,
                    damp,
                    wd,
                    flags,
                  );
                  k.dense_pack_panels_f32(ppk, pw, pb, OC, C, o0 >> 3, (o1 + 7) >> 3);
                }
                return { w: heap.get(pw, OC * C), v: heap.get(pv, OC * C), packed: heap.get(ppk, size) };
              });
              const pw = heap.put(w),
                pv = heap.put(v),
                ppk = k.alloc(size * 4);
              k.dense_pack_f32(ppk, pw, pb, OC, C);
              for (const [o0, o1] of ranges) {
                const finite = k.dense_backward_weight_sparse_sgd_f32(
                  pw,
                  ppk,
                  pv,
                  pdy,
                  px,
                  list,
                  B,
                  C,
                  OC,
                  o0,
                  o1,
                  lr,
                  mu,
                  damp,
                  wd,
                  flags,
                );
                expect(finite, what).toBe(1);
              }
              const against: [(typeof chains)[0], string][] = [[chains[0], 'SIMD']];
              if (exact) against.push([chains[1], 'scalar']);
              for (const [chain, kind] of against) {
                expectSameBits(heap.get(pw, OC * C), chain.w, `${what}: W vs the ${kind} chain`);
                if (flags & OPT_FLAG_MOMENTUM) {
                  expectSameBits(heap.get(pv, OC * C), chain.v, `${what}: momentum vs the ${kind} chain`);
                }
                expectSameBits(heap.get(ppk, size), chain.packed, `${what}: packed vs the ${kind} chain`);
              }
            }
          }
        }
      }
    });

    it('the fused step reports a NaN or Inf among the new weights (the forward then keeps the dense path)', () => {
      const rand = rng(15);
      const [B, C, OC] = [5, 19, 11];
      const x = sparseRows(B, C, 0.5, rand);
      const w = randomF32(OC * C, rand);
      const run = (xs: Float32Array, dy: Float32Array, lr: number) => {
        const pw = heap.put(w),
          ppk = k.alloc(k.dense_packed_size(C, OC) * 4);
        k.dense_pack_f32(ppk, pw, 0, OC, C);
        const list = k.alloc(k.dense_block_list_bytes(B, C));
        return k.dense_backward_weight_sparse_sgd_f32(
          pw,
          ppk,
          0,
          heap.put(dy),
          heap.put(xs),
          list,
          B,
          C,
          OC,
          0,
          OC,
          lr,
          0,
          0,
          0,
          0,
        );
      };
      expect(run(x, randomF32(B * OC, rand), 0.1)).toBe(1);
      // one weight overflows: in a 4 x 8 tile, in the rows past OC & ~3 (8..10), in the last, partial block of
      // columns (16..18), and both
      for (const [o, c] of [
        [0, 0],
        [9, 3],
        [2, 17],
        [10, 18],
      ]) {
        const xs = x.slice(),
          dy = new Float32Array(B * OC);
        for (let b = 0; b < B; b++) {
          xs[b * C + c] = 1e30;
          dy[b * OC + o] = 1;
        }
        expect(run(xs, dy, 1e30), `W[${o}, ${c}] overflows`).toBe(0);
      }
      const nan = x.slice();
      nan[2 * C + 5] = NaN;
      expect(run(nan, randomF32(B * OC, rand), 0.1)).toBe(0);
    });

    it('dense_pack_bias_f32 writes only the bias rows of its panels (zero past OC)', () => {
      const rand = rng(16);
      const [C, OC] = [5, 13];
      const w = randomF32(OC * C, rand),
        bias = randomF32(OC, rand);
      const pw = heap.put(w),
        pb = heap.put(bias);
      const size = k.dense_packed_size(C, OC);
      const want = k.alloc(size * 4);
      k.dense_pack_f32(want, pw, pb, OC, C);
      const got = k.alloc(size * 4);
      k.dense_pack_f32(got, pw, 0, OC, C);
      k.dense_pack_bias_f32(got, pb, OC, C, 0, 2);
      expectSameBits(heap.get(got, size), heap.get(want, size), 'bias rows');
    });
  });
}
