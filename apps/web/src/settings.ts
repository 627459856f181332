// The activations and input normalization a network runs with, where each came from, and the text the Model panel
// shows for them. The wording mirrors the CLI's (apps/cli/src/model.ts), with the panel's choices for its options.
import { ACTIVATION_NAMES, type ActivationName, type ActivationSpec } from '@mnist/core-wasm';
import { MNIST_NORMALIZATION, type Normalization } from '@mnist/loader/data';

/**
 * Where a setting came from: `file` (a whole pickled model or TorchScript says its activations), `chosen` (picked in
 * the Model panel), `embedded` (the bundled default, whose training models/mnist_model.json records: ReLU, no
 * normalization), `default` (a network the Train view made), or `assumed` (ReLU / none: the file does not say).
 */
export type SettingSource = 'file' | 'chosen' | 'embedded' | 'default' | 'assumed';

export interface ModelSettings {
  /** One per hidden layer, as net.activations reports them. */
  activations: ActivationSpec[];
  /** x' = (x - mean)/std on the inputs x/255 before the forward, or null for x/255. */
  normalize: Normalization | null;
  source: { activation: SettingSource; normalize: SettingSource };
}

/** The activations the panel offers (one for every hidden layer). */
export const ACTIVATION_CHOICES: readonly ActivationName[] = ACTIVATION_NAMES;

/** The normalizations the panel offers, by select value. */
export const NORMALIZE_CHOICES: Readonly<Record<'none' | 'mnist', Normalization | null>> = {
  none: null,
  mnist: MNIST_NORMALIZATION,
};

/**
 * The settings of a model read from a file: its own activations when it says them (`fromFile`, one per hidden
 * layer), else ReLU; no normalization. Both from `fallback` unless the file said them.
 */
export function fileSettings(
  hidden: number,
  fallback: SettingSource,
  fromFile?: ReadonlyArray<string | { name: string }>,
): ModelSettings {
  const read =
    fromFile?.length === hidden
      ? fromFile.map((a) => (typeof a === 'string' ? { name: a } : { ...a }) as ActivationSpec)
      : undefined;
  return {
    activations: read ?? Array.from({ length: hidden }, () => ({ name: 'relu' }) as ActivationSpec),
    normalize: null,
    source: { activation: read ? 'file' : fallback, normalize: fallback },
  };
}

/** An activation as the panel writes it: `tanh`, `leaky_relu(0.01)`, `elu(1)`. */
export function activationText(a: ActivationSpec): string {
  return a.name === 'leaky_relu' ? `${a.name}(${a.slope})` : a.name === 'elu' ? `${a.name}(${a.alpha})` : a.name;
}

/** The normalization as text: `none` or `(x/255 - 0.1307)/0.3081`. */
export function normalizeText(n: Normalization | null): string {
  return n ? `(x/255 - ${n.mean})/${n.std}` : 'none';
}

/** The select value of a normalization: 'mnist', 'none', or '' for another one. */
export function normalizeChoice(n: Normalization | null): string {
  if (!n) return 'none';
  return n.mean === MNIST_NORMALIZATION.mean && n.std === MNIST_NORMALIZATION.std ? 'mnist' : '';
}

const SOURCE_TEXT: Record<SettingSource, string> = {
  file: 'read from the file',
  chosen: 'chosen',
  embedded: 'as the embedded model was trained',
  default: 'default',
  assumed: 'assumed',
};

export interface SettingsReport {
  /** "tanh", or one per hidden layer when they differ. */
  activation: string;
  normalize: string;
  /** "activation tanh (read from the file), normalization none (assumed)". */
  line: string;
  /** The one "assumed: …" line, when something was guessed. */
  assumed?: string;
}

/** What the panel says about the settings (compute; the view renders it). */
export function settingsReport(s: ModelSettings): SettingsReport {
  const names = s.activations.map(activationText);
  const activation =
    names.length === 0 ? 'none (no hidden layer)' : new Set(names).size === 1 ? names[0]! : names.join(', ');
  const normalize = normalizeText(s.normalize);
  const line =
    s.source.activation === 'embedded' && s.source.normalize === 'embedded'
      ? `activation ${activation}, normalization ${normalize} (${SOURCE_TEXT.embedded})`
      : `activation ${activation} (${SOURCE_TEXT[s.source.activation]}), normalization ${normalize} (${SOURCE_TEXT[s.source.normalize]})`;
  return { activation, normalize, line, assumed: assumedLine(s) };
}

function assumedLine(s: ModelSettings): string | undefined {
  const activation = s.source.activation === 'assumed' && s.activations.length > 0;
  const normalize = s.source.normalize === 'assumed';
  if (activation && normalize)
    return 'assumed: ReLU between layers and no input normalization (a state_dict does not record them; choose the activation and normalization below if the model was trained otherwise)';
  if (activation)
    return 'assumed: ReLU between layers (a state_dict does not record it; choose the activation below if the model was trained with another)';
  if (normalize)
    return 'assumed: no input normalization (the file does not record it; choose MNIST below if the model was trained with one)';
  return undefined;
}
