// Hidden-layer activations, forward and backward, f32, each SIMD kernel with its scalar reference: relu, leaky_relu,
// sigmoid, tanh, gelu (erf form), gelu_tanh, silu, elu, and identity; activation_forward_f32 / activation_backward_f32
// dispatch on the ACT_* codes of src/layout.ts (what assembly/jobs.ts and trace() call).
//
// Conventions (PyTorch 1.13's formulas, in its CPU kernels' operation order, except silu' and elu: see there):
// - forward: out = f(inp), elementwise; out == inp (in place) is allowed.
// - backward: dinp = dout * f'(x), overwritten (not accumulated); dinp == dout is allowed. x is what the derivative
//   reads: the forward's output a for relu, sigmoid, tanh (and leaky_relu with slope >= 0), the pre-activation z for
//   gelu, gelu_tanh, silu, elu (ACT_NEEDS_Z in src/layout.ts).
// - NaN in gives NaN out; +-Inf give the limits; subnormal results are kept (sigmoid(-88) = 6.0546e-39, as PyTorch).
// - Plain SIMD gives the scalar reference's bits (same operations, same order; the tail goes through the f32x4 code
//   too, see load4 in assembly/simd.ts); relaxed SIMD fuses multiply-adds and differs in the last bits.
// - Accuracy of exp, expm1, tanh and erf against float64: assembly/approx.ts; of each activation and its derivative:
//   the README's table, checked by test/activations.test.ts.

import { madd, load4, store4 } from './simd';
import { exp4, exp1, expm1_neg4, expm1_neg1, tanh4, tanh1, erf4, erf1, k4, k1, ONE } from './approx';
import {
  ACT_IDENTITY, ACT_RELU, ACT_LEAKY_RELU, ACT_SIGMOID, ACT_TANH, ACT_GELU, ACT_GELU_TANH, ACT_SILU, ACT_ELU,
} from '../src/layout';

// constants in 4-byte slots: k4 splats one for the f32x4 code, k1 reads it for the scalar reference (assembly/approx.ts)
const SQRT1_2 = memory.data<f32>([0.7071067811865476]); // gelu: erf(x / sqrt(2)) = erf(x * SQRT1_2)
const INV_SQRT_2PI = memory.data<f32>([0.3989422804014327]); // gelu': the normal density's 1 / sqrt(2 pi)
const GELU_TANH_BETA = memory.data<f32>([0.7978845608028654]); // sqrt(2 / pi)
const GELU_TANH_KAPPA = memory.data<f32>([0.044715]);
const GELU_TANH_KAPPA3 = memory.data<f32>([0.134145]); // 3 * 0.044715
const HALF = memory.data<f32>([0.5]);
const NEG_HALF = memory.data<f32>([-0.5]);

// ----------------------------------------------------------------------------
// relu forward
// out is (N), inp is (N); out == inp (in place) is allowed
// NaN in gives NaN out (wasm's max propagates NaN, as torch.relu does). relu(-0) is +0 here (wasm's max orders
// -0 < +0), -0 in PyTorch: equal as numbers, and the next layer's sums do not see the difference.

/** Scalar reference: out[i] = max(inp[i], 0). */
export function relu_forward_f32_scalar(out: usize, inp: usize, N: i32): void {
  for (let i = 0; i < N; i++) {
    const p = <usize>i << 2;
    store<f32>(out + p, max<f32>(load<f32>(inp + p), 0));
  }
}

/** SIMD forward, any N >= 0. */
export function relu_forward_f32(out: usize, inp: usize, N: i32): void {
  const zero = f32x4.splat(0);
  const N4 = N & ~3;
  let i = 0;
  for (; i < N4; i += 4) {
    const p = <usize>i << 2;
    v128.store(out + p, f32x4.max(v128.load(inp + p), zero));
  }
  for (; i < N; i++) {
    const p = <usize>i << 2;
    store<f32>(out + p, max<f32>(load<f32>(inp + p), 0));
  }
}

// ----------------------------------------------------------------------------
// relu backward
// dinp is (N), dout is (N), out is (N) the forward's output (out > 0 exactly where inp > 0); dinp == dout allowed
// dinp is overwritten: the gradient passes where the unit was active, 0 elsewhere.

/** Scalar reference: dinp[i] = out[i] > 0 ? dout[i] : 0. */
export function relu_backward_f32_scalar(dinp: usize, dout: usize, out: usize, N: i32): void {
  for (let i = 0; i < N; i++) {
    const p = <usize>i << 2;
    store<f32>(dinp + p, load<f32>(out + p) > 0 ? load<f32>(dout + p) : <f32>0);
  }
}

/** SIMD backward, any N >= 0. */
export function relu_backward_f32(dinp: usize, dout: usize, out: usize, N: i32): void {
  const zero = f32x4.splat(0);
  const N4 = N & ~3;
  let i = 0;
  for (; i < N4; i += 4) {
    const p = <usize>i << 2;
    // the compare gives an all-ones lane where out > 0: and-ing keeps dout there and +0.0 elsewhere
    v128.store(dinp + p, v128.and(v128.load(dout + p), f32x4.gt(v128.load(out + p), zero)));
  }
  for (; i < N; i++) {
    const p = <usize>i << 2;
    store<f32>(dinp + p, load<f32>(out + p) > 0 ? load<f32>(dout + p) : <f32>0);
  }
}

// ----------------------------------------------------------------------------
// leaky_relu forward: x > 0 ? x : slope * x (nn.LeakyReLU(negative_slope), any slope)
// out is (N), inp is (N); out == inp allowed

// @ts-ignore: decorator
@inline function leaky_relu4(x: v128, slope: v128): v128 {
  return v128.bitselect(x, f32x4.mul(x, slope), f32x4.gt(x, f32x4.splat(0)));
}

/** Scalar reference. */
export function leaky_relu_forward_f32_scalar(out: usize, inp: usize, N: i32, slope: f32): void {
  for (let i = 0; i < N; i++) {
    const p = <usize>i << 2;
    const x = load<f32>(inp + p);
    store<f32>(out + p, x > 0 ? x : x * slope);
  }
}

/** SIMD forward, any N >= 0. */
export function leaky_relu_forward_f32(out: usize, inp: usize, N: i32, slope: f32): void {
  const vs = f32x4.splat(slope);
  for (let i = 0; i < N; i += 4) {
    const p = <usize>i << 2, n = N - i;
    store4(out + p, leaky_relu4(load4(inp + p, n), vs), n);
  }
}

// ----------------------------------------------------------------------------
// leaky_relu backward: dinp = x > 0 ? dout : slope * dout
// dinp, dout are (N); x is (N): z, or the forward's output when slope >= 0 (then out > 0 exactly where z > 0)

// @ts-ignore: decorator
@inline function leaky_relu_grad4(dy: v128, x: v128, slope: v128): v128 {
  return v128.bitselect(dy, f32x4.mul(dy, slope), f32x4.gt(x, f32x4.splat(0)));
}

/** Scalar reference. */
export function leaky_relu_backward_f32_scalar(dinp: usize, dout: usize, x: usize, N: i32, slope: f32): void {
  for (let i = 0; i < N; i++) {
    const p = <usize>i << 2;
    const dy = load<f32>(dout + p);
    store<f32>(dinp + p, load<f32>(x + p) > 0 ? dy : dy * slope);
  }
}

/** SIMD backward, any N >= 0. */
export function leaky_relu_backward_f32(dinp: usize, dout: usize, x: usize, N: i32, slope: f32): void {
  const vs = f32x4.splat(slope);
  for (let i = 0; i < N; i += 4) {
    const p = <usize>i << 2, n = N - i;
    store4(dinp + p, leaky_relu_grad4(load4(dout + p, n), load4(x + p, n), vs), n);
  }
}

// ----------------------------------------------------------------------------
// sigmoid forward: 1 / (1 + exp(-x)); exp(-x) overflows to +Inf below x = -88.72, giving 0 (as PyTorch), and
// sigmoid(-88) = 1 / 1.65e38 is the subnormal 6.0546e-39
// out is (N), inp is (N); out == inp allowed

// @ts-ignore: decorator
@inline function sigmoid4(x: v128): v128 {
  const one = k4(ONE);
  return f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(x))));
}

// @ts-ignore: decorator
@inline function sigmoid1(x: f32): f32 {
  return 1 / (1 + exp1(-x));
}

/** Scalar reference. */
export function sigmoid_forward_f32_scalar(out: usize, inp: usize, N: i32): void {
  for (let i = 0; i < N; i++) {
    const p = <usize>i << 2;
    store<f32>(out + p, sigmoid1(load<f32>(inp + p)));
  }
}

/** SIMD forward, any N >= 0. */
export function sigmoid_forward_f32(out: usize, inp: usize, N: i32): void {
  for (let i = 0; i < N; i += 4) {
    const p = <usize>i << 2, n = N - i;
    store4(out + p, sigmoid4(load4(inp + p, n)), n);
  }
}

// ----------------------------------------------------------------------------
// sigmoid backward: dinp = dout (1 - y) y, from the forward's output y (PyTorch's sigmoid_backward)
// dinp, dout, out are (N); dinp == dout allowed

// @ts-ignore: decorator
@inline function sigmoid_grad4(dy: v128, y: v128): v128 {
  return f32x4.mul(f32x4.mul(dy, f32x4.sub(k4(ONE), y)), y);
}

/** Scalar reference. */
export function sigmoid_backward_f32_scalar(dinp: usize, dout: usize, out: usize, N: i32): void {
  for (let i = 0; i < N; i++) {
    const p = <usize>i << 2;
    const y = load<f32>(out + p);
    store<f32>(dinp + p, (load<f32>(dout + p) * (1 - y)) * y);
  }
}

/** SIMD backward, any N >= 0. */
export function sigmoid_backward_f32(dinp: usize, dout: usize, out: usize, N: i32): void {
  for (let i = 0; i < N; i += 4) {
    const p = <usize>i << 2, n = N - i;
    store4(dinp + p, sigmoid_grad4(load4(dout + p, n), load4(out + p, n)), n);
  }
}

// ----------------------------------------------------------------------------
// tanh forward (assembly/approx.ts tanh4: <= 1.3 ulp, odd, tanh(-0) = -0)
// out is (N), inp is (N); out == inp allowed

/** Scalar reference. */
export function tanh_forward_f32_scalar(out: usize, inp: usize, N: i32): void {
  for (let i = 0; i < N; i++) {
    const p = <usize>i << 2;
    store<f32>(out + p, tanh1(load<f32>(inp + p)));
  }
}

/** SIMD forward, any N >= 0. */
export function tanh_forward_f32(out: usize, inp: usize, N: i32): void {
  for (let i = 0; i < N; i += 4) {
    const p = <usize>i << 2, n = N - i;
    store4(out + p, tanh4(load4(inp + p, n)), n);
  }
}

// ----------------------------------------------------------------------------
// tanh backward: dinp = dout (1 - y^2), from the forward's output y (PyTorch's tanh_backward)
// dinp, dout, out are (N); dinp == dout allowed

// @ts-ignore: decorator
@inline function tanh_grad4(dy: v128, y: v128): v128 {
  return f32x4.mul(dy, f32x4.sub(k4(ONE), f32x4.mul(y, y)));
}

/** Scalar reference. */
export function tanh_backward_f32_scalar(dinp: usize, dout: usize, out: usize, N: i32): void {
  for (let i = 0; i < N; i++) {
    const p = <usize>i << 2;
    const y = load<f32>(out + p);
    store<f32>(dinp + p, load<f32>(dout + p) * (1 - y * y));
  }
}

/** SIMD backward, any N >= 0. */
export function tanh_backward_f32(dinp: usize, dout: usize, out: usize, N: i32): void {
  for (let i = 0; i < N; i += 4) {
    const p = <usize>i << 2, n = N - i;
    store4(dinp + p, tanh_grad4(load4(dout + p, n), load4(out + p, n)), n);
  }
}

// ----------------------------------------------------------------------------
// gelu forward, the exact (erf) form: (x / 2) (1 + erf(x / sqrt(2))) (nn.GELU(approximate='none'))
// out is (N), inp is (N); out == inp allowed

// @ts-ignore: decorator
@inline function gelu4(x: v128): v128 {
  const cdf2 = f32x4.add(k4(ONE), erf4(f32x4.mul(x, k4(SQRT1_2))));
  return f32x4.mul(f32x4.mul(x, k4(HALF)), cdf2);
}

// @ts-ignore: decorator
@inline function gelu1(x: f32): f32 {
  return (x * 0.5) * (1 + erf1(x * k1(SQRT1_2)));
}

/** Scalar reference. */
export function gelu_forward_f32_scalar(out: usize, inp: usize, N: i32): void {
  for (let i = 0; i < N; i++) {
    const p = <usize>i << 2;
    store<f32>(out + p, gelu1(load<f32>(inp + p)));
  }
}

/** SIMD forward, any N >= 0. */
export function gelu_forward_f32(out: usize, inp: usize, N: i32): void {
  for (let i = 0; i < N; i += 4) {
    const p = <usize>i << 2, n = N - i;
    store4(out + p, gelu4(load4(inp + p, n)), n);
  }
}

// ----------------------------------------------------------------------------
// gelu backward: dinp = dout (Phi(x) + x phi(x)), Phi(x) = (1 + erf(x / sqrt(2))) / 2, phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
// dinp, dout, inp are (N), inp the pre-activation z; dinp == dout allowed

// @ts-ignore: decorator
@inline function gelu_grad4(dy: v128, x: v128): v128 {
  const half = k4(HALF);
  const cdf = f32x4.mul(half, f32x4.add(k4(ONE), erf4(f32x4.mul(x, k4(SQRT1_2)))));
  const pdf = f32x4.mul(exp4(f32x4.mul(f32x4.mul(x, x), k4(NEG_HALF))), k4(INV_SQRT_2PI));
  return f32x4.mul(dy, madd(x, pdf, cdf));
}

/** Scalar reference. */
export function gelu_backward_f32_scalar(dinp: usize, dout: usize, inp: usize, N: i32): void {
  for (let i = 0; i < N; i++) {
    const p = <usize>i << 2;
    const x = load<f32>(inp + p);
    const cdf: f32 = 0.5 * (1 + erf1(x * k1(SQRT1_2)));
    const pdf = exp1((x * x) * -0.5) * k1(INV_SQRT_2PI);
    store<f32>(dinp + p, load<f32>(dout + p) * (x * pdf + cdf));
  }
}

/** SIMD backward, any N >= 0. */
export function gelu_backward_f32(dinp: usize, dout: usize, inp: usize, N: i32): void {
  for (let i = 0; i < N; i += 4) {
    const p = <usize>i << 2, n = N - i;
    store4(dinp + p, gelu_grad4(load4(dout + p, n), load4(inp + p, n)), n);
  }
}

// ----------------------------------------------------------------------------
// gelu_tanh forward: (x / 2) (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) (nn.GELU(approximate='tanh'))
// out is (N), inp is (N); out == inp allowed

// @ts-ignore: decorator
@inline function gelu_tanh4(x: v128): v128 {
  const x3 = f32x4.mul(f32x4.mul(x, x), x);
  const inner = f32x4.mul(k4(GELU_TANH_BETA), madd(k4(GELU_TANH_KAPPA), x3, x));
  return f32x4.mul(f32x4.mul(k4(HALF), x), f32x4.add(k4(ONE), tanh4(inner)));
}

// @ts-ignore: decorator
@inline function gelu_tanh1(x: f32): f32 {
  const x3 = (x * x) * x;
  const inner = k1(GELU_TANH_BETA) * (k1(GELU_TANH_KAPPA) * x3 + x);
  return (0.5 * x) * (1 + tanh1(inner));
}

/** Scalar reference. */
export function gelu_tanh_forward_f32_scalar(out: usize, inp: usize, N: i32): void {
  for (let i = 0; i < N; i++) {
    const p = <usize>i << 2;
    store<f32>(out + p, gelu_tanh1(load<f32>(inp + p)));
  }
}

/** SIMD forward, any N >= 0. */
export function gelu_tanh_forward_f32(out: usize, inp: usize, N: i32): void {
  for (let i = 0; i < N; i += 4) {
    const p = <usize>i << 2, n = N - i;
    store4(out + p, gelu_tanh4(load4(inp + p, n)), n);
  }
}

// ----------------------------------------------------------------------------
// gelu_tanh backward (PyTorch's terms): t = tanh(inner), left = x / 2, right = 1 + t,
// f' = right / 2 + left (1 - t^2) sqrt(2 / pi) (1 + 3 * 0.044715 x^2)
// dinp, dout, inp are (N), inp the pre-activation z; dinp == dout allowed

// @ts-ignore: decorator
@inline function gelu_tanh_grad4(dy: v128, x: v128): v128 {
  const half = k4(HALF), one = k4(ONE), beta = k4(GELU_TANH_BETA);
  const x2 = f32x4.mul(x, x);
  const x3 = f32x4.mul(x2, x);
  const t = tanh4(f32x4.mul(beta, madd(k4(GELU_TANH_KAPPA), x3, x)));
  const left = f32x4.mul(half, x);
  const right = f32x4.add(one, t);
  const dleft = f32x4.mul(half, right);
  const dtanh = f32x4.sub(one, f32x4.mul(t, t));
  const dinner = f32x4.mul(beta, madd(k4(GELU_TANH_KAPPA3), x2, one));
  const dright = f32x4.mul(f32x4.mul(left, dtanh), dinner);
  return f32x4.mul(dy, f32x4.add(dleft, dright));
}

/** Scalar reference. */
export function gelu_tanh_backward_f32_scalar(dinp: usize, dout: usize, inp: usize, N: i32): void {
  for (let i = 0; i < N; i++) {
    const p = <usize>i << 2;
    const x = load<f32>(inp + p);
    const x2 = x * x;
    const x3 = x2 * x;
    const t = tanh1(k1(GELU_TANH_BETA) * (k1(GELU_TANH_KAPPA) * x3 + x));
    const left: f32 = 0.5 * x;
    const right: f32 = 1 + t;
    const dleft: f32 = 0.5 * right;
    const dtanh: f32 = 1 - t * t;
    const dinner = k1(GELU_TANH_BETA) * (k1(GELU_TANH_KAPPA3) * x2 + 1);
    const dright = (left * dtanh) * dinner;
    store<f32>(dinp + p, load<f32>(dout + p) * (dleft + dright));
  }
}

/** SIMD backward, any N >= 0. */
export function gelu_tanh_backward_f32(dinp: usize, dout: usize, inp: usize, N: i32): void {
  for (let i = 0; i < N; i += 4) {
    const p = <usize>i << 2, n = N - i;
    store4(dinp + p, gelu_tanh_grad4(load4(dout + p, n), load4(inp + p, n)), n);
  }
}

// ----------------------------------------------------------------------------
// silu forward: x / (1 + exp(-x)) (nn.SiLU; x sigmoid(x) with one rounding fewer, as PyTorch computes it)
// out is (N), inp is (N); out == inp allowed

// @ts-ignore: decorator
@inline function silu4(x: v128): v128 {
  return f32x4.div(x, f32x4.add(k4(ONE), exp4(f32x4.neg(x))));
}

/** Scalar reference. */
export function silu_forward_f32_scalar(out: usize, inp: usize, N: i32): void {
  for (let i = 0; i < N; i++) {
    const p = <usize>i << 2;
    const x = load<f32>(inp + p);
    store<f32>(out + p, x / (1 + exp1(-x)));
  }
}

/** SIMD forward, any N >= 0. */
export function silu_forward_f32(out: usize, inp: usize, N: i32): void {
  for (let i = 0; i < N; i += 4) {
    const p = <usize>i << 2, n = N - i;
    store4(out + p, silu4(load4(inp + p, n)), n);
  }
}

// ----------------------------------------------------------------------------
// silu backward: dinp = dout s (1 + x (1 - s)), s = sigmoid(x) = 1 / (1 + e), e = exp(-x)
// 1 - s is taken as e s where s -> 1 (x >= 0), where PyTorch's 1 - s cancels (x (1 - s) is then off by up to
// 7 ulp near x = 17); below 0, 1 - s > 1/2 is exact enough, and e s would be Inf * 0 once e overflows.
// dinp, dout, inp are (N), inp the pre-activation z; dinp == dout allowed

// @ts-ignore: decorator
@inline function silu_grad4(dy: v128, x: v128): v128 {
  const one = k4(ONE);
  const e = exp4(f32x4.neg(x));
  const s = f32x4.div(one, f32x4.add(one, e));
  const oms = v128.bitselect(f32x4.sub(one, s), f32x4.mul(e, s), f32x4.lt(x, f32x4.splat(0)));
  return f32x4.mul(f32x4.mul(dy, s), madd(x, oms, one));
}

/** Scalar reference. */
export function silu_backward_f32_scalar(dinp: usize, dout: usize, inp: usize, N: i32): void {
  for (let i = 0; i < N; i++) {
    const p = <usize>i << 2;
    const x = load<f32>(inp + p);
    const e = exp1(-x);
    const s: f32 = 1 / (1 + e);
    const oms: f32 = x < 0 ? 1 - s : e * s;
    store<f32>(dinp + p, (load<f32>(dout + p) * s) * (x * oms + 1));
  }
}

/** SIMD backward, any N >= 0. */
export function silu_backward_f32(dinp: usize, dout: usize, inp: usize, N: i32): void {
  for (let i = 0; i < N; i += 4) {
    const p = <usize>i << 2, n = N - i;
    store4(dinp + p, silu_grad4(load4(dout + p, n), load4(inp + p, n)), n);
  }
}

// ----------------------------------------------------------------------------
// elu forward: x <= 0 ? alpha (exp(x) - 1) : x (nn.ELU(alpha)); expm1 keeps small |x| exact (PyTorch 1.13 computes
// exp(x) - 1: elu(-1e-30) = 0 there, -1e-30 here; the two agree within 6e-8 everywhere)
// out is (N), inp is (N); out == inp allowed

// @ts-ignore: decorator
@inline function elu4(x: v128, alpha: v128): v128 {
  return v128.bitselect(f32x4.mul(expm1_neg4(x), alpha), x, f32x4.le(x, f32x4.splat(0)));
}

/** Scalar reference. */
export function elu_forward_f32_scalar(out: usize, inp: usize, N: i32, alpha: f32): void {
  for (let i = 0; i < N; i++) {
    const p = <usize>i << 2;
    const x = load<f32>(inp + p);
    store<f32>(out + p, x <= 0 ? expm1_neg1(x) * alpha : x);
  }
}

/** SIMD forward, any N >= 0. */
export function elu_forward_f32(out: usize, inp: usize, N: i32, alpha: f32): void {
  const va = f32x4.splat(alpha);
  for (let i = 0; i < N; i += 4) {
    const p = <usize>i << 2, n = N - i;
    store4(out + p, elu4(load4(inp + p, n), va), n);
  }
}

// ----------------------------------------------------------------------------
// elu backward: dinp = x <= 0 ? dout alpha exp(x) : dout, from z (exact for any alpha, and elu'(-88) is the
// subnormal 6.0546e-39 as in PyTorch; a + alpha from the output would lose it)
// dinp, dout, inp are (N), inp the pre-activation z; dinp == dout allowed

// @ts-ignore: decorator
@inline function elu_grad4(dy: v128, x: v128, alpha: v128): v128 {
  return v128.bitselect(f32x4.mul(f32x4.mul(dy, alpha), exp4(x)), dy, f32x4.le(x, f32x4.splat(0)));
}

/** Scalar reference. */
export function elu_backward_f32_scalar(dinp: usize, dout: usize, inp: usize, N: i32, alpha: f32): void {
  for (let i = 0; i < N; i++) {
    const p = <usize>i << 2;
    const x = load<f32>(inp + p), dy = load<f32>(dout + p);
    store<f32>(dinp + p, x <= 0 ? (dy * alpha) * exp1(x) : dy);
  }
}

/** SIMD backward, any N >= 0. */
export function elu_backward_f32(dinp: usize, dout: usize, inp: usize, N: i32, alpha: f32): void {
  const va = f32x4.splat(alpha);
  for (let i = 0; i < N; i += 4) {
    const p = <usize>i << 2, n = N - i;
    store4(dinp + p, elu_grad4(load4(dout + p, n), load4(inp + p, n), va), n);
  }
}

// ----------------------------------------------------------------------------
// dispatch on an ACT_* code (src/layout.ts); identity is a copy (or nothing, in place)
// forward: out, inp are (N); backward: dinp, dout, z, out are (N), z may be 0 where the activation does not read it

/** out = f(inp) for the activation `act` with parameter `param` (leaky_relu's slope, elu's alpha). */
export function activation_forward_f32(out: usize, inp: usize, N: i32, act: i32, param: f32): void {
  switch (act) {
    case ACT_RELU: relu_forward_f32(out, inp, N); break;
    case ACT_LEAKY_RELU: leaky_relu_forward_f32(out, inp, N, param); break;
    case ACT_SIGMOID: sigmoid_forward_f32(out, inp, N); break;
    case ACT_TANH: tanh_forward_f32(out, inp, N); break;
    case ACT_GELU: gelu_forward_f32(out, inp, N); break;
    case ACT_GELU_TANH: gelu_tanh_forward_f32(out, inp, N); break;
    case ACT_SILU: silu_forward_f32(out, inp, N); break;
    case ACT_ELU: elu_forward_f32(out, inp, N, param); break;
    case ACT_IDENTITY:
    default: if (out != inp) memory.copy(out, inp, <usize>N << 2);
  }
}

/** dinp = dout * f'(.) for the activation `act`: reads the output `out` or the pre-activation `z` as f' needs. */
export function activation_backward_f32(dinp: usize, dout: usize, z: usize, out: usize, N: i32, act: i32, param: f32): void {
  switch (act) {
    case ACT_RELU: relu_backward_f32(dinp, dout, out, N); break;
    case ACT_LEAKY_RELU: leaky_relu_backward_f32(dinp, dout, z ? z : out, N, param); break;
    case ACT_SIGMOID: sigmoid_backward_f32(dinp, dout, out, N); break;
    case ACT_TANH: tanh_backward_f32(dinp, dout, out, N); break;
    case ACT_GELU: gelu_backward_f32(dinp, dout, z, N); break;
    case ACT_GELU_TANH: gelu_tanh_backward_f32(dinp, dout, z, N); break;
    case ACT_SILU: silu_backward_f32(dinp, dout, z, N); break;
    case ACT_ELU: elu_backward_f32(dinp, dout, z, N, param); break;
    case ACT_IDENTITY:
    default: if (dinp != dout) memory.copy(dinp, dout, <usize>N << 2);
  }
}
