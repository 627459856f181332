// Optimizer options as torch.optim spells them (SGD, Adam, AdamW), validated and normalized once, and the f32
// scalars of one step computed the way PyTorch computes them (Python floats, i.e. f64, rounded to f32 by the kernel).
// The per-element update rules are in assembly/optim.ts; src/mlp.ts owns the state buffers and the step count.

import { CoreError } from './errors.js';
import { OPT_ADAM, OPT_ADAMW, OPT_SGD } from './layout.js';

export type OptimizerName = 'sgd' | 'adam' | 'adamw';
export const OPTIMIZER_NAMES: readonly OptimizerName[] = Object.freeze(['sgd', 'adam', 'adamw']);

/** What one training step does besides the optimizer: the loss's label smoothing and the dropout masks' seed. */
export interface StepOptions {
  /** nn.CrossEntropyLoss(label_smoothing=...): targets (1 - eps) onehot + eps / classes; in [0, 1), default 0. */
  labelSmoothing?: number;
  /** Seed of this step's dropout masks (any 32-bit integer; default: a counter of the network's steps). */
  dropoutSeed?: number;
  /**
   * With Mlp.setAugmentation: x is the raw batch and image j is warped by the parameters of (augmentSeed, j) before
   * the forward (any 32-bit integer; absent: x is used as given).
   */
  augmentSeed?: number;
}

/** torch.optim.SGD: momentum, dampening, nesterov, weight_decay (PyTorch's defaults: all 0 / false). */
export interface SgdOptions extends StepOptions {
  optimizer?: 'sgd';
  /** Learning rate, finite and >= 0. */
  lr: number;
  /** Momentum (buf = mu * buf + (1 - dampening) * g; p -= lr * buf), 0 (default) for plain SGD. */
  momentum?: number;
  dampening?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0, as in PyTorch). */
  nesterov?: boolean;
  /** L2 penalty added to the gradient: g + weightDecay * p. */
  weightDecay?: number;
}

/** torch.optim.Adam / AdamW: betas (0.9, 0.999), eps 1e-8, weight_decay 0 (Adam) or 0.01 (AdamW), amsgrad false. */
export interface AdamOptions extends StepOptions {
  optimizer: 'adam' | 'adamw';
  lr: number;
  betas?: readonly [number, number];
  eps?: number;
  /** Adam: L2 added to the gradient; AdamW: decoupled decay p *= 1 - lr * weightDecay. */
  weightDecay?: number;
  amsgrad?: boolean;
}

export type TrainOptions = SgdOptions | AdamOptions;

/** Every option filled in with PyTorch's default. */
export interface OptimizerConfig {
  optimizer: OptimizerName;
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  betas: readonly [number, number];
  eps: number;
  amsgrad: boolean;
}

function bad(what: string, problem: string, hint: string): CoreError {
  return new CoreError('CORE_BAD_ARGUMENT', `${what}: ${problem}`, hint);
}

function number(what: string, name: string, v: unknown, min: number, max = Infinity, openMax = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (openMax && v === max)) {
    const range = max === Infinity ? `>= ${min}` : openMax ? `in [${min}, ${max})` : `in [${min}, ${max}]`;
    return badNumber(what, name, v, range);
  }
  return v;
}

function badNumber(what: string, name: string, v: unknown, range: string): never {
  throw bad(what, `${name} must be a finite number ${range}, got ${String(v)}`, `pass ${name} ${range}`);
}

/** Validates TrainOptions and fills in PyTorch's defaults. */
export function optimizerConfig(options: TrainOptions, what = 'trainBatch'): OptimizerConfig {
  if (typeof options !== 'object' || options === null) {
    throw bad(
      what,
      'options must be an object like { lr: 0.05, momentum: 0.9 }',
      "pass { optimizer: 'sgd' | 'adam' | 'adamw', lr, ... }",
    );
  }
  const name = options.optimizer ?? 'sgd';
  if (!OPTIMIZER_NAMES.includes(name)) {
    throw bad(what, `unknown optimizer ${JSON.stringify(name)}`, `use one of ${OPTIMIZER_NAMES.join(', ')}`);
  }
  const lr = number(what, 'lr', options.lr, 0);
  if (name === 'sgd') {
    const o = options as SgdOptions;
    const momentum = number(what, 'momentum', o.momentum ?? 0, 0);
    const dampening = number(what, 'dampening', o.dampening ?? 0, 0, 1);
    const weightDecay = number(what, 'weightDecay', o.weightDecay ?? 0, 0);
    const nesterov = o.nesterov ?? false;
    if (typeof nesterov !== 'boolean')
      throw bad(what, `nesterov must be true or false, got ${String(nesterov)}`, 'pass a boolean');
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      throw bad(
        what,
        'Nesterov momentum requires a momentum > 0 and zero dampening',
        'set momentum > 0 and dampening 0, or nesterov false',
      );
    }
    return {
      optimizer: name,
      lr,
      momentum,
      dampening,
      nesterov,
      weightDecay,
      betas: [0.9, 0.999],
      eps: 1e-8,
      amsgrad: false,
    };
  }
  const o = options as AdamOptions;
  const betas = o.betas ?? [0.9, 0.999];
  if (!Array.isArray(betas) || betas.length !== 2)
    throw bad(what, 'betas must be a pair [beta1, beta2]', 'e.g. betas: [0.9, 0.999]');
  const beta1 = number(what, 'betas[0]', betas[0], 0, 1, true);
  const beta2 = number(what, 'betas[1]', betas[1], 0, 1, true);
  const eps = number(what, 'eps', o.eps ?? 1e-8, 0);
  const weightDecay = number(what, 'weightDecay', o.weightDecay ?? (name === 'adamw' ? 0.01 : 0), 0);
  const amsgrad = o.amsgrad ?? false;
  if (typeof amsgrad !== 'boolean')
    throw bad(what, `amsgrad must be true or false, got ${String(amsgrad)}`, 'pass a boolean');
  return {
    optimizer: name,
    lr,
    momentum: 0,
    dampening: 0,
    nesterov: false,
    weightDecay,
    betas: [beta1, beta2],
    eps,
    amsgrad,
  };
}

/** Validates a label smoothing eps: a number in [0, 1). */
export function labelSmoothing(v: unknown, what: string): number {
  return number(what, 'labelSmoothing', v ?? 0, 0, 1, true);
}

export function optimizerCode(name: OptimizerName): number {
  return name === 'sgd' ? OPT_SGD : name === 'adam' ? OPT_ADAM : OPT_ADAMW;
}

/** The f32 header scalars of Adam's step number t (1-based), computed in f64 as torch.optim.adam does with Python floats. */
export function adamScalars(c: OptimizerConfig, t: number) {
  const [beta1, beta2] = c.betas;
  const bc1 = 1 - beta1 ** t;
  const bc2 = 1 - beta2 ** t;
  return {
    beta1,
    omb1: 1 - beta1,
    beta2,
    omb2: 1 - beta2,
    stepSize: c.lr / bc1,
    bc2sqrt: Math.sqrt(bc2),
    eps: c.eps,
    // Adam folds weight decay into the gradient; AdamW decays the parameter first (p *= 1 - lr * wd)
    wd: c.optimizer === 'adam' ? c.weightDecay : 0,
    decay: c.optimizer === 'adamw' ? 1 - c.lr * c.weightDecay : 1,
  };
}
