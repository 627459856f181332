// Inference timing shared by every in-process engine, the onnxruntime children and (in Python, weights_io.py's
// time_batches) the NumPy and PyTorch peers: per batch size, a warm-up pass then timed passes over the MNIST test
// images, wall milliseconds of each pass kept, so that passes from several interleaved rounds can be pooled into one
// median and best; and the predictions at batch 256.
import { argmaxRows } from '@mnist/core-wasm';
import { median } from './stats.js';

/** The batch sizes swept (a peer's ratio counts against its best one). */
export const BATCHES = [1, 16, 64, 256, 1024] as const;
export type Batch = (typeof BATCHES)[number];
/** Batch 1 runs over the first images only (this many of the 10,000), with half the passes. */
export const BATCH1_IMAGES = 2000;

/** The timed passes at one batch size: images per pass and wall ms of each. */
export interface Passes {
  images: number;
  ms: number[];
}

export interface Rate {
  median: number; // images/s, median pass
  best: number; // images/s, fastest pass
}

export interface InferenceResult {
  /** By batch size (as a string key: the JSON the children print). */
  passes: Record<string, Passes>;
  predictions: Int32Array;
}

/** A forward pass over `batch` rows; may return a promise (onnxruntime's session.run is async). */
export type Forward = (x: Float32Array, batch: number) => Float32Array | Promise<Float32Array>;

export interface MeasureOptions {
  passes: number; // timed passes per batch size; batch 1 takes half
  images: number; // images per pass (batch 1: BATCH1_IMAGES, or a fifth of a smaller set, at least 256)
}

export async function measureInference(
  forward: Forward,
  x: Float32Array,
  inputs: number,
  classes: number,
  opt: MeasureOptions,
): Promise<InferenceResult> {
  const passes: Record<string, Passes> = {};
  const predictions = new Int32Array(opt.images);
  for (const batch of BATCHES) {
    const images = batch === 1 ? Math.min(BATCH1_IMAGES, Math.max(256, Math.floor(opt.images / 5))) : opt.images;
    const pass = async (record: boolean) => {
      for (let s = 0; s < images; s += batch) {
        const n = Math.min(batch, images - s);
        let out = forward(x.subarray(s * inputs, (s + n) * inputs), n);
        if (out instanceof Promise) out = await out;
        if (record) predictions.set(argmaxRows(out, n, classes), s);
      }
    };
    await pass(batch === 256); // warm-up (and, at batch 256, the predictions)
    const runs = batch === 1 ? Math.max(1, Math.floor(opt.passes / 2)) : opt.passes;
    const ms: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      await pass(false);
      ms.push(performance.now() - t0);
    }
    passes[batch] = { images, ms };
  }
  return { passes, predictions };
}

/** Images/s of the median and the fastest pass. */
export function rate(p: Passes): Rate {
  return { median: (p.images / median(p.ms)) * 1000, best: (p.images / Math.min(...p.ms)) * 1000 };
}

/** Adds `more`'s passes to `into` (the same engine measured in a later round). */
export function pool(into: Record<string, Passes>, more: Record<string, Passes>): void {
  for (const [batch, p] of Object.entries(more)) {
    if (into[batch]) into[batch].ms.push(...p.ms);
    else into[batch] = { images: p.images, ms: [...p.ms] };
  }
}

/** The batch size with the highest median rate, and that rate. */
export function bestBatch(passes: Record<string, Passes>): { batch: number; rate: number } {
  let best = { batch: 0, rate: 0 };
  for (const [batch, p] of Object.entries(passes)) {
    const r = rate(p).median;
    if (r > best.rate) best = { batch: Number(batch), rate: r };
  }
  return best;
}
