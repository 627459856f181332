// Shared SIMD helpers: one multiply-add that compiles to f32x4.relaxed_madd in the relaxed-SIMD binary and to a
// separate mul + add in the plain-SIMD binary (same source, two asc targets), and the tail of elementwise kernels.

// @ts-ignore: decorator
@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

// Elementwise kernels run every group of 4 floats, the last partial one included, through the same f32x4 code:
// load4/store4 read and write n >= 4 floats as one v128, and the last n = 1..3 lane by lane (the other lanes are 0
// and never stored). So every element gets the same bits wherever it sits (any split of the rows between threads,
// trace()'s single row), and the vector code is emitted once per kernel.

// @ts-ignore: decorator
@inline
export function load4(p: usize, n: i32): v128 {
  if (n >= 4) return v128.load(p);
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

// @ts-ignore: decorator
@inline
export function store4(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, v);
    return;
  }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}
