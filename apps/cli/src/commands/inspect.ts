// `mnist inspect F.pth`: what is inside a .pth without running it: format, root folder, every tensor with
// its statistics and NaN count, the MLP the loader infers, and warnings; with --probe, the model's accuracy on the
// first test images under every activation x normalization (src/probe.ts), best first.
import { ACTIVATION_NAMES } from '@mnist/core-wasm';
import { readPth, toMlp, type MlpModel, type PthFile, type PthTensor } from '@mnist/loader';
import { MNIST_NORMALIZATION } from '@mnist/loader/data';
import { describeOptions, nonEmpty, type OptionSpecs, type Parsed } from '../args.js';
import { loadDataset, type DataOptions } from '../data.js';
import { InputError, UsageError, fileError, isPackageError } from '../errors.js';
import { commandLine } from '../invocation.js';
import { PROBE_IMAGES, probeSettings, type ProbeReport, type ProbeRow } from '../probe.js';
import { readInput } from '../files.js';
import { bold, bytes, table, useColor, int, percent, safeJson, safeText } from '../term.js';
import {
  COMMON_HELP,
  COMMON_OPTIONS,
  ENGINE_HELP,
  ENGINE_OPTIONS,
  FILE_OPTIONS,
  MODEL_HELP,
  MODEL_OPTIONS,
  fileHelp,
} from './common.js';
import {
  assumedLine,
  describeSettings,
  requireMnistShape,
  layerSizes,
  resolveSettings,
  setEngineThreads,
  settingsJson,
  type SettingOptions,
  type SettingsJson,
} from '../model.js';

export const specs: OptionSpecs = {
  json: { type: 'boolean' },
  probe: { type: 'boolean' },
  data: { type: 'string', metavar: 'DIR', parse: nonEmpty },
  images: { type: 'string', metavar: 'F', parse: nonEmpty },
  labels: { type: 'string', metavar: 'F', parse: nonEmpty },
  ...MODEL_OPTIONS,
  ...FILE_OPTIONS,
  ...ENGINE_OPTIONS,
  ...COMMON_OPTIONS,
};

const text: Record<string, string> = {
  json: 'print one JSON document on stdout',
  probe: `run the model on the first ${int(PROBE_IMAGES)} test images under every activation and normalization, best first`,
  data: 'with --probe: folder with t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (plain or .gz)',
  images: 'with --probe: IDX images file (with --labels) instead of --data',
  labels: 'with --probe: IDX labels file (with --images)',
  ...MODEL_HELP,
  ...fileHelp('model', 'idx'),
  ...ENGINE_HELP,
  ...COMMON_HELP,
};

export function help(): string {
  return `Usage: mnist inspect F.pth [--probe] [--json]

Shows what a PyTorch .pth file holds, read safely (nothing in it is executed): the format (zip or legacy)
and root folder, every tensor (name, dtype, shape, min, max, mean, NaN and infinity counts), the MLP the
loader infers from it (layers and parameters), and warnings. A state_dict records no activation and no input
normalization: the MLP line says the ones given with --activation and --normalize, or that ReLU and none are assumed.

--probe finds them when the training code is lost: it runs the model on the first ${int(PROBE_IMAGES)} MNIST test
images under every activation, with default parameters and the same for every hidden layer:
  ${ACTIVATION_NAMES.join(', ')}
and both normalizations, none and mnist (${MNIST_NORMALIZATION.mean},${MNIST_NORMALIZATION.std}), and lists the
accuracies best first; ties keep that order (activations as listed, none before mnist). The reading the MLP line
uses (said with the options, or assumed) is marked. A model with no hidden layer has no activation: only the
normalization is probed.

Options:
${describeOptions(specs, text)}

Examples:
  mnist inspect mnist_model_trained.pth
  mnist inspect checkpoint.pth --json
  mnist inspect lost_training_code.pth --probe`;
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
  /** What was found under `key`: a state_dict, or a whole pickled model (torch.save(model) inside the dict). */
  keyHolds: 'state_dict' | 'whole model' | null;
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
  /** --probe: every reading tried, best first. */
  probe?: ProbeRow[];
  /** --probe: the images it ran on, whether activations were probed, and which row the MLP line's settings are. */
  probeRun?: Omit<ProbeReport, 'rows'>;
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
  if (positionals.length === 0) throw new UsageError('which file? (usage: mnist inspect F.pth [--probe] [--json])');
  if (positionals.length > 1)
    throw new UsageError(
      `one file at a time, got ${positionals.length} (usage: mnist inspect F.pth [--probe] [--json])`,
    );
  const opts = options as InspectOptions;
  if (!opts.probe) {
    const clash = (['data', 'images', 'labels'] as const).find((k) => opts[k] !== undefined);
    if (clash) throw new UsageError(`--${clash} goes with --probe (inspect reads no images otherwise)`);
  }
  setEngineThreads(opts.threads);
  const report = await inspectFile(positionals[0]!, opts);
  process.stdout.write(`${options.json ? safeJson(report) : renderText(report, useColor(process.stdout))}\n`);
  return 0;
}

interface InspectOptions extends SettingOptions, DataOptions {
  json?: boolean;
  probe?: boolean;
  threads?: number | 'auto';
}

/**
 * Reads the file (nothing in it is executed) and describes it: tensors with statistics, the MLP or why not; with
 * --probe, the MLP's accuracy under every reading (one load of the file, one network per activation).
 */
async function inspectFile(file: string, options: InspectOptions): Promise<InspectReport> {
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
  const settings = mlp && resolveSettings(layerSizes(mlp), options, 'assumed', file);
  let probe: ProbeReport | undefined;
  if (options.probe) {
    if (!mlp || !settings)
      throw new InputError(
        `cannot probe ${file}: it is not an MLP the CLI can run (${mlpError?.message ?? 'no layers'}); see ${commandLine(`inspect ${file}`)}`,
        mlpError?.code ?? 'CLI_MODEL_SHAPE',
      );
    requireMnistShape({ source: file, mlp, settings });
    probe = await probeSettings(mlp, await loadDataset('t10k', options), settings);
  }
  return {
    file,
    bytes: raw.length,
    format: pth.format,
    root: pth.root,
    key: pth.key,
    keyHolds: pth.key === null ? null : pth.moduleChain ? 'whole model' : 'state_dict',
    ignored: pth.ignored,
    tensors: pth.tensors.map(stats),
    mlp: mlp
      ? {
          layers: mlp.layers.map((l) => ({ name: l.name, in: l.in, out: l.out })),
          inputSize: mlp.inputSize,
          classes: mlp.classes,
          parameters: mlp.parameters,
          dtype: mlp.dtype,
          ...settingsJson(settings!),
        }
      : null,
    mlpError,
    warnings: [...new Set([...pth.warnings, ...(mlp?.warnings ?? [])].map(String))],
    ...(probe && {
      probe: probe.rows,
      probeRun: { data: probe.data, images: probe.images, activations: probe.activations, current: probe.current },
    }),
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
          `${bold('checkpoint', color)} ${report.keyHolds ?? 'state_dict'} under "${name(report.key)}"${report.ignored.length ? `; ignored: ${report.ignored.map(name).join(', ')}` : ''}`,
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
  if (report.probe && report.probeRun)
    lines.push(...renderProbe(report.file, report.probe, report.probeRun, mlp!, color));
  return lines.join('\n');
}

/** The --probe table: one row per reading, best first, the MLP line's reading marked. */
function renderProbe(
  file: string,
  rows: ProbeRow[],
  run: NonNullable<InspectReport['probeRun']>,
  mlp: NonNullable<InspectReport['mlp']>,
  color: boolean,
): string[] {
  const what = run.activations ? 'activation x normalization' : 'normalization';
  const lines = [
    '',
    `${bold('probe', color)}     ${what} on the first ${int(run.images)} images of the ${safeText(run.data)}, best first`,
  ];
  if (!run.activations) lines.push('          no hidden layer, so no activation to probe: only the normalization');
  // The mark says whence the MLP line's reading came: the options, or assumed (a state_dict records neither).
  const { activation, normalize } = mlp.settingsSource;
  const said = [
    ...(run.activations && activation === 'option' ? ['--activation'] : []),
    ...(normalize === 'option' ? ['--normalize'] : []),
  ];
  const whence =
    said.length === 0
      ? 'assumed'
      : said.length === 2 || !run.activations
        ? said.join(', ')
        : `${said[0]}, the rest assumed`;
  lines.push(
    ...table(
      [...(run.activations ? ['activation'] : []), 'normalization', 'accuracy', 'correct', ''],
      rows.map((r, i) => [
        ...(run.activations ? [r.activation ?? '-'] : []),
        r.normalize ? `mnist (${r.normalize.mean},${r.normalize.std})` : 'none',
        percent(r.accuracy),
        `${int(r.correct)}/${int(run.images)}`,
        i === run.current ? `<- ${whence}` : '',
      ]),
    ),
  );
  if (run.current === null)
    lines.push(`          the MLP line's reading (${describeSettings(mlp)}) is not among these`);
  const best = rows[0]!;
  if (run.current !== 0) {
    const flags = [
      ...(run.activations && best.activation ? ['--activation', best.activation] : []),
      '--normalize',
      best.normalize ? 'mnist' : 'none',
    ].join(' ');
    lines.push(`try it: ${commandLine(`predict --model ${safeText(file)} ${flags}`)}`);
  }
  return lines;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(2) : v.toFixed(4);
}
