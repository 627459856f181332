// Dropout while training, as torch.nn.Dropout(p) in train mode: each activation is kept with probability 1 - p and
// scaled by 1 / (1 - p) (PyTorch: input * bernoulli(1 - p) / (1 - p)), else zeroed; the backward multiplies the
// gradient by the same mask. The mask of row r is drawn from mulberry32 seeded by (step seed, layer, r), so every
// thread split of the rows gives the same mask (the stream is not PyTorch's: its masks cannot be reproduced).

// ----------------------------------------------------------------------------
// mask
// mask is (n, C) for rows r0..r0+n-1 of the batch

/** mulberry32 seed of row r of layer l's mask at step seed s. */
// @ts-ignore: decorator
@inline function row_seed(s: u32, l: i32, r: i32): u32 {
  let h: u32 = s ^ (<u32>(l + 1) * 0x85ebca6b);
  h = (h ^ (h >>> 16)) * 0x7feb352d;
  h ^= <u32>(r + 1) * 0x9e3779b1;
  h = (h ^ (h >>> 15)) * 0x846ca68b;
  return h ^ (h >>> 16);
}

/** mask[i] = scale where the row's next mulberry32 number u satisfies u >= p (probability 1 - p), else 0. */
export function dropout_mask_f32(mask: usize, r0: i32, n: i32, C: i32, p: f32, scale: f32, seed: u32, layer: i32): void {
  const pp: f64 = <f64>p;
  for (let r = 0; r < n; r++) {
    let a: u32 = row_seed(seed, layer, r0 + r);
    const row = mask + ((<usize>r * C) << 2);
    for (let c = 0; c < C; c++) {
      // mulberry32, as src/random.ts seededRandom
      a += 0x6d2b79f5;
      let t: u32 = a;
      t = (t ^ (t >>> 15)) * (t | 1);
      t ^= t + (t ^ (t >>> 7)) * (t | 61);
      const u: f64 = <f64>((t ^ (t >>> 14)) >>> 0) / 4294967296.0;
      store<f32>(row + (<usize>c << 2), u >= pp ? scale : 0);
    }
  }
}

// ----------------------------------------------------------------------------
// apply (forward: out = inp * mask; backward: dinp = dout * mask), N elements, out == inp allowed

/** Scalar reference: out[i] = inp[i] * mask[i]. */
export function dropout_apply_f32_scalar(out: usize, inp: usize, mask: usize, N: i32): void {
  for (let i = 0; i < N; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(inp + o) * load<f32>(mask + o));
  }
}

/** SIMD out = inp * mask, bit-identical to the scalar reference. */
export function dropout_apply_f32(out: usize, inp: usize, mask: usize, N: i32): void {
  const N4 = N & ~3;
  for (let i = 0; i < N4; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(v128.load(inp + o), v128.load(mask + o)));
  }
  if (N4 < N) {
    const o = <usize>N4 << 2;
    dropout_apply_f32_scalar(out + o, inp + o, mask + o, N - N4);
  }
}
