// Models: the embedded default (models/mnist_model.pth, trained by real PyTorch) or a user's .pth read by
// @mnist/loader, checked against the data it will see, and loaded into a @mnist/core-wasm network.
import { loadMlp, type MlpModel, type PthFile } from '@mnist/loader';
import { Mlp, type Activation, type ActivationSpec, type Precision } from '@mnist/core-wasm';
import { MNIST_CLASSES, MNIST_PIXELS, MNIST_SIDE, normalizeInput, type Normalization } from '@mnist/loader/data';
import { invalidValue } from './args.js';
import defaultModelBytes from '../../../models/mnist_model.pth';
import { InputError, fileError } from './errors.js';
import { readInput } from './files.js';
import { int, safeText } from './term.js';

export const DEFAULT_MODEL = 'mnist_model.pth (embedded default, trained by PyTorch)';

export interface LoadedModel {
  /** The path given by the user, or DEFAULT_MODEL. */
  source: string;
  /** `file`: the tensors as read (key names and dtypes), for writing the model back as it came. */
  mlp: MlpModel & { file?: PthFile };
  /** The activations and input normalization the network runs with, and where each came from. */
  settings: ModelSettings;
}

/**
 * Where a setting came from: `file` (read from the model file; a state_dict records neither, so reserved),
 * `option` (--activation / --normalize), `embedded` (the embedded default, whose training models/mnist_model.json
 * records: ReLU, no normalization), `default` (a network train creates), or `assumed` (ReLU / none, not said).
 */
export type SettingSource = 'file' | 'option' | 'embedded' | 'default' | 'assumed';

export interface ModelSettings {
  /** One per hidden layer, normalized as net.activations reports them. */
  activations: ActivationSpec[];
  /** x' = (x/255 - mean)/std before the forward, or null for x/255. */
  normalize: Normalization | null;
  source: { activation: SettingSource; normalize: SettingSource };
}

/** What the user said with --activation and --normalize (undefined: not said; normalize null: --normalize none). */
export interface SettingOptions {
  activation?: ActivationSpec[];
  normalize?: Normalization | null;
}

/**
 * The settings of a network of these layer sizes: what the options say, else `fallback` (ReLU and no normalization,
 * from that source). One --activation is used for every hidden layer; a list must have one per hidden layer.
 */
export function resolveSettings(
  sizes: number[],
  options: SettingOptions,
  fallback: SettingSource,
  modelName: string,
  fromFile?: readonly ActivationSpec[],
): ModelSettings {
  const hidden = sizes.length - 2;
  // a whole pickled model or a TorchScript archive says its activations; --activation still overrides them
  const read = fromFile?.length === hidden ? fromFile.map((a) => ({ ...a })) : undefined;
  let activations: ActivationSpec[] = read ?? Array.from({ length: hidden }, () => ({ name: 'relu' }));
  if (options.activation) {
    const given = options.activation;
    if (given.length === 1) activations = activations.map(() => given[0]!);
    else if (given.length === hidden) activations = given;
    else
      invalidValue(
        '--activation',
        given.map(activationText).join(','),
        `one activation, or ${hidden} (one per hidden layer) for ${safeText(modelName)}, a ${sizes.join('-')} MLP`,
      );
  }
  return {
    activations,
    normalize: options.normalize === undefined ? null : options.normalize,
    source: {
      activation: options.activation ? 'option' : read ? 'file' : fallback,
      normalize: options.normalize !== undefined ? 'option' : fallback,
    },
  };
}

/** Loads a model and resolves its settings (the embedded default's are known; a user's file's are said or assumed). */
export async function loadModel(file: string | undefined, options: SettingOptions = {}): Promise<LoadedModel> {
  const bytes = file === undefined ? defaultModelBytes : await readInput(file, 'model', 'model');
  const name = file ?? DEFAULT_MODEL;
  let mlp: MlpModel;
  try {
    mlp = await loadMlp(bytes);
  } catch (err) {
    throw fileError(file ?? 'embedded default model', err);
  }
  // the loader names activations as the engine does ('tanh' or { name: 'leaky_relu', slope }): the engine checks them
  const fromFile =
    mlp.architectureSource === 'file'
      ? mlp.activations?.map((a) => (typeof a === 'string' ? { name: a } : a) as ActivationSpec)
      : undefined;
  const settings = resolveSettings(
    layerSizes(mlp),
    options,
    file === undefined ? 'embedded' : 'assumed',
    name,
    fromFile,
  );
  return { source: name, mlp, settings };
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

/** A fresh WASM network of these sizes and activations with the command's SIMD and thread settings. */
export function createEmptyNet(
  sizes: number[],
  seed = 0,
  activations?: readonly ActivationSpec[],
  precision?: Precision,
): Promise<Mlp> {
  return Mlp.create(sizes, {
    seed,
    simd: simdChoice(),
    threads: engineThreads,
    ...(activations && { activation: activations as Activation[] }),
    ...(precision && { precision }),
  });
}

/**
 * A WASM network holding the model's weights (PyTorch layout, out x in), with the model's activations; `precision`
 * 'int8' runs its inference in int8 (predict --int8).
 */
export async function createNet(model: LoadedModel, seed = 0, precision?: Precision): Promise<Mlp> {
  const net = await createEmptyNet(layerSizes(model.mlp), seed, model.settings.activations, precision);
  model.mlp.layers.forEach((layer, i) => net.setLayer(i, layer.weight, layer.bias));
  return net;
}

/** Network inputs (x/255) as the model takes them: normalized in place when the settings say so. */
export function modelInputs(settings: ModelSettings, x: Float32Array): Float32Array {
  return settings.normalize ? normalizeInput(x, settings.normalize) : x;
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
  /** The WASM build, thread count and inference arithmetic, when a network ran. */
  engine?: string;
  threads?: number;
  precision?: Precision;
  /** Per hidden layer: a name, or { name, slope | alpha } for leaky_relu and elu. */
  activations: Activation[];
  /** null: inputs are x/255. */
  normalize: Normalization | null;
  /** Where the activations and the normalization came from (`source` is the model's path). */
  settingsSource: ModelSettings['source'];
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
    ...(net ? { engine: net.variant, threads: net.threads, precision: net.precision } : {}),
    ...settingsJson(model.settings),
    warnings: mlp.warnings,
  };
}

/** "model.pth: 784-512-10 MLP, ...", safe to print (the path is escaped like any text from outside). */
export function describeModel(model: ModelSummary): string {
  const sizes = [model.layers[0]![0], ...model.layers.map(([, out]) => out)];
  return `${safeText(model.source)}: ${sizes.join('-')} MLP, ${int(model.parameters)} parameters, ${model.dtype}`;
}

/** The settings as the --json documents give them. */
export type SettingsJson = Pick<ModelSummary, 'activations' | 'normalize' | 'settingsSource'>;

/** model.activations, model.normalize and model.settingsSource of the --json documents. */
export function settingsJson(settings: ModelSettings): SettingsJson {
  return {
    activations: settings.activations.map((a) => (Object.keys(a).length === 1 ? a.name : { ...a }) as Activation),
    normalize: settings.normalize && { mean: settings.normalize.mean, std: settings.normalize.std },
    settingsSource: { ...settings.source },
  };
}

/** An activation as --activation takes it: `tanh`, `leaky_relu:0.1`, `elu:1`. */
export function activationText(a: ActivationSpec): string {
  return a.name === 'leaky_relu' ? `${a.name}:${a.slope}` : a.name === 'elu' ? `${a.name}:${a.alpha}` : a.name;
}

const SOURCE_TEXT: Record<SettingSource, (flag: string) => string> = {
  file: () => 'read from the file',
  option: (flag) => flag,
  embedded: () => 'as the embedded model was trained',
  default: (flag) => `default; ${flag} to change`,
  assumed: () => 'assumed',
};

/** The settings back from their JSON form. */
function settingsOf(s: ModelSettings | SettingsJson): ModelSettings {
  if (!('settingsSource' in s)) return s;
  const activations = s.activations.map((a) => (typeof a === 'string' ? { name: a } : a) as ActivationSpec);
  return { activations, normalize: s.normalize, source: s.settingsSource };
}

/** "activation tanh (--activation), normalization none (assumed)": what the network runs with and whence. */
export function describeSettings(of: ModelSettings | SettingsJson): string {
  const { normalize, source, activations } = settingsOf(of);
  const names = activations.map(activationText);
  const activation =
    names.length === 0 ? 'none (no hidden layer)' : new Set(names).size === 1 ? names[0]! : names.join(', ');
  const norm = normalize ? `(x/255 - ${normalize.mean})/${normalize.std}` : 'none';
  if (source.activation === 'embedded' && source.normalize === 'embedded')
    return `activation ${activation}, normalization ${norm} (${SOURCE_TEXT.embedded('')})`;
  return `activation ${activation} (${SOURCE_TEXT[source.activation]('--activation')}), normalization ${norm} (${SOURCE_TEXT[source.normalize]('--normalize')})`;
}

/** The one line that says what was assumed and which options say otherwise, or undefined when nothing was. */
export function assumedLine(of: ModelSettings | SettingsJson): string | undefined {
  const settings = settingsOf(of);
  const activation = settings.source.activation === 'assumed' && settings.activations.length > 0;
  const normalize = settings.source.normalize === 'assumed';
  if (activation && normalize)
    return 'assumed: ReLU between layers and no input normalization (a state_dict does not record them; say --activation and --normalize if the model was trained otherwise)';
  if (activation)
    return 'assumed: ReLU between layers (a state_dict does not record it; say --activation if the model was trained with another)';
  if (normalize)
    return 'assumed: no input normalization (a state_dict does not record it; say --normalize MEAN,STD or --normalize mnist if the model was trained with one)';
  return undefined;
}

/** Loader warnings (NaN/Infinity in weights, ignored entries) go to stderr, one line each. */
export function printWarnings(model: LoadedModel): void {
  for (const w of model.mlp.warnings) process.stderr.write(`warning: ${safeText(model.source)}: ${safeText(w, 500)}\n`);
}
