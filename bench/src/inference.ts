// Inference timing shared by every in-process engine and the onnxruntime child: images/s at batch 1, 64 and 256
// over the MNIST test images (medians of several passes after a warm-up), and the predictions at batch 256.
import { argmaxRows } from '@mnist/core-wasm';
import { median } from './stats.js';

export const BATCHES = [1, 64, 256] as const;
export type Batch = (typeof BATCHES)[number];

export interface Rate {
  median: number; // images/s, median pass
  best: number; // images/s, fastest pass
  images: number; // images per pass
}

export interface InferenceResult {
  rates: Record<string, Rate>;
  predictions: Int32Array;
}

/** A forward pass over `batch` rows; may return a promise (onnxruntime's session.run is async). */
export type Forward = (x: Float32Array, batch: number) => Float32Array | Promise<Float32Array>;

export interface MeasureOptions {
  runs: number; // passes per batch size (median); batch 1 uses half
  images: number; // images per pass at batch 64 and 256 (batch 1: a fifth, at least 256)
}

export async function measureInference(
  forward: Forward,
  x: Float32Array,
  inputs: number,
  classes: number,
  opt: MeasureOptions,
): Promise<InferenceResult> {
  const rates: Record<string, Rate> = {};
  const predictions = new Int32Array(opt.images);
  for (const batch of BATCHES) {
    const images = batch === 1 ? Math.max(256, Math.floor(opt.images / 5)) : opt.images;
    const pass = async (record: boolean) => {
      for (let s = 0; s < images; s += batch) {
        const n = Math.min(batch, images - s);
        let out = forward(x.subarray(s * inputs, (s + n) * inputs), n);
        if (out instanceof Promise) out = await out;
        if (record) predictions.set(argmaxRows(out, n, classes), s);
      }
    };
    await pass(batch === 256); // warm-up (and, at batch 256, the predictions)
    const runs = batch === 1 ? Math.max(1, Math.floor(opt.runs / 2)) : opt.runs;
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      await pass(false);
      times.push(performance.now() - t0);
    }
    rates[batch] = { median: (images / median(times)) * 1000, best: (images / Math.min(...times)) * 1000, images };
  }
  return { rates, predictions };
}
