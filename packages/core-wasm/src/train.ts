// The training driver, written once for every caller (the CLI, the web worker, the bench): seeded shuffling, batching
// and the last-batch rule, the optimizer step with its schedule, dropout and label smoothing, augmentation, evaluation
// on a held-out validation split and a test set, the best epoch, early stopping, divergence, stopping (AbortSignal)
// and resuming. Callers see it through callbacks: onStep (progress bars, worker messages, timers) and onEpoch (logs,
// checkpoints). One seed gives the same weights bit for bit in every caller and on any thread count.

import type { AugmentOptions } from './augment.js';
import { CoreError } from './errors.js';
import type { LayerParams, Mlp, OptimizerState } from './mlp.js';
import { type AdamOptions, labelSmoothing, optimizerConfig, type SgdOptions, type TrainOptions } from './optim.js';
import { seededRandom, shuffledOrder } from './random.js';
import { Schedule, type ScheduleSpec, type ScheduleState } from './schedule.js';

/** The optimizer and its hyper-parameters, as trainBatch takes them (without the per-step options). */
export type OptimizerOptions =
  | Omit<SgdOptions, 'labelSmoothing' | 'dropoutSeed'>
  | Omit<AdamOptions, 'labelSmoothing' | 'dropoutSeed'>;

/** A schedule and when it steps: after every epoch (step and cosine's default) or every batch (onecycle's). */
export type TrainSchedule = ScheduleSpec & { interval?: 'epoch' | 'step' };

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  /** One seed for the shuffle, the dropout masks and the augmentation. */
  seed: number;
  optimizer: OptimizerOptions;
  schedule: TrainSchedule | null;
  /** nn.CrossEntropyLoss(label_smoothing=...). */
  labelSmoothing: number;
  /** Drop the last batch when it is smaller than batchSize (DataLoader's drop_last); default false: keep it. */
  dropLast: boolean;
  /** Hold out the last N training images for validation (not trained on); 0: none. */
  validation: number;
  /** Stop when validation accuracy has not improved for this many epochs (needs validation); null: never. */
  patience: number | null;
  /** With validation: end with the weights of the best epoch by validation accuracy (default true). */
  keepBest: boolean;
  /** Seeded augmentation of each batch (src/augment.ts); null: none. */
  augment: AugmentOptions | null;
  /** Inputs are x = pixel / 255, then (x - mean) / std when given (as @mnist/loader/data normalizeInput). */
  normalize: { mean: number; std: number } | null;
}

/** The one default configuration (CLI, web app and bench): 5 epochs of SGD with momentum, batch 64. */
export const TRAIN_DEFAULTS: Readonly<TrainConfig> = Object.freeze({
  epochs: 5,
  batchSize: 64,
  seed: 1,
  optimizer: Object.freeze({ optimizer: 'sgd', lr: 0.05, momentum: 0.9 }) as OptimizerOptions,
  schedule: null,
  labelSmoothing: 0,
  dropLast: false,
  validation: 0,
  patience: null,
  keepBest: true,
  augment: null,
  normalize: null,
});

/** The default hidden layer widths of a fresh network: 784-512-10. */
export const DEFAULT_HIDDEN: readonly number[] = Object.freeze([512]);

export interface TrainData {
  /** count x inputSize images: bytes 0..255 (divided by 255) or floats already on the x / 255 scale. */
  images: Uint8Array | Float32Array;
  labels: Uint8Array;
  count: number;
}

/** Ready network inputs (normalized like the model's inputs) and labels. */
export interface EvalData {
  x: Float32Array;
  labels: Uint8Array;
  count: number;
}

export interface StepInfo {
  /** 1-based epoch, step within it, and steps per epoch. */
  epoch: number;
  step: number;
  steps: number;
  /** Steps since the start of the run (a resumed run counts the earlier ones). */
  globalStep: number;
  /** This batch's mean loss and correct predictions (before the update), and its size. */
  loss: number;
  correct: number;
  batch: number;
  /** The learning rate this step used. */
  lr: number;
}

export interface Measured {
  loss: number;
  accuracy: number;
}

export interface EpochInfo {
  epoch: number;
  epochs: number;
  /** Mean batch loss and accuracy over the epoch (the forward before each update, dropout included). */
  train: Measured;
  validation: Measured | null;
  test: Measured | null;
  /** The learning rate of the epoch's last step. */
  lr: number;
  /** Seconds of training (evaluations excluded). */
  seconds: number;
  /** Whether this is the best epoch so far by validation accuracy (always true without validation). */
  best: boolean;
}

/** Everything needed to continue a run exactly: what a checkpoint file stores. */
export interface TrainCheckpoint {
  /** Epochs completed. */
  epoch: number;
  layers: LayerParams[];
  optimizer: OptimizerState | null;
  /** The schedule after `steps` scheduler steps (the configuration's schedule; a full state or just the count). */
  schedule: ScheduleState | { steps: number } | null;
  config: TrainConfig;
  history: EpochInfo[];
  /** The best epoch by validation accuracy so far, with its weights (null without validation). */
  best: { epoch: number; accuracy: number; layers: LayerParams[] } | null;
  /** Epochs since the best one (early stopping's counter). */
  sinceBest: number;
}

export interface TrainCallbacks {
  onStep?(info: StepInfo): void | Promise<void>;
  onEpoch?(info: EpochInfo, checkpoint: () => TrainCheckpoint): void | Promise<void>;
  /** Stops after the current batch; the result says 'aborted'. */
  signal?: AbortSignal;
  /** Evaluated after every epoch. */
  test?: EvalData;
}

export type StopReason = 'done' | 'aborted' | 'early-stop' | 'diverged';

export interface TrainResult {
  stopped: StopReason;
  /** Epochs completed (a resumed run counts the earlier ones). */
  epochs: number;
  steps: number;
  history: EpochInfo[];
  /** With validation and keepBest: the epoch whose weights the network now holds. */
  bestEpoch: number | null;
  /** When stopped is 'diverged': where and what (the network holds the last finite epoch's weights). */
  diverged: { epoch: number; step: number; what: string } | null;
  /** The weights at the end of the last completed epoch (what to save after an abort), or null if none completed. */
  lastEpoch: LayerParams[] | null;
  seconds: number;
}

function bad(problem: string, hint: string): CoreError {
  return new CoreError('CORE_BAD_ARGUMENT', `train: ${problem}`, hint);
}

/** A 32-bit seed from a run seed and up to two counters (the same in every caller). */
export function mixSeed(seed: number, a: number, b = 0): number {
  let h = (seed | 0) ^ Math.imul(a + 0x3c6ef372, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h ^= Math.imul(b + 0x27d4eb2f, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13), 0x846ca68b);
  return (h ^ (h >>> 16)) | 0;
}

/** Validates a (partial) configuration and fills in TRAIN_DEFAULTS. */
export function trainConfig(config: Partial<TrainConfig> = {}): TrainConfig {
  const c: TrainConfig = { ...TRAIN_DEFAULTS, ...config };
  const int = (name: string, v: unknown, min: number) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      throw bad(`${name} must be an integer >= ${min}, got ${String(v)}`, `pass ${name} >= ${min}`);
  };
  int('epochs', c.epochs, 1);
  int('batchSize', c.batchSize, 1);
  int('validation', c.validation, 0);
  if (!Number.isInteger(c.seed)) throw bad(`seed must be an integer, got ${String(c.seed)}`, 'pass an integer seed');
  if (c.patience !== null) {
    int('patience', c.patience, 1);
    if (c.validation === 0)
      throw bad('early stopping (patience) needs a validation split', 'set validation (e.g. 5000) or drop patience');
  }
  optimizerConfig(c.optimizer as TrainOptions, 'train');
  labelSmoothing(c.labelSmoothing, 'train');
  if (c.normalize && !(Number.isFinite(c.normalize.mean) && Number.isFinite(c.normalize.std) && c.normalize.std > 0)) {
    throw bad(
      `normalize needs a finite mean and a std > 0, got ${JSON.stringify(c.normalize)}`,
      'e.g. { mean: 0.1307, std: 0.3081 }',
    );
  }
  if (c.schedule) {
    const interval = c.schedule.interval ?? (c.schedule.kind === 'onecycle' ? 'step' : 'epoch');
    if (interval !== 'epoch' && interval !== 'step')
      throw bad(`schedule interval must be 'epoch' or 'step', got ${String(interval)}`, "use 'epoch' or 'step'");
  }
  return c;
}

/** x = pixel / 255 (or the float as given), then (x - mean) / std rounded to f32 per step, as normalizeInput does. */
function gatherBatch(
  images: Uint8Array | Float32Array,
  size: number,
  order: Uint32Array,
  start: number,
  n: number,
  out: Float32Array,
): void {
  for (let b = 0; b < n; b++) {
    const src = order[start + b] * size;
    if (images instanceof Uint8Array) {
      for (let j = 0; j < size; j++) out[b * size + j] = images[src + j] / 255;
    } else {
      out.set(images.subarray(src, src + size), b * size);
    }
  }
}

function normalizeInPlace(x: Float32Array, n: number, normalize: TrainConfig['normalize']): void {
  if (!normalize) return;
  const mean = Math.fround(normalize.mean),
    std = Math.fround(normalize.std);
  for (let i = 0; i < n; i++) x[i] = Math.fround(x[i] - mean) / std;
}

function layersOf(net: Mlp): LayerParams[] {
  return Array.from({ length: net.layerCount }, (_, i) => net.getLayer(i));
}

function setLayers(net: Mlp, layers: readonly LayerParams[]): void {
  layers.forEach((L, i) => net.setLayer(i, L.weight, net.hasBias(i) ? L.bias : null));
}

const finite = (a: Float32Array) => a.every(Number.isFinite);

/**
 * Trains `net` on `data` (shuffled per epoch from the seed) and returns how it ended. `resume` continues a run from a
 * checkpoint of the same configuration: the same weights, as if it had never stopped.
 */
export async function train(
  net: Mlp,
  data: TrainData,
  config: Partial<TrainConfig> = {},
  callbacks: TrainCallbacks = {},
  resume?: TrainCheckpoint,
): Promise<TrainResult> {
  const c = trainConfig(resume ? { ...resume.config, epochs: config.epochs ?? resume.config.epochs } : config);
  const size = net.sizes[0];
  if (!(data?.labels instanceof Uint8Array) || !Number.isInteger(data.count) || data.count < 1) {
    throw bad('data needs images, labels (Uint8Array) and a count >= 1', 'pass { images, labels, count }');
  }
  if (data.images.length < data.count * size || data.labels.length < data.count) {
    throw new CoreError(
      'CORE_BAD_SHAPE',
      `train: ${data.count} images need ${data.count * size} input values and ${data.count} labels; got ${data.images.length} and ${data.labels.length}`,
    );
  }
  const trainCount = data.count - c.validation;
  if (trainCount < 1)
    throw bad(`validation ${c.validation} leaves no training images of ${data.count}`, 'hold out fewer');
  const batchSize = Math.min(c.batchSize, trainCount);
  const steps = c.dropLast ? Math.floor(trainCount / batchSize) : Math.ceil(trainCount / batchSize);

  // validation: the last N images, as network inputs
  let validation: EvalData | null = null;
  if (c.validation > 0) {
    const order = Uint32Array.from({ length: c.validation }, (_, i) => trainCount + i);
    const x = new Float32Array(c.validation * size);
    gatherBatch(data.images, size, order, 0, c.validation, x);
    normalizeInPlace(x, x.length, c.normalize);
    validation = { x, labels: data.labels.subarray(trainCount, data.count), count: c.validation };
  }

  const interval = c.schedule ? (c.schedule.interval ?? (c.schedule.kind === 'onecycle' ? 'step' : 'epoch')) : 'epoch';
  if (c.schedule) {
    // total defaults to the run's length in the schedule's unit, after the warm-up; fixed here, so a checkpoint
    // resumed with more epochs keeps the schedule it started with (as a PyTorch scheduler keeps its T_max)
    const total =
      c.schedule.total ??
      (interval === 'step' ? c.epochs * steps : c.epochs) -
        (c.schedule.kind === 'onecycle' ? 0 : (c.schedule.warmup ?? 0));
    c.schedule = { ...c.schedule, interval, total };
    const needed = interval === 'step' ? c.epochs * steps : c.epochs;
    if (c.schedule.kind === 'onecycle' && total < needed) {
      throw bad(
        `the one-cycle schedule has ${total} steps, fewer than the ${needed} of ${c.epochs} epochs`,
        'a one-cycle run cannot be extended: keep its epochs, or start a new run',
      );
    }
  }
  const makeSchedule = () => {
    if (!c.schedule) return null;
    const { interval: _, ...spec } = c.schedule;
    return new Schedule(spec, c.optimizer.lr);
  };
  const schedule = makeSchedule();
  // the engine warps and normalizes each batch (validates the options; builds the elastic bank once per net)
  if (c.augment) net.setAugmentation(c.augment, c.normalize);

  let history: EpochInfo[] = [];
  let best: TrainCheckpoint['best'] = null;
  let sinceBest = 0;
  let firstEpoch = 1;
  let lastEpoch: LayerParams[] | null = null;
  if (resume) {
    if (resume.layers.length !== net.layerCount) {
      throw new CoreError(
        'CORE_BAD_SHAPE',
        `train: the checkpoint has ${resume.layers.length} layers, the network ${net.layerCount}`,
      );
    }
    setLayers(net, resume.layers);
    if (resume.optimizer) {
      net.setOptimizerState(resume.optimizer, { amsgrad: 'amsgrad' in c.optimizer && c.optimizer.amsgrad === true });
    } else net.resetOptimizer();
    if (resume.schedule) {
      if (!schedule)
        throw bad(
          'the checkpoint has a schedule position but the configuration has no schedule',
          'resume with its schedule',
        );
      schedule.advance(resume.schedule.steps);
    } else if (schedule) {
      throw bad(
        'the configuration has a schedule but the checkpoint has no schedule state',
        'resume without a schedule',
      );
    }
    history = resume.history.slice();
    best = resume.best;
    sinceBest = resume.sinceBest;
    firstEpoch = resume.epoch + 1;
    lastEpoch = resume.layers;
  } else {
    // a new run starts a new optimizer, as a new torch.optim object would
    net.resetOptimizer();
  }
  const initial = lastEpoch ?? layersOf(net);

  const x = new Float32Array(batchSize * size);
  const y = new Uint8Array(batchSize);
  let globalStep = (firstEpoch - 1) * steps;
  let stopped: StopReason = 'done';
  let diverged: TrainResult['diverged'] = null;
  let trainSeconds = 0;
  let epochsDone = firstEpoch - 1;

  const snapshot = (epoch: number): TrainCheckpoint => ({
    epoch,
    layers: lastEpoch ?? layersOf(net),
    optimizer: net.optimizerState(),
    schedule: schedule ? schedule.state() : null,
    config: c,
    history: history.slice(),
    best,
    sinceBest,
  });

  try {
    for (let epoch = firstEpoch; epoch <= c.epochs; epoch++) {
      if (callbacks.signal?.aborted) {
        stopped = 'aborted';
        break;
      }
      const order = shuffledOrder(trainCount, seededRandom(mixSeed(c.seed, epoch)));
      let lossSum = 0,
        correct = 0,
        seen = 0,
        lr = c.optimizer.lr;
      const t0 = performance.now();
      for (let s = 0; s < steps; s++) {
        const start = s * batchSize;
        const n = Math.min(batchSize, trainCount - start);
        gatherBatch(data.images, size, order, start, n, x);
        for (let k = 0; k < n; k++) y[k] = data.labels[order[start + k]];
        const input = x.subarray(0, n * size);
        // with augmentation the engine warps (image j by (augmentSeed, j), as Augmenter.apply) and normalizes each
        // thread's rows right before its forward (Mlp.setAugmentation)
        if (!c.augment) normalizeInPlace(input, n * size, c.normalize);
        lr = schedule ? schedule.lr : c.optimizer.lr;
        const options = {
          ...c.optimizer,
          lr,
          labelSmoothing: c.labelSmoothing,
          dropoutSeed: mixSeed(c.seed ^ 0xd70, globalStep),
          ...(c.augment ? { augmentSeed: mixSeed(c.seed ^ 0x5a17, globalStep) } : {}),
        } as TrainOptions;
        if (schedule?.momentum != null) {
          if (options.optimizer === 'adam' || options.optimizer === 'adamw')
            options.betas = [schedule.momentum, options.betas?.[1] ?? 0.999];
          else (options as SgdOptions).momentum = schedule.momentum;
        }
        const loss = net.trainBatch(input, y.subarray(0, n), n, options);
        globalStep++;
        if (!Number.isFinite(loss)) {
          diverged = { epoch, step: s + 1, what: `training loss ${loss}` };
          break;
        }
        lossSum += loss * n;
        correct += net.lastBatchCorrect;
        seen += n;
        if (schedule && interval === 'step') schedule.step();
        if (callbacks.onStep) {
          const r = callbacks.onStep({
            epoch,
            step: s + 1,
            steps,
            globalStep,
            loss,
            correct: net.lastBatchCorrect,
            batch: n,
            lr,
          });
          if (r) await r;
        }
        if (callbacks.signal?.aborted) break;
      }
      trainSeconds += (performance.now() - t0) / 1000;
      if (!diverged && callbacks.signal?.aborted) {
        stopped = 'aborted';
        break;
      }
      if (!diverged) {
        const layers = layersOf(net);
        const badLayer = layers.findIndex((L) => !finite(L.weight) || !finite(L.bias));
        if (badLayer >= 0) diverged = { epoch, step: steps, what: `weights of layer ${badLayer} not finite` };
        else {
          const val = validation ? net.evaluate(validation.x, validation.labels, validation.count, 1000) : null;
          const test = callbacks.test
            ? net.evaluate(callbacks.test.x, callbacks.test.labels, callbacks.test.count, 1000)
            : null;
          // finite weights so large that the logits overflow are as useless as NaN weights
          if (val && !Number.isFinite(val.loss)) diverged = { epoch, step: steps, what: `validation loss ${val.loss}` };
          else if (test && !Number.isFinite(test.loss))
            diverged = { epoch, step: steps, what: `test loss ${test.loss}` };
          else {
            if (schedule && interval === 'epoch') schedule.step();
            let isBest = true;
            if (val) {
              isBest = !best || val.accuracy > best.accuracy;
              if (isBest) {
                best = { epoch, accuracy: val.accuracy, layers };
                sinceBest = 0;
              } else sinceBest++;
            }
            const info: EpochInfo = {
              epoch,
              epochs: c.epochs,
              train: { loss: lossSum / seen, accuracy: correct / seen },
              validation: val ? { loss: val.loss, accuracy: val.accuracy } : null,
              test: test ? { loss: test.loss, accuracy: test.accuracy } : null,
              lr,
              seconds: (performance.now() - t0) / 1000,
              best: isBest,
            };
            history.push(info);
            lastEpoch = layers;
            epochsDone = epoch;
            if (callbacks.onEpoch) {
              const r = callbacks.onEpoch(info, () => snapshot(epoch));
              if (r) await r;
            }
            if (c.patience !== null && sinceBest >= c.patience) {
              stopped = 'early-stop';
              break;
            }
          }
        }
      }
      if (diverged) {
        stopped = 'diverged';
        setLayers(net, lastEpoch ?? initial);
        break;
      }
    }
  } finally {
    if (c.augment) net.setAugmentation(null);
  }
  let bestEpoch: number | null = null;
  if (best && c.keepBest && stopped !== 'diverged') {
    setLayers(net, best.layers);
    bestEpoch = best.epoch;
  }
  return {
    stopped,
    epochs: epochsDone,
    steps: globalStep,
    history,
    bestEpoch,
    diverged,
    lastEpoch,
    seconds: trainSeconds,
  };
}
