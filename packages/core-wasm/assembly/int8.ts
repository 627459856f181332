// Int8 inference for a dense layer (issue 16): per-output-channel symmetric int8 weights, inputs quantized per row
// to 7 bits (0..127, with a zero point when a row has negative values), exact integer dot products, then one f32
// rescale: z[b,o] = f32(acc[b,o] - zp[b] * rowsum[o]) * (xs[b] * ws[o]) + bias[o].
// The integer sums are exact and the rescale uses no fused multiply-add, so both binaries and the scalar reference
// give the same bits: the relaxed binary runs i16x8.relaxed_dot_i8x16_i7x16_s (16 multiplies per instruction, its
// second operand kept in 0..127 where every engine gives the same result; see dot_step), the plain one
// i32x4.dot_i16x8_s.
//
// Quantization, f32 arithmetic throughout (dense_forward_i8_scalar spells it out):
//   weights, per output o: m = max_c |W[o,c]|, q = nearest(W * (127 / m)) in -127..127, ws[o] = m / 127
//     (m = 0: q = 0, ws = 0; a NaN or Inf weight: ws = NaN, so that output is NaN)
//   inputs, per row b:     lo = min(0, min_c x), hi = max(0, max_c x), inv = 127 / (hi - lo),
//     zp = nearest(-lo * inv), q = min(nearest(x * inv) + zp, 127), xs = (hi - lo) / 127
//     (hi = lo = 0: q = 0, zp = 0, xs = 0; a NaN or Inf input: xs = NaN, so the row is NaN)
// A zero input is quantized to exactly zp, so zero pixels add nothing after the zero-point correction.
//
// Layouts (Cp = C rounded up to 4; the padding has zero weights):
//   packed weights, panels of 8 outputs (dense_i8_packed_bytes):
//     relaxed: per 4 inputs 32 bytes, byte 4j + i = q[8p + j, 4k + i] (outputs 0-3 then 4-7 of the panel)
//     plain:   per 2 inputs 32 bytes, i16 lane 2j + i = q[8p + j, 2m + i]
//   quantized rows (dense_i8_row_bytes): relaxed u8, plain i16, Cp per row (the padding is 0)

import { load4 } from './simd';

/** Bytes of the packed int8 weights of a (OC,C) layer in this binary's layout. */
export function dense_i8_packed_bytes(C: i32, OC: i32): i32 {
  const Cp = (C + 3) & ~3;
  return ((OC + 7) >> 3) * Cp * (ASC_FEATURE_RELAXED_SIMD ? 8 : 16);
}

/** Bytes of one quantized input row of C inputs in this binary's layout. */
export function dense_i8_row_bytes(C: i32): i32 {
  const Cp = (C + 3) & ~3;
  return ASC_FEATURE_RELAXED_SIMD ? Cp : Cp * 2;
}

// @ts-ignore: decorator
@inline
function quantize_weight1(w: f32, inv: f32): i32 {
  return <i32>min<f32>(max<f32>(nearest<f32>(w * inv), -127), 127);
}

/**
 * Quantizes weight (OC,C), PyTorch layout, to packed int8 panels; scale (OC) gets ws[o] and rowsum (OC, i32) the sum
 * of each output's int8 weights (for the zero-point correction).
 */
export function dense_quantize_weight_i8(packed: usize, scale: usize, rowsum: usize, weight: usize, OC: i32, C: i32): void {
  const Cp = (C + 3) & ~3;
  memory.fill(packed, 0, <usize>dense_i8_packed_bytes(C, OC));
  for (let o = 0; o < OC; o++) {
    const w = weight + ((<usize>o * C) << 2);
    let m: f32 = 0;
    for (let c = 0; c < C; c++) m = max<f32>(m, abs<f32>(load<f32>(w + (<usize>c << 2))));
    // wasm's max propagates NaN; Inf - Inf is NaN too
    const finite = m - m == 0;
    const inv: f32 = m > 0 && finite ? <f32>127 / m : 0;
    store<f32>(scale + (<usize>o << 2), finite ? m / <f32>127 : NaN);
    let sum = 0;
    const p = o >> 3, j = o & 7;
    for (let c = 0; c < C; c++) {
      const q = finite ? quantize_weight1(load<f32>(w + (<usize>c << 2)), inv) : 0;
      sum += q;
      if (ASC_FEATURE_RELAXED_SIMD) {
        store<i8>(packed + <usize>p * Cp * 8 + (<usize>(c >> 2) << 5) + <usize>(j * 4 + (c & 3)), <i8>q);
      } else {
        store<i16>(packed + <usize>p * Cp * 16 + (<usize>(c >> 1) << 5) + (<usize>(j * 2 + (c & 1)) << 1), <i16>q);
      }
    }
    store<i32>(rowsum + (<usize>o << 2), sum);
  }
}

/**
 * Quantizes B rows of inp (B,C) to 7 bits (see above): xq gets the rows in this binary's layout
 * (dense_i8_row_bytes(C) each), xscale (B, f32) and xzp (B, i32) each row's scale and zero point.
 */
export function dense_quantize_rows_u7(xq: usize, xscale: usize, xzp: usize, inp: usize, B: i32, C: i32): void {
  const rowBytes = <usize>dense_i8_row_bytes(C);
  const Cp = (C + 3) & ~3;
  const zero = f32x4.splat(0);
  for (let b = 0; b < B; b++) {
    const x = inp + ((<usize>b * C) << 2);
    let vlo = zero, vhi = zero;
    let c = 0;
    for (; c < C; c += 4) {
      const v = load4(x + (<usize>c << 2), C - c); // lanes past C are 0, which lo <= 0 <= hi already cover
      vlo = f32x4.min(vlo, v);
      vhi = f32x4.max(vhi, v);
    }
    const lo = min<f32>(min<f32>(f32x4.extract_lane(vlo, 0), f32x4.extract_lane(vlo, 1)), min<f32>(f32x4.extract_lane(vlo, 2), f32x4.extract_lane(vlo, 3)));
    const hi = max<f32>(max<f32>(f32x4.extract_lane(vhi, 0), f32x4.extract_lane(vhi, 1)), max<f32>(f32x4.extract_lane(vhi, 2), f32x4.extract_lane(vhi, 3)));
    const range = hi - lo;
    const finite = range - range == 0;
    const inv: f32 = range > 0 && finite ? <f32>127 / range : 0;
    const zp = <i32>nearest<f32>(-lo * inv);
    store<f32>(xscale + (<usize>b << 2), finite ? range / <f32>127 : NaN);
    store<i32>(xzp + (<usize>b << 2), zp);
    const q = xq + <usize>b * rowBytes;
    const vinv = f32x4.splat(inv), vzp = i32x4.splat(zp), v127 = i32x4.splat(127);
    for (c = 0; c < Cp; c += 4) {
      // nearest(x * inv) + zp in 0..127 (load4 gives 0 past C: zp there, whose weights are 0); a NaN row gives
      // anything (its xs is NaN)
      const v = load4(x + (<usize>c << 2), C - c);
      const t = i32x4.min_s(i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v, vinv))), vzp), v127);
      if (ASC_FEATURE_RELAXED_SIMD) {
        const h = i16x8.narrow_i32x4_s(t, t);
        store<i32>(q + <usize>c, i32x4.extract_lane(i8x16.narrow_i16x8_u(h, h), 0));
      } else {
        store<i64>(q + (<usize>c << 1), i64x2.extract_lane(i16x8.narrow_i32x4_s(t, t), 0));
      }
    }
  }
}

// acc + the 4-lane dot of the weights w (int8 x 16, or int16 x 8 in the plain binary) and the inputs a. Not
// i32x4.relaxed_dot_i8x16_i7x16_add_s: in Node 20's V8 (11.3) its baseline compiler (Liftoff) drops the accumulator
// and doubles the dot product ((1,2,3,4).(5,6,7,8) + 100 gives 140, not 170) while TurboFan is right (checked on
// this AMD EPYC with --liftoff-only / --no-liftoff), so a result would depend on the tier a call ran in.
// i16x8.relaxed_dot_i8x16_i7x16_s is right in both, the pairs' sum (extadd_pairwise) makes the same integers, and
// TurboFan runs the two forms at the same speed here (20M dependent steps: 11.7 and 11.0 ms).
// @ts-ignore: decorator
@inline
function dot_step(w: v128, a: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(w, a)));
  } else {
    return i32x4.add(acc, i32x4.dot_i16x8_s(w, a));
  }
}

/** The rescale of 4 outputs of one row: f32(acc - zp * rowsum) * (xs * ws) + bias, stored (n of them, 1..4). */
// @ts-ignore: decorator
@inline
function rescale_store(o: usize, acc: v128, zp: v128, rowsum: v128, xs: v128, ws: v128, bias: v128, n: i32): void {
  const t = f32x4.convert_i32x4_s(i32x4.sub(acc, i32x4.mul(zp, rowsum)));
  const z = f32x4.add(f32x4.mul(t, f32x4.mul(xs, ws)), bias);
  if (n >= 4) {
    v128.store(o, z);
  } else {
    store<f32>(o, f32x4.extract_lane(z, 0));
    if (n > 1) store<f32>(o, f32x4.extract_lane(z, 1), 4);
    if (n > 2) store<f32>(o, f32x4.extract_lane(z, 2), 8);
  }
}

/**
 * out (B,OC) from quantized rows (dense_quantize_rows_u7) and packed int8 weights (dense_quantize_weight_i8), with
 * bias (OC, f32) or 0. Tiles of 4 rows x 8 outputs (8 i32x4 accumulators; per step 2 weight loads and 4 splats of a
 * row's next 4 (relaxed) or 2 (plain) quantized inputs), rows left over one at a time.
 */
export function dense_forward_i8(out: usize, xq: usize, xscale: usize, xzp: usize, packed: usize, wscale: usize,
                                 rowsum: usize, bias: usize, B: i32, C: i32, OC: i32): void {
  const Cp = (C + 3) & ~3;
  const rowBytes = <usize>dense_i8_row_bytes(C);
  const panelBytes = <usize>Cp * (ASC_FEATURE_RELAXED_SIMD ? 8 : 16);
  const step: usize = 4; // bytes of a row's inputs per 32 bytes of weights: 4 inputs as u8 (relaxed), 2 as i16 (plain)
  const panels = (OC + 7) >> 3;
  const outRow = <usize>OC << 2;
  const zero = i32x4.splat(0);
  let b = 0;
  for (; b + 4 <= B; b += 4) {
    const x0 = xq + <usize>b * rowBytes;
    const x1 = x0 + rowBytes, x2 = x1 + rowBytes, x3 = x2 + rowBytes;
    for (let p = 0; p < panels; p++) {
      let w = packed + <usize>p * panelBytes;
      const wEnd = w + panelBytes;
      let c00 = zero, c01 = zero, c10 = zero, c11 = zero, c20 = zero, c21 = zero, c30 = zero, c31 = zero;
      let xo: usize = 0;
      while (w < wEnd) {
        const w0 = v128.load(w), w1 = v128.load(w, 16);
        let a = v128.load32_splat(x0 + xo); c00 = dot_step(w0, a, c00); c01 = dot_step(w1, a, c01);
        a = v128.load32_splat(x1 + xo); c10 = dot_step(w0, a, c10); c11 = dot_step(w1, a, c11);
        a = v128.load32_splat(x2 + xo); c20 = dot_step(w0, a, c20); c21 = dot_step(w1, a, c21);
        a = v128.load32_splat(x3 + xo); c30 = dot_step(w0, a, c30); c31 = dot_step(w1, a, c31);
        w += 32; xo += step;
      }
      const o = p * 8;
      const n = OC - o;
      const ob = <usize>o << 2;
      const rs0 = load4i(rowsum + ob, n), rs1 = n > 4 ? load4i(rowsum + ob + 16, n - 4) : zero;
      const ws0 = load4(wscale + ob, n), ws1 = n > 4 ? load4(wscale + ob + 16, n - 4) : f32x4.splat(0);
      const bs0 = bias ? load4(bias + ob, n) : f32x4.splat(0);
      const bs1 = bias && n > 4 ? load4(bias + ob + 16, n - 4) : f32x4.splat(0);
      const dst = out + <usize>b * outRow + ob;
      rescale_row(dst, c00, c01, xzp, xscale, b, rs0, rs1, ws0, ws1, bs0, bs1, n);
      rescale_row(dst + outRow, c10, c11, xzp, xscale, b + 1, rs0, rs1, ws0, ws1, bs0, bs1, n);
      rescale_row(dst + 2 * outRow, c20, c21, xzp, xscale, b + 2, rs0, rs1, ws0, ws1, bs0, bs1, n);
      rescale_row(dst + 3 * outRow, c30, c31, xzp, xscale, b + 3, rs0, rs1, ws0, ws1, bs0, bs1, n);
    }
  }
  for (; b < B; b++) {
    const x0 = xq + <usize>b * rowBytes;
    const zp = v128.load32_splat(xzp + (<usize>b << 2));
    const xs = v128.load32_splat(xscale + (<usize>b << 2));
    for (let p = 0; p < panels; p++) {
      let w = packed + <usize>p * panelBytes;
      const wEnd = w + panelBytes;
      let c0 = zero, c1 = zero;
      let xo: usize = 0;
      while (w < wEnd) {
        const a = v128.load32_splat(x0 + xo);
        c0 = dot_step(v128.load(w), a, c0);
        c1 = dot_step(v128.load(w, 16), a, c1);
        w += 32; xo += step;
      }
      const o = p * 8;
      const n = OC - o;
      const ob = <usize>o << 2;
      const d = out + <usize>b * outRow + ob;
      rescale_store(d, c0, zp, load4i(rowsum + ob, n), xs, load4(wscale + ob, n), bias ? load4(bias + ob, n) : f32x4.splat(0), n);
      if (n > 4) {
        rescale_store(d + 16, c1, zp, load4i(rowsum + ob + 16, n - 4), xs, load4(wscale + ob + 16, n - 4),
                      bias ? load4(bias + ob + 16, n - 4) : f32x4.splat(0), n - 4);
      }
    }
  }
}

/** rescale_store for the 8 outputs (n of them) of row b of a panel (a call per row and panel: not inlined). */
function rescale_row(d: usize, a0: v128, a1: v128, xzp: usize, xscale: usize, b: i32, rs0: v128, rs1: v128,
                     ws0: v128, ws1: v128, bs0: v128, bs1: v128, n: i32): void {
  const zp = v128.load32_splat(xzp + (<usize>b << 2));
  const xs = v128.load32_splat(xscale + (<usize>b << 2));
  rescale_store(d, a0, zp, rs0, xs, ws0, bs0, n);
  if (n > 4) rescale_store(d + 16, a1, zp, rs1, xs, ws1, bs1, n - 4);
}

/** load4 for i32 lanes (the same bits: zero past n). */
// @ts-ignore: decorator
@inline
function load4i(p: usize, n: i32): v128 {
  return load4(p, n);
}

/**
 * Scalar reference of the whole int8 layer from f32 inputs and weights: quantizes weight (OC,C) per output and inp
 * (B,C) per row exactly as the kernels above, sums the integer products, rescales; out (B,OC). scratch holds OC x 12
 * bytes (each output's scale, weight sum and 127 / m).
 */
export function dense_forward_i8_scalar(out: usize, inp: usize, weight: usize, bias: usize, scratch: usize,
                                        B: i32, C: i32, OC: i32): void {
  const wsc = scratch, rsum = scratch + (<usize>OC << 2), winv = scratch + (<usize>OC << 3);
  for (let o = 0; o < OC; o++) {
    const w = weight + ((<usize>o * C) << 2);
    let m: f32 = 0;
    for (let c = 0; c < C; c++) m = max<f32>(m, abs<f32>(load<f32>(w + (<usize>c << 2))));
    const finite = m - m == 0;
    const inv: f32 = m > 0 && finite ? <f32>127 / m : 0;
    let sum = 0;
    for (let c = 0; c < C; c++) sum += finite ? quantize_weight1(load<f32>(w + (<usize>c << 2)), inv) : 0;
    store<f32>(wsc + (<usize>o << 2), finite ? m / <f32>127 : NaN);
    store<i32>(rsum + (<usize>o << 2), sum);
    store<f32>(winv + (<usize>o << 2), finite ? inv : NaN); // NaN: this output's weights quantize to 0
  }
  for (let b = 0; b < B; b++) {
    const x = inp + ((<usize>b * C) << 2);
    let lo: f32 = 0, hi: f32 = 0;
    for (let c = 0; c < C; c++) {
      const v = load<f32>(x + (<usize>c << 2));
      lo = min<f32>(lo, v);
      hi = max<f32>(hi, v);
    }
    const range = hi - lo;
    const finite = range - range == 0;
    const inv: f32 = range > 0 && finite ? <f32>127 / range : 0;
    const zp = <i32>nearest<f32>(-lo * inv);
    const xs: f32 = finite ? range / <f32>127 : NaN;
    for (let o = 0; o < OC; o++) {
      const w = weight + ((<usize>o * C) << 2);
      const wi = load<f32>(winv + (<usize>o << 2));
      let acc = 0;
      for (let c = 0; c < C; c++) {
        // the SIMD quantizer: nearest, then a saturating truncation (NaN -> 0), plus zp, at most 127 (never below 0)
        const r = nearest<f32>(load<f32>(x + (<usize>c << 2)) * inv);
        const qx = min<i32>((r != r ? 0 : <i32>r) + zp, 127);
        const qw = wi == wi ? quantize_weight1(load<f32>(w + (<usize>c << 2)), wi) : 0;
        acc += qw * qx;
      }
      const t = <f32>(acc - zp * load<i32>(rsum + (<usize>o << 2)));
      const bo: f32 = bias ? load<f32>(bias + (<usize>o << 2)) : 0;
      store<f32>(out + ((<usize>b * OC + o) << 2), t * (xs * load<f32>(wsc + (<usize>o << 2))) + bo);
    }
  }
}
