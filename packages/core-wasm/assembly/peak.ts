// Calibration for the benchmark, not a layer: the multiply-add rate this engine reaches with operands in registers
// only (no loads, no stores), i.e. the ceiling any f32x4 kernel of this binary can approach on this machine.

import { madd } from './simd';

/** Runs iters x 12 independent f32x4 multiply-adds (madd: fused in the relaxed binary); returns a lane so nothing is dead. */
export function simd_madd_peak_f32(iters: i32, s: f32): f32 {
  const a = f32x4.splat(s), b = f32x4.splat(0.999);
  // 12 accumulators: more than latency x ports (4 x 2) needs, fewer than the 16 vector registers
  let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
  for (let i = 0; i < iters; i++) {
    c0 = madd(c0, b, a); c1 = madd(c1, b, a); c2 = madd(c2, b, a); c3 = madd(c3, b, a);
    c4 = madd(c4, b, a); c5 = madd(c5, b, a); c6 = madd(c6, b, a); c7 = madd(c7, b, a);
    c8 = madd(c8, b, a); c9 = madd(c9, b, a); c10 = madd(c10, b, a); c11 = madd(c11, b, a);
  }
  const t = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)));
  return f32x4.extract_lane(f32x4.add(t, f32x4.add(f32x4.add(c8, c9), f32x4.add(c10, c11))), 0);
}
