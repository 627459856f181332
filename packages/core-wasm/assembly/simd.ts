// Shared SIMD helper: one multiply-add that compiles to f32x4.relaxed_madd in the relaxed-SIMD binary
// and to a separate mul + add in the plain-SIMD binary (same source, two asc targets).

// @ts-ignore: decorator
@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}
