// Dense (PyTorch nn.Linear) layer: forward Y = X W^T + b and backward dX = dY W, dW += dY^T X, db += sum_b dY.
// f32, raw pointers (byte addresses into linear memory), row-major; a scalar reference sits beside every SIMD kernel.

import { madd } from './simd';

// ----------------------------------------------------------------------------
// The one SIMD engine behind every dense kernel: a register-blocked matrix product
//   out[M,N] (= or +=) A[M,K] @ Bm[K,N] (+ bias[N] on every row)
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
function gemm_f32(out: usize, A: usize, rs: i32, ks: i32, Bm: usize, bias: usize,
                  M: i32, K: i32, N: i32, accumulate: bool): void {
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
        } else if (bias) {
          c00 = v128.load(bias + jo); c01 = v128.load(bias + jo, 16);
          c10 = c00; c11 = c01; c20 = c00; c21 = c01; c30 = c00; c31 = c01;
        }
        let pa = a0;
        let pb = Bm + jo;
        for (let k = 0; k < K; k++) {
          const b0 = v128.load(pb);
          const b1 = v128.load(pb, 16);
          let a = v128.load32_splat(pa);
          c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
          a = v128.load32_splat(pa + rsb);
          c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
          a = v128.load32_splat(pa + 2 * rsb);
          c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
          a = v128.load32_splat(pa + 3 * rsb);
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
        } else if (bias) {
          c0 = v128.load(bias + jo); c1 = c0; c2 = c0; c3 = c0;
        }
        let pa = a0;
        let pb = Bm + jo;
        for (let k = 0; k < K; k++) {
          const b0 = v128.load(pb);
          c0 = madd(v128.load32_splat(pa), b0, c0);
          c1 = madd(v128.load32_splat(pa + rsb), b0, c1);
          c2 = madd(v128.load32_splat(pa + 2 * rsb), b0, c2);
          c3 = madd(v128.load32_splat(pa + 3 * rsb), b0, c3);
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
        } else if (bias) {
          s0 = load<f32>(bias + jo); s1 = s0; s2 = s0; s3 = s0;
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
        } else if (bias) {
          c0 = v128.load(bias + jo); c1 = v128.load(bias + jo, 16);
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
        else if (bias) c0 = v128.load(bias + jo);
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
        else if (bias) s = load<f32>(bias + jo);
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
// packing: the forward pass wants W^T (C x OC, "packed") so it can run down contiguous output columns
// weightT is (C,OC), weight is (OC,C)

/** weightT[c,o] = weight[o,c]. Blocked 8x8 so both sides move through cache lines, not single floats. */
export function dense_pack_f32(weightT: usize, weight: usize, OC: i32, C: i32): void {
  for (let ob = 0; ob < OC; ob += 8) {
    const oe = min(ob + 8, OC);
    for (let cb = 0; cb < C; cb += 8) {
      const ce = min(cb + 8, C);
      for (let o = ob; o < oe; o++) {
        for (let c = cb; c < ce; c++) {
          store<f32>(weightT + ((<usize>c * OC + o) << 2), load<f32>(weight + ((<usize>o * C + c) << 2)));
        }
      }
    }
  }
}

// ----------------------------------------------------------------------------
// dense forward
// out is (B,OC), inp is (B,C), weight is (OC,C) PyTorch layout, weightT is (C,OC), bias is (OC) or 0 for none

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

/** SIMD forward on the packed weight: weightT must hold dense_pack_f32(weight) (C x OC). Any B, C, OC >= 0. */
export function dense_forward_f32(out: usize, inp: usize, weightT: usize, bias: usize,
                                  B: i32, C: i32, OC: i32): void {
  gemm_f32(out, inp, C, 1, weightT, bias, B, C, OC, false);
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
  if (dinp) gemm_f32(dinp, dout, OC, 1, weight, 0, B, OC, C, false);
  // dweight (OC,C) += dout^T (OC,B) @ inp (B,C): A = dout read transposed (rs = 1, ks = OC)
  gemm_f32(dweight, dout, 1, OC, inp, 0, OC, B, C, true);
  if (dbias) {
    const OC4 = OC & ~3;
    let o = 0;
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
    for (; o < OC; o++) {
      let acc = load<f32>(dbias + (<usize>o << 2));
      for (let b = 0; b < B; b++) acc += load<f32>(dout + ((<usize>b * OC + o) << 2));
      store<f32>(dbias + (<usize>o << 2), acc);
    }
  }
}
