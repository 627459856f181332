// Seeded random data for the tests: mulberry32 (scripts/random.mjs, deterministic across platforms) plus helpers for
// weights and digits.

import { mulberry32 } from '../scripts/random.mjs';

export { mulberry32 };

/** Uniform weights in [-scale, scale), as PyTorch's default Linear init draws them. */
export function seededWeights(seed: number, length: number, scale = 0.1): Float32Array {
  const random = mulberry32(seed);
  return Float32Array.from({ length }, () => (random() * 2 - 1) * scale);
}

/** n side x side "digits": a seeded ring or bar of ink (0..255) on a blank background. */
export function seededDigits(seed: number, n: number, side = 28): Uint8Array {
  const random = mulberry32(seed);
  const images = new Uint8Array(n * side * side);
  for (let k = 0; k < n; k++) {
    const cx = side / 2 + (random() - 0.5) * 4;
    const cy = side / 2 + (random() - 0.5) * 4;
    const radius = side * (0.2 + 0.1 * random());
    const ring = random() < 0.5;
    for (let r = 0; r < side; r++)
      for (let c = 0; c < side; c++) {
        const d = Math.hypot(r - cy, c - cx);
        const ink = ring ? Math.abs(d - radius) < side / 14 : Math.abs(c - cx) < side / 14 && Math.abs(r - cy) < radius;
        images[k * side * side + r * side + c] = ink ? 255 : 0;
      }
  }
  return images;
}

/** Seeded labels in [0, classes) and predictions equal to them except a share `errorRate` of mistakes. */
export function seededPredictions(
  seed: number,
  n: number,
  errorRate: number,
  classes = 10,
): { labels: number[]; predictions: number[] } {
  const random = mulberry32(seed);
  const labels = Array.from({ length: n }, () => Math.floor(random() * classes));
  const predictions = labels.map((label) =>
    random() < errorRate ? (label + 1 + Math.floor(random() * (classes - 1))) % classes : label,
  );
  return { labels, predictions };
}

export function softmax(logits: number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((z) => Math.exp(z - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}
