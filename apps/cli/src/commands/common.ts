// Options every command accepts, softmax in float64 for reporting, and the seeded shuffle used by train.
import type { OptionSpecs } from '../args.js';

export const COMMON_OPTIONS: OptionSpecs = {
  help: { kind: 'flag', short: 'h' },
  verbose: { kind: 'flag' },
};

export const COMMON_HELP: Record<string, string> = {
  help: 'show this help',
  verbose: 'print stack traces of errors',
};

/** Row-wise softmax of float32 logits in float64 (max subtracted for stability). */
export function softmaxRow(logits: Float32Array, row: number, classes: number): number[] {
  let max = -Infinity;
  for (let c = 0; c < classes; c++) max = Math.max(max, logits[row * classes + c]!);
  const out = new Array<number>(classes);
  let sum = 0;
  for (let c = 0; c < classes; c++) {
    out[c] = Math.exp(logits[row * classes + c]! - max);
    sum += out[c]!;
  }
  for (let c = 0; c < classes; c++) out[c]! /= sum;
  return out;
}

export function argmaxRow(logits: Float32Array, row: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (logits[row * classes + c]! > logits[row * classes + best]!) best = c;
  return best;
}

/** mulberry32: a tiny seeded generator, so `--seed` reproduces the batch order. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates shuffle in place. */
export function shuffle(array: Uint32Array, random: () => number): void {
  for (let i = array.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = array[i]!;
    array[i] = array[j]!;
    array[j] = t;
  }
}
