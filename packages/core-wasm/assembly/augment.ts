// Data augmentation: one bilinear pass per image through a composed sampling map (inverse affine plus an elastic
// displacement), zero outside the image. f32; the SIMD kernel sits beside its scalar reference and gives its bits.
//
// out is (count, side, side), inp is (count, side, side), params is (count, AUG_WORDS) records (src/augment-layout.ts:
// the map of output pixel (x, y) to its source point (u, v)), bank is the elastic field bank or 0 (no elastic).
// bank holds 2 smoothed noise fields with period T (a power of 2, bankMask = T - 1), each T rows of bankStride floats
// (bankStride >= T + side + 3: row r's columns T.. repeat columns 0.., so a window's row is contiguous).
//
// Bilinear with zero fill, as torch's grid_sample(padding_mode='zeros'): the source point (u, v) reads the 4 pixels
// around it, those outside the image count as 0. u and v are first clamped to [-1.5, side + 0.5]: a point beyond
// that has all 4 taps outside the image and so has the clamped point, whatever the pixels hold (both give +0), and
// the SIMD kernel reads a copy of the image with a 2-pixel zero border without bounds checks; the scalar reference
// checks bounds instead.
// Interpolation is by lerps, l + f (r - l), not by the 4 weights: identity maps (f = 0) copy finite pixels exactly.
// No fused multiply-add anywhere: the plain- and relaxed-SIMD binaries give the same bits.

import {
  AUG_M00, AUG_M01, AUG_M10, AUG_M11, AUG_B0, AUG_B1, AUG_AX, AUG_AY, AUG_FX, AUG_FY, AUG_ROW, AUG_ROW_STEP, AUG_WORDS,
} from '../src/augment-layout';

// @ts-ignore: decorator
@inline
function pixelOrZero(img: usize, x: i32, y: i32, side: i32): f32 {
  return <u32>x < <u32>side && <u32>y < <u32>side ? load<f32>(img + ((<usize>(y * side + x)) << 2)) : 0;
}

// ----------------------------------------------------------------------------
// scalar reference
// out must not overlap inp; pad is unused (kept for the same signature as the SIMD kernel).

/** Scalar reference: out[n, y, x] = bilinear(inp[n], u, v) for the map of params[n]. Any finite params, any pixels. */
export function augment_f32_scalar(out: usize, inp: usize, params: usize, pad: usize, bank: usize, count: i32,
                                   side: i32, bankStride: i32, bankMask: i32): void {
  const c: f32 = <f32>(side - 1) * 0.5;
  const hi: f32 = <f32>side + 0.5;
  const P = <usize>(side * side) << 2;
  for (let n = 0; n < count; n++) {
    const rec = params + <usize>n * (AUG_WORDS << 2);
    const m00 = load<f32>(rec + (AUG_M00 << 2)), m01 = load<f32>(rec + (AUG_M01 << 2));
    const m10 = load<f32>(rec + (AUG_M10 << 2)), m11 = load<f32>(rec + (AUG_M11 << 2));
    const b0 = load<f32>(rec + (AUG_B0 << 2)), b1 = load<f32>(rec + (AUG_B1 << 2));
    const ax = load<f32>(rec + (AUG_AX << 2)), ay = load<f32>(rec + (AUG_AY << 2));
    const fxCol = load<i32>(rec + (AUG_FX << 2)), fyCol = load<i32>(rec + (AUG_FY << 2));
    const row0 = load<i32>(rec + (AUG_ROW << 2)), rowStep = load<i32>(rec + (AUG_ROW_STEP << 2));
    const img = inp + <usize>n * P;
    const dst = out + <usize>n * P;
    for (let y = 0; y < side; y++) {
      const yr = <f32>y - c;
      const rowU = m01 * yr + b0;
      const rowV = m11 * yr + b1;
      const fieldRow = ((row0 + rowStep * y) & bankMask) * bankStride;
      for (let x = 0; x < side; x++) {
        const xr = <f32>x - c;
        let u = m00 * xr + rowU;
        let v = m10 * xr + rowV;
        if (bank) {
          u = u + ax * load<f32>(bank + (<usize>(fieldRow + fxCol + x) << 2));
          v = v + ay * load<f32>(bank + (<usize>(fieldRow + fyCol + x) << 2));
        }
        u = min<f32>(max<f32>(u, -1.5), hi);
        v = min<f32>(max<f32>(v, -1.5), hi);
        const u0 = Mathf.floor(u), v0 = Mathf.floor(v);
        const fu = u - u0, fv = v - v0;
        const xi = <i32>u0, yi = <i32>v0;
        const l0 = pixelOrZero(img, xi, yi, side), r0 = pixelOrZero(img, xi + 1, yi, side);
        const l1 = pixelOrZero(img, xi, yi + 1, side), r1 = pixelOrZero(img, xi + 1, yi + 1, side);
        const top = l0 + fu * (r0 - l0);
        const bottom = l1 + fu * (r1 - l1);
        store<f32>(dst + (<usize>(y * side + x) << 2), top + fv * (bottom - top));
      }
    }
  }
}

// ----------------------------------------------------------------------------
// SIMD kernel
// Each image is copied into pad's interior (pixel (x, y) at ((y + 2) W + x + 2), W = side + 4; the border stays 0),
// then 4 output pixels of a row go at once: their source points in f32x4 lanes, and per lane the 2 taps of the upper
// row and the 2 of the lower row as one 64-bit load each (wasm SIMD has no gather). The last group of a row whose
// side is not a multiple of 4 runs the same code and stores only its valid lanes. out may equal inp.
// (Tried and dropped: skipping groups whose taps all miss the digit's bounding box saved nothing, the branch
// mispredicts about as often as it skips; a bank of period 256, a quarter of the windows, saved 7% with elastic.)

/** Bytes of scratch augment_f32 needs in pad for images of `side` pixels. */
export function augment_pad_bytes(side: i32): i32 {
  return (side + 4) * (side + 4) << 2;
}

/** SIMD kernel, any side >= 1 and count >= 0; gives the scalar reference's bits. pad is augment_pad_bytes(side). */
export function augment_f32(out: usize, inp: usize, params: usize, pad: usize, bank: usize, count: i32, side: i32,
                            bankStride: i32, bankMask: i32): void {
  if (bank) augment_images(out, inp, params, pad, bank, count, side, bankStride, bankMask, true);
  else augment_images(out, inp, params, pad, bank, count, side, bankStride, bankMask, false);
}

// @ts-ignore: decorator
@inline
function storeLanes(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, v);
  } else {
    store<f32>(p, f32x4.extract_lane(v, 0));
    if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
    if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
  }
}

// @ts-ignore: decorator
@inline
function augment_images(out: usize, inp: usize, params: usize, pad: usize, bank: usize, count: i32, side: i32,
                        bankStride: i32, bankMask: i32, elastic: bool): void {
  const W = side + 4;
  const rowBytes = <usize>W << 2;
  const P = <usize>(side * side) << 2;
  const c: f32 = <f32>(side - 1) * 0.5;
  const lo = f32x4.splat(-1.5);
  const hi = f32x4.splat(<f32>side + 0.5);
  const vW = f32x4.splat(<f32>W);
  const four = f32x4.splat(4);
  // x + 1.5 2^23 has x in its low mantissa bits for integers |x| < 2^22: float to int in 2 plain ops (no trunc_sat)
  const magic = f32x4.splat(12582912);
  const magicBits = i32x4.splat(0x4b400000);
  const firstX = f32x4.add(f32x4.splat(-c), f32x4(0, 1, 2, 3));
  // pixel (0, 0) of pad; a tap at column or row -1 or -2 is a (wrapping) negative byte offset from here
  const origin = pad + 2 * rowBytes + 8;
  const side4 = side & ~3;
  memory.fill(pad, 0, rowBytes * <usize>W);
  for (let n = 0; n < count; n++) {
    const rec = params + <usize>n * (AUG_WORDS << 2);
    const m00 = load<f32>(rec + (AUG_M00 << 2)), m01 = load<f32>(rec + (AUG_M01 << 2));
    const m10 = load<f32>(rec + (AUG_M10 << 2)), m11 = load<f32>(rec + (AUG_M11 << 2));
    const b0 = load<f32>(rec + (AUG_B0 << 2)), b1 = load<f32>(rec + (AUG_B1 << 2));
    const vm00 = f32x4.splat(m00), vm10 = f32x4.splat(m10);
    const vax = f32x4.splat(load<f32>(rec + (AUG_AX << 2))), vay = f32x4.splat(load<f32>(rec + (AUG_AY << 2)));
    const fxCol = load<i32>(rec + (AUG_FX << 2)), fyCol = load<i32>(rec + (AUG_FY << 2));
    const row0 = load<i32>(rec + (AUG_ROW << 2)), rowStep = load<i32>(rec + (AUG_ROW_STEP << 2));

    // the image into pad's interior, row by row (plain loads and stores: memory.copy is a call in V8)
    const img = inp + <usize>n * P;
    for (let y = 0; y < side; y++) {
      const s = img + <usize>(y * side << 2), d = origin + <usize>y * rowBytes;
      let x = 0;
      for (; x < side4; x += 4) v128.store(d + (<usize>x << 2), v128.load(s + (<usize>x << 2)));
      for (; x < side; x++) store<f32>(d + (<usize>x << 2), load<f32>(s + (<usize>x << 2)));
    }
    const dst = out + <usize>n * P;
    for (let y = 0; y < side; y++) {
      const yr = <f32>y - c;
      const rowU = f32x4.splat(m01 * yr + b0);
      const rowV = f32x4.splat(m11 * yr + b1);
      const fieldRow = ((row0 + rowStep * y) & bankMask) * bankStride;
      const pfx = bank + (<usize>(fieldRow + fxCol) << 2);
      const pfy = bank + (<usize>(fieldRow + fyCol) << 2);
      const o = dst + <usize>(y * side << 2);
      let xr = firstX; // x - c per lane: exact (halves of small integers)
      for (let x = 0; x < side; x += 4) {
        let u = f32x4.add(f32x4.mul(vm00, xr), rowU);
        let v = f32x4.add(f32x4.mul(vm10, xr), rowV);
        xr = f32x4.add(xr, four);
        if (elastic) {
          u = f32x4.add(u, f32x4.mul(vax, v128.load(pfx + (<usize>x << 2))));
          v = f32x4.add(v, f32x4.mul(vay, v128.load(pfy + (<usize>x << 2))));
        }
        // pmin/pmax are one instruction each; for these operands (never NaN, bounds not 0) they equal min/max
        u = f32x4.pmin(f32x4.pmax(u, lo), hi);
        v = f32x4.pmin(f32x4.pmax(v, lo), hi);
        const u0 = f32x4.floor(u), v0 = f32x4.floor(v);
        const fu = f32x4.sub(u, u0), fv = f32x4.sub(v, v0);
        // byte offsets of the upper-left taps from origin (negative for columns or rows < 0: wrapping u32 arithmetic)
        const off = i32x4.shl(i32x4.sub(f32x4.add(f32x4.add(f32x4.mul(v0, vW), u0), magic), magicBits), 2);
        const a0 = origin + <usize>i32x4.extract_lane(off, 0);
        const a1 = origin + <usize>i32x4.extract_lane(off, 1);
        const a2 = origin + <usize>i32x4.extract_lane(off, 2);
        const a3 = origin + <usize>i32x4.extract_lane(off, 3);
        // (left, right) pairs: upper row lanes 0-1 and 2-3, lower row likewise
        const up01 = v128.load64_lane(a1, v128.load64_zero(a0), 1);
        const up23 = v128.load64_lane(a3, v128.load64_zero(a2), 1);
        const lo01 = v128.load64_lane(a1 + rowBytes, v128.load64_zero(a0 + rowBytes), 1);
        const lo23 = v128.load64_lane(a3 + rowBytes, v128.load64_zero(a2 + rowBytes), 1);
        const l0 = v128.shuffle<f32>(up01, up23, 0, 2, 4, 6), r0 = v128.shuffle<f32>(up01, up23, 1, 3, 5, 7);
        const l1 = v128.shuffle<f32>(lo01, lo23, 0, 2, 4, 6), r1 = v128.shuffle<f32>(lo01, lo23, 1, 3, 5, 7);
        const top = f32x4.add(l0, f32x4.mul(fu, f32x4.sub(r0, l0)));
        const bottom = f32x4.add(l1, f32x4.mul(fu, f32x4.sub(r1, l1)));
        storeLanes(o + (<usize>x << 2), f32x4.add(top, f32x4.mul(fv, f32x4.sub(bottom, top))), side - x);
      }
    }
  }
}

// ----------------------------------------------------------------------------
// normalization after the warp (torchvision's Normalize after its transforms): x = (x - mean) / std in f32.
// A subtraction and a division are correctly rounded per lane, so the SIMD kernel gives the scalar reference's bits
// (and those of the driver's JS loop, Math.fround(x - mean) / std stored as f32).

/** Scalar reference: the n floats at x become (x - mean) / std. */
export function normalize_f32_scalar(x: usize, n: i32, mean: f32, std: f32): void {
  for (let i = 0; i < n; i++) {
    const p = x + (<usize>i << 2);
    store<f32>(p, (load<f32>(p) - mean) / std);
  }
}

/** SIMD kernel: normalize_f32_scalar's bits, 4 floats at a time. */
export function normalize_f32(x: usize, n: i32, mean: f32, std: f32): void {
  const m = f32x4.splat(mean), s = f32x4.splat(std);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = x + (<usize>i << 2);
    v128.store(p, f32x4.div(f32x4.sub(v128.load(p), m), s));
  }
  for (; i < n; i++) {
    const p = x + (<usize>i << 2);
    store<f32>(p, (load<f32>(p) - mean) / std);
  }
}
