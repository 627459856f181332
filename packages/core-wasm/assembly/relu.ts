// ReLU: forward out = max(inp, 0) and backward dinp = dout where the unit was active, f32, SIMD with scalar references.
// NaN in gives NaN out (wasm's max propagates NaN, as torch.relu does).

// ----------------------------------------------------------------------------
// relu forward
// out is (N), inp is (N); out == inp (in place) is allowed

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
