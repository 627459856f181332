// Gradients for one picture, in the engine worker (issue 14): where the network looks (a saliency map of a class),
// what would change its mind (signed-gradient steps towards a chosen class) and "teach it" (one SGD step on one
// labelled picture, θ ← θ − η∇L, with an undo that puts the previous weights back bit for bit). worker.ts dispatches
// to these; the numbers come from @mnist/core-wasm's explanation API, always with the model's input normalization.
import { argmax, type Mlp, saliency, towardsClass } from '@mnist/core-wasm';
import { MNIST_PIXELS, normalizeInput } from '@mnist/loader/data';
import { WebError } from './errors.js';
import type { ModelSummary, SaliencyResult, TeachResult, TowardsResult } from './protocol.js';

interface Model {
  net: Mlp;
  summary: ModelSummary;
}

/** One picture as the engine's explanation functions take it: 784 pixels in [0, 1] (x/255, before normalization). */
function checkPicture(x: Float32Array, what: string): Float32Array {
  if (!(x instanceof Float32Array) || x.length !== MNIST_PIXELS)
    throw new WebError('WEB_BAD_INPUT', `${what}: expected the ${MNIST_PIXELS} pixels of one 28x28 picture`);
  return x;
}

// ---- where the network looks ---------------------------------------------------------------------------------

/** The saliency map of `target` (a class or the prediction) for one picture, w.r.t. its pixels. */
export function explainSaliency(
  { net, summary }: Model,
  input: Float32Array,
  target: number | 'predicted',
  method: SaliencyResult['method'],
): SaliencyResult {
  const t0 = performance.now();
  const s = saliency(net, checkPicture(input, 'saliency'), target, {
    method,
    normalize: summary.settings.normalize,
  });
  return { attribution: s.attribution, target: s.targets[0]!, method: s.method, ms: performance.now() - t0 };
}

// ---- what would change its mind ------------------------------------------------------------------------------

/**
 * `steps` more signed-gradient steps of `stepSize` from `current` up the log-probability of `target` (towardsClass:
 * pixels kept in [0, 1], no other budget), and the edit so far: the new picture minus `original`. The page calls
 * this one step at a time and stops at the first step the network says `target`: the smallest L∞ edit this search
 * finds. Chained calls give the same bits as one call of all the steps (the only projection is onto [0, 1]).
 */
export function stepTowards(
  { net, summary }: Model,
  original: Float32Array,
  current: Float32Array,
  target: number,
  steps: number,
  stepSize: number,
): TowardsResult {
  checkPicture(original, 'towards: original');
  const [r] = towardsClass(net, checkPicture(current, 'towards: current'), target, {
    steps,
    stepSize,
    normalize: summary.settings.normalize,
  });
  const { image, probabilities, predicted } = r!;
  const difference = new Float32Array(MNIST_PIXELS);
  let linf = 0,
    changed = 0;
  for (let i = 0; i < MNIST_PIXELS; i++) {
    difference[i] = image[i]! - original[i]!;
    linf = Math.max(linf, Math.abs(difference[i]!));
    if (difference[i] !== 0) changed++;
  }
  return { image, difference, probabilities, predicted, reached: predicted === target, linf, changed };
}

// ---- teach it ------------------------------------------------------------------------------------------------

/** The weights before each teaching step of `model`, most recent last (1.6 MB each for 784-512-10: at most 20). */
interface Snapshot {
  model: Model;
  layers: { weight: Float32Array; bias: Float32Array | null }[];
}
const MAX_UNDO = 20;
const undoStack: Snapshot[] = [];

/**
 * The undo history of `model`, the worker's current model; forgotten once another model is current (a new file, a
 * trained model, a changed activation or normalization: each makes a new current model).
 */
function undoHistory(model: Model): Snapshot[] {
  if (undoStack.length && undoStack[0]!.model !== model) undoStack.length = 0;
  return undoStack;
}

/**
 * One plain SGD step (no momentum, no weight decay, no dropout) on this picture alone with label `label`:
 * W ← W − lr·∂L/∂W for every layer, L the cross-entropy of the one picture. Returns the loss, the probabilities
 * before and after, and ΔW1 = W1 after − W1 before; the previous weights are kept for undoTeach.
 */
export function teach(model: Model, input: Float32Array, label: number, lr: number): Omit<TeachResult, 'model'> {
  const { net, summary } = model;
  if (!(Number.isInteger(label) && label >= 0 && label < net.classes))
    throw new WebError('WEB_BAD_OPTION', `label ${label} is not a class of this model`, `pick 0..${net.classes - 1}`);
  if (!(Number.isFinite(lr) && lr > 0 && lr <= 10))
    throw new WebError('WEB_BAD_OPTION', `learning rate ${lr} is out of range`, 'use a number in (0, 10], e.g. 0.05');
  const normalize = summary.settings.normalize;
  const picture = checkPicture(input, 'teach');
  const x = normalize ? normalizeInput(picture.slice(), normalize) : picture;
  const history = undoHistory(model);
  const layers = Array.from({ length: net.layerCount }, (_, i) => {
    const l = net.getLayer(i);
    return { weight: l.weight, bias: net.hasBias(i) ? l.bias : null };
  });
  const before = net.probabilities(x, 1);
  const t0 = performance.now();
  // one example, taught as it is: a net trained with dropout keeps its setting, but this step drops nothing out
  const dropout = net.dropout;
  const drops = dropout.some((p) => p > 0);
  if (drops) net.setDropout(0);
  let loss: number;
  try {
    loss = net.trainBatch(x, Uint8Array.of(label), 1, { lr, momentum: 0 });
  } finally {
    if (drops) net.setDropout(dropout);
  }
  const ms = performance.now() - t0;
  history.push({ model, layers });
  if (history.length > MAX_UNDO) history.shift();
  // the weights are no longer the file's: the model panel says so (every step, also those past the undo history)
  model.summary = { ...model.summary, taught: (model.summary.taught ?? 0) + 1 };
  const after = net.probabilities(x, 1);
  const first = net.getLayer(0);
  const delta = first.weight.map((w, i) => w - layers[0]!.weight[i]!);
  return {
    label,
    lr,
    loss,
    before,
    after,
    prediction: argmax(after),
    delta,
    out: first.out,
    in: first.in,
    undo: history.length,
    ms,
  };
}

/** Puts back the weights from before the last teaching step (setLayer copies them: the same bits); returns how many steps are left to undo. */
export function undoTeach(model: Model): number {
  const history = undoHistory(model);
  const last = history.pop();
  if (!last)
    throw new WebError('WEB_NO_UNDO', 'nothing to undo', 'teach it a digit first (loading a model clears the history)');
  last.layers.forEach((l, i) => model.net.setLayer(i, l.weight, l.bias));
  model.summary = { ...model.summary, taught: Math.max(0, (model.summary.taught ?? 1) - 1) };
  return history.length;
}
