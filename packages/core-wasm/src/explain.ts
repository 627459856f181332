// Explanations with gradients (issue 14), on Mlp.inputGradients: saliency maps (the gradient of a class score w.r.t.
// the pixels, gradient x input, SmoothGrad, integrated gradients), counterfactuals (FGSM, PGD within an L-inf ball,
// signed steps towards a class) and the last hidden layer's contributions to a class. The definitions are those of
// test/golden/make_explain.py's header, which the tests check against PyTorch.

import { argmaxRows } from './argmax.js';
import { CoreError } from './errors.js';
import { classTargets, type ClassScore, type ClassTarget, type Mlp } from './mlp.js';
import { seededRandom } from './random.js';

/** The model's input normalization: it sees (pixel - mean) / std, each step rounded to float32 (torchvision's Normalize). */
export interface InputNormalization {
  mean: number;
  std: number;
}

export const SALIENCY_METHODS = ['gradient', 'gradxinput', 'smoothgrad', 'integrated'] as const;
export type SaliencyMethod = (typeof SALIENCY_METHODS)[number];

/** The defaults of saliency(), fgsm(), pgd() and towardsClass(). */
export const EXPLAIN_DEFAULTS = Object.freeze({
  method: 'gradient' as SaliencyMethod,
  score: 'logit' as ClassScore,
  /** SmoothGrad: noisy copies and the noise's standard deviation (pixel units). */
  samples: 16,
  noise: 0.15,
  seed: 0,
  /** Integrated gradients: points of the Riemann sum from the black baseline. */
  steps: 16,
  /** FGSM and PGD: the L-inf budget (pixel units); PGD's steps, its step size is 2.5 eps / steps (Madry et al.). */
  eps: 0.1,
  pgdSteps: 20,
  /** towardsClass: steps and step size. */
  towardsSteps: 20,
  towardsStepSize: 0.02,
});

export interface SaliencyOptions {
  /** 'gradient' (default), 'gradxinput', 'smoothgrad' or 'integrated'. */
  method?: SaliencyMethod;
  /** The class score differentiated: 'logit' (default) or 'logprob'. */
  score?: ClassScore;
  /** SmoothGrad: how many noisy copies (default 16). */
  samples?: number;
  /** SmoothGrad: the noise's standard deviation (default 0.15). */
  noise?: number;
  /** SmoothGrad: the seed of the noise (default 0). */
  seed?: number;
  /** SmoothGrad: the noise itself, samples x batch x inputs (already times the std), instead of drawing it. */
  noiseValues?: Float32Array;
  /** Integrated gradients: points of the Riemann sum (default 16). */
  steps?: number;
  /** x is pixels and the model sees (x - mean) / std: the attribution is w.r.t. the pixels (chain rule). */
  normalize?: InputNormalization | null;
}

export interface Saliency {
  /** One value per input value (batch x inputs). */
  attribution: Float32Array;
  /** The class explained for each input (resolved once on the clean x for 'predicted'). */
  targets: Int32Array;
  method: SaliencyMethod;
  score: ClassScore;
}

/**
 * A saliency map of each input in x (batch x inputs) for class `target` (a class, one per input, or 'predicted'):
 *   gradient     G(x) = d s_t / d x
 *   gradxinput   x * G(x)
 *   smoothgrad   (1/N) sum_k G(x + noise_k), noise_k ~ N(0, noise^2) per value (seeded), the noisy input not clamped
 *   integrated   x * (1/M) sum_{k=1..M} G((k/M) x): the right Riemann sum from the black baseline 0
 * s_t is the logit or the log-probability of t (options.score); the target is resolved once, on the clean x.
 */
export function saliency(net: Mlp, x: Float32Array, target: ClassTarget, options: SaliencyOptions = {}): Saliency {
  const what = 'saliency';
  const batch = batchOf(net, x, what);
  const method = options.method ?? EXPLAIN_DEFAULTS.method;
  if (!SALIENCY_METHODS.includes(method)) {
    throw new CoreError(
      'CORE_BAD_ARGUMENT',
      `${what}: unknown method ${JSON.stringify(method)}`,
      `use ${SALIENCY_METHODS.join(', ')}`,
    );
  }
  const score = checkScore(options.score ?? EXPLAIN_DEFAULTS.score, what);
  const normalize = checkNormalize(options.normalize, what);
  const n = x.length;
  const targets = classTargets(target, batch, net.classes, what) ?? net.predict(modelInput(x, normalize), batch);
  const result = (attribution: Float32Array): Saliency => ({ attribution, targets, method, score });

  if (method === 'gradient' || method === 'gradxinput') {
    const g = pixelGradients(net, x, batch, targets, score, normalize);
    if (method === 'gradxinput') for (let i = 0; i < n; i++) g[i] = x[i] * g[i];
    return result(g);
  }
  if (method === 'smoothgrad') {
    let samples = options.samples ?? EXPLAIN_DEFAULTS.samples;
    let noise: Float32Array;
    if (options.noiseValues !== undefined) {
      noise = options.noiseValues;
      if (!(noise instanceof Float32Array) || noise.length === 0 || noise.length % n !== 0) {
        throw new CoreError(
          'CORE_BAD_SHAPE',
          `${what}: noiseValues must be a Float32Array of samples x ${n} values, got ${describe(noise)}`,
        );
      }
      if (options.samples !== undefined && options.samples !== noise.length / n) {
        throw new CoreError(
          'CORE_BAD_SHAPE',
          `${what}: noiseValues holds ${noise.length / n} samples, options.samples says ${options.samples}`,
        );
      }
      samples = noise.length / n;
    } else {
      checkCount(samples, 'samples', what);
      const std = options.noise ?? EXPLAIN_DEFAULTS.noise;
      if (!(Number.isFinite(std) && std >= 0)) {
        throw new CoreError('CORE_BAD_ARGUMENT', `${what}: noise must be a standard deviation >= 0, got ${std}`);
      }
      const seed = options.seed ?? EXPLAIN_DEFAULTS.seed;
      if (!Number.isInteger(seed))
        throw new CoreError('CORE_BAD_ARGUMENT', `${what}: seed must be an integer, got ${seed}`);
      noise = gaussianNoise(samples * n, std, seed);
    }
    const noisy = new Float32Array(samples * n);
    for (let k = 0; k < samples; k++) for (let i = 0; i < n; i++) noisy[k * n + i] = x[i] + noise[k * n + i];
    return result(
      meanOfSamples(
        pixelGradients(net, noisy, samples * batch, repeat(targets, samples), score, normalize),
        samples,
        n,
      ),
    );
  }
  const steps = options.steps ?? EXPLAIN_DEFAULTS.steps;
  checkCount(steps, 'steps', what);
  // the points (k/M) x for k = 1..M, alpha in float64 as the definition has it; the last point is x itself
  const points = new Float32Array(steps * n);
  for (let k = 1; k <= steps; k++) {
    const alpha = k / steps;
    for (let i = 0; i < n; i++) points[(k - 1) * n + i] = alpha * x[i];
  }
  const mean = meanOfSamples(
    pixelGradients(net, points, steps * batch, repeat(targets, steps), score, normalize),
    steps,
    n,
  );
  for (let i = 0; i < n; i++) mean[i] = x[i] * mean[i];
  return result(mean);
}

// ---------------------------------------------------------------------------------------------------------------------
// Counterfactuals: what would change the network's mind, in pixel space [0, 1]

export interface AttackOptions {
  /** Push each input towards this class (or one class per input); default: away from the input's prediction. */
  target?: number | ArrayLike<number>;
  /** The L-inf budget around x, in pixel units (default 0.1). */
  eps?: number;
  /** The model sees (pixel - mean) / std: the gradient w.r.t. the pixels is the input gradient / std. */
  normalize?: InputNormalization | null;
}

export interface PgdOptions extends AttackOptions {
  /** Signed gradient steps (default 20). */
  steps?: number;
  /** The size of each step (default 2.5 eps / steps, at most 1). */
  stepSize?: number;
  /** Stop an input at the first step where it is classified as the target (untargeted: not as before); default true. */
  stopWhenReached?: boolean;
}

export interface TowardsClassOptions {
  /** Signed gradient steps (default 20). */
  steps?: number;
  /** The size of each step in pixel units (default 0.02). */
  stepSize?: number;
  normalize?: InputNormalization | null;
}

/** One input's counterfactual. */
export interface Counterfactual {
  /** The changed image, pixels in [0, 1]. */
  image: Float32Array;
  /** Its class probabilities (softmax of the logits) and predicted class (the argmax logit). */
  probabilities: Float32Array;
  predicted: number;
  /** max_i |image_i - x_i|: the L-inf distance actually used. */
  linf: number;
  /** The prediction for the unchanged input. */
  original: number;
  /** The class the attack pushed towards, or null (untargeted: away from `original`). */
  target: number | null;
  /** Whether `predicted` is the target (untargeted: differs from `original`). */
  reached: boolean;
  /** Gradient steps taken. */
  steps: number;
}

/**
 * One FGSM step from each input (pixels in [0, 1], batch x inputs), with CE(z, c) = -log_softmax(z)[c]:
 * untargeted clamp(x + eps sign(d CE(z(x), p) / dx), 0, 1), p the prediction; targeted clamp(x - eps sign(d CE(z(x),
 * t) / dx), 0, 1). sign(0) = 0.
 */
export function fgsm(net: Mlp, x: Float32Array, options: AttackOptions = {}): Counterfactual[] {
  const what = 'fgsm';
  const eps = checkEps(options.eps ?? EXPLAIN_DEFAULTS.eps, 'eps', what);
  return signedSteps(net, x, options.target, eps, eps, 1, false, checkNormalize(options.normalize, what), what);
}

/**
 * Projected gradient descent in L-inf: from x, `steps` signed steps of `stepSize` (towards the target's
 * log-probability, or away from the prediction's), each projected back into the eps ball around x and [0, 1]; an
 * input stops at the first step that reaches its goal (stopWhenReached, default true: the smallest change this
 * search finds).
 */
export function pgd(net: Mlp, x: Float32Array, options: PgdOptions = {}): Counterfactual[] {
  const what = 'pgd';
  const eps = checkEps(options.eps ?? EXPLAIN_DEFAULTS.eps, 'eps', what);
  const steps = options.steps ?? EXPLAIN_DEFAULTS.pgdSteps;
  checkCount(steps, 'steps', what);
  const stepSize = checkEps(options.stepSize ?? pgdStepSize(eps, steps), 'stepSize', what);
  const stop = options.stopWhenReached ?? true;
  return signedSteps(net, x, options.target, eps, stepSize, steps, stop, checkNormalize(options.normalize, what), what);
}

/** PGD's default step size: 2.5 eps / steps (Madry et al.: the ball's far side is reachable with room), at most 1. */
export function pgdStepSize(eps: number, steps: number): number {
  return Math.min(1, (2.5 * eps) / steps);
}

/**
 * "What would make this a `target`": each input after `steps` signed steps up the target's log-probability, only
 * kept in [0, 1] (no budget; every step runs).
 */
export function towardsClass(
  net: Mlp,
  x: Float32Array,
  target: number | ArrayLike<number>,
  options: TowardsClassOptions = {},
): Counterfactual[] {
  const what = 'towardsClass';
  const steps = options.steps ?? EXPLAIN_DEFAULTS.towardsSteps;
  checkCount(steps, 'steps', what);
  const stepSize = checkEps(options.stepSize ?? EXPLAIN_DEFAULTS.towardsStepSize, 'stepSize', what);
  if (target === undefined) throw new CoreError('CORE_BAD_ARGUMENT', `${what}: missing target class`);
  return signedSteps(net, x, target, 1, stepSize, steps, false, checkNormalize(options.normalize, what), what);
}

/**
 * The loop of fgsm, pgd and towardsClass: x_{k+1} = clip(x_k + dir stepSize sign(G(x_k))) into [x - eps, x + eps] and
 * [0, 1], G the pixel gradient of log p_c (c the target, dir +1; or the clean prediction, dir -1), in float64 then
 * rounded to float32.
 */
function signedSteps(
  net: Mlp,
  x: Float32Array,
  target: number | ArrayLike<number> | undefined,
  eps: number,
  stepSize: number,
  steps: number,
  stopWhenReached: boolean,
  normalize: InputNormalization | null,
  what: string,
): Counterfactual[] {
  const batch = batchOf(net, x, what);
  for (let i = 0; i < x.length; i++) {
    if (!(x[i] >= 0 && x[i] <= 1)) {
      throw new CoreError(
        'CORE_BAD_ARGUMENT',
        `${what}: x[${i}] = ${x[i]} is not a pixel in [0, 1]`,
        "pass pixels (x / 255) and the model's { normalize: { mean, std } } instead of normalized inputs",
      );
    }
  }
  if ((target as unknown) === 'predicted') {
    throw new CoreError('CORE_BAD_ARGUMENT', `${what}: target 'predicted' is not a goal`, 'pass a class, or no target');
  }
  const targeted = target !== undefined;
  const goal = targeted ? classTargets(target, batch, net.classes, what)! : null;
  const V = net.classes,
    C = net.sizes[0];
  const logits = new Float32Array(batch * V);
  const original = argmaxRows(net.forward(modelInput(x, normalize), batch), batch, V);
  const classes = goal ?? original;
  const direction = targeted ? 1 : -1;
  const reached = (r: number, predicted: number) => (goal ? predicted === goal[r] : predicted !== original[r]);
  const current = x.slice();
  const taken = new Int32Array(batch);
  const done = new Uint8Array(batch);
  let predicted = original;
  for (let k = 0; ; k++) {
    const last = k === steps;
    const g = last ? null : pixelGradients(net, current, batch, classes, 'logprob', normalize, logits);
    if (last) logits.set(net.forward(modelInput(current, normalize), batch));
    predicted = argmaxRows(logits, batch, V);
    let active = 0;
    for (let r = 0; r < batch; r++) {
      if (!done[r] && stopWhenReached && reached(r, predicted[r])) done[r] = 1;
      if (!done[r]) active++;
    }
    if (!g || active === 0) break;
    for (let r = 0; r < batch; r++) {
      if (done[r]) continue;
      taken[r]++;
      for (let i = r * C; i < (r + 1) * C; i++) {
        const v = current[i] + direction * stepSize * Math.sign(g[i]);
        current[i] = Math.min(Math.max(v, x[i] - eps, 0), x[i] + eps, 1);
      }
    }
  }
  const probabilities = net.probabilities(modelInput(current, normalize), batch);
  return Array.from({ length: batch }, (_, r) => {
    let linf = 0;
    for (let i = r * C; i < (r + 1) * C; i++) linf = Math.max(linf, Math.abs(current[i] - x[i]));
    return {
      image: current.slice(r * C, (r + 1) * C),
      probabilities: probabilities.slice(r * V, (r + 1) * V),
      predicted: predicted[r],
      linf,
      original: original[r],
      target: goal ? goal[r] : null,
      reached: reached(r, predicted[r]),
      steps: taken[r],
    };
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// Hidden units

export interface UnitContribution {
  unit: number;
  /** a[j]: the unit's activation in the last hidden layer. */
  activation: number;
  /** W[target, j]: its weight into the target's logit. */
  weight: number;
  /** a[j] * W[target, j]: its share of the target's logit (the logit is their sum plus the bias). */
  contribution: number;
}

/**
 * The last hidden layer's units and their contributions a[j] * W[target, j] to the target's logit for one input,
 * largest |contribution| first (the lower unit first on ties), at most `top` (default all). Empty for a network
 * without hidden layers.
 */
export function hiddenContributions(
  net: Mlp,
  x: Float32Array,
  target: number,
  options: { top?: number; normalize?: InputNormalization | null } = {},
): UnitContribution[] {
  const what = 'hiddenContributions';
  if (batchOf(net, x, what) !== 1) {
    throw new CoreError('CORE_BAD_SHAPE', `${what}: x has ${x.length} values, expected one input of ${net.sizes[0]}`);
  }
  classTargets(target, 1, net.classes, what);
  const top = options.top ?? Number.POSITIVE_INFINITY;
  if (top !== Number.POSITIVE_INFINITY) checkCount(top, 'top', what);
  const L = net.layerCount;
  if (L < 2) return [];
  const { a } = net.trace(modelInput(x, checkNormalize(options.normalize, what)));
  const hidden = a[L - 2];
  const { weight, in: width } = net.getLayer(L - 1);
  const units = Array.from(hidden, (activation, unit) => {
    const w = weight[target * width + unit];
    return { unit, activation, weight: w, contribution: activation * w };
  });
  units.sort((p, q) => Math.abs(q.contribution) - Math.abs(p.contribution) || p.unit - q.unit);
  return units.slice(0, top);
}

// ---------------------------------------------------------------------------------------------------------------------
// Internals

/** The network input for pixels: (x - mean) / std with each step rounded to float32, or x itself. */
function modelInput(x: Float32Array, normalize: InputNormalization | null): Float32Array {
  if (!normalize) return x;
  const mean = Math.fround(normalize.mean),
    std = Math.fround(normalize.std);
  return x.map((v) => Math.fround(v - mean) / std);
}

/** G(x) w.r.t. the pixels: the input gradient at the model's input, divided by std when it is normalized. */
function pixelGradients(
  net: Mlp,
  x: Float32Array,
  batch: number,
  targets: Int32Array,
  score: ClassScore,
  normalize: InputNormalization | null,
  logits?: Float32Array,
): Float32Array {
  const g = net.inputGradients(modelInput(x, normalize), batch, targets, { score, logits });
  if (normalize) {
    const std = Math.fround(normalize.std);
    for (let i = 0; i < g.length; i++) g[i] /= std;
  }
  return g;
}

/** The mean over `samples` consecutive blocks of n values, summed in float64. */
function meanOfSamples(values: Float32Array, samples: number, n: number): Float32Array {
  const sum = new Float64Array(n);
  for (let k = 0; k < samples; k++) for (let i = 0; i < n; i++) sum[i] += values[k * n + i];
  return Float32Array.from(sum, (s) => s / samples);
}

function repeat(targets: Int32Array, times: number): Int32Array {
  const out = new Int32Array(targets.length * times);
  for (let k = 0; k < times; k++) out.set(targets, k * targets.length);
  return out;
}

/** n values ~ N(0, std^2) from mulberry32(seed), by Box-Muller (both outputs of each pair used). */
export function gaussianNoise(n: number, std: number, seed: number): Float32Array {
  const rand = seededRandom(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(1 - rand())) * std;
    const angle = 2 * Math.PI * rand();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < n) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}

function batchOf(net: Mlp, x: Float32Array, what: string): number {
  const C = net.sizes[0];
  if (!(x instanceof Float32Array)) {
    throw new CoreError('CORE_BAD_ARGUMENT', `${what}: x must be a Float32Array, got ${describe(x)}`);
  }
  if (x.length === 0 || x.length % C !== 0) {
    throw new CoreError(
      'CORE_BAD_SHAPE',
      `${what}: x has ${x.length} values, expected a whole number of inputs of ${C} (batch x ${C})`,
    );
  }
  return x.length / C;
}

function checkScore(score: ClassScore, what: string): ClassScore {
  if (score !== 'logit' && score !== 'logprob') {
    throw new CoreError(
      'CORE_BAD_ARGUMENT',
      `${what}: unknown score ${JSON.stringify(score)}`,
      "use 'logit' or 'logprob'",
    );
  }
  return score;
}

function checkNormalize(normalize: InputNormalization | null | undefined, what: string): InputNormalization | null {
  if (normalize === undefined || normalize === null) return null;
  if (!(Number.isFinite(normalize.mean) && Number.isFinite(normalize.std) && normalize.std > 0)) {
    throw new CoreError(
      'CORE_BAD_ARGUMENT',
      `${what}: invalid normalize ${JSON.stringify(normalize)}`,
      'pass { mean, std } with std > 0, e.g. { mean: 0.1307, std: 0.3081 }',
    );
  }
  return normalize;
}

/** A budget or step size in pixel units: in (0, 1]. */
function checkEps(value: number, name: string, what: string): number {
  if (!(Number.isFinite(value) && value > 0 && value <= 1)) {
    throw new CoreError('CORE_BAD_ARGUMENT', `${what}: ${name} must be in (0, 1] (pixel units), got ${value}`);
  }
  return value;
}

function checkCount(value: number, name: string, what: string): void {
  if (!(Number.isInteger(value) && value >= 1)) {
    throw new CoreError('CORE_BAD_ARGUMENT', `${what}: ${name} must be an integer >= 1, got ${value}`);
  }
}

function describe(value: unknown): string {
  if (value instanceof Float32Array) return `${value.length} values`;
  return value === null ? 'null' : typeof value === 'object' ? (value as object).constructor?.name : typeof value;
}
