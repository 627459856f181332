// f32 approximations of exp, expm1, tanh and erf for the activations: WASM SIMD has no vector exp/erf/tanh, so each
// is built from f32x4 adds, multiplies, one divide and bit tricks. Every f32x4 function has a scalar twin doing the
// same operations in the same order, so the plain-SIMD binary gives the scalar reference's bits (relaxed SIMD fuses
// the multiply-adds of madd() and may differ in the last bit or two).
//
// Accuracy, measured over dense grids of f32 inputs against float64 by test/activations.test.ts (which checks these
// bounds), as the error in units in the last place (ulp) of the f32-rounded true value, which includes the rounding
// of the result itself (0.5 is the best any f32 function can do); plain SIMD / relaxed SIMD:
//   exp    0.96 / 1.01 ulp for normal results; subnormal results (x in [-103.97, -87.34]) are kept, not flushed to 0,
//          within 0.74 of the smallest subnormal; x > 88.72 gives +Inf, x < -103.97 gives 0, NaN gives NaN
//   expm1  (x <= 0, ELU's side) 0.77 / 0.80 ulp, exact for tiny x (expm1(-1e-30) = -1e-30)
//   tanh   1.21 / 1.21 ulp (7.7e-8 absolute), odd (tanh(-0) = -0), +-1 from |x| = 9.01 on
//   erf    1.24 / 1.11 ulp (7.6e-8 absolute), odd, +-1 from |x| = 3.92 on
// (For scale, PyTorch 1.13's own f32 results on the probe grid of test/golden/activations.json are off float64 by up to
// sigmoid 7e-8, tanh 3e-8, gelu 3.3e-7 at |y| ~ 3: 1-3 ulp.)

import { madd, load4, store4 } from './simd';

// exp: x = n ln2 + r with |r| <= ln2 / 2 (Cody-Waite: ln2 = C1 + C2, C1 with 9 significant bits so n C1 is exact),
// exp(r) - 1 = r + r^2 P(r) (Cephes expf's degree-5 P), then exp(x) = 2^n (1 + p) scaled in two steps, 2^(n >> 1) and
// 2^(n - (n >> 1)), so each factor is a normal float and a subnormal result is rounded once, by the last multiply.
// n comes from the "magic bias" 1.5 * 2^23: x log2(e) + 1.5 * 2^23 rounds to an integer kept in the low mantissa bits,
// no float-to-int conversion (so NaN needs no special case: it stays NaN through r and p).
const LOG2E = memory.data<f32>([1.44269504088896341]);
const MAGIC = memory.data<f32>([12582912.0]); // 1.5 * 2^23
const MAGIC_BITS = memory.data<i32>([0x4b400000]); // reinterpret<i32>(MAGIC)
const NEG_LN2_HI = memory.data<f32>([-0.693359375]);
const NEG_LN2_LO = memory.data<f32>([2.12194440e-4]);
const EXP_P0 = memory.data<f32>([1.9875691500e-4]);
const EXP_P1 = memory.data<f32>([1.3981999507e-3]);
const EXP_P2 = memory.data<f32>([8.3334519073e-3]);
const EXP_P3 = memory.data<f32>([4.1665795894e-2]);
const EXP_P4 = memory.data<f32>([1.6666665459e-1]);
const EXP_P5 = memory.data<f32>([5.0000001201e-1]);
/** exp(x) overflows past 88.72 and is 0 below -103.97: clamping keeps n in [-150, 128]. */
const EXP_LO = memory.data<f32>([-104.0]);
const EXP_HI = memory.data<f32>([89.0]);
/** expm1(x) is -1 in f32 for x < -17.33; clamping keeps 2^n normal. */
const EXPM1_LO = memory.data<f32>([-30.0]);

// tanh (Cephes tanhf): |x| < 0.625: x + x^3 P(x^2); else 1 - 2 / (exp(2|x|) + 1); the sign of x copied back.
const TANH_SMALL = memory.data<f32>([0.625]);
const TANH_CLAMP = memory.data<f32>([10.0]); // tanh(10) = 1 - 4e-9: 1 in f32
const TANH_P0 = memory.data<f32>([-5.70498872745e-3]);
const TANH_P1 = memory.data<f32>([2.06390887954e-2]);
const TANH_P2 = memory.data<f32>([-5.37397155531e-2]);
const TANH_P3 = memory.data<f32>([1.33314422036e-1]);
const TANH_P4 = memory.data<f32>([-3.33332819422e-1]);

// erf, two pieces (the shape of ARM optimized-routines' erff; coefficients fitted here, weighted minimax, then
// rounded to f32 and checked in f32 arithmetic):
//   |x| < 0.921875:  erf(x) = x + x P(x^2), P of degree 5, |erf(x) / x - 1 - P| < 1.6e-8
//   |x| >= 0.921875: erf(x) = 1 - exp(Q(|x|)), Q of degree 6 ~ log(erfc(|x|)) on [0.921875, 4], erfc-weighted error
//                    < 1.5e-9; |x| is clamped to 4 (erf = 1 - 1.5e-8 there, which is 1 in f32)
const ERF_SMALL = memory.data<f32>([0.921875]);
const ERF_CLAMP = memory.data<f32>([4.0]);
const ERF_A0 = memory.data<f32>([0.12837915122509003]);
const ERF_A1 = memory.data<f32>([-0.3761250674724579]);
const ERF_A2 = memory.data<f32>([0.11281926929950714]);
const ERF_A3 = memory.data<f32>([-0.026770232245326042]);
const ERF_A4 = memory.data<f32>([0.004998001269996166]);
const ERF_A5 = memory.data<f32>([-0.0006013395613990724]);
const ERF_B0 = memory.data<f32>([-0.00020992211648263037]);
const ERF_B1 = memory.data<f32>([-1.1276154518127441]);
const ERF_B2 = memory.data<f32>([-0.6372858285903931]);
const ERF_B3 = memory.data<f32>([-0.10383884608745575]);
const ERF_B4 = memory.data<f32>([0.022181369364261627]);
const ERF_B5 = memory.data<f32>([-0.0030315930489450693]);
const ERF_B6 = memory.data<f32>([0.00019473368593025953]);

const SIGN_BIT = memory.data<i32>([-0x80000000]);
const EXP_BIAS = memory.data<i32>([127]);
export const ONE = memory.data<f32>([1]);

// Each constant above is a 4-byte slot in the data segment: k4 splats it into a v128 (one v128.load32_splat of ~7
// bytes where a v128.const takes 18; measured here against v128.const: the activation kernels 13-25% faster, each
// binary 3.5 kB smaller), and k1 reads it for the scalar twins, so both use the very same value.
// The f32x4 functions are @inline (calls cost gelu's backward ~40%); the scalar twins are plain functions.
// The clamps use pmin/pmax (one minps/maxps on x86; wasm's min/max need several instructions for their NaN and
// -0 rules): pmin(x, c) = c < x ? c : x and pmax(x, c) = x < c ? c : x keep a NaN x, as the scalar twins do.

// @ts-ignore: decorator
@inline export function k4(slot: usize): v128 {
  return v128.load32_splat(slot);
}

// @ts-ignore: decorator
@inline export function k1(slot: usize): f32 {
  return load<f32>(slot);
}

// @ts-ignore: decorator
@inline function pmin1(x: f32, c: f32): f32 {
  return c < x ? c : x;
}

// @ts-ignore: decorator
@inline function pmax1(x: f32, c: f32): f32 {
  return x < c ? c : x;
}

// ----------------------------------------------------------------------------
// exp

// @ts-ignore: decorator
@inline function exp_poly4(r: v128): v128 {
  let p = madd(k4(EXP_P0), r, k4(EXP_P1));
  p = madd(p, r, k4(EXP_P2));
  p = madd(p, r, k4(EXP_P3));
  p = madd(p, r, k4(EXP_P4));
  p = madd(p, r, k4(EXP_P5));
  return madd(p, f32x4.mul(r, r), r); // exp(r) - 1
}

function exp_poly1(r: f32): f32 {
  let p = k1(EXP_P0) * r + k1(EXP_P1);
  p = p * r + k1(EXP_P2);
  p = p * r + k1(EXP_P3);
  p = p * r + k1(EXP_P4);
  p = p * r + k1(EXP_P5);
  return p * (r * r) + r;
}

/** 2^k as f32 for integer lanes -126 <= k <= 127. */
// @ts-ignore: decorator
@inline function pow2_4(k: v128): v128 {
  return i32x4.shl(i32x4.add(k, k4(EXP_BIAS)), 23);
}

function pow2_1(k: i32): f32 {
  return reinterpret<f32>((k + 127) << 23);
}

/** exp(x), f32x4. */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, k4(EXP_LO)), k4(EXP_HI));
  const t = madd(x, k4(LOG2E), k4(MAGIC));
  const nf = f32x4.sub(t, k4(MAGIC));
  const n = i32x4.sub(t, k4(MAGIC_BITS));
  let r = madd(nf, k4(NEG_LN2_HI), x);
  r = madd(nf, k4(NEG_LN2_LO), r);
  const y = f32x4.add(k4(ONE), exp_poly4(r));
  const n1 = i32x4.shr_s(n, 1);
  return f32x4.mul(f32x4.mul(y, pow2_4(n1)), pow2_4(i32x4.sub(n, n1)));
}

/** exp(x), scalar twin of exp4. */
export function exp1(x: f32): f32 {
  x = pmin1(pmax1(x, k1(EXP_LO)), k1(EXP_HI));
  const t = x * k1(LOG2E) + k1(MAGIC);
  const nf = t - k1(MAGIC);
  const n = reinterpret<i32>(t) - load<i32>(MAGIC_BITS);
  let r = nf * k1(NEG_LN2_HI) + x;
  r = nf * k1(NEG_LN2_LO) + r;
  const y: f32 = 1 + exp_poly1(r);
  const n1 = n >> 1;
  return (y * pow2_1(n1)) * pow2_1(n - n1);
}

// ----------------------------------------------------------------------------
// expm1 for x <= 0 (ELU): 2^n (exp(r) - 1) + (2^n - 1), no cancellation near 0; x > 0 lanes give garbage the
// caller discards

/** exp(x) - 1 for x <= 0, f32x4. */
// @ts-ignore: decorator
@inline export function expm1_neg4(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, k4(EXPM1_LO)), f32x4.splat(0));
  const t = madd(x, k4(LOG2E), k4(MAGIC));
  const nf = f32x4.sub(t, k4(MAGIC));
  const n = i32x4.sub(t, k4(MAGIC_BITS));
  let r = madd(nf, k4(NEG_LN2_HI), x);
  r = madd(nf, k4(NEG_LN2_LO), r);
  const s = pow2_4(n);
  return madd(s, exp_poly4(r), f32x4.sub(s, k4(ONE)));
}

/** exp(x) - 1 for x <= 0, scalar twin of expm1_neg4. */
export function expm1_neg1(x: f32): f32 {
  x = pmin1(pmax1(x, k1(EXPM1_LO)), 0);
  const t = x * k1(LOG2E) + k1(MAGIC);
  const nf = t - k1(MAGIC);
  const n = reinterpret<i32>(t) - load<i32>(MAGIC_BITS);
  let r = nf * k1(NEG_LN2_HI) + x;
  r = nf * k1(NEG_LN2_LO) + r;
  const s = pow2_1(n);
  return s * exp_poly1(r) + (s - 1);
}

// ----------------------------------------------------------------------------
// tanh

/** tanh(x), f32x4. Large |x| is clamped (exp(2|x|) never overflows); NaN propagates through pmin and the exp. */
// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const a = f32x4.pmin(f32x4.abs(x), k4(TANH_CLAMP));
  const s = f32x4.mul(a, a);
  let p = madd(k4(TANH_P0), s, k4(TANH_P1));
  p = madd(p, s, k4(TANH_P2));
  p = madd(p, s, k4(TANH_P3));
  p = madd(p, s, k4(TANH_P4));
  const small = madd(f32x4.mul(p, s), a, a);
  const one = k4(ONE);
  const e = exp4(f32x4.add(a, a));
  const big = f32x4.sub(one, f32x4.div(f32x4.add(one, one), f32x4.add(e, one)));
  // both pieces are >= +0 for a >= 0: or-ing the sign bit of x in is copysign
  const r = v128.bitselect(small, big, f32x4.lt(a, k4(TANH_SMALL)));
  return v128.or(r, v128.and(x, k4(SIGN_BIT)));
}

/** tanh(x), scalar twin of tanh4. */
export function tanh1(x: f32): f32 {
  const a = pmin1(abs<f32>(x), k1(TANH_CLAMP));
  let r: f32;
  if (a < k1(TANH_SMALL)) {
    const s = a * a;
    let p = k1(TANH_P0) * s + k1(TANH_P1);
    p = p * s + k1(TANH_P2);
    p = p * s + k1(TANH_P3);
    p = p * s + k1(TANH_P4);
    r = (p * s) * a + a;
  } else {
    r = 1 - 2 / (exp1(a + a) + 1);
  }
  return reinterpret<f32>(reinterpret<i32>(r) | (reinterpret<i32>(x) & load<i32>(SIGN_BIT)));
}

// ----------------------------------------------------------------------------
// erf

/** erf(x), f32x4. */
// @ts-ignore: decorator
@inline export function erf4(x: v128): v128 {
  const a = f32x4.pmin(f32x4.abs(x), k4(ERF_CLAMP));
  const s = f32x4.mul(a, a);
  let p = madd(k4(ERF_A5), s, k4(ERF_A4));
  p = madd(p, s, k4(ERF_A3));
  p = madd(p, s, k4(ERF_A2));
  p = madd(p, s, k4(ERF_A1));
  p = madd(p, s, k4(ERF_A0));
  const small = madd(a, p, a);
  let q = madd(k4(ERF_B6), a, k4(ERF_B5));
  q = madd(q, a, k4(ERF_B4));
  q = madd(q, a, k4(ERF_B3));
  q = madd(q, a, k4(ERF_B2));
  q = madd(q, a, k4(ERF_B1));
  q = madd(q, a, k4(ERF_B0));
  const big = f32x4.sub(k4(ONE), exp4(q));
  const r = v128.bitselect(small, big, f32x4.lt(a, k4(ERF_SMALL)));
  return v128.or(r, v128.and(x, k4(SIGN_BIT)));
}

/** erf(x), scalar twin of erf4. */
export function erf1(x: f32): f32 {
  const a = pmin1(abs<f32>(x), k1(ERF_CLAMP));
  let r: f32;
  if (a < k1(ERF_SMALL)) {
    const s = a * a;
    let p = k1(ERF_A5) * s + k1(ERF_A4);
    p = p * s + k1(ERF_A3);
    p = p * s + k1(ERF_A2);
    p = p * s + k1(ERF_A1);
    p = p * s + k1(ERF_A0);
    r = a * p + a;
  } else {
    let q = k1(ERF_B6) * a + k1(ERF_B5);
    q = q * a + k1(ERF_B4);
    q = q * a + k1(ERF_B3);
    q = q * a + k1(ERF_B2);
    q = q * a + k1(ERF_B1);
    q = q * a + k1(ERF_B0);
    r = 1 - exp1(q);
  }
  return reinterpret<f32>(reinterpret<i32>(r) | (reinterpret<i32>(x) & load<i32>(SIGN_BIT)));
}

// ----------------------------------------------------------------------------
// the approximations as kernels, for the accuracy tests (test/activations.test.ts) and the table in the README
// out is (N), inp is (N); out == inp allowed

/** out = exp(inp), any N >= 0. */
export function exp_f32(out: usize, inp: usize, N: i32): void {
  for (let i = 0; i < N; i += 4) {
    const p = <usize>i << 2, n = N - i;
    store4(out + p, exp4(load4(inp + p, n)), n);
  }
}

/** out = exp(inp) - 1 for inp <= 0 (inp > 0 gives garbage), any N >= 0. */
export function expm1_neg_f32(out: usize, inp: usize, N: i32): void {
  for (let i = 0; i < N; i += 4) {
    const p = <usize>i << 2, n = N - i;
    store4(out + p, expm1_neg4(load4(inp + p, n)), n);
  }
}

/** out = erf(inp), any N >= 0. */
export function erf_f32(out: usize, inp: usize, N: i32): void {
  for (let i = 0; i < N; i += 4) {
    const p = <usize>i << 2, n = N - i;
    store4(out + p, erf4(load4(inp + p, n)), n);
  }
}
