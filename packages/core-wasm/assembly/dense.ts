// Dense (PyTorch nn.Linear) layer: forward Y = X W^T + b and backward dX = dY W, dW += dY^T X, db += sum_b dY.
// f32, raw pointers (byte addresses into linear memory), row-major; a scalar reference sits beside every SIMD kernel.

import { madd, load4, store4 } from './simd';
import { sgd_step1, sgd_step4 } from './optim';
import { OPT_FLAG_MOMENTUM, OPT_FLAG_FIRST, OPT_FLAG_NESTEROV } from '../src/layout';

// ----------------------------------------------------------------------------
// The SIMD engine behind the backward kernels (the forward has its own, on packed weights, below):
//   out[M,N] (= or +=) A[M,K] @ Bm[K,N]
// A is addressed through strides so the same code serves A (rs = K, ks = 1) and a transposed A
// (rs = 1, ks = M). Bm and out are row-major with row stride N. Tiles are 4 rows x 8 columns:
// 8 f32x4 accumulators stay in registers while k runs, each k step costs 2 loads of Bm and
// 4 splat loads of A for 8 multiply-adds. Columns are swept in blocks of NC so the slice of Bm
// being reused (K x NC floats) stays in L2 while the rows go by. Tails (M % 4, N % 8) take
// narrower tiles down to a single scalar column, so any M, N, K >= 0 works.

// @ts-ignore: decorator
@inline const NC: i32 = 128;

// @ts-ignore: decorator
@inline
function gemm_f32(out: usize, A: usize, rs: i32, ks: i32, Bm: usize,
                  M: i32, K: i32, N: i32, accumulate: bool, rowsAdjacent: bool): void {
  const rsb = <usize>rs << 2;
  const ksb = <usize>ks << 2;
  const nb = <usize>N << 2;
  const zero = f32x4.splat(0);
  for (let jb = 0; jb < N; jb += NC) {
    const je = min(jb + NC, N);
    let i = 0;
    // ---- full 4-row blocks
    for (; i + 4 <= M; i += 4) {
      const a0 = A + <usize>i * rsb;
      const o0 = out + <usize>i * nb;
      const o1 = o0 + nb, o2 = o1 + nb, o3 = o2 + nb;
      let j = jb;
      for (; j + 8 <= je; j += 8) {
        const jo = <usize>j << 2;
        let c00 = zero, c01 = zero, c10 = zero, c11 = zero, c20 = zero, c21 = zero, c30 = zero, c31 = zero;
        if (accumulate) {
          c00 = v128.load(o0 + jo); c01 = v128.load(o0 + jo, 16);
          c10 = v128.load(o1 + jo); c11 = v128.load(o1 + jo, 16);
          c20 = v128.load(o2 + jo); c21 = v128.load(o2 + jo, 16);
          c30 = v128.load(o3 + jo); c31 = v128.load(o3 + jo, 16);
        }
        let pa = a0;
        let pb = Bm + jo;
        for (let k = 0; k < K; k++) {
          const b0 = v128.load(pb);
          const b1 = v128.load(pb, 16);
          // rowsAdjacent (rs = 1, the transposed A of dW): the 4 rows are 4 consecutive floats, constant offsets
          let a = v128.load32_splat(pa);
          c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
          a = rowsAdjacent ? v128.load32_splat(pa, 4) : v128.load32_splat(pa + rsb);
          c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
          a = rowsAdjacent ? v128.load32_splat(pa, 8) : v128.load32_splat(pa + 2 * rsb);
          c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
          a = rowsAdjacent ? v128.load32_splat(pa, 12) : v128.load32_splat(pa + 3 * rsb);
          c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
          pa += ksb;
          pb += nb;
        }
        v128.store(o0 + jo, c00); v128.store(o0 + jo, c01, 16);
        v128.store(o1 + jo, c10); v128.store(o1 + jo, c11, 16);
        v128.store(o2 + jo, c20); v128.store(o2 + jo, c21, 16);
        v128.store(o3 + jo, c30); v128.store(o3 + jo, c31, 16);
      }
      for (; j + 4 <= je; j += 4) {
        const jo = <usize>j << 2;
        let c0 = zero, c1 = zero, c2 = zero, c3 = zero;
        if (accumulate) {
          c0 = v128.load(o0 + jo); c1 = v128.load(o1 + jo); c2 = v128.load(o2 + jo); c3 = v128.load(o3 + jo);
        }
        let pa = a0;
        let pb = Bm + jo;
        for (let k = 0; k < K; k++) {
          const b0 = v128.load(pb);
          c0 = madd(v128.load32_splat(pa), b0, c0);
          c1 = madd(rowsAdjacent ? v128.load32_splat(pa, 4) : v128.load32_splat(pa + rsb), b0, c1);
          c2 = madd(rowsAdjacent ? v128.load32_splat(pa, 8) : v128.load32_splat(pa + 2 * rsb), b0, c2);
          c3 = madd(rowsAdjacent ? v128.load32_splat(pa, 12) : v128.load32_splat(pa + 3 * rsb), b0, c3);
          pa += ksb;
          pb += nb;
        }
        v128.store(o0 + jo, c0); v128.store(o1 + jo, c1); v128.store(o2 + jo, c2); v128.store(o3 + jo, c3);
      }
      for (; j < je; j++) {
        const jo = <usize>j << 2;
        let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
        if (accumulate) {
          s0 = load<f32>(o0 + jo); s1 = load<f32>(o1 + jo); s2 = load<f32>(o2 + jo); s3 = load<f32>(o3 + jo);
        }
        let pa = a0;
        let pb = Bm + jo;
        for (let k = 0; k < K; k++) {
          const b = load<f32>(pb);
          s0 += load<f32>(pa) * b;
          s1 += load<f32>(pa + rsb) * b;
          s2 += load<f32>(pa + 2 * rsb) * b;
          s3 += load<f32>(pa + 3 * rsb) * b;
          pa += ksb;
          pb += nb;
        }
        store<f32>(o0 + jo, s0); store<f32>(o1 + jo, s1); store<f32>(o2 + jo, s2); store<f32>(o3 + jo, s3);
      }
    }
    // ---- remaining rows one at a time
    for (; i < M; i++) {
      const a0 = A + <usize>i * rsb;
      const o0 = out + <usize>i * nb;
      let j = jb;
      for (; j + 8 <= je; j += 8) {
        const jo = <usize>j << 2;
        let c0 = zero, c1 = zero;
        if (accumulate) {
          c0 = v128.load(o0 + jo); c1 = v128.load(o0 + jo, 16);
        }
        let pa = a0;
        let pb = Bm + jo;
        for (let k = 0; k < K; k++) {
          const a = v128.load32_splat(pa);
          c0 = madd(a, v128.load(pb), c0);
          c1 = madd(a, v128.load(pb, 16), c1);
          pa += ksb;
          pb += nb;
        }
        v128.store(o0 + jo, c0); v128.store(o0 + jo, c1, 16);
      }
      for (; j + 4 <= je; j += 4) {
        const jo = <usize>j << 2;
        let c0 = zero;
        if (accumulate) c0 = v128.load(o0 + jo);
        let pa = a0;
        let pb = Bm + jo;
        for (let k = 0; k < K; k++) {
          c0 = madd(v128.load32_splat(pa), v128.load(pb), c0);
          pa += ksb;
          pb += nb;
        }
        v128.store(o0 + jo, c0);
      }
      for (; j < je; j++) {
        const jo = <usize>j << 2;
        let s: f32 = 0;
        if (accumulate) s = load<f32>(o0 + jo);
        let pa = a0;
        let pb = Bm + jo;
        for (let k = 0; k < K; k++) {
          s += load<f32>(pa) * load<f32>(pb);
          pa += ksb;
          pb += nb;
        }
        store<f32>(o0 + jo, s);
      }
    }
  }
}

// ----------------------------------------------------------------------------
// packing: the forward pass reads W^T in panels of 8 output columns, bias first, so its inner loop walks one
// contiguous stream with constant offsets (the layout XNNPACK's gemm kernels use)
// packed is (ceil(OC/8), 1 + C, 8): panel p = [bias[8p..8p+7], then for c = 0..C-1: weight[8p..8p+7, c]],
// zero-padded past OC. weight is (OC,C) PyTorch layout, bias is (OC) or 0 for none.

/** Floats needed by dense_pack_f32 for a (OC,C) weight. */
export function dense_packed_size(C: i32, OC: i32): i32 {
  return ((OC + 7) >> 3) * 8 * (C + 1);
}

export function dense_pack_f32(packed: usize, weight: usize, bias: usize, OC: i32, C: i32): void {
  dense_pack_panels_f32(packed, weight, bias, OC, C, 0, (OC + 7) >> 3);
}

/** Packs panels p0..p1-1 only (output rows 8*p0 .. 8*p1-1): what one thread repacks after updating those rows. */
export function dense_pack_panels_f32(packed: usize, weight: usize, bias: usize, OC: i32, C: i32, p0: i32, p1: i32): void {
  for (let p = p0; p < p1; p++) {
    const dst = packed + ((<usize>p * 8 * (C + 1)) << 2);
    for (let j = 0; j < 8; j++) {
      const o = p * 8 + j;
      store<f32>(dst + (<usize>j << 2), o < OC && bias ? load<f32>(bias + (<usize>o << 2)) : 0);
    }
    let c = 0;
    if (p * 8 + 8 <= OC) {
      // a full panel: 8 rows x 4 columns of W become 4 packed rows of 8 through two 4x4 register transposes
      const C4 = C & ~3;
      const rowBytes = <usize>C << 2;
      const src = weight + <usize>p * 8 * rowBytes;
      for (; c < C4; c += 4) {
        const s0 = src + (<usize>c << 2);
        const d = dst + 32 + (<usize>c << 5);
        for (let half = 0; half < 2; half++) {
          const r = s0 + <usize>half * 4 * rowBytes;
          const v0 = v128.load(r), v1 = v128.load(r + rowBytes), v2 = v128.load(r + 2 * rowBytes), v3 = v128.load(r + 3 * rowBytes);
          const t0 = i32x4.shuffle(v0, v1, 0, 4, 1, 5), t1 = i32x4.shuffle(v2, v3, 0, 4, 1, 5);
          const t2 = i32x4.shuffle(v0, v1, 2, 6, 3, 7), t3 = i32x4.shuffle(v2, v3, 2, 6, 3, 7);
          const h = d + (<usize>half << 4);
          v128.store(h, i32x4.shuffle(t0, t1, 0, 1, 4, 5));
          v128.store(h, i32x4.shuffle(t0, t1, 2, 3, 6, 7), 32);
          v128.store(h, i32x4.shuffle(t2, t3, 0, 1, 4, 5), 64);
          v128.store(h, i32x4.shuffle(t2, t3, 2, 3, 6, 7), 96);
        }
      }
    }
    // the rest (a partial last panel, C % 4 columns) one float at a time, zero past OC
    for (let j = 0; j < 8; j++) {
      const o = p * 8 + j;
      let d = dst + 32 + (<usize>c << 5) + (<usize>j << 2);
      if (o < OC) {
        const src = weight + ((<usize>o * C) << 2);
        for (let cc = c; cc < C; cc++) {
          store<f32>(d, load<f32>(src + (<usize>cc << 2)));
          d += 32;
        }
      } else {
        for (let cc = c; cc < C; cc++) {
          store<f32>(d, 0);
          d += 32;
        }
      }
    }
  }
}

// ----------------------------------------------------------------------------
// dense forward
// out is (B,OC), inp is (B,C), weight is (OC,C) PyTorch layout, bias is (OC) or 0 for none,
// packed is dense_pack_f32(weight, bias) (see above)

/** Scalar reference: out[b,o] = bias[o] + sum_c inp[b,c] * weight[o,c], summed in c order, f32. */
export function dense_forward_f32_scalar(out: usize, inp: usize, weight: usize, bias: usize,
                                         B: i32, C: i32, OC: i32): void {
  for (let b = 0; b < B; b++) {
    const x = inp + ((<usize>b * C) << 2);
    for (let o = 0; o < OC; o++) {
      const w = weight + ((<usize>o * C) << 2);
      let acc: f32 = bias ? load<f32>(bias + (<usize>o << 2)) : 0;
      for (let c = 0; c < C; c++) {
        acc += load<f32>(x + (<usize>c << 2)) * load<f32>(w + (<usize>c << 2));
      }
      store<f32>(out + ((<usize>b * OC + o) << 2), acc);
    }
  }
}

// Stores the first n (1..8) lanes of a 4+4 accumulator pair: the last panel of an OC that is not a multiple of 8.
// @ts-ignore: decorator
@inline
function store_partial(o: usize, c0: v128, c1: v128, n: i32): void {
  if (n >= 4) {
    v128.store(o, c0);
    if (n > 4) store<f32>(o, f32x4.extract_lane(c1, 0), 16);
    if (n > 5) store<f32>(o, f32x4.extract_lane(c1, 1), 20);
    if (n > 6) store<f32>(o, f32x4.extract_lane(c1, 2), 24);
  } else {
    store<f32>(o, f32x4.extract_lane(c0, 0));
    if (n > 1) store<f32>(o, f32x4.extract_lane(c0, 1), 4);
    if (n > 2) store<f32>(o, f32x4.extract_lane(c0, 2), 8);
  }
}

// @ts-ignore: decorator
@inline const PANEL_BLOCK: i32 = 16; // panels (x 8 columns) swept per pass over the rows: 16 x 785 x 32 B = 400 KB

/**
 * SIMD forward on the packed weight, 4 rows x 8 columns per register tile: each step over c loads 8 packed
 * weights (2 vectors) and splats 4 inputs for 8 multiply-adds; c is unrolled by 4 so every address is a base
 * pointer plus a constant. Per output, the sum runs bias first then c in order, exactly like the scalar
 * kernel, so the plain-SIMD binary is bit-identical to it. Any B, C, OC >= 0.
 */
export function dense_forward_f32(out: usize, inp: usize, packed: usize, B: i32, C: i32, OC: i32): void {
  const panels = (OC + 7) >> 3;
  const panelBytes = (<usize>(C + 1)) << 5;
  const rowBytes = <usize>C << 2;
  const outRow = <usize>OC << 2;
  for (let pb = 0; pb < panels; pb += PANEL_BLOCK) {
    const pe = min(pb + PANEL_BLOCK, panels);
    let b = 0;
    for (; b + 4 <= B; b += 4) {
      const x0 = inp + <usize>b * rowBytes;
      const x1 = x0 + rowBytes, x2 = x1 + rowBytes, x3 = x2 + rowBytes;
      const o0 = out + <usize>b * outRow;
      for (let p = pb; p < pe; p++) {
        let w = packed + <usize>p * panelBytes;
        let c00 = v128.load(w), c01 = v128.load(w, 16);
        let c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
        w += 32;
        // one k step per iteration. Unrolled by 4, V8's TurboFan hoists all the loads of the body to its top and
        // spills accumulators to the stack (seen with node --print-wasm-code): 40 against 50 GFLOP/s with relaxed
        // madd; with separate mul + add the spilling version ran at half speed in the helper threads of every network
        // but the first in a process (probably its spill slots 4K-aliasing the streamed data), so both binaries use it
        const wEnd = w + (<usize>C << 5);
        let xo: usize = 0;
        while (w < wEnd) {
          const b0 = v128.load(w), b1 = v128.load(w, 16);
          let a = v128.load32_splat(x0 + xo); c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
          a = v128.load32_splat(x1 + xo); c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
          a = v128.load32_splat(x2 + xo); c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
          a = v128.load32_splat(x3 + xo); c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
          w += 32; xo += 4;
        }
        const o = o0 + (<usize>p << 5);
        const n = OC - p * 8;
        if (n >= 8) {
          v128.store(o, c00); v128.store(o, c01, 16);
          v128.store(o + outRow, c10); v128.store(o + outRow, c11, 16);
          v128.store(o + 2 * outRow, c20); v128.store(o + 2 * outRow, c21, 16);
          v128.store(o + 3 * outRow, c30); v128.store(o + 3 * outRow, c31, 16);
        } else {
          store_partial(o, c00, c01, n);
          store_partial(o + outRow, c10, c11, n);
          store_partial(o + 2 * outRow, c20, c21, n);
          store_partial(o + 3 * outRow, c30, c31, n);
        }
      }
    }
    // remaining rows (B % 4, and batch-1 inference) one at a time, 4 panels at once: 8 independent accumulator
    // chains keep the multiply-adds from waiting on each other's latency
    for (; b < B; b++) {
      const x0 = inp + <usize>b * rowBytes;
      const o0 = out + <usize>b * outRow;
      let p = pb;
      for (; p + 4 <= pe; p += 4) {
        let w = packed + <usize>p * panelBytes;
        let c0 = v128.load(w), c1 = v128.load(w, 16);
        let c2 = v128.load(w + panelBytes), c3 = v128.load(w + panelBytes, 16);
        let c4 = v128.load(w + 2 * panelBytes), c5 = v128.load(w + 2 * panelBytes, 16);
        let c6 = v128.load(w + 3 * panelBytes), c7 = v128.load(w + 3 * panelBytes, 16);
        w += 32;
        let w1 = w + panelBytes, w2 = w + 2 * panelBytes, w3 = w + 3 * panelBytes;
        let a0 = x0;
        for (let c = 0; c < C; c++) {
          const a = v128.load32_splat(a0);
          c0 = madd(a, v128.load(w), c0);
          c1 = madd(a, v128.load(w, 16), c1);
          c2 = madd(a, v128.load(w1), c2);
          c3 = madd(a, v128.load(w1, 16), c3);
          c4 = madd(a, v128.load(w2), c4);
          c5 = madd(a, v128.load(w2, 16), c5);
          c6 = madd(a, v128.load(w3), c6);
          c7 = madd(a, v128.load(w3, 16), c7);
          w += 32; w1 += 32; w2 += 32; w3 += 32; a0 += 4;
        }
        const o = o0 + (<usize>p << 5);
        const n = OC - p * 8; // > 24: only the 4th panel can be partial
        v128.store(o, c0); v128.store(o, c1, 16);
        v128.store(o, c2, 32); v128.store(o, c3, 48);
        v128.store(o, c4, 64); v128.store(o, c5, 80);
        if (n >= 32) {
          v128.store(o, c6, 96); v128.store(o, c7, 112);
        } else {
          store_partial(o + 96, c6, c7, n - 24);
        }
      }
      for (; p < pe; p++) {
        let w = packed + <usize>p * panelBytes;
        let c0 = v128.load(w), c1 = v128.load(w, 16);
        w += 32;
        let a0 = x0;
        for (let c = 0; c < C; c++) {
          const a = v128.load32_splat(a0);
          c0 = madd(a, v128.load(w), c0);
          c1 = madd(a, v128.load(w, 16), c1);
          w += 32; a0 += 4;
        }
        const o = o0 + (<usize>p << 5);
        const n = OC - p * 8;
        if (n >= 8) {
          v128.store(o, c0); v128.store(o, c1, 16);
        } else {
          store_partial(o, c0, c1, n);
        }
      }
    }
  }
}

// ----------------------------------------------------------------------------
// dense forward on sparse inputs (the first layer: ~81% of MNIST's pixels, and of a drawn digit's, are 0)
// out is (B,OC), inp is (B,C), packed is dense_pack_f32(weight, bias), list is scratch for one row: C pairs of
// (i32 byte offset 32*c into a panel's weights, f32 inp[b,c]), 8 bytes each, 8-byte aligned.
// Skipping inp[b,c] == 0 drops terms 0 * w that are exactly +-0 for finite w, and the kept terms are summed in the
// same order (bias, then c ascending) with the same multiply-add, so every output has the same bits as
// dense_forward_f32 (up to the sign of a zero). With a non-finite weight the dense result is NaN and this one may
// not be: callers use it only when every weight is finite. NaN and +-Inf inputs are nonzero, so they are kept.

/** Scalar reference: out[b,o] = bias[o] + sum over c with inp[b,c] != 0 of inp[b,c] * weight[o,c], in c order. */
export function dense_forward_sparse_f32_scalar(out: usize, inp: usize, weight: usize, bias: usize,
                                                B: i32, C: i32, OC: i32): void {
  for (let b = 0; b < B; b++) {
    const x = inp + ((<usize>b * C) << 2);
    for (let o = 0; o < OC; o++) {
      const w = weight + ((<usize>o * C) << 2);
      let acc: f32 = bias ? load<f32>(bias + (<usize>o << 2)) : 0;
      for (let c = 0; c < C; c++) {
        const v = load<f32>(x + (<usize>c << 2));
        if (v != 0) acc += v * load<f32>(w + (<usize>c << 2));
      }
      store<f32>(out + ((<usize>b * OC + o) << 2), acc);
    }
  }
}

/**
 * Writes the nonzero entries of one input row x (C floats) to list as (32*c, x[c]) pairs, c ascending, and returns
 * how many there are. A compare and a bitmask per 4 inputs; runs of zeros (most of an image) cost one branch each.
 */
export function dense_nonzero_list_f32(list: usize, x: usize, C: i32): i32 {
  const zero = f32x4.splat(0);
  let n: usize = 0;
  let c = 0;
  for (; c + 4 <= C; c += 4) {
    const v = v128.load(x + (<usize>c << 2));
    let m = i32x4.bitmask(f32x4.ne(v, zero)); // NaN != 0: kept
    while (m) {
      const j = ctz(m);
      const q = list + (n << 3);
      store<i32>(q, (c + j) << 5);
      store<f32>(q, load<f32>(x + (<usize>(c + j) << 2)), 4);
      n++;
      m &= m - 1;
    }
  }
  for (; c < C; c++) {
    const v = load<f32>(x + (<usize>c << 2));
    if (v != 0) {
      const q = list + (n << 3);
      store<i32>(q, c << 5);
      store<f32>(q, v, 4);
      n++;
    }
  }
  return <i32>n;
}

/**
 * One row through panels p0..panels-1 of the packed weights, its nonzero inputs given as a list of n (offset, value)
 * pairs: 1 row x 24 columns per register tile (3 panels, 6 accumulators), each list entry costs 1 splat and 6 weight
 * loads for 6 multiply-adds. With 4 panels (8 accumulators) TurboFan loads all 8 weight vectors before the
 * multiply-adds and spills an accumulator to the stack, whose store and reload then sit on its dependency chain:
 * 1.35x slower (node --print-wasm-code).
 */
function dense_forward_list_row(o0: usize, list: usize, n: i32, packed: usize, C: i32, OC: i32, p0: i32, panels: i32): void {
  const panelBytes = (<usize>(C + 1)) << 5;
  const qEnd = list + (<usize>n << 3);
  let p = p0;
  for (; p + 3 <= panels; p += 3) {
    const w0 = packed + <usize>p * panelBytes;
    const w1 = w0 + panelBytes, w2 = w1 + panelBytes;
    let c0 = v128.load(w0), c1 = v128.load(w0, 16);
    let c2 = v128.load(w1), c3 = v128.load(w1, 16);
    let c4 = v128.load(w2), c5 = v128.load(w2, 16);
    let q = list;
    while (q < qEnd) {
      const off = <usize>load<u32>(q);
      const a = v128.load32_splat(q, 4);
      c0 = madd(a, v128.load(w0 + off, 32), c0);
      c1 = madd(a, v128.load(w0 + off, 48), c1);
      c2 = madd(a, v128.load(w1 + off, 32), c2);
      c3 = madd(a, v128.load(w1 + off, 48), c3);
      c4 = madd(a, v128.load(w2 + off, 32), c4);
      c5 = madd(a, v128.load(w2 + off, 48), c5);
      q += 8;
    }
    const o = o0 + (<usize>p << 5);
    const left = OC - p * 8; // > 16: only the 3rd panel can be partial
    v128.store(o, c0); v128.store(o, c1, 16);
    v128.store(o, c2, 32); v128.store(o, c3, 48);
    if (left >= 24) {
      v128.store(o, c4, 64); v128.store(o, c5, 80);
    } else {
      store_partial(o + 64, c4, c5, left - 16);
    }
  }
  if (p + 2 <= panels) {
    const w0 = packed + <usize>p * panelBytes;
    const w1 = w0 + panelBytes;
    let c0 = v128.load(w0), c1 = v128.load(w0, 16);
    let c2 = v128.load(w1), c3 = v128.load(w1, 16);
    let q = list;
    while (q < qEnd) {
      const off = <usize>load<u32>(q);
      const a = v128.load32_splat(q, 4);
      c0 = madd(a, v128.load(w0 + off, 32), c0);
      c1 = madd(a, v128.load(w0 + off, 48), c1);
      c2 = madd(a, v128.load(w1 + off, 32), c2);
      c3 = madd(a, v128.load(w1 + off, 48), c3);
      q += 8;
    }
    const o = o0 + (<usize>p << 5);
    const left = OC - p * 8; // > 8: only the 2nd panel can be partial
    v128.store(o, c0); v128.store(o, c1, 16);
    if (left >= 16) {
      v128.store(o, c2, 32); v128.store(o, c3, 48);
    } else {
      store_partial(o + 32, c2, c3, left - 8);
    }
    p += 2;
  }
  if (p < panels) {
    const w0 = packed + <usize>p * panelBytes;
    let c0 = v128.load(w0), c1 = v128.load(w0, 16);
    let q = list;
    while (q < qEnd) {
      const off = <usize>load<u32>(q);
      const a = v128.load32_splat(q, 4);
      c0 = madd(a, v128.load(w0 + off, 32), c0);
      c1 = madd(a, v128.load(w0 + off, 48), c1);
      q += 8;
    }
    const o = o0 + (<usize>p << 5);
    const left = OC - p * 8;
    if (left >= 8) {
      v128.store(o, c0); v128.store(o, c1, 16);
    } else {
      store_partial(o, c0, c1, left);
    }
  }
}

// @ts-ignore: decorator
@inline const SPARSE_ROWS: i32 = 64; // rows whose lists are built before the panels are swept (64 x C x 8 bytes)

/** Bytes of the list scratch dense_forward_sparse_f32 needs for C inputs: SPARSE_ROWS rows of C pairs, and counts. */
export function dense_sparse_list_bytes(C: i32): i32 {
  return SPARSE_ROWS * (max(C, 1) * 8 + 4);
}

/**
 * dense_forward_f32 that skips zero inputs: a row with at most maxNonzero nonzero inputs runs through its list
 * (dense_forward_list_row), the others go to dense_forward_f32 in runs of consecutive rows (its 4-row tiles). Both
 * give the same bits per output (see above), so which rows take which path never shows in the result, only in the
 * time. maxNonzero < 0 sends every row to the dense kernel. list is dense_sparse_list_bytes(C) bytes of scratch.
 * Rows go SPARSE_ROWS at a time: their lists are built first, then each group of 3 panels (24 outputs, 75 KB of
 * weights for 784 inputs) is swept for all of them, so its weights come from L1/L2 instead of the 1.6 MB of panels
 * being walked once per row (1.37x faster at batch 64 and 256 here). Any B, C, OC >= 0.
 */
export function dense_forward_sparse_f32(out: usize, inp: usize, packed: usize, list: usize,
                                         B: i32, C: i32, OC: i32, maxNonzero: i32): void {
  const rowBytes = <usize>C << 2;
  const outRow = <usize>OC << 2;
  const listRow = <usize>max(C, 1) << 3;
  const counts = list + <usize>SPARSE_ROWS * listRow;
  const panels = (OC + 7) >> 3;
  for (let s = 0; s < B; s += SPARSE_ROWS) {
    const m = min(SPARSE_ROWS, B - s);
    let denseFrom = s; // first row of the pending run of dense rows
    for (let r = 0; r < m; r++) {
      const b = s + r;
      const n = maxNonzero < 0 ? C + 1 : dense_nonzero_list_f32(list + <usize>r * listRow, inp + <usize>b * rowBytes, C);
      store<i32>(counts + (<usize>r << 2), n);
      if (n > maxNonzero) continue;
      if (denseFrom < b) {
        dense_forward_f32(out + <usize>denseFrom * outRow, inp + <usize>denseFrom * rowBytes, packed, b - denseFrom, C, OC);
      }
      denseFrom = b + 1;
    }
    if (denseFrom < s + m) {
      dense_forward_f32(out + <usize>denseFrom * outRow, inp + <usize>denseFrom * rowBytes, packed, s + m - denseFrom, C, OC);
    }
    for (let p = 0; p < panels; p += 3) {
      const pe = min(p + 3, panels);
      for (let r = 0; r < m; r++) {
        const n = load<i32>(counts + (<usize>r << 2));
        if (n <= maxNonzero) {
          dense_forward_list_row(out + <usize>(s + r) * outRow, list + <usize>r * listRow, n, packed, C, OC, p, pe);
        }
      }
    }
  }
}

// ----------------------------------------------------------------------------
// dense backward
// dinp is (B,C) or 0 to skip (first layer), dweight is (OC,C), dbias is (OC) or 0, dout is (B,OC), inp is (B,C), weight is (OC,C)
// dinp is overwritten (it is this step's scratch); dweight and dbias accumulate (zero them explicitly between steps).

/** Scalar reference of dense_backward_f32. */
export function dense_backward_f32_scalar(dinp: usize, dweight: usize, dbias: usize,
                                          dout: usize, inp: usize, weight: usize,
                                          B: i32, C: i32, OC: i32): void {
  if (dinp) {
    // dinp[b,c] = sum_o dout[b,o] * weight[o,c]
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        let acc: f32 = 0;
        for (let o = 0; o < OC; o++) {
          acc += load<f32>(dout + ((<usize>b * OC + o) << 2)) * load<f32>(weight + ((<usize>o * C + c) << 2));
        }
        store<f32>(dinp + ((<usize>b * C + c) << 2), acc);
      }
    }
  }
  // dweight[o,c] += sum_b dout[b,o] * inp[b,c]
  for (let o = 0; o < OC; o++) {
    for (let c = 0; c < C; c++) {
      let acc = load<f32>(dweight + ((<usize>o * C + c) << 2));
      for (let b = 0; b < B; b++) {
        acc += load<f32>(dout + ((<usize>b * OC + o) << 2)) * load<f32>(inp + ((<usize>b * C + c) << 2));
      }
      store<f32>(dweight + ((<usize>o * C + c) << 2), acc);
    }
  }
  if (dbias) {
    // dbias[o] += sum_b dout[b,o]
    for (let o = 0; o < OC; o++) {
      let acc = load<f32>(dbias + (<usize>o << 2));
      for (let b = 0; b < B; b++) acc += load<f32>(dout + ((<usize>b * OC + o) << 2));
      store<f32>(dbias + (<usize>o << 2), acc);
    }
  }
}

/** SIMD backward, same contract as dense_backward_f32_scalar. */
export function dense_backward_f32(dinp: usize, dweight: usize, dbias: usize,
                                   dout: usize, inp: usize, weight: usize,
                                   B: i32, C: i32, OC: i32): void {
  // dinp (B,C) = dout (B,OC) @ weight (OC,C): weight is already K x N for this product
  if (dinp) dense_backward_input_f32(dinp, dout, weight, B, C, OC);
  dense_backward_weight_f32(dweight, dbias, dout, inp, B, C, OC, 0, OC);
}

/**
 * dinp (B,C) = dout (B,OC) @ weight (OC,C), overwritten. Rows are independent: a thread passes its own row block
 * (dinp and dout offset by the first row, B = its row count) and gets the same bits as the whole call.
 */
export function dense_backward_input_f32(dinp: usize, dout: usize, weight: usize, B: i32, C: i32, OC: i32): void {
  gemm_f32(dinp, dout, OC, 1, weight, B, OC, C, false, false);
}

/**
 * Output rows o0..o1-1 of dweight (OC,C) += dout^T @ inp and of dbias (OC) += sum_b dout (dbias 0 to skip).
 * Each row sums over the batch in order whatever the range, so threads splitting o get the bits of one call;
 * o0 should be a multiple of 4 (the bias sums 4 outputs per vector).
 */
export function dense_backward_weight_f32(dweight: usize, dbias: usize, dout: usize, inp: usize,
                                          B: i32, C: i32, OC: i32, o0: i32, o1: i32): void {
  // dweight (OC,C) += dout^T (OC,B) @ inp (B,C): A = dout read transposed (rs = 1, ks = OC)
  gemm_f32(dweight + ((<usize>o0 * C) << 2), dout + (<usize>o0 << 2), 1, OC, inp, o1 - o0, B, C, true, true);
  if (dbias) dense_backward_bias_f32(dbias, dout, B, OC, o0, o1);
}

/** Outputs o0..o1-1 of dbias (OC) += sum_b dout (B,OC), b in order; o0 a multiple of 4 (4 outputs per vector). */
export function dense_backward_bias_f32(dbias: usize, dout: usize, B: i32, OC: i32, o0: i32, o1: i32): void {
  const OC4 = o0 + ((o1 - o0) & ~3);
  let o = o0;
  for (; o < OC4; o += 4) {
    const ob = <usize>o << 2;
    let acc = v128.load(dbias + ob);
    let p = dout + ob;
    const stride = <usize>OC << 2;
    for (let b = 0; b < B; b++) {
      acc = f32x4.add(acc, v128.load(p));
      p += stride;
    }
    v128.store(dbias + ob, acc);
  }
  for (; o < o1; o++) {
    let acc = load<f32>(dbias + (<usize>o << 2));
    for (let b = 0; b < B; b++) acc += load<f32>(dout + ((<usize>b * OC + o) << 2));
    store<f32>(dbias + (<usize>o << 2), acc);
  }
}

// ----------------------------------------------------------------------------
// dense backward on sparse inputs (the first layer): dW += dY^T X skipping the zeros of X, optionally fused with the
// SGD step. dweight is (OC,C), dout is (B,OC), inp is (B,C); list is scratch of dense_block_list_bytes(B, C) bytes.
// The inputs are cut into blocks of 8 columns (c = 8j..8j+7); the list holds, for each block, the rows b whose 8
// inputs are not all zero (b ascending), as the 8 inputs (2 x f32x4, zero past C) and dout's row offset b*OC*4:
//   starts: (nb + 1) i32, block j's entries are starts[j] .. starts[j+1]-1 (nb = ceil(C/8)), padded to 16 bytes
//   xs:     nb*B entries of 32 bytes
//   offs:   nb*B entries of 4 bytes (i32)
// On MNIST 39% of the (row, block) pairs of a batch of 64 have a nonzero (19% of the pixels). A skipped row adds
// dout[b,o] * 0 = +-0 to each of its sums, which changes nothing (a sum that starts at +0 is never -0), so the
// result has the dense kernel's bits wherever dout is finite; with a NaN or Inf in dout the dense sum is NaN where
// this one may not be, so callers check dout first (all_finite_rows_f32).
// Tiles are 4 rows x 8 columns, the dense gemm's (8 accumulators; per listed row 2 loads of its inputs and 4 splats
// of dout for 8 multiply-adds). 8 rows x 4 columns would skip more (28% of the pairs) but TurboFan keeps a base
// register per splat offset and spills accumulators to the stack: 1.5x slower here.

/** Bytes of the block list for B rows of C inputs (see above). */
export function dense_block_list_bytes(B: i32, C: i32): i32 {
  const nb = (C + 7) >> 3;
  return ((((nb + 1) << 2) + 15) & ~15) + nb * B * 36;
}

/** Builds the block list of inp (B,C) for a dout with OC columns; returns the number of entries. */
export function dense_block_list_f32(list: usize, inp: usize, B: i32, C: i32, OC: i32): i32 {
  const nb = (C + 7) >> 3;
  const xs = list + ((((<usize>nb + 1) << 2) + 15) & ~15);
  const offs = xs + ((<usize>nb * B) << 5);
  const rowBytes = <usize>C << 2;
  const doutRow = OC << 2;
  const zero = f32x4.splat(0);
  let n = 0;
  for (let j = 0; j < nb; j++) {
    store<i32>(list + (<usize>j << 2), n);
    const left = C - (j << 3);
    let p = inp + (<usize>j << 5);
    for (let b = 0; b < B; b++) {
      const v0 = load4(p, left), v1 = left > 4 ? load4(p + 16, left - 4) : zero;
      // NaN != 0: kept; -0 == 0: skipped
      if (v128.any_true(v128.or(f32x4.ne(v0, zero), f32x4.ne(v1, zero)))) {
        const q = xs + (<usize>n << 5);
        v128.store(q, v0);
        v128.store(q, v1, 16);
        store<i32>(offs + (<usize>n << 2), b * doutRow);
        n++;
      }
      p += rowBytes;
    }
  }
  store<i32>(list + (<usize>nb << 2), n);
  return n;
}

/** 1 if the n floats of each of `rows` rows (stride floats apart) at ptr are finite, else 0. */
export function all_finite_rows_f32(ptr: usize, rows: i32, n: i32, stride: i32): i32 {
  let acc = f32x4.splat(0);
  let s: f32 = 0;
  const n4 = n & ~3;
  for (let r = 0; r < rows; r++) {
    const p = ptr + ((<usize>r * stride) << 2);
    let i = 0;
    for (; i < n4; i += 4) {
      const v = v128.load(p + (<usize>i << 2));
      acc = f32x4.add(acc, f32x4.sub(v, v));
    }
    for (; i < n; i++) {
      const v = load<f32>(p + (<usize>i << 2));
      s += v - v;
    }
  }
  s += f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  return s == 0 ? 1 : 0;
}

/**
 * Scalar reference of dense_backward_weight_sparse_f32: dweight[o,c] += sum over b with inp[b,c] != 0 of
 * dout[b,o] * inp[b,c], in b order; dbias[o] += sum_b dout[b,o] (dbias 0 to skip). All outputs.
 */
export function dense_backward_weight_sparse_f32_scalar(dweight: usize, dbias: usize, dout: usize, inp: usize,
                                                        B: i32, C: i32, OC: i32): void {
  for (let o = 0; o < OC; o++) {
    for (let c = 0; c < C; c++) {
      let acc = load<f32>(dweight + ((<usize>o * C + c) << 2));
      for (let b = 0; b < B; b++) {
        const v = load<f32>(inp + ((<usize>b * C + c) << 2));
        if (v != 0) acc += load<f32>(dout + ((<usize>b * OC + o) << 2)) * v;
      }
      store<f32>(dweight + ((<usize>o * C + c) << 2), acc);
    }
  }
  if (dbias) {
    for (let o = 0; o < OC; o++) {
      let acc = load<f32>(dbias + (<usize>o << 2));
      for (let b = 0; b < B; b++) acc += load<f32>(dout + ((<usize>b * OC + o) << 2));
      store<f32>(dbias + (<usize>o << 2), acc);
    }
  }
}

/** a * b + c as two roundings in both binaries: the dense gemm's scalar tail columns. */
// @ts-ignore: decorator
@inline
function madd_unfused(a: v128, b: v128, c: v128): v128 {
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Lane k (0..3, not a constant) of an f32x4. */
// @ts-ignore: decorator
@inline
function lane(v: v128, k: i32): f32 {
  return k == 0 ? f32x4.extract_lane(v, 0) : k == 1 ? f32x4.extract_lane(v, 1) : k == 2 ? f32x4.extract_lane(v, 2) : f32x4.extract_lane(v, 3);
}

/** Lanes 0..3 / 4..7 of the 8 floats at p of which n (1..7) exist, zero past them (not inlined: tails only). */
function load8_lo(p: usize, n: i32): v128 {
  return load4(p, n);
}
function load8_hi(p: usize, n: i32): v128 {
  return n > 4 ? load4(p + 16, n - 4) : f32x4.splat(0);
}

/** Stores the first n (1..8) of the 8 floats in lo, hi at p (not inlined: tails only). */
function store8(p: usize, lo: v128, hi: v128, n: i32): void {
  if (n >= 8) {
    v128.store(p, lo);
    v128.store(p, hi, 16);
    return;
  }
  store4(p, lo, n);
  if (n > 4) store4(p + 16, hi, n - 4);
}

/**
 * The SGD step of the first n (1..8) gradients of one weight row (g0: columns 0..3, g1: 4..7 of the block) at w and
 * its momentum buffer at v, lane by lane (sgd_step1: the operations of sgd_step4), each new weight stored at
 * dst + 32 c + 4 j (its packed row c, output j of the panel). Returns x - x of the new weights as a sum per lane.
 */
function sgd_partial_row(w: usize, v: usize, dst: usize, g0: v128, g1: v128, n: i32,
                         lr: f32, mu: f32, omd: f32, wd: f32, flags: i32, j: i32): v128 {
  let s: f32 = 0;
  for (let k = 0; k < n; k++) {
    const ko = <usize>k << 2;
    const q = sgd_step1(w + ko, lane(k < 4 ? g0 : g1, k & 3), v + ko, lr, mu, omd, wd, flags);
    s += q - q;
    store<f32>(dst + (ko << 3) + (<usize>j << 2), q);
  }
  return f32x4.splat(s);
}

/** Sums x - x over the lanes: 0 while all four are finite, NaN otherwise. */
// @ts-ignore: decorator
@inline
function nonfinite4(a: v128, b: v128, c: v128, d: v128): v128 {
  return f32x4.add(f32x4.add(f32x4.sub(a, a), f32x4.sub(b, b)), f32x4.add(f32x4.sub(c, c), f32x4.sub(d, d)));
}

/**
 * Stores the 4 x 4 tile (rows r0..r3 of W, columns c..c+3) transposed into the packed panel: packed row c+k gets
 * lane k of each row, at dst + 32 k (dst: the panel's row c, plus 16 bytes for outputs 4..7 of the panel).
 */
// @ts-ignore: decorator
@inline
function store_transposed(dst: usize, r0: v128, r1: v128, r2: v128, r3: v128): void {
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7), t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, i32x4.shuffle(t0, t1, 0, 1, 4, 5));
  v128.store(dst, i32x4.shuffle(t0, t1, 2, 3, 6, 7), 32);
  v128.store(dst, i32x4.shuffle(t2, t3, 0, 1, 4, 5), 64);
  v128.store(dst, i32x4.shuffle(t2, t3, 2, 3, 6, 7), 96);
}

// The engine of both kernels below: output rows o0..o1-1 (o0 a multiple of 8) in tiles of 4 rows x one block of 8
// columns, rows left over one at a time. Without `fused` each tile is added to dweight; with it, the tile is the
// gradient of an SGD step: W and its momentum buffer are updated in place (sgd_step4 / sgd_step1, the operations
// of sgd_step_f32) and the new weights written into the forward's packed panels (dense_pack_f32's layout), so the
// gradient is never stored. Returns 1 if every updated weight is finite (always 1 without `fused`). One function
// for both (`fused` is tested per tile, not per multiply-add): 8 KB less per binary than two inlined copies.
function sparse_dw_engine(fused: bool, dweight: usize, packed: usize, buf: usize, dout: usize, list: usize,
                          B: i32, C: i32, OC: i32, o0: i32, o1: i32,
                          lr: f32, mu: f32, damp: f32, wd: f32, flags: i32): i32 {
  const nb = (C + 7) >> 3;
  const xs = list + ((((<usize>nb + 1) << 2) + 15) & ~15);
  const offs = xs + ((<usize>nb * B) << 5);
  const rowBytes = <usize>C << 2;
  const panelBytes = (<usize>(C + 1)) << 5;
  const vlr = f32x4.splat(lr), vmu = f32x4.splat(mu), vomd = f32x4.splat(<f32>1 - damp), vwd = f32x4.splat(wd);
  const omd: f32 = 1 - damp;
  const decay = wd != 0, momentum = (flags & OPT_FLAG_MOMENTUM) != 0, first = (flags & OPT_FLAG_FIRST) != 0;
  const nesterov = (flags & OPT_FLAG_NESTEROV) != 0;
  const zero = f32x4.splat(0);
  // the dense gemm sums its last C % 4 columns with scalar mul + add (unfused in the relaxed binary too): the last
  // block does the same there, so every element keeps the dense kernel's bits
  const unfusedTail = ASC_FEATURE_RELAXED_SIMD && (C & 3) != 0;
  let fin = zero; // sums x - x over the new weights: 0 while all are finite
  let o = o0;
  for (; o + 4 <= o1; o += 4) {
    const d0 = dout + (<usize>o << 2);
    const w0 = dweight + <usize>o * rowBytes;
    const v0 = buf + <usize>o * rowBytes;
    // packed row c of this tile's 4 outputs: panel o >> 3, outputs 0..3 or 4..7 of it
    const panel = packed + <usize>(o >> 3) * panelBytes + 32 + (<usize>(o & 4) << 2);
    for (let j = 0; j < nb; j++) {
      const e0 = load<i32>(list + (<usize>j << 2)), e1 = load<i32>(list + (<usize>j << 2), 4);
      const cb = <usize>j << 5; // byte offset of the block's first column in a row
      const n = C - (j << 3); // columns in this block (8 but for the last)
      const w = w0 + cb;
      let c00 = zero, c01 = zero, c10 = zero, c11 = zero, c20 = zero, c21 = zero, c30 = zero, c31 = zero;
      if (!fused) {
        // dweight accumulates: start from its values (lanes past C are 0 and never stored)
        if (n >= 8) {
          c00 = v128.load(w); c01 = v128.load(w, 16); c10 = v128.load(w + rowBytes); c11 = v128.load(w + rowBytes, 16);
          c20 = v128.load(w + 2 * rowBytes); c21 = v128.load(w + 2 * rowBytes, 16);
          c30 = v128.load(w + 3 * rowBytes); c31 = v128.load(w + 3 * rowBytes, 16);
        } else {
          c00 = load8_lo(w, n); c01 = load8_hi(w, n); c10 = load8_lo(w + rowBytes, n); c11 = load8_hi(w + rowBytes, n);
          c20 = load8_lo(w + 2 * rowBytes, n); c21 = load8_hi(w + 2 * rowBytes, n);
          c30 = load8_lo(w + 3 * rowBytes, n); c31 = load8_hi(w + 3 * rowBytes, n);
        }
      }
      let px = xs + (<usize>e0 << 5);
      let po = offs + (<usize>e0 << 2);
      const pe = offs + (<usize>e1 << 2);
      if (n >= 8 || !unfusedTail) {
        while (po < pe) {
          const x0 = v128.load(px), x1 = v128.load(px, 16);
          const d = d0 + <usize>load<i32>(po);
          let a = v128.load32_splat(d);
          c00 = madd(a, x0, c00); c01 = madd(a, x1, c01);
          a = v128.load32_splat(d, 4);
          c10 = madd(a, x0, c10); c11 = madd(a, x1, c11);
          a = v128.load32_splat(d, 8);
          c20 = madd(a, x0, c20); c21 = madd(a, x1, c21);
          a = v128.load32_splat(d, 12);
          c30 = madd(a, x0, c30); c31 = madd(a, x1, c31);
          px += 32;
          po += 4;
        }
      } else {
        // the last block when C % 4 != 0 in the relaxed binary: its columns past C & ~3 unfused (see above)
        const lo = n > 4; // the full vector 0 stays fused
        while (po < pe) {
          const x0 = v128.load(px), x1 = v128.load(px, 16);
          const d = d0 + <usize>load<i32>(po);
          let a = v128.load32_splat(d);
          c00 = lo ? madd(a, x0, c00) : madd_unfused(a, x0, c00); c01 = madd_unfused(a, x1, c01);
          a = v128.load32_splat(d, 4);
          c10 = lo ? madd(a, x0, c10) : madd_unfused(a, x0, c10); c11 = madd_unfused(a, x1, c11);
          a = v128.load32_splat(d, 8);
          c20 = lo ? madd(a, x0, c20) : madd_unfused(a, x0, c20); c21 = madd_unfused(a, x1, c21);
          a = v128.load32_splat(d, 12);
          c30 = lo ? madd(a, x0, c30) : madd_unfused(a, x0, c30); c31 = madd_unfused(a, x1, c31);
          px += 32;
          po += 4;
        }
      }
      if (!fused) {
        if (n >= 8) {
          v128.store(w, c00); v128.store(w, c01, 16); v128.store(w + rowBytes, c10); v128.store(w + rowBytes, c11, 16);
          v128.store(w + 2 * rowBytes, c20); v128.store(w + 2 * rowBytes, c21, 16);
          v128.store(w + 3 * rowBytes, c30); v128.store(w + 3 * rowBytes, c31, 16);
        } else {
          store8(w, c00, c01, n); store8(w + rowBytes, c10, c11, n);
          store8(w + 2 * rowBytes, c20, c21, n); store8(w + 3 * rowBytes, c30, c31, n);
        }
      } else if (n >= 8) {
        const v = v0 + cb;
        const dst = panel + (cb << 3);
        let p0 = sgd_step4(w, c00, v, vlr, vmu, vomd, vwd, decay, momentum, first, nesterov);
        let p1 = sgd_step4(w + rowBytes, c10, v + rowBytes, vlr, vmu, vomd, vwd, decay, momentum, first, nesterov);
        let p2 = sgd_step4(w + 2 * rowBytes, c20, v + 2 * rowBytes, vlr, vmu, vomd, vwd, decay, momentum, first, nesterov);
        let p3 = sgd_step4(w + 3 * rowBytes, c30, v + 3 * rowBytes, vlr, vmu, vomd, vwd, decay, momentum, first, nesterov);
        fin = f32x4.add(fin, nonfinite4(p0, p1, p2, p3));
        store_transposed(dst, p0, p1, p2, p3);
        p0 = sgd_step4(w + 16, c01, v + 16, vlr, vmu, vomd, vwd, decay, momentum, first, nesterov);
        p1 = sgd_step4(w + rowBytes + 16, c11, v + rowBytes + 16, vlr, vmu, vomd, vwd, decay, momentum, first, nesterov);
        p2 = sgd_step4(w + 2 * rowBytes + 16, c21, v + 2 * rowBytes + 16, vlr, vmu, vomd, vwd, decay, momentum, first, nesterov);
        p3 = sgd_step4(w + 3 * rowBytes + 16, c31, v + 3 * rowBytes + 16, vlr, vmu, vomd, vwd, decay, momentum, first, nesterov);
        fin = f32x4.add(fin, nonfinite4(p0, p1, p2, p3));
        store_transposed(dst + 128, p0, p1, p2, p3);
      } else {
        // the last, partial block: lane by lane with the same operations
        const v = v0 + cb;
        const dst = panel + (cb << 3);
        fin = f32x4.add(fin, sgd_partial_row(w, v, dst, c00, c01, n, lr, mu, omd, wd, flags, 0));
        fin = f32x4.add(fin, sgd_partial_row(w + rowBytes, v + rowBytes, dst, c10, c11, n, lr, mu, omd, wd, flags, 1));
        fin = f32x4.add(fin, sgd_partial_row(w + 2 * rowBytes, v + 2 * rowBytes, dst, c20, c21, n, lr, mu, omd, wd, flags, 2));
        fin = f32x4.add(fin, sgd_partial_row(w + 3 * rowBytes, v + 3 * rowBytes, dst, c30, c31, n, lr, mu, omd, wd, flags, 3));
      }
    }
  }
  // rows left over (o1 - o0 not a multiple of 4), one at a time
  for (; o < o1; o++) {
    const d0 = dout + (<usize>o << 2);
    const w0 = dweight + <usize>o * rowBytes;
    const v0 = buf + <usize>o * rowBytes;
    const lanePtr = packed + <usize>(o >> 3) * panelBytes + 32 + (<usize>(o & 7) << 2);
    for (let j = 0; j < nb; j++) {
      const e0 = load<i32>(list + (<usize>j << 2)), e1 = load<i32>(list + (<usize>j << 2), 4);
      const cb = <usize>j << 5;
      const n = C - (j << 3);
      const w = w0 + cb;
      let c0 = zero, c1 = zero;
      if (!fused) {
        c0 = load8_lo(w, n);
        c1 = load8_hi(w, n);
      }
      let px = xs + (<usize>e0 << 5);
      let po = offs + (<usize>e0 << 2);
      const pe = offs + (<usize>e1 << 2);
      const tail = n < 8 && unfusedTail; // as in the tiles above
      while (po < pe) {
        const a = v128.load32_splat(d0 + <usize>load<i32>(po));
        c0 = tail && n < 4 ? madd_unfused(a, v128.load(px), c0) : madd(a, v128.load(px), c0);
        c1 = tail ? madd_unfused(a, v128.load(px, 16), c1) : madd(a, v128.load(px, 16), c1);
        px += 32;
        po += 4;
      }
      if (!fused) {
        store8(w, c0, c1, n);
      } else {
        fin = f32x4.add(fin, sgd_partial_row(w, v0 + cb, lanePtr + (cb << 3), c0, c1, min(n, 8), lr, mu, omd, wd, flags, 0));
      }
    }
  }
  const s = f32x4.extract_lane(fin, 0) + f32x4.extract_lane(fin, 1) + f32x4.extract_lane(fin, 2) + f32x4.extract_lane(fin, 3);
  return s == 0 ? 1 : 0;
}

/**
 * Output rows o0..o1-1 (o0 a multiple of 8) of dweight (OC,C) += dout^T @ inp skipping inp's zeros, and of
 * dbias (OC) += sum_b dout (dbias 0 to skip). Builds inp's block list in `list` first (dense_block_list_bytes(B, C)
 * bytes, this thread's own). The dense kernel's bits where dout is finite (see above); threads splitting o get the
 * bits of one call.
 */
export function dense_backward_weight_sparse_f32(dweight: usize, dbias: usize, dout: usize, inp: usize, list: usize,
                                                 B: i32, C: i32, OC: i32, o0: i32, o1: i32): void {
  dense_block_list_f32(list, inp, B, C, OC);
  sparse_dw_engine(false, dweight, 0, 0, dout, list, B, C, OC, o0, o1, 0, 0, 0, 0, 0);
  if (dbias) dense_backward_bias_f32(dbias, dout, B, OC, o0, o1);
}

/**
 * The first layer's weight gradient fused with its SGD step, for output rows o0..o1-1 (o0 a multiple of 8): the
 * gradient G = dout^T @ inp (skipping inp's zeros, as dense_backward_weight_sparse_f32 from zero) is never stored;
 * each tile of it updates weight (OC,C) and buf (its momentum buffer, with OPT_FLAG_MOMENTUM) by sgd_step_f32's
 * operations, and the new weights go straight into packed (dense_pack_f32's layout; the bias row is not touched).
 * The same bits as dense_backward_weight_f32 into a zeroed dW, sgd_step_f32 on those rows and dense_pack_panels_f32,
 * without the 3 passes over dW, W and the panels. Builds inp's block list in `list` first. Returns 1 if every
 * updated weight is finite, else 0.
 */
export function dense_backward_weight_sparse_sgd_f32(weight: usize, packed: usize, buf: usize, dout: usize, inp: usize,
                                                     list: usize, B: i32, C: i32, OC: i32, o0: i32, o1: i32,
                                                     lr: f32, mu: f32, damp: f32, wd: f32, flags: i32): i32 {
  dense_block_list_f32(list, inp, B, C, OC);
  return sparse_dw_engine(true, weight, packed, buf, dout, list, B, C, OC, o0, o1, lr, mu, damp, wd, flags);
}

/** Writes the bias row of packed panels p0..p1-1 (dense_pack_f32's layout) from bias (OC), zero past OC. */
export function dense_pack_bias_f32(packed: usize, bias: usize, OC: i32, C: i32, p0: i32, p1: i32): void {
  for (let p = p0; p < p1; p++) {
    const dst = packed + ((<usize>p * 8 * (C + 1)) << 2);
    for (let j = 0; j < 8; j++) {
      const o = p * 8 + j;
      store<f32>(dst + (<usize>j << 2), o < OC ? load<f32>(bias + (<usize>o << 2)) : 0);
    }
  }
}
