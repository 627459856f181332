// Dense (PyTorch nn.Linear) layer: forward Y = X W^T + b and backward dX = dY W, dW += dY^T X, db += sum_b dY.
// f32, raw pointers (byte addresses into linear memory), row-major; a scalar reference sits beside every SIMD kernel.

import { madd } from './simd';

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
 * One row through the packed weights, its nonzero inputs given as a list of n (offset, value) pairs: 1 row x 32
 * columns per register tile (4 panels, 8 accumulators), each list entry costs 1 splat and 8 weight loads for 8
 * multiply-adds.
 */
function dense_forward_list_row(o0: usize, list: usize, n: i32, packed: usize, C: i32, OC: i32): void {
  const panels = (OC + 7) >> 3;
  const panelBytes = (<usize>(C + 1)) << 5;
  const qEnd = list + (<usize>n << 3);
  let p = 0;
  for (; p + 4 <= panels; p += 4) {
    const w0 = packed + <usize>p * panelBytes;
    const w1 = w0 + panelBytes, w2 = w1 + panelBytes, w3 = w2 + panelBytes;
    let c0 = v128.load(w0), c1 = v128.load(w0, 16);
    let c2 = v128.load(w1), c3 = v128.load(w1, 16);
    let c4 = v128.load(w2), c5 = v128.load(w2, 16);
    let c6 = v128.load(w3), c7 = v128.load(w3, 16);
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
      c6 = madd(a, v128.load(w3 + off, 32), c6);
      c7 = madd(a, v128.load(w3 + off, 48), c7);
      q += 8;
    }
    const o = o0 + (<usize>p << 5);
    const left = OC - p * 8; // > 24: only the 4th panel can be partial
    v128.store(o, c0); v128.store(o, c1, 16);
    v128.store(o, c2, 32); v128.store(o, c3, 48);
    v128.store(o, c4, 64); v128.store(o, c5, 80);
    if (left >= 32) {
      v128.store(o, c6, 96); v128.store(o, c7, 112);
    } else {
      store_partial(o + 96, c6, c7, left - 24);
    }
  }
  for (; p < panels; p++) {
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

/**
 * dense_forward_f32 that skips zero inputs: a row with at most maxNonzero nonzero inputs runs through its list
 * (dense_forward_list_row), the others go to dense_forward_f32 in runs of consecutive rows (its 4-row tiles). Both
 * give the same bits per output (see above), so which rows take which path never shows in the result, only in the
 * time. maxNonzero < 0 sends every row to the dense kernel. Any B, C, OC >= 0.
 */
export function dense_forward_sparse_f32(out: usize, inp: usize, packed: usize, list: usize,
                                         B: i32, C: i32, OC: i32, maxNonzero: i32): void {
  const rowBytes = <usize>C << 2;
  const outRow = <usize>OC << 2;
  let denseFrom = 0; // first row of the pending run of dense rows
  for (let b = 0; b < B; b++) {
    const x = inp + <usize>b * rowBytes;
    const n = maxNonzero < 0 ? C + 1 : dense_nonzero_list_f32(list, x, C);
    if (n > maxNonzero) continue;
    if (denseFrom < b) {
      dense_forward_f32(out + <usize>denseFrom * outRow, inp + <usize>denseFrom * rowBytes, packed, b - denseFrom, C, OC);
    }
    dense_forward_list_row(out + <usize>b * outRow, list, n, packed, C, OC);
    denseFrom = b + 1;
  }
  if (denseFrom < B) {
    dense_forward_f32(out + <usize>denseFrom * outRow, inp + <usize>denseFrom * rowBytes, packed, B - denseFrom, C, OC);
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
  if (dbias) {
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
}
