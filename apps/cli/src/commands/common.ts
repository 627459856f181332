// Options shared by several commands (--help, --verbose, --max-file-size, --threads, --activation, --normalize)
// and their --help lines.
import {
  ACTIVATION_NAMES,
  MAX_AUTO_THREADS,
  MAX_THREADS,
  type ActivationName,
  type ActivationSpec,
} from '@mnist/core-wasm';
import { MNIST_NORMALIZATION, type Normalization } from '@mnist/loader/data';
import { invalidValue, type OptionSpecs } from '../args.js';
import { DEFAULT_MAX_FILE_SIZE, INPUT_KIND_NAME, fileSize, sizeText, type InputKind } from '../files.js';

export const COMMON_OPTIONS: OptionSpecs = {
  help: { type: 'boolean', short: 'h' },
  verbose: { type: 'boolean' },
};

export const COMMON_HELP: Record<string, string> = {
  help: 'show this help',
  verbose: 'print stack traces of errors',
};

/** `--max-file-size SIZE`: every command that reads files takes it (main.ts applies it before the command runs). */
export const FILE_OPTIONS: OptionSpecs = {
  'max-file-size': { type: 'string', metavar: 'SIZE', parse: fileSize },
};

/** The --help line of --max-file-size, naming the defaults of the kinds of file this command reads. */
export function fileHelp(...kinds: InputKind[]): Record<string, string> {
  const defaults = kinds.map((k) => `${INPUT_KIND_NAME[k]} ${sizeText(DEFAULT_MAX_FILE_SIZE[k])}`).join(', ');
  return { 'max-file-size': `refuse input files larger than this, e.g. 2GB (default: ${defaults})` };
}

/** `--threads N|auto`: how many threads the WASM engine runs on (commands that run a network). */
export function threadCount(raw: string, flag: string): number | 'auto' {
  if (raw === 'auto') return 'auto';
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_THREADS)
    invalidValue(flag, raw, `auto or a whole number from 1 to ${MAX_THREADS}`);
  return Number(raw);
}

export const ENGINE_OPTIONS: OptionSpecs = {
  threads: { type: 'string', metavar: 'N|auto', parse: threadCount },
};

export const ENGINE_HELP: Record<string, string> = {
  threads: `threads for the WASM engine (default auto: one per core, at most ${MAX_AUTO_THREADS}; results are the same bits for any count)`,
};

/** The parameter an activation takes after a colon (`leaky_relu:0.2`, `elu:1.0`), PyTorch's name and default. */
const ACTIVATION_PARAM: Partial<Record<ActivationName, { key: 'slope' | 'alpha'; torch: string; fallback: number }>> = {
  leaky_relu: { key: 'slope', torch: 'negative_slope', fallback: 0.01 },
  elu: { key: 'alpha', torch: 'alpha', fallback: 1 },
};

const FINITE = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * `--activation tanh` (every hidden layer) or `--activation tanh,relu` (one per hidden layer), each a name or
 * `leaky_relu:0.2` / `elu:1.0`; the count is checked against the model once it is loaded (checkActivationCount).
 */
export function activationList(raw: string, flag: string): ActivationSpec[] {
  const names = ACTIVATION_NAMES.join(', ');
  return raw.split(',').map((part) => {
    const [name, param, extra] = part.trim().split(':');
    if (!(ACTIVATION_NAMES as readonly string[]).includes(name!))
      invalidValue(flag, raw, `${names}, or a comma list with one per hidden layer`);
    const spec = ACTIVATION_PARAM[name as ActivationName];
    if (param === undefined)
      return spec ? ({ name, [spec.key]: spec.fallback } as ActivationSpec) : ({ name } as ActivationSpec);
    if (!spec) invalidValue(flag, raw, `${name} without a parameter; only leaky_relu:SLOPE and elu:ALPHA take one`);
    if (extra !== undefined || !FINITE.test(param) || !Number.isFinite(Number(param)))
      invalidValue(
        flag,
        raw,
        `${name}:${spec.key.toUpperCase()} with a number, e.g. ${name}:${spec.fallback === 1 ? '1.0' : '0.2'}`,
      );
    return { name, [spec.key]: Number(param) } as ActivationSpec;
  });
}

/** `--normalize MEAN,STD`, `mnist` (0.1307,0.3081) or `none`; null is none. */
export function normalization(raw: string, flag: string): Normalization | null {
  if (raw === 'none') return null;
  if (raw === 'mnist') return { ...MNIST_NORMALIZATION };
  const parts = raw.split(',');
  const want = `MEAN,STD with STD > 0 (e.g. 0.1307,0.3081), mnist or none`;
  if (parts.length !== 2 || parts.some((p) => !FINITE.test(p.trim()))) invalidValue(flag, raw, want);
  const [mean, std] = parts.map(Number) as [number, number];
  if (!Number.isFinite(mean) || !Number.isFinite(std) || !(std > 0)) invalidValue(flag, raw, want);
  return { mean, std };
}

/** --activation and --normalize: how the model was trained, which a state_dict does not record. */
export const MODEL_OPTIONS: OptionSpecs = {
  activation: { type: 'string', metavar: 'NAME', parse: activationList },
  normalize: { type: 'string', metavar: 'MEAN,STD', parse: normalization },
};

export const MODEL_HELP: Record<string, string> = {
  activation: `between hidden layers, one for all or a comma list, one per layer: ${ACTIVATION_NAMES.join(', ')}; leaky_relu:0.2, elu:1.0 (default: relu, assumed)`,
  normalize: `inputs (x/255 - MEAN)/STD as the model was trained: MEAN,STD, mnist (${MNIST_NORMALIZATION.mean},${MNIST_NORMALIZATION.std}) or none (default: none, assumed)`,
};
