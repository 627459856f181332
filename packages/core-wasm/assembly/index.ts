// Entry of the WASM core: every kernel (one file per layer family) plus the allocator, as raw-pointer exports.
// The TS side (src/kernels.ts) mirrors these signatures; nothing here allocates except alloc().

export * from './dense';
export * from './activations';
export { exp_f32, expm1_neg_f32, erf_f32 } from './approx';
export * from './softmax_xent';
export { sgd_step_f32_scalar, sgd_step_f32, adam_step_f32_scalar, adam_step_f32 } from './optim';
export * from './dropout';
export * from './jobs';
export * from './peak';
export * from './augment';
export * from './int8';

/** Allocates `size` bytes, 16-byte aligned, growing memory as needed (stub runtime: a bump allocator). */
export function alloc(size: usize): usize {
  return heap.alloc(size);
}

/** Frees a block; the stub runtime only reclaims the most recently allocated one. */
export function free(ptr: usize): void {
  heap.free(ptr);
}

/** Fills `n` floats at ptr with zero. */
export function zero_f32(ptr: usize, n: i32): void {
  memory.fill(ptr, 0, <usize>n << 2);
}

/** 1 if all n floats at ptr are finite, else 0 (x - x is 0 exactly for finite x, NaN for +-Inf and NaN). */
export function all_finite_f32(ptr: usize, n: i32): i32 {
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(ptr + (<usize>i << 2));
    acc = f32x4.add(acc, f32x4.sub(v, v));
  }
  let s: f32 = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; i < n; i++) {
    const v = load<f32>(ptr + (<usize>i << 2));
    s += v - v;
  }
  return s == 0 ? 1 : 0;
}
