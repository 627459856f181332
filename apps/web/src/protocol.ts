// The messages between the page and the engine worker: one request/response pair per operation, plus progress
// events while training. Everything crossing the boundary is plain data (typed arrays are transferred or copied).
import type { ActivationName } from '@mnist/core-wasm';
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

export interface TrainOptions {
  /** 'current' fine-tunes the loaded model; 'fresh' starts a new network with `hidden` sizes. */
  start: 'current' | 'fresh';
  hidden: number[];
  epochs: number;
  lr: number;
  momentum: number;
  batchSize: number;
  /** Training images per epoch (the first N of the 60,000, shuffled each epoch). */
  images: number;
  seed: number;
}

export interface TrainPoint {
  /** Step counted in batches since the start of the run; epoch is 1-based (the epoch this step belongs to). */
  step: number;
  epoch: number;
  /** Mean training loss of the batches since the previous point. */
  loss: number;
  /** Test accuracy (0..1) when measured at this point. */
  accuracy?: number;
}

export interface TrainProgress {
  point?: TrainPoint;
  step: number;
  totalSteps: number;
  imagesPerSecond: number;
  state: 'loading' | 'running' | 'paused';
}

export interface TrainResult {
  stopped: boolean;
  steps: number;
  seconds: number;
  accuracy: number;
  history: TrainPoint[];
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
  | { op: 'save'; which: 'trained' | 'current' };

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
}

export type Envelope = { id: number } & Request;

export type Reply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: ErrorInfo }
  | { id: number; progress: TrainProgress };
