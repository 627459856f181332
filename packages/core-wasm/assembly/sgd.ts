// SGD update, PyTorch's convention: without momentum p -= lr * g; with momentum v = mu * v + g, p -= lr * v.
// f32, SIMD with scalar references. PyTorch starts its momentum buffer at g, which is what v = mu * 0 + g gives.

// ----------------------------------------------------------------------------
// plain SGD
// params is (N), grads is (N)

/** Scalar reference: params[i] -= lr * grads[i]. */
export function sgd_update_f32_scalar(params: usize, grads: usize, N: i32, lr: f32): void {
  for (let i = 0; i < N; i++) {
    const p = <usize>i << 2;
    store<f32>(params + p, load<f32>(params + p) - lr * load<f32>(grads + p));
  }
}

/** SIMD update, any N >= 0; bit-identical to the scalar reference (same operations per element, no fusion). */
export function sgd_update_f32(params: usize, grads: usize, N: i32, lr: f32): void {
  const vlr = f32x4.splat(lr);
  const N4 = N & ~3;
  let i = 0;
  for (; i < N4; i += 4) {
    const p = <usize>i << 2;
    v128.store(params + p, f32x4.sub(v128.load(params + p), f32x4.mul(vlr, v128.load(grads + p))));
  }
  for (; i < N; i++) {
    const p = <usize>i << 2;
    store<f32>(params + p, load<f32>(params + p) - lr * load<f32>(grads + p));
  }
}

// ----------------------------------------------------------------------------
// SGD with momentum
// params is (N), grads is (N), velocity is (N) (zero before the first step)

/** Scalar reference: v = mu * v + g; p -= lr * v. */
export function sgd_momentum_update_f32_scalar(params: usize, grads: usize, velocity: usize,
                                               N: i32, lr: f32, mu: f32): void {
  for (let i = 0; i < N; i++) {
    const p = <usize>i << 2;
    const v = mu * load<f32>(velocity + p) + load<f32>(grads + p);
    store<f32>(velocity + p, v);
    store<f32>(params + p, load<f32>(params + p) - lr * v);
  }
}

/** SIMD update, any N >= 0; bit-identical to the scalar reference. */
export function sgd_momentum_update_f32(params: usize, grads: usize, velocity: usize,
                                        N: i32, lr: f32, mu: f32): void {
  const vlr = f32x4.splat(lr);
  const vmu = f32x4.splat(mu);
  const N4 = N & ~3;
  let i = 0;
  for (; i < N4; i += 4) {
    const p = <usize>i << 2;
    const v = f32x4.add(f32x4.mul(vmu, v128.load(velocity + p)), v128.load(grads + p));
    v128.store(velocity + p, v);
    v128.store(params + p, f32x4.sub(v128.load(params + p), f32x4.mul(vlr, v)));
  }
  for (; i < N; i++) {
    const p = <usize>i << 2;
    const v = mu * load<f32>(velocity + p) + load<f32>(grads + p);
    store<f32>(velocity + p, v);
    store<f32>(params + p, load<f32>(params + p) - lr * v);
  }
}
