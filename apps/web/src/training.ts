// The worker's side of the Train view: one run of @mnist/core-wasm's training driver, train(), the one loop the CLI
// and the bench also call (same seed, same options: the same weights, bit for bit). This file only says what to train
// (a new network, the loaded model, or a checkpoint to continue), turns the driver's callbacks into progress messages,
// pauses and stops it (onStep awaits; an AbortSignal stops it), and keeps the last epoch's checkpoint for download,
// written by @mnist/loader's saveTrainingRun in PyTorch's layout, as `mnist train --checkpoint` writes it.
import {
  type ActivationSpec,
  ELASTIC_DEFAULTS,
  type EpochInfo,
  type Mlp,
  type StepInfo,
  type TrainCheckpoint,
  type TrainConfig,
  train as trainDriver,
  trainConfig,
} from '@mnist/core-wasm';
import { loadMlp, readTrainingRun, runStateOf, saveTrainingRun, type SavePthTensor } from '@mnist/loader';
import { MNIST_CLASSES, MNIST_PIXELS, type Normalization } from '@mnist/loader/data';
import { WebError } from './errors.js';
import type {
  EvalResult,
  ModelSummary,
  Reply,
  TrainEpochPoint,
  TrainOptions,
  TrainPlan,
  TrainResult,
  TrainStepPoint,
} from './protocol.js';
import { fileSettings, type ModelSettings } from './settings.js';

/** A network and what the page says about it (the worker's models have this shape). */
export interface Model {
  net: Mlp;
  summary: ModelSummary;
}

/** What a run needs from the worker: its data, its networks and its message channel. */
export interface TrainingEnv {
  post(reply: Reply): void;
  /** The 60,000 training images as bytes (fetched on first use). */
  trainSet(): Promise<{ count: number; pixels: Uint8Array; labels: Uint8Array }>;
  /** The test set as network inputs for this normalization. */
  testSet(normalize: Normalization | null): Promise<{ input: Float32Array; labels: Uint8Array; count: number }>;
  evaluate(net: Mlp, normalize: Normalization | null): Promise<EvalResult>;
  createNet(sizes: number[], seed: number, activations?: readonly ActivationSpec[]): Promise<Mlp>;
  /** The loaded model (throws WEB_NO_MODEL when there is none). */
  model(): Model;
}

/** The last completed epoch of the last run, with what its checkpoint file records besides the driver's state. */
interface KeptCheckpoint {
  run: TrainCheckpoint;
  names: string[];
  biasFree: number[];
  settings: ModelSettings;
  dropout: number[];
  images: number;
}

interface Control {
  paused: boolean;
  abort: AbortController;
  resume?: () => void;
}
let control: Control | undefined;
let kept: KeptCheckpoint | undefined;

const yieldToMessages = () => new Promise<void>((r) => setTimeout(r, 0));

/** What to train: the network's layers and settings, the driver's configuration, and a checkpoint to continue. */
interface RunSetup {
  sizes: number[];
  names: string[];
  settings: ModelSettings;
  /** Weights to start from (fine-tuning, resuming); null: the seeded random initialization. */
  init: { weight: Float32Array; bias: Float32Array | null }[] | null;
  config: Omit<TrainConfig, 'normalize'>;
  images: number;
  dropout: number[];
  resume?: TrainCheckpoint;
}

const badOption = (problem: string, hint?: string) => new WebError('WEB_BAD_OPTION', problem, hint);

/** A checkpoint to continue: ours resumes as recorded (with the form's epochs); PyTorch's takes the form's settings. */
async function resumeSetup(o: TrainOptions, file: string, bytes: Uint8Array): Promise<RunSetup> {
  const [model, run] = await Promise.all([loadMlp(bytes), readTrainingRun(bytes)]);
  const sizes = [model.layers[0]!.in, ...model.layers.map((l) => l.out)];
  if (sizes[0] !== MNIST_PIXELS || sizes.at(-1) !== MNIST_CLASSES)
    throw new WebError(
      'WEB_BAD_INPUT',
      `${file}: the checkpoint's model is ${sizes.join('-')}, not ${MNIST_PIXELS} inputs and ${MNIST_CLASSES} classes`,
    );
  const state = runStateOf(run);
  const record = run.record;
  const epochs = o.config.epochs;
  if (epochs <= state.epoch)
    throw badOption(
      `${file} has completed ${state.epoch} epoch${state.epoch === 1 ? '' : 's'}`,
      `set Epochs above ${state.epoch} to continue it`,
    );
  const config: Omit<TrainConfig, 'normalize'> = record
    ? { ...(record.config as unknown as TrainConfig), epochs }
    : // PyTorch's file: the form's run, with the optimizer and hyper-parameters of the file's param group
      { ...o.config, ...(run.optimizerConfig && { optimizer: run.optimizerConfig as TrainConfig['optimizer'] }) };
  const hidden = sizes.length - 2;
  const settings: ModelSettings = record
    ? {
        activations: record.settings.activations as ActivationSpec[],
        normalize: record.settings.normalize,
        source: { activation: 'file', normalize: 'file' },
      }
    : fileSettings(hidden, 'assumed', model.architectureSource === 'file' ? model.activations : undefined);
  return {
    sizes,
    names: model.layers.map((l) => l.name),
    settings,
    init: model.layers.map((l) => ({ weight: l.weight, bias: l.bias })),
    config,
    images: record?.images ?? o.images,
    dropout: record?.dropout ?? Array.from({ length: hidden }, () => o.dropout),
    resume: { ...state, config: config as TrainConfig, history: state.history as EpochInfo[] },
  };
}

function setup(o: TrainOptions, env: TrainingEnv): Promise<RunSetup> | RunSetup {
  if (o.resume) return resumeSetup(o, o.resume.file, new Uint8Array(o.resume.bytes));
  if (o.start === 'current') {
    // fine-tuning keeps the model's layers, names and settings
    const base = env.model();
    const sizes = [...base.summary.sizes];
    return {
      sizes,
      names: base.summary.layers.map((l) => l.name),
      settings: structuredClone(base.summary.settings),
      init: sizes.slice(1).map((_, i) => {
        const l = base.net.getLayer(i);
        return { weight: l.weight, bias: base.net.hasBias(i) ? l.bias : null };
      }),
      config: o.config,
      images: o.images,
      dropout: Array.from({ length: sizes.length - 2 }, () => o.dropout),
    };
  }
  // a new network runs ReLU on x/255
  const sizes = [MNIST_PIXELS, ...o.hidden, MNIST_CLASSES];
  return {
    sizes,
    names: sizes.slice(1).map((_, i) => `fc${i + 1}`),
    settings: fileSettings(sizes.length - 2, 'default'),
    init: null,
    config: o.config,
    images: o.images,
    dropout: Array.from({ length: sizes.length - 2 }, () => o.dropout),
  };
}

/** "adam lr 0.001, cosine schedule, ...": the run in one phrase. */
function describeRun(c: TrainConfig, dropout: readonly number[]): string {
  const o = c.optimizer;
  const parts = [`${o.optimizer ?? 'sgd'} lr ${o.lr}`, `batch ${c.batchSize}`];
  if ('momentum' in o && o.momentum) parts[0] += ` momentum ${o.momentum}${o.nesterov ? ' nesterov' : ''}`;
  if (o.weightDecay) parts[0] += ` weight decay ${o.weightDecay}`;
  if (c.schedule) {
    const { kind, warmup, maxLr } = c.schedule;
    parts.push(
      `${kind} schedule${warmup ? ` (warm-up ${warmup})` : ''}${maxLr !== undefined ? ` (max lr ${maxLr})` : ''}`,
    );
  }
  if (c.augment) {
    const { shift = 0, rotate = 0, scale = 0, elastic } = c.augment;
    const e = elastic === true ? ELASTIC_DEFAULTS : elastic || null;
    parts.push(
      `${e ? 'elastic' : 'affine'} augmentation (shift ${shift}, rotate ${rotate}, scale ${scale}` +
        `${e ? `, alpha ${e.alpha}, sigma ${e.sigma}` : ''})`,
    );
  }
  if (c.patience !== null) parts.push(`patience ${c.patience}`);
  if (c.labelSmoothing) parts.push(`label smoothing ${c.labelSmoothing}`);
  if (dropout.some((p) => p > 0)) parts.push(`dropout ${[...new Set(dropout)].join(',')}`);
  return parts.join(', ');
}

/**
 * Trains as the options say and returns how it ended with the trained model. Progress messages carry the step
 * points (mean loss, accuracy and lr of the steps since the previous point) and each completed epoch.
 */
export async function runTraining(
  id: number,
  o: TrainOptions,
  env: TrainingEnv,
): Promise<{ result: TrainResult; model: Model }> {
  if (control) throw new WebError('WEB_BUSY', 'a training run is already going', 'stop it first');
  const ctl: Control = { paused: false, abort: new AbortController() };
  control = ctl;
  kept = undefined;
  let net: Mlp | undefined;
  try {
    env.post({ id, progress: { step: 0, totalSteps: 0, imagesPerSecond: 0, state: 'loading' } });
    const s = await setup(o, env);
    const data = await env.trainSet();
    if (s.images > data.count)
      throw badOption(`the run trains on ${s.images} images; the training set has ${data.count}`);
    const normalize = s.settings.normalize;
    // trainConfig checks every setting (optimizer, schedule, smoothing...) with the core's own messages
    const config = trainConfig({ ...s.config, normalize: normalize && { mean: normalize.mean, std: normalize.std } });
    const trainImages = s.images - config.validation;
    if (trainImages < 1)
      throw badOption(
        `a validation split of ${config.validation} leaves no training images of ${s.images}`,
        'hold out fewer or train on more images',
      );
    const hidden = s.sizes.length - 2;
    if (hidden === 0 && s.dropout.some((p) => p > 0))
      throw badOption('dropout needs a hidden layer', 'set dropout 0 for a network without hidden layers');
    const test = await env.testSet(normalize);
    net = await env.createNet(s.sizes, config.seed, s.settings.activations);
    s.init?.forEach((l, i) => net!.setLayer(i, l.weight, l.bias));
    if (hidden > 0) net.setDropout(s.dropout);
    const biasFree = s.sizes.slice(1).flatMap((_, i) => (net!.hasBias(i) ? [] : [i]));
    const settings: ModelSettings = { ...s.settings, activations: [...net.activations] };

    const batch = Math.min(config.batchSize, trainImages);
    const perEpoch = config.dropLast ? Math.floor(trainImages / batch) : Math.ceil(trainImages / batch);
    const totalSteps = perEpoch * config.epochs;
    const resumedAt = s.resume?.epoch ?? 0;
    const plan: TrainPlan = {
      sizes: s.sizes,
      trainImages,
      validation: config.validation,
      epochs: config.epochs,
      resumedAt,
      description: describeRun(config, net.dropout),
      variant: net.variant,
      threads: net.threads,
    };
    const pointEvery = Math.max(1, Math.round(totalSteps / 300)); // a step point per ~1/300 of the run
    const points: TrainStepPoint[] = [];
    const history: TrainEpochPoint[] = (s.resume?.history ?? []).map((e, i) => epochPoint(e, (i + 1) * perEpoch));
    let unsent: TrainStepPoint[] = [];
    let sum = { loss: 0, correct: 0, images: 0, steps: 0 },
      step = resumedAt * perEpoch,
      sliceStart = performance.now(),
      sliceImages = 0,
      ips = 0;
    const t0 = performance.now();
    const progress = (extra: { epoch?: TrainEpochPoint; plan?: TrainPlan } = {}) => {
      env.post({
        id,
        progress: { ...extra, points: unsent, step, totalSteps, imagesPerSecond: ips, state: 'running' },
      });
      unsent = [];
    };
    progress({ plan });

    const onStep = async (info: StepInfo) => {
      step = info.globalStep;
      sum.loss += info.loss * info.batch;
      sum.correct += info.correct;
      sum.images += info.batch;
      sum.steps++;
      sliceImages += info.batch;
      if (sum.steps >= pointEvery || info.step === info.steps) {
        const point: TrainStepPoint = {
          step,
          epoch: info.epoch,
          loss: sum.loss / sum.images,
          accuracy: sum.correct / sum.images,
          lr: info.lr,
        };
        points.push(point);
        unsent.push(point);
        sum = { loss: 0, correct: 0, images: 0, steps: 0 };
      }
      const now = performance.now();
      if (now - sliceStart < 50) return;
      ips = (sliceImages / (now - sliceStart)) * 1000;
      progress();
      await yieldToMessages(); // lets pause/stop and inference requests in
      while (ctl.paused && !ctl.abort.signal.aborted) {
        env.post({ id, progress: { step, totalSteps, imagesPerSecond: 0, state: 'paused' } });
        await new Promise<void>((r) => {
          ctl.resume = r;
        });
      }
      sliceStart = performance.now();
      sliceImages = 0;
    };
    const onEpoch = (e: EpochInfo, checkpoint: () => TrainCheckpoint) => {
      kept = {
        run: checkpoint(),
        names: s.names,
        biasFree,
        settings,
        dropout: [...net!.dropout],
        images: s.images,
      };
      const point = epochPoint(e, step);
      history.push(point);
      progress({ epoch: point });
    };

    const r = await trainDriver(
      net,
      { images: data.pixels, labels: data.labels, count: s.images },
      config,
      { onStep, onEpoch, signal: ctl.abort.signal, test: { x: test.input, labels: test.labels, count: test.count } },
      // the driver continues a checkpoint with its configuration: the checked one, normalization included
      s.resume && { ...s.resume, config },
    );
    const final = await env.evaluate(net, normalize);
    const parameters = s.sizes.slice(1).reduce((n, out, i) => n + out * s.sizes[i]! + (net!.hasBias(i) ? out : 0), 0);
    const model: Model = {
      net,
      summary: {
        file: 'mnist_trained.pth',
        source: 'trained',
        sizes: s.sizes,
        parameters,
        dtype: 'float32',
        format: 'trained in the browser',
        layers: s.names.map((name, i) => ({ name, in: s.sizes[i]!, out: s.sizes[i + 1]! })),
        warnings: [],
        variant: net.variant,
        threads: net.threads,
        loadMs: 0,
        settings,
      },
    };
    net = undefined; // the caller owns it now
    const d = r.diverged;
    return {
      model,
      result: {
        stopped: r.stopped,
        epochs: r.epochs,
        steps: r.steps,
        seconds: (performance.now() - t0) / 1000,
        accuracy: final.accuracy,
        bestEpoch: r.bestEpoch,
        diverged: d ? `epoch ${d.epoch}, step ${d.step}: ${d.what}` : null,
        points,
        history,
        // set by onEpoch (a callback, so not narrowed here)
        checkpointEpoch: (kept as KeptCheckpoint | undefined)?.run.epoch ?? null,
      },
    };
  } finally {
    net?.dispose();
    control = undefined;
  }
}

function epochPoint(e: EpochInfo, step: number): TrainEpochPoint {
  return {
    step,
    epoch: e.epoch,
    epochs: e.epochs,
    train: e.train,
    validation: e.validation,
    test: e.test,
    lr: e.lr,
    best: e.best,
    seconds: e.seconds,
  };
}

export function trainControl(action: 'pause' | 'resume' | 'stop'): null {
  if (!control) return null;
  if (action === 'pause') control.paused = true;
  else {
    if (action === 'stop') control.abort.abort();
    control.paused = false;
    control.resume?.();
    control.resume = undefined;
  }
  return null;
}

/** The last run's checkpoint after its last completed epoch, as `mnist train --checkpoint` writes it. */
export function checkpointBytes(): Uint8Array {
  if (!kept)
    throw new WebError(
      'WEB_NO_MODEL',
      'no checkpoint yet',
      'a checkpoint is kept after every completed epoch of a training run',
    );
  const { names, biasFree } = kept;
  const key = (i: number, suffix: string) => (names[i] ? `${names[i]}.${suffix}` : suffix);
  const tensors = (layers: readonly { weight: Float32Array; bias: Float32Array; in: number; out: number }[]) =>
    layers.flatMap((l, i) => {
      const out: SavePthTensor[] = [{ name: key(i, 'weight'), shape: [l.out, l.in], data: l.weight }];
      if (!biasFree.includes(i)) out.push({ name: key(i, 'bias'), shape: [l.out], data: l.bias });
      return out;
    });
  return saveTrainingRun(kept.run, tensors, {
    biasFree,
    settings: { activations: kept.settings.activations, normalize: kept.settings.normalize },
    dropout: kept.dropout,
    images: kept.images,
  });
}
