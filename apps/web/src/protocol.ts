// The messages between the page and the engine worker: one request/response pair per operation, plus progress
// events while training. Everything crossing the boundary is plain data (typed arrays are transferred or copied).
import type { ActivationName, SaliencyMethod, StopReason, TrainConfig } from '@mnist/core-wasm';
import type { Normalization } from '@mnist/loader/data';
import type { ModelSettings } from './settings.js';

export interface LayerData {
  name: string;
  in: number;
  out: number;
  /** out*in, PyTorch layout (row j = the weights into unit j). */
  weight: Float32Array;
  bias: Float32Array;
}

export interface ModelSummary {
  file: string;
  source: 'default' | 'upload' | 'trained';
  sizes: number[];
  layers: Array<{ name: string; in: number; out: number }>;
  parameters: number;
  dtype: string;
  format: string;
  warnings: string[];
  /** Which wasm build runs it: 'relaxed-simd' or 'simd'. */
  variant: string;
  /** How many threads the engine runs on (2+ only when the page is cross-origin isolated). */
  threads: number;
  loadMs: number;
  /** The activation per hidden layer and the input normalization the engine runs with, and where each came from. */
  settings: ModelSettings;
  /** "Teach it" steps taken on these weights since the file was loaded (0 or absent: the weights are the file's). */
  taught?: number;
}

export interface ModelInfo {
  summary: ModelSummary;
  layers: LayerData[];
}

export interface TraceResult {
  /** The 784 pixels of the picture (28x28, x/255), before the model's input normalization. */
  input: Float32Array;
  /** Pre-activations per layer: z[0] = first layer's W x + b, ..., the last are the logits. */
  z: Float32Array[];
  /** Activations per hidden layer (f(z), f the model's activation). */
  a: Float32Array[];
  probabilities: Float32Array;
  prediction: number;
  ms: number;
}

export interface TestSet {
  count: number;
  /** count*784 bytes 0..255. */
  pixels: Uint8Array;
  labels: Uint8Array;
  loadMs: number;
}

export interface EvalResult {
  count: number;
  correct: number;
  accuracy: number;
  loss: number;
  predictions: Int32Array;
  /** Evaluation time in the worker (WASM forward passes over the whole set), ms. */
  ms: number;
}

// ---- training (src/training.ts in the worker, src/views/train.ts in the page) -----------------------------------

export interface TrainOptions {
  /** 'current' fine-tunes the loaded model; 'fresh' starts a new network with `hidden` sizes. */
  start: 'current' | 'fresh';
  hidden: number[];
  /** Training images: the first N of the 60,000 (the validation split, when asked, is the last of them). */
  images: number;
  /** Dropout after every hidden layer while training (0: none). */
  dropout: number;
  /**
   * The training driver's configuration (@mnist/core-wasm's TrainConfig, as the form gives it; the model's input
   * normalization is added in the worker). Checked again there by trainConfig().
   */
  config: Omit<TrainConfig, 'normalize'>;
  /** A checkpoint file (ours: the CLI's --checkpoint or this app's; or PyTorch's dict) to continue instead. */
  resume?: { bytes: ArrayBuffer; file: string };
}

/** The mean of the training steps since the previous point (the driver's StepInfo, averaged). */
export interface TrainStepPoint {
  /** Steps since the start of the run; epoch is 1-based. */
  step: number;
  epoch: number;
  loss: number;
  /** Training accuracy of those batches (the forward before each update), 0..1. */
  accuracy: number;
  /** The learning rate of the last of them. */
  lr: number;
}

/** A completed epoch (the driver's EpochInfo) at the step it ended. */
export interface TrainEpochPoint {
  step: number;
  epoch: number;
  epochs: number;
  train: { loss: number; accuracy: number };
  validation: { loss: number; accuracy: number } | null;
  test: { loss: number; accuracy: number } | null;
  lr: number;
  best: boolean;
  seconds: number;
}

/** What a run trains, as the worker resolved it (a resumed run's settings come from its checkpoint). */
export interface TrainPlan {
  sizes: number[];
  trainImages: number;
  validation: number;
  epochs: number;
  /** Epochs the checkpoint had completed (0 for a new run). */
  resumedAt: number;
  /** "adam lr 0.001, cosine schedule, ..." */
  description: string;
  variant: string;
  threads: number;
}

export interface TrainProgress {
  /** Step points since the previous message. */
  points?: TrainStepPoint[];
  /** The epoch that just ended. */
  epoch?: TrainEpochPoint;
  /** Once, when the run starts. */
  plan?: TrainPlan;
  step: number;
  totalSteps: number;
  imagesPerSecond: number;
  state: 'loading' | 'running' | 'paused';
}

export interface TrainResult {
  /** How the driver's run ended: 'done', 'aborted' (stopped), 'early-stop' or 'diverged'. */
  stopped: StopReason;
  /** Epochs completed (a resumed run counts the earlier ones) and steps taken. */
  epochs: number;
  steps: number;
  seconds: number;
  /** Test accuracy of the model kept (the best epoch by validation accuracy, when there is a validation split). */
  accuracy: number;
  bestEpoch: number | null;
  /** What stopped a diverged run (the network then holds its last finite epoch). */
  diverged: string | null;
  points: TrainStepPoint[];
  history: TrainEpochPoint[];
  /** The epoch the checkpoint download holds (the last completed one), or null when none completed. */
  checkpointEpoch: number | null;
}

// ---- explanations with gradients (issue 14): src/explaining.ts in the worker, src/views/gradients.ts in the page --

export interface SaliencyResult {
  /** The attribution of `target` for each of the 784 pixels (w.r.t. the pixels x/255, whatever the normalization). */
  attribution: Float32Array;
  /** The class explained (the prediction when 'predicted' was asked). */
  target: number;
  method: SaliencyMethod;
  /** Time in the worker, ms. */
  ms: number;
}

export interface TowardsResult {
  /** The edited picture (pixels in [0, 1]) and the edit so far: picture minus the original. */
  image: Float32Array;
  difference: Float32Array;
  probabilities: Float32Array;
  predicted: number;
  /** Whether the network now says the target. */
  reached: boolean;
  /** max |difference| and how many pixels differ. */
  linf: number;
  changed: number;
}

export interface TeachResult {
  label: number;
  lr: number;
  /** Cross-entropy of the picture with its label, before the step. */
  loss: number;
  /** The picture's probabilities before and after the step, and its prediction after. */
  before: Float32Array;
  after: Float32Array;
  prediction: number;
  /** ΔW1 = W1 after − W1 before, out x in (PyTorch layout). */
  delta: Float32Array;
  out: number;
  in: number;
  /** Teaching steps that Undo can take back. */
  undo: number;
  /** The SGD step's time in the worker, ms. */
  ms: number;
  /** The model with its new weights. */
  model: ModelInfo;
}

export interface ErrorInfo {
  code: string;
  message: string;
  hint?: string;
}

export type Request =
  | { op: 'load'; bytes: ArrayBuffer; file: string; source: 'default' | 'upload' }
  | { op: 'trace'; rgba: ArrayBuffer; width: number; height: number; polarity: 'auto' | 'dark-on-light' }
  | { op: 'trace'; input: Float32Array }
  | { op: 'testset' }
  | { op: 'evaluate' }
  | { op: 'train'; options: TrainOptions }
  | { op: 'train-control'; action: 'pause' | 'resume' | 'stop' }
  | { op: 'use-trained' }
  /** Rebuilds the current net with the same weights: one activation for every hidden layer and/or a normalization. */
  | { op: 'configure'; activation?: ActivationName; normalize?: Normalization | null }
  /** A model's .pth, or the last training run's checkpoint (PyTorch's dict with optimizer and scheduler state). */
  | { op: 'save'; which: 'trained' | 'current' | 'checkpoint' }
  | { op: 'saliency'; input: Float32Array; target: number | 'predicted'; method: SaliencyMethod }
  /** `steps` signed-gradient steps from `current` towards class `target`; the edit is measured from `original`. */
  | { op: 'towards'; original: Float32Array; current: Float32Array; target: number; steps: number; stepSize: number }
  | { op: 'teach'; input: Float32Array; label: number; lr: number }
  | { op: 'undo-teach' };

export interface Responses {
  load: ModelInfo;
  trace: TraceResult;
  testset: TestSet;
  evaluate: EvalResult;
  train: TrainResult;
  'train-control': null;
  'use-trained': ModelInfo;
  configure: ModelInfo;
  save: Uint8Array;
  saliency: SaliencyResult;
  towards: TowardsResult;
  teach: TeachResult;
  'undo-teach': { undo: number; model: ModelInfo };
}

export type Envelope = { id: number } & Request;

export type Reply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: ErrorInfo }
  | { id: number; progress: TrainProgress };
