// Models: the embedded default (models/mnist_model.pth, trained by real PyTorch) or a user's .pth read by
// @mnist/loader, checked against the data it will see, and loaded into a @mnist/core-wasm network.
import { loadMlp, type MlpModel } from '@mnist/loader';
import { Mlp } from '@mnist/core-wasm';
import { MNIST_CLASSES, MNIST_PIXELS, MNIST_SIDE } from '@mnist/loader/data';
import defaultModelBytes from '../../../models/mnist_model.pth';
import { InputError, fileError } from './errors.js';
import { readInput } from './files.js';
import { int, safeText } from './term.js';

export const DEFAULT_MODEL = 'mnist_model.pth (embedded default, trained by PyTorch)';

export interface LoadedModel {
  /** The path given by the user, or DEFAULT_MODEL. */
  source: string;
  mlp: MlpModel;
}

export async function loadModel(file: string | undefined): Promise<LoadedModel> {
  const bytes = file === undefined ? defaultModelBytes : await readInput(file, 'model', 'model');
  const name = file ?? DEFAULT_MODEL;
  try {
    const mlp = await loadMlp(bytes);
    return { source: name, mlp };
  } catch (err) {
    throw fileError(file ?? 'embedded default model', err);
  }
}

/** MNIST pictures have 784 pixels and 10 classes: a model of another shape cannot be run on them (`classes`: undefined for pictures, which have no labels). */
export function requireMnistShape(model: LoadedModel, classes: number | undefined = MNIST_CLASSES): void {
  const { inputSize } = model.mlp;
  if (inputSize !== MNIST_PIXELS) {
    throw new InputError(
      `model ${model.source} takes ${inputSize} inputs, but MNIST images have ${MNIST_PIXELS} (${MNIST_SIDE}x${MNIST_SIDE}) pixels; pass a model whose first layer is Linear(${MNIST_PIXELS}, ...)`,
      'CLI_MODEL_SHAPE',
    );
  }
  if (classes !== undefined && model.mlp.classes !== classes) {
    throw new InputError(
      `model ${model.source} has ${model.mlp.classes} output classes, but the data set has ${classes} (digits 0-9); pass a model whose last layer is Linear(..., ${classes})`,
      'CLI_MODEL_SHAPE',
    );
  }
}

export function layerSizes(mlp: MlpModel): number[] {
  return [mlp.layers[0]!.in, ...mlp.layers.map((l) => l.out)];
}

/** MNIST_SIMD=plain|relaxed|auto picks the WASM build (default auto: relaxed SIMD where the engine has it). */
export function simdChoice(): 'auto' | 'plain' | 'relaxed' {
  const v = process.env.MNIST_SIMD;
  return v === 'plain' || v === 'relaxed' ? v : 'auto';
}

/** The engine's thread count, set once per command from `--threads` (default 'auto'). */
let engineThreads: number | 'auto' = 'auto';
export function setEngineThreads(threads: number | 'auto' | undefined): void {
  engineThreads = threads ?? 'auto';
}

/** A fresh WASM network of these sizes with the command's SIMD and thread settings. */
export function createEmptyNet(sizes: number[], seed = 0): Promise<Mlp> {
  return Mlp.create(sizes, { seed, simd: simdChoice(), threads: engineThreads });
}

/** A WASM network holding the model's weights (PyTorch layout, out x in). */
export async function createNet(mlp: MlpModel, seed = 0): Promise<Mlp> {
  const net = await createEmptyNet(layerSizes(mlp), seed);
  mlp.layers.forEach((layer, i) => net.setLayer(i, layer.weight, layer.bias));
  return net;
}

/** The model as reports show it (the `model` of every --json document). */
export interface ModelSummary {
  source: string;
  /** [in, out] of each layer. */
  layers: Array<[number, number]>;
  names: string[];
  inputSize: number;
  classes: number;
  parameters: number;
  dtype: string;
  /** The WASM build and thread count, when a network ran. */
  engine?: string;
  threads?: number;
  warnings: string[];
}

export function modelSummary(model: LoadedModel, net?: Mlp): ModelSummary {
  const { mlp } = model;
  return {
    source: model.source,
    layers: mlp.layers.map((l) => [l.in, l.out] as [number, number]),
    names: mlp.layers.map((l) => l.name),
    inputSize: mlp.inputSize,
    classes: mlp.classes,
    parameters: mlp.parameters,
    dtype: mlp.dtype,
    ...(net ? { engine: net.variant, threads: net.threads } : {}),
    warnings: mlp.warnings,
  };
}

/** "model.pth: 784-512-10 MLP, ...", safe to print (the path is escaped like any text from outside). */
export function describeModel(model: ModelSummary): string {
  const sizes = [model.layers[0]![0], ...model.layers.map(([, out]) => out)];
  return `${safeText(model.source)}: ${sizes.join('-')} MLP, ${int(model.parameters)} parameters, ${model.dtype}`;
}

/** Loader warnings (NaN/Infinity in weights, ignored entries) go to stderr, one line each. */
export function printWarnings(model: LoadedModel): void {
  for (const w of model.mlp.warnings) process.stderr.write(`warning: ${safeText(model.source)}: ${safeText(w, 500)}\n`);
}
