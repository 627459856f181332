// `train --checkpoint` / `train --resume`: a run's checkpoint file in PyTorch's layout (@mnist/loader's
// saveTrainingRun / readTrainingRun, shared with the web app) and the training driver's TrainCheckpoint
// (@mnist/core-wasm), both ways. Our
// own files carry the run's configuration, history and settings (the 'mnist_wasm' entry) and resume exactly; a
// checkpoint made by PyTorch gives the weights, the optimizer state and the scheduler's position, and the options
// say the rest.
import type { ActivationSpec, LayerParams, TrainCheckpoint, TrainConfig } from '@mnist/core-wasm';
import {
  isPthError,
  readTrainingRun,
  runStateOf,
  saveTrainingRun,
  type EngineOptimizerConfig,
  type TrainingRun,
} from '@mnist/loader';
import { InputError, UsageError, fileError } from './errors.js';
import { readInput } from './files.js';
import { layerSizes, loadModel, type LoadedModel, type ModelSettings, type SettingOptions } from './model.js';
import { safeText } from './term.js';

export interface ResumedRun {
  model: LoadedModel;
  run: TrainCheckpoint;
  /** true: written by mnist train --checkpoint (configuration included); false: made by PyTorch */
  ours: boolean;
  dropout: number[] | null;
  /** the number of training images the run used (ours), null for PyTorch's files */
  images: number | null;
  /** the file's scheduler_state_dict (for messages), null without one */
  scheduler: Map<unknown, unknown> | null;
}

/**
 * Reads --resume F: the model (as --init would, so key names and dtypes are kept), and the run to continue. For a
 * PyTorch checkpoint the optimizer is the one its state holds (or --optimizer), with its param group's values.
 */
export async function readRunFile(
  file: string,
  options: SettingOptions & { optimizer?: 'sgd' | 'adam' | 'adamw' },
): Promise<ResumedRun> {
  const bytes = await readInput(file, 'checkpoint', 'model');
  let read: TrainingRun;
  try {
    read = await readTrainingRun(bytes, options.optimizer);
  } catch (err) {
    if (isPthError(err) && err.code === 'PTH_NO_STATE_DICT')
      throw new InputError(
        `${safeText(file)} is not a training checkpoint (no model_state_dict entry); to fine-tune a model file use --init`,
        'CLI_BAD_CHECKPOINT',
      );
    throw fileError(file, err);
  }
  const record = read.record;
  const given = (['activation', 'normalize'] as const).filter((k) => options[k] !== undefined);
  if (record && given.length)
    throw new UsageError(
      `--${given.join(', --')} cannot change a resumed run: ${safeText(file)} records how it was trained`,
    );
  const model = await loadModel(file, record ? {} : options);
  if (record) {
    model.settings = {
      activations: record.settings.activations as ActivationSpec[],
      normalize: record.settings.normalize,
      source: { activation: 'file', normalize: 'file' },
    };
  }
  const sizes = layerSizes(model.mlp);
  const layers: LayerParams[] = model.mlp.layers.map((l, i) => ({
    weight: l.weight,
    bias: l.bias ?? new Float32Array(sizes[i + 1]!),
    in: sizes[i]!,
    out: sizes[i + 1]!,
  }));
  const state = runStateOf(read);
  const run: TrainCheckpoint = {
    ...state,
    layers, // as loaded (the same values; the model keeps the file's key names and dtypes)
    config: state.config as unknown as TrainConfig, // PyTorch's files: the caller fills it from the options (resumedConfig)
    history: state.history as TrainCheckpoint['history'],
  };
  return {
    model,
    run,
    ours: record !== null,
    dropout: record?.dropout ?? null,
    images: record?.images ?? null,
    scheduler: read.scheduler,
    ...(read.optimizerConfig ? { fileOptimizer: read.optimizerConfig } : {}),
  } as ResumedRun & { fileOptimizer?: EngineOptimizerConfig };
}

/** The options a resumed run may still change; the rest come from the checkpoint. */
const RESUMABLE = new Set([
  'resume',
  'epochs',
  'out',
  'checkpoint',
  'force',
  'threads',
  'data',
  'train-limit',
  'stop-after',
  'simd',
  'max-file-size',
  'json',
  'optimizer',
]);

/**
 * The configuration a resumed run continues with: ours as recorded (with a new --epochs); a PyTorch checkpoint's
 * from the options, its optimizer and hyper-parameters from the file's param group.
 */
export function resumedConfig(
  resumed: ResumedRun,
  fromOptions: TrainConfig,
  options: Record<string, unknown>,
  file: string,
): TrainConfig {
  if (resumed.ours) {
    const changed = Object.keys(options).filter((k) => options[k] !== undefined && !RESUMABLE.has(k));
    if (changed.length)
      throw new UsageError(
        `--${changed.join(', --')} cannot change a resumed run: ${safeText(file)} records its configuration (only --epochs, --out, --checkpoint and engine options may change)`,
      );
    return { ...resumed.run.config, epochs: (options.epochs as number | undefined) ?? resumed.run.config.epochs };
  }
  const fileOptimizer = (resumed as ResumedRun & { fileOptimizer?: EngineOptimizerConfig }).fileOptimizer;
  return fileOptimizer ? { ...fromOptions, optimizer: fileOptimizer as TrainConfig['optimizer'] } : fromOptions;
}

/** The checkpoint file of an epoch: PyTorch's dict plus our run record (@mnist/loader's saveTrainingRun). */
export function runCheckpointBytes(
  ck: TrainCheckpoint,
  tensors: (
    layers: readonly LayerParams[],
  ) => Array<{ name: string; shape: number[]; data: Float32Array; dtype?: string }>,
  info: { biasFree: number[]; settings: ModelSettings; dropout: readonly number[]; images: number },
): Uint8Array {
  return saveTrainingRun(ck, (layers) => tensors(layers).map(({ name, shape, data }) => ({ name, shape, data })), {
    ...info,
    settings: { activations: info.settings.activations, normalize: info.settings.normalize ?? null },
  });
}
