// Models: the embedded default (models/mnist_model.pth, trained by real PyTorch) or a user's .pth read by
// @mnist/loader, checked against the data it will see, and loaded into a @mnist/core-wasm network.
import { loadMlp } from '@mnist/loader';
import { Mlp } from '@mnist/core-wasm';
import defaultModelBytes from '../../../models/mnist_model.pth';
import { InputError, fileError } from './errors.js';
import { readInput } from './files.js';
import { safeText } from './term.js';

export type MlpModel = Awaited<ReturnType<typeof loadMlp>>;
export type MlpLayer = MlpModel['layers'][number];

export const DEFAULT_MODEL = 'mnist_model.pth (embedded default, trained by PyTorch)';
export const MNIST_INPUTS = 784;
export const MNIST_CLASSES = 10;

export interface LoadedModel {
  /** The path given by the user, or DEFAULT_MODEL. */
  source: string;
  isDefault: boolean;
  mlp: MlpModel;
  bytes: number;
}

export async function loadModel(file: string | undefined): Promise<LoadedModel> {
  const bytes = file === undefined ? defaultModelBytes : await readInput(file, 'model', 'model');
  const name = file ?? DEFAULT_MODEL;
  try {
    const mlp = await loadMlp(bytes);
    return { source: name, isDefault: file === undefined, mlp, bytes: bytes.length };
  } catch (err) {
    throw fileError(file ?? 'embedded default model', err);
  }
}

/** MNIST pictures have 784 pixels and 10 classes: a model of another shape cannot be run on them. */
export function requireMnistShape(model: LoadedModel, classes: number | undefined = MNIST_CLASSES): void {
  const { inputSize } = model.mlp;
  if (inputSize !== MNIST_INPUTS) {
    throw new InputError(`model ${model.source} takes ${inputSize} inputs, but MNIST images have ${MNIST_INPUTS} (28x28) pixels; pass a model whose first layer is Linear(784, ...)`, 'CLI_MODEL_SHAPE');
  }
  if (classes !== undefined && model.mlp.classes !== classes) {
    throw new InputError(`model ${model.source} has ${model.mlp.classes} output classes, but the data set has ${classes} (digits 0-9); pass a model whose last layer is Linear(..., ${classes})`, 'CLI_MODEL_SHAPE');
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

/** Describes the model for --json output and the human header. */
export function modelSummary(model: LoadedModel, net?: Mlp): Record<string, unknown> {
  const { mlp } = model;
  return {
    source: model.source,
    layers: mlp.layers.map((l) => [l.in, l.out]),
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
export function describeModel(model: LoadedModel): string {
  const { mlp } = model;
  return `${safeText(model.source)}: ${layerSizes(mlp).join('-')} MLP, ${mlp.parameters.toLocaleString('en-US')} parameters, ${mlp.dtype}`;
}

/** Loader warnings (NaN/Infinity in weights, ignored entries) go to stderr, one line each. */
export function printWarnings(model: LoadedModel): void {
  for (const w of model.mlp.warnings) process.stderr.write(`warning: ${safeText(model.source)}: ${safeText(typeof w === 'string' ? w : JSON.stringify(w), 500)}\n`);
}
