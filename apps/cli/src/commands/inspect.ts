// `mnist inspect F.pth`: what is inside a .pth without running it: format, root folder, every tensor with
// its statistics and NaN count, the MLP the loader infers, and warnings.
import { readPth, toMlp, type MlpModel, type PthFile, type PthTensor } from '@mnist/loader';
import { describeOptions, type OptionSpecs, type Parsed } from '../args.js';
import { UsageError, fileError, isPackageError } from '../errors.js';
import { readInput } from '../files.js';
import { bold, bytes, table, useColor, int, safeJson, safeText } from '../term.js';
import { COMMON_HELP, COMMON_OPTIONS, FILE_OPTIONS, MODEL_HELP, MODEL_OPTIONS, fileHelp } from './common.js';
import {
  assumedLine,
  describeSettings,
  resolveSettings,
  settingsJson,
  type SettingOptions,
  type SettingsJson,
} from '../model.js';

export const specs: OptionSpecs = {
  json: { type: 'boolean' },
  ...MODEL_OPTIONS,
  ...FILE_OPTIONS,
  ...COMMON_OPTIONS,
};

const text: Record<string, string> = {
  json: 'print one JSON document on stdout',
  ...MODEL_HELP,
  ...fileHelp('model'),
  ...COMMON_HELP,
};

export function help(): string {
  return `Usage: mnist inspect F.pth [--json]

Shows what a PyTorch .pth file holds, read safely (nothing in it is executed): the format (zip or legacy)
and root folder, every tensor (name, dtype, shape, min, max, mean, NaN and infinity counts), the MLP the
loader infers from it (layers and parameters), and warnings. A state_dict records no activation and no input
normalization: the MLP line says the ones given with --activation and --normalize, or that ReLU and none are assumed.

Options:
${describeOptions(specs, text)}

Examples:
  mnist inspect mnist_model_trained.pth
  mnist inspect checkpoint.pth --json`;
}

interface TensorStats {
  name: string;
  dtype: string;
  shape: number[];
  count: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  nan: number;
  inf: number;
}

/** What `inspect --json` prints; the terminal summary is drawn from the same object. */
export interface InspectReport {
  file: string;
  bytes: number;
  format: PthFile['format'];
  root: string | null;
  key: string | null;
  ignored: string[];
  tensors: TensorStats[];
  mlp:
    | ({
        layers: Array<{ name: string; in: number; out: number }>;
        inputSize: number;
        classes: number;
        parameters: number;
        dtype: string;
      } & SettingsJson)
    | null;
  /** Why the tensors are not an MLP the CLI can run (mlp is null then). */
  mlpError: { code: string; message: string } | null;
  warnings: string[];
}

function stats(t: PthTensor): TensorStats {
  let min = Infinity,
    max = -Infinity,
    sum = 0,
    finite = 0,
    nan = 0,
    inf = 0;
  for (const v of t.data) {
    if (Number.isNaN(v)) nan++;
    else if (!Number.isFinite(v)) inf++;
    else {
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      finite++;
    }
  }
  return {
    name: t.name,
    dtype: t.dtype,
    shape: [...t.shape],
    count: t.data.length,
    min: finite ? min : null,
    max: finite ? max : null,
    mean: finite ? sum / finite : null,
    nan,
    inf,
  };
}

export async function run({ options, positionals }: Parsed): Promise<number> {
  if (positionals.length === 0) throw new UsageError('which file? (usage: mnist inspect F.pth [--json])');
  if (positionals.length > 1)
    throw new UsageError(`one file at a time, got ${positionals.length} (usage: mnist inspect F.pth [--json])`);
  const report = await inspectFile(positionals[0]!, options as SettingOptions);
  process.stdout.write(`${options.json ? safeJson(report) : renderText(report, useColor(process.stdout))}\n`);
  return 0;
}

/** Reads the file (nothing in it is executed) and describes it: tensors with statistics, the MLP or why not. */
async function inspectFile(file: string, options: SettingOptions): Promise<InspectReport> {
  const raw = await readInput(file, 'model', 'model');
  let pth: PthFile;
  try {
    pth = await readPth(raw);
  } catch (err) {
    throw fileError(file, err);
  }
  let mlp: MlpModel | undefined;
  let mlpError: InspectReport['mlpError'] = null;
  try {
    mlp = toMlp(pth);
  } catch (err) {
    if (!isPackageError(err)) throw err;
    mlpError = { code: err.code, message: err.message };
  }
  return {
    file,
    bytes: raw.length,
    format: pth.format,
    root: pth.root,
    key: pth.key,
    ignored: pth.ignored,
    tensors: pth.tensors.map(stats),
    mlp: mlp
      ? {
          layers: mlp.layers.map((l) => ({ name: l.name, in: l.in, out: l.out })),
          inputSize: mlp.inputSize,
          classes: mlp.classes,
          parameters: mlp.parameters,
          dtype: mlp.dtype,
          ...settingsJson(
            resolveSettings([mlp.layers[0]!.in, ...mlp.layers.map((l) => l.out)], options, 'assumed', file),
          ),
        }
      : null,
    mlpError,
    warnings: [...new Set([...pth.warnings, ...(mlp?.warnings ?? [])].map(String))],
  };
}

/** Names longer than this are cut in the table (--json has them whole). */
const MAX_NAME = 120;

/** The terminal summary. Every string that came from the file (names, keys, root folder, messages) goes through safeText. */
function renderText(report: InspectReport, color: boolean): string {
  const { mlp, mlpError, warnings } = report;
  const num = (v: number | null) => (v === null ? '-' : fmt(v));
  const name = (text: string) => safeText(text, MAX_NAME);
  const lines = [
    `${bold('file', color)}      ${safeText(report.file)} (${bytes(report.bytes)})`,
    `${bold('format', color)}    ${report.format === 'zip' ? 'zip (torch.save, PyTorch 1.6+)' : 'legacy (pickle stream, _use_new_zipfile_serialization=False)'}${report.root ? `, root folder "${name(report.root)}"` : ''}`,
    ...(report.key
      ? [
          `${bold('checkpoint', color)} state_dict under "${name(report.key)}"${report.ignored.length ? `; ignored: ${report.ignored.map(name).join(', ')}` : ''}`,
        ]
      : []),
    `${bold('tensors', color)}   ${report.tensors.length}`,
    ...table(
      ['name', 'dtype', 'shape', 'min', 'max', 'mean', 'NaN', 'inf'],
      report.tensors.map((t) => [
        name(t.name),
        name(t.dtype),
        t.shape.join('x') || 'scalar',
        num(t.min),
        num(t.max),
        num(t.mean),
        String(t.nan),
        String(t.inf),
      ]),
    ),
  ];
  if (mlp) {
    const sizes = [mlp.layers[0]!.in, ...mlp.layers.map((l) => l.out)];
    lines.push(
      `${bold('MLP', color)}       ${sizes.join(' -> ')}: ${mlp.layers.length} Linear layer${mlp.layers.length === 1 ? '' : 's'}, ${describeSettings(mlp)}, ${int(mlp.parameters)} parameters, ${mlp.inputSize} inputs, ${mlp.classes} classes`,
    );
    const assumed = assumedLine(mlp);
    if (assumed) lines.push(`          ${assumed}`);
    for (const l of mlp.layers) lines.push(`  ${name(l.name)}: Linear(${l.in}, ${l.out})`);
  } else if (mlpError) {
    lines.push(`${bold('MLP', color)}       none: ${safeText(mlpError.message, 500)} [${mlpError.code}]`);
  }
  lines.push(`${bold('warnings', color)}  ${warnings.length === 0 ? 'none' : ''}`.trimEnd());
  for (const w of warnings) lines.push(`  ${safeText(w, 500)}`);
  return lines.join('\n');
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(2) : v.toFixed(4);
}
