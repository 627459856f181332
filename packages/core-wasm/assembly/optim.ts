// Optimizer updates with PyTorch's exact rules (torch.optim 1.13, single-tensor path), f32, one elementwise pass
// over a parameter block: SGD (momentum, dampening, Nesterov, weight decay) and Adam / AdamW (AMSGrad). Each SIMD
// kernel has a scalar reference beside it performing the same operations in the same order (no fusion), so the two
// agree bit for bit. Scalars PyTorch computes as Python floats (1 - beta1, lr / (1 - beta1^t), ...) are computed by
// the caller in f64 and passed rounded to f32, as PyTorch's CPU kernels round a Python scalar to the tensor's type.

import { OPT_FLAG_MOMENTUM, OPT_FLAG_FIRST, OPT_FLAG_NESTEROV, OPT_FLAG_AMSGRAD } from '../src/layout';

// ----------------------------------------------------------------------------
// SGD
// params, grads, buf are (N); buf is read and written only with OPT_FLAG_MOMENTUM.
//
//   g = grad + wd * p                      (if wd != 0)
//   buf = g                                (first step with momentum: PyTorch clones d_p)
//   buf = mu * buf + (1 - dampening) * g   (later steps)
//   g = nesterov ? g + mu * buf : buf      (with momentum)
//   p = p - lr * g

/**
 * One element of the SGD step: params at pp, momentum buffer at bp, gradient g; stores and returns the new parameter.
 * Shared by the scalar reference and the fused kernel's tails (dense_backward_weight_sparse_sgd_f32).
 */
// @ts-ignore: decorator
@inline
export function sgd_step1(pp: usize, g: f32, bp: usize, lr: f32, mu: f32, omd: f32, wd: f32, flags: i32): f32 {
  const p = load<f32>(pp);
  if (wd != 0) g = g + wd * p;
  if (flags & OPT_FLAG_MOMENTUM) {
    let v = g;
    if (!(flags & OPT_FLAG_FIRST)) v = load<f32>(bp) * mu + omd * g;
    store<f32>(bp, v);
    g = flags & OPT_FLAG_NESTEROV ? g + mu * v : v;
  }
  const q = p - lr * g;
  store<f32>(pp, q);
  return q;
}

/**
 * Four elements of the SGD step (the same operations as sgd_step1, lane by lane): params at pp, momentum buffer at
 * bp, gradient g; stores and returns the new parameters. Shared by sgd_step_f32 and the fused kernel.
 */
// @ts-ignore: decorator
@inline
export function sgd_step4(pp: usize, g: v128, bp: usize, vlr: v128, vmu: v128, vomd: v128, vwd: v128,
                          decay: bool, momentum: bool, first: bool, nesterov: bool): v128 {
  const p = v128.load(pp);
  if (decay) g = f32x4.add(g, f32x4.mul(vwd, p));
  if (momentum) {
    let v = g;
    if (!first) v = f32x4.add(f32x4.mul(v128.load(bp), vmu), f32x4.mul(vomd, g));
    v128.store(bp, v);
    g = nesterov ? f32x4.add(g, f32x4.mul(vmu, v)) : v;
  }
  const q = f32x4.sub(p, f32x4.mul(vlr, g));
  v128.store(pp, q);
  return q;
}

/** Scalar reference of sgd_step_f32. */
export function sgd_step_f32_scalar(params: usize, grads: usize, buf: usize, N: i32,
                                    lr: f32, mu: f32, damp: f32, wd: f32, flags: i32): void {
  const omd: f32 = 1 - damp;
  for (let i = 0; i < N; i++) {
    const o = <usize>i << 2;
    sgd_step1(params + o, load<f32>(grads + o), buf + o, lr, mu, omd, wd, flags);
  }
}

/** SIMD SGD step, any N >= 0; bit-identical to sgd_step_f32_scalar. */
export function sgd_step_f32(params: usize, grads: usize, buf: usize, N: i32,
                             lr: f32, mu: f32, damp: f32, wd: f32, flags: i32): void {
  const N4 = N & ~3;
  const vlr = f32x4.splat(lr), vmu = f32x4.splat(mu), vomd = f32x4.splat(<f32>1 - damp), vwd = f32x4.splat(wd);
  const decay = wd != 0, momentum = (flags & OPT_FLAG_MOMENTUM) != 0, first = (flags & OPT_FLAG_FIRST) != 0;
  const nesterov = (flags & OPT_FLAG_NESTEROV) != 0;
  for (let i = 0; i < N4; i += 4) {
    const o = <usize>i << 2;
    sgd_step4(params + o, v128.load(grads + o), buf + o, vlr, vmu, vomd, vwd, decay, momentum, first, nesterov);
  }
  if (N4 < N) {
    const o = <usize>N4 << 2;
    sgd_step_f32_scalar(params + o, grads + o, buf ? buf + o : 0, N - N4, lr, mu, damp, wd, flags);
  }
}

// ----------------------------------------------------------------------------
// Adam / AdamW
// params, grads, m (exp_avg), v (exp_avg_sq) are (N); vmax (max_exp_avg_sq) is (N), read only with AMSGrad.
//
//   p = p * decay                          (AdamW: decay = 1 - lr * wd; Adam passes decay = 1 and skips it)
//   g = grad + wd * p                      (Adam with wd != 0; AdamW passes wd = 0)
//   m = m * beta1 + (1 - beta1) * g
//   v = v * beta2 + ((1 - beta2) * g) * g
//   vmax = max(vmax, v)                    (AMSGrad)
//   denom = sqrt(v or vmax) / sqrt(1 - beta2^t) + eps
//   p = p + ((-step_size) * m) / denom     (step_size = lr / (1 - beta1^t); PyTorch's addcdiv order)

/** Scalar reference of adam_step_f32. */
export function adam_step_f32_scalar(params: usize, grads: usize, m: usize, v: usize, vmax: usize, N: i32,
                                     beta1: f32, omb1: f32, beta2: f32, omb2: f32, stepSize: f32, bc2sqrt: f32,
                                     eps: f32, wd: f32, decay: f32, flags: i32): void {
  const neg: f32 = -stepSize;
  for (let i = 0; i < N; i++) {
    const o = <usize>i << 2;
    let p = load<f32>(params + o);
    if (decay != 1) p = p * decay;
    let g = load<f32>(grads + o);
    if (wd != 0) g = g + wd * p;
    const mi = load<f32>(m + o) * beta1 + omb1 * g;
    const vi = load<f32>(v + o) * beta2 + omb2 * g * g;
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    let s = vi;
    if (flags & OPT_FLAG_AMSGRAD) {
      s = max(load<f32>(vmax + o), vi);
      store<f32>(vmax + o, s);
    }
    const denom = sqrt<f32>(s) / bc2sqrt + eps;
    store<f32>(params + o, p + (neg * mi) / denom);
  }
}

/** SIMD Adam/AdamW step, any N >= 0; bit-identical to adam_step_f32_scalar. */
export function adam_step_f32(params: usize, grads: usize, m: usize, v: usize, vmax: usize, N: i32,
                              beta1: f32, omb1: f32, beta2: f32, omb2: f32, stepSize: f32, bc2sqrt: f32,
                              eps: f32, wd: f32, decay: f32, flags: i32): void {
  const N4 = N & ~3;
  const vb1 = f32x4.splat(beta1), vomb1 = f32x4.splat(omb1), vb2 = f32x4.splat(beta2), vomb2 = f32x4.splat(omb2);
  const vneg = f32x4.splat(-stepSize), vbc2 = f32x4.splat(bc2sqrt), veps = f32x4.splat(eps);
  const vwd = f32x4.splat(wd), vdecay = f32x4.splat(decay);
  const decoupled = decay != 1, coupled = wd != 0, ams = (flags & OPT_FLAG_AMSGRAD) != 0;
  for (let i = 0; i < N4; i += 4) {
    const o = <usize>i << 2;
    let p = v128.load(params + o);
    if (decoupled) p = f32x4.mul(p, vdecay);
    let g = v128.load(grads + o);
    if (coupled) g = f32x4.add(g, f32x4.mul(vwd, p));
    const mi = f32x4.add(f32x4.mul(v128.load(m + o), vb1), f32x4.mul(vomb1, g));
    const vi = f32x4.add(f32x4.mul(v128.load(v + o), vb2), f32x4.mul(f32x4.mul(vomb2, g), g));
    v128.store(m + o, mi);
    v128.store(v + o, vi);
    let s = vi;
    if (ams) {
      s = f32x4.max(v128.load(vmax + o), vi);
      v128.store(vmax + o, s);
    }
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(s), vbc2), veps);
    v128.store(params + o, f32x4.add(p, f32x4.div(f32x4.mul(vneg, mi), denom)));
  }
  if (N4 < N) {
    const o = <usize>N4 << 2;
    adam_step_f32_scalar(params + o, grads + o, m + o, v + o, vmax ? vmax + o : 0, N - N4,
                         beta1, omb1, beta2, omb2, stepSize, bc2sqrt, eps, wd, decay, flags);
  }
}
