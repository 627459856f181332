// A plain float64 reference for explanations (issue 14), any Linear stack with an activation per hidden layer: the
// score of a target class and its gradient w.r.t. the input, the loss gradient of every weight and bias, gradient x
// input, SmoothGrad, integrated gradients and FGSM, each exactly as defined in the header of
// test/golden/make_explain.py. Built on test/reference.ts (dense layers, activations, softmax); plus the reader of
// test/golden/explain.json. Written for clarity, not speed.
import { readFileSync } from 'node:fs';
import type { ActivationSpec } from '../src/activations.js';
import { goldenFile } from './helpers.js';
import { activateGrad, crossEntropy, denseBackward, forward, softmax, toRef, type RefLayer } from './reference.js';

/** 'logit': z[t]; 'logprob': log_softmax(z)[t] = z[t] - logsumexp(z). */
export type Score = 'logit' | 'logprob';
/** A class index, or 'predicted': the argmax of each clean image's logits. */
export type Target = number | 'predicted';

export interface LayerGradients {
  weight: Float64Array; // (out, in)
  bias: Float64Array; // (out)
}

// ---------------------------------------------------------------------------------------------------------------------
// Forward, scores, backward

/** The logits (B, V). */
export function logits(layers: RefLayer[], x: ArrayLike<number>, B: number, acts: readonly ActivationSpec[]) {
  const { a } = forward(layers, x, B, acts);
  return a[a.length - 1];
}

/** Index of each row's largest value, the first on ties (torch.argmax). */
export function argmaxRows(values: ArrayLike<number>, B: number, V: number): number[] {
  return Array.from({ length: B }, (_, b) => {
    let best = 0;
    for (let v = 1; v < V; v++) if (values[b * V + v] > values[b * V + best]) best = v;
    return best;
  });
}

/** One class per image: the given class, or each image's prediction (resolved once, on the clean images). */
export function resolveTargets(
  layers: RefLayer[],
  x: ArrayLike<number>,
  B: number,
  target: Target,
  acts: readonly ActivationSpec[],
): number[] {
  const V = layers[layers.length - 1].out;
  return target === 'predicted' ? argmaxRows(logits(layers, x, B, acts), B, V) : Array(B).fill(target);
}

/** log_softmax of each row (B, V), by log-sum-exp. */
export function logSoftmax(z: ArrayLike<number>, B: number, V: number): Float64Array {
  const out = new Float64Array(B * V);
  for (let b = 0; b < B; b++) {
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, z[b * V + v]);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(z[b * V + v] - m);
    const lse = m + Math.log(s);
    for (let v = 0; v < V; v++) out[b * V + v] = z[b * V + v] - lse;
  }
  return out;
}

/** s_t(x) of each image (B). */
export function scores(
  layers: RefLayer[],
  x: ArrayLike<number>,
  B: number,
  targets: readonly number[],
  score: Score,
  acts: readonly ActivationSpec[],
): Float64Array {
  const V = layers[layers.length - 1].out;
  const z = logits(layers, x, B, acts);
  const s = score === 'logit' ? z : logSoftmax(z, B, V);
  return Float64Array.from(targets, (t, b) => s[b * V + t]);
}

/** d s_t / d z (B, V): one-hot(t) for 'logit', one-hot(t) - softmax(z) for 'logprob'. */
export function scoreLogitGradient(
  z: ArrayLike<number>,
  B: number,
  V: number,
  targets: readonly number[],
  score: Score,
): Float64Array {
  const dz = score === 'logit' ? new Float64Array(B * V) : softmax(z, B, V).map((p) => -p);
  for (let b = 0; b < B; b++) dz[b * V + targets[b]] += 1;
  return dz;
}

/**
 * Back-propagates dLogits (B, V) through the stack: the gradient w.r.t. the input x (B, in) and every weight and bias
 * (fresh arrays, summed over the batch). dz_i = dh_i * f'(z_i) below each hidden layer.
 */
export function backward(
  layers: RefLayer[],
  x: ArrayLike<number>,
  B: number,
  dLogits: ArrayLike<number>,
  acts: readonly ActivationSpec[],
): { dx: Float64Array; grads: LayerGradients[] } {
  const { z, a } = forward(layers, x, B, acts);
  const grads: LayerGradients[] = new Array(layers.length);
  let dout: ArrayLike<number> = dLogits;
  let dx = new Float64Array(0);
  for (let i = layers.length - 1; i >= 0; i--) {
    const L = layers[i];
    const { dinp, dweight, dbias } = denseBackward(dout, i > 0 ? a[i - 1] : x, L.weight, B, L.in, L.out);
    grads[i] = { weight: dweight, bias: dbias };
    if (i > 0) {
      const zPrev = z[i - 1];
      dout = dinp.map((g, j) => g * activateGrad(acts[i - 1], zPrev[j]));
    } else dx = dinp;
  }
  return { dx, grads };
}

/** G(x) = d s_t / d x (B, in): each image's own gradient (images do not interact). */
export function inputGradient(
  layers: RefLayer[],
  x: ArrayLike<number>,
  B: number,
  targets: readonly number[],
  score: Score,
  acts: readonly ActivationSpec[],
): Float64Array {
  const V = layers[layers.length - 1].out;
  const dz = scoreLogitGradient(logits(layers, x, B, acts), B, V, targets, score);
  return backward(layers, x, B, dz, acts).dx;
}

/** Mean cross-entropy of the batch against `labels` and its gradient w.r.t. every weight and bias. */
export function lossGradients(
  layers: RefLayer[],
  x: ArrayLike<number>,
  labels: ArrayLike<number>,
  B: number,
  acts: readonly ActivationSpec[],
): { loss: number; grads: LayerGradients[] } {
  const V = layers[layers.length - 1].out;
  const z = logits(layers, x, B, acts);
  // d mean_b CE / dz = (softmax(z) - one-hot(y)) / B
  const dz = softmax(z, B, V);
  for (let b = 0; b < B; b++) dz[b * V + labels[b]] -= 1;
  for (let i = 0; i < dz.length; i++) dz[i] /= B;
  return { loss: crossEntropy(z, labels, B, V), grads: backward(layers, x, B, dz, acts).grads };
}

// ---------------------------------------------------------------------------------------------------------------------
// Attributions and FGSM (make_explain.py's DEFINITIONS)

/** x * G(x), elementwise. */
export function gradientTimesInput(
  layers: RefLayer[],
  x: ArrayLike<number>,
  B: number,
  targets: readonly number[],
  score: Score,
  acts: readonly ActivationSpec[],
): Float64Array {
  return inputGradient(layers, x, B, targets, score, acts).map((g, i) => g * x[i]);
}

/** (1/N) sum_k G(x + noise[k]); noise is (N, B, in), the noisy input unclamped, the targets those of the clean x. */
export function smoothGrad(
  layers: RefLayer[],
  x: ArrayLike<number>,
  B: number,
  targets: readonly number[],
  score: Score,
  noise: ArrayLike<number>,
  acts: readonly ActivationSpec[],
): Float64Array {
  const n = B * layers[0].in;
  const samples = noise.length / n;
  if (!Number.isInteger(samples) || samples < 1)
    throw new Error(`smoothGrad: noise length ${noise.length} is not N*${n}`);
  const sum = new Float64Array(n);
  const noisy = new Float64Array(n);
  for (let k = 0; k < samples; k++) {
    for (let i = 0; i < n; i++) noisy[i] = x[i] + noise[k * n + i];
    const g = inputGradient(layers, noisy, B, targets, score, acts);
    for (let i = 0; i < n; i++) sum[i] += g[i];
  }
  return sum.map((s) => s / samples);
}

/** The points of the right Riemann sum: x0 + (k/steps)(x - x0) for k = 1..steps (the last is x itself). */
export function integrationPoints(x: ArrayLike<number>, baseline: ArrayLike<number>, steps: number): Float64Array[] {
  return Array.from({ length: steps }, (_, j) => {
    const alpha = (j + 1) / steps;
    return Float64Array.from(x, (v, i) => baseline[i] + alpha * (v - baseline[i]));
  });
}

/** (x - x0) * (1/steps) sum_{k=1..steps} G(x0 + (k/steps)(x - x0)); baseline x0 = 0 (black) unless given. */
export function integratedGradients(
  layers: RefLayer[],
  x: ArrayLike<number>,
  B: number,
  targets: readonly number[],
  score: Score,
  steps: number,
  acts: readonly ActivationSpec[],
  baseline: ArrayLike<number> = new Float64Array(x.length),
): Float64Array {
  const sum = new Float64Array(x.length);
  for (const point of integrationPoints(x, baseline, steps)) {
    const g = inputGradient(layers, point, B, targets, score, acts);
    for (let i = 0; i < sum.length; i++) sum[i] += g[i];
  }
  return sum.map((s, i) => ((x[i] - baseline[i]) * s) / steps);
}

/**
 * One FGSM step within [0, 1]. Untargeted (away from `target`, usually the prediction): clamp(x + eps sign(d CE(z, t)
 * /dx)); targeted (towards `target`): clamp(x - eps sign(d CE(z, t)/dx)). d CE(z, t)/dx = -G for score 'logprob';
 * sign(0) = 0.
 */
export function fgsm(
  layers: RefLayer[],
  x: ArrayLike<number>,
  B: number,
  targets: readonly number[],
  eps: number,
  kind: 'untargeted' | 'targeted',
  acts: readonly ActivationSpec[],
): Float64Array {
  const g = inputGradient(layers, x, B, targets, 'logprob', acts);
  const direction = kind === 'targeted' ? 1 : -1;
  return Float64Array.from(x, (v, i) => Math.min(1, Math.max(0, v + direction * eps * Math.sign(g[i]))));
}

// ---------------------------------------------------------------------------------------------------------------------
// The golden file test/golden/explain.json + explain.bin (make_explain.py), and the default model's weights, which
// it locates inside models/mnist_model.pth instead of copying them

interface GoldenTensor {
  dtype: 'float32';
  offset: number;
  shape: number[];
}

export interface ExplainNet {
  name: string;
  sizes: number[];
  activations: ActivationSpec['name'][];
  predicted: number[];
  logits_f64: number[][];
  loss: number;
  loss_f32: number;
  min_relu_margin: number | null;
  min_relu_margin_ulps: number | null;
  min_argmax_margin: number;
  fgsm_predicted: { untargeted: number[]; targeted: number[] };
  f32_vs_f64: Record<string, number>;
  lossgrad_rows?: number[];
  lossgrad_0_weight_sums?: { sum: number; sum_abs: number; sum_squares: number; nonzero_rows: number };
}

export interface ExplainManifest {
  images: { indices: number[]; labels: number[] };
  class: number;
  smoothgrad: { samples: number; std: number };
  integrated: { steps: number };
  fgsm: { eps: number; clamp: [number, number] };
  small_nets: { sizes: number[] };
  default_model: { file: string; sha256: string; layers: [string, string][]; tensors: Record<string, GoldenTensor> };
  nets: ExplainNet[];
  tensors: Record<string, GoldenTensor>;
}

export const METHODS = ['gradient', 'gradxinput', 'smoothgrad', 'integrated'] as const;
export const SCORES: readonly Score[] = ['logit', 'logprob'];
export const TARGETS = ['class', 'predicted'] as const;

/** Float32 weights in PyTorch layout, as Mlp.setLayer takes them. */
export interface GoldenLayer {
  weight: Float32Array;
  bias: Float32Array;
  in: number;
  out: number;
}

/** The explain golden file: its manifest, its tensors, and each net's float32 weights and activations. */
export function explainGolden() {
  const { manifest, tensor } = goldenFile<ExplainManifest>('explain');
  const modelFile = new URL(`../../../${manifest.default_model.file}`, import.meta.url);
  let model: Buffer | undefined;
  const modelTensor = (key: string): Float32Array => {
    model ??= readFileSync(modelFile);
    const t = manifest.default_model.tensors[key];
    const n = t.shape.reduce((a, b) => a * b, 1);
    return new Float32Array(model.buffer.slice(model.byteOffset + t.offset, model.byteOffset + t.offset + 4 * n));
  };
  const layers = (name: string): GoldenLayer[] => {
    const net = manifest.nets.find((n) => n.name === name);
    if (!net) throw new Error(`explain.json has no net ${name}`);
    return net.sizes.slice(1).map((out, i) => {
      const [weight, bias] =
        name === 'default'
          ? manifest.default_model.layers[i].map(modelTensor)
          : [tensor(`small.${i}.weight`), tensor(`small.${i}.bias`)];
      return { weight, bias, in: net.sizes[i], out };
    });
  };
  return {
    manifest,
    tensor,
    /** The bytes of models/mnist_model.pth, to check its sha256 against the manifest's. */
    modelBytes: () => (model ??= readFileSync(modelFile)),
    layers,
    /** A net's float64 reference layers and its activations. */
    net: (name: string) => {
      const net = manifest.nets.find((n) => n.name === name)!;
      return { ...net, ref: toRef(layers(name)), acts: net.activations.map((a) => ({ name: a }) as ActivationSpec) };
    },
  };
}
