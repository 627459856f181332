// `mnist predict`: runs a model over the MNIST test set (accuracy, confusion matrix, per-class precision
// and recall, throughput, digits drawn in the terminal with their top-3 probabilities) or over the user's pictures.
import path from 'node:path';
import { argmaxRows, type Mlp, type Precision } from '@mnist/core-wasm';
import { MNIST_CLASSES, MNIST_PIXELS } from '@mnist/loader/data';
import {
  describeOptions,
  indexList,
  nonEmpty,
  nonNegativeInt,
  positiveInt,
  type OptionSpecs,
  type Parsed,
} from '../args.js';
import { UsageError } from '../errors.js';
import { loadDataset, gather, type Dataset } from '../data.js';
import { loadDigitImage } from '../image.js';
import {
  assumedLine,
  createNet,
  describeSettings,
  modelInputs,
  setEngineThreads,
  describeModel,
  loadModel,
  modelSummary,
  printWarnings,
  requireMnistShape,
  type LoadedModel,
  type ModelSummary,
  type SettingOptions,
} from '../model.js';
import {
  drawDigit,
  grid,
  int,
  panelsPerRow,
  percent,
  probabilityLines,
  table,
  useColor,
  bold,
  red,
  green,
  seconds,
  safeJson,
  safeText,
} from '../term.js';
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
import { commandLine } from '../invocation.js';
import { loadViz } from '../viz.js';

export const specs: OptionSpecs = {
  model: { type: 'string', metavar: 'F.pth', parse: nonEmpty },
  data: { type: 'string', metavar: 'DIR', parse: nonEmpty },
  images: { type: 'string', metavar: 'F', parse: nonEmpty },
  labels: { type: 'string', metavar: 'F', parse: nonEmpty },
  limit: { type: 'string', metavar: 'N', parse: positiveInt },
  index: { type: 'string', metavar: 'I', parse: indexList, multiple: true },
  image: { type: 'string', metavar: 'FILE', parse: nonEmpty, multiple: true },
  'batch-size': { type: 'string', metavar: 'B', parse: positiveInt },
  examples: { type: 'string', metavar: 'N', parse: nonNegativeInt },
  errors: { type: 'boolean' },
  int8: { type: 'boolean' },
  json: { type: 'boolean' },
  ...MODEL_OPTIONS,
  ...FILE_OPTIONS,
  ...ENGINE_OPTIONS,
  ...COMMON_OPTIONS,
};

const text: Record<string, string> = {
  model: 'model to run (default: the embedded mnist_model.pth trained by PyTorch)',
  data: 'folder with t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (plain or .gz)',
  images: 'IDX images file (with --labels) instead of --data',
  labels: 'IDX labels file (with --images)',
  limit: 'use only the first N test images',
  index: 'draw and report these test images (repeat or comma-separate: --index 8,247)',
  image: 'predict your own pictures (PNG or JPEG, any size): --image a.png b.jpg',
  'batch-size': 'images per forward call (default 256)',
  examples: 'how many examples and mistakes to draw (default 4)',
  errors: 'list every misclassified test image (index, label, prediction)',
  int8: 'run the network in int8: weights per output, inputs per row (default model: 97.82% against 97.84%)',
  json: 'print one JSON document on stdout and nothing else there',
  ...MODEL_HELP,
  ...fileHelp('model', 'idx', 'image'),
  ...ENGINE_HELP,
  ...COMMON_HELP,
};

export function help(): string {
  return `Usage: mnist predict [options]

Runs a model over the MNIST test set and prints accuracy, the confusion matrix, per-class precision and
recall, throughput, and a few digits drawn in the terminal with their top-3 probabilities. With --image,
predicts your own pictures instead (converted like MNIST: cropped, scaled to 20x20, centred in 28x28).

Options:
${describeOptions(specs, text)}

Examples:
  mnist predict
  mnist predict --model my_model.pth --limit 1000
  mnist predict --errors                  list the misclassified test images
  mnist predict --int8                    the same in int8 arithmetic
  mnist predict --index 247,321           draw these test images with their probabilities
  mnist predict --image digit.png --json
  mnist predict --model tanh.pth --activation tanh --normalize mnist
                                          a state_dict records neither: say how the model was trained`;
}

interface PredictOptions extends SettingOptions {
  threads?: number | 'auto';
  model?: string;
  data?: string;
  images?: string;
  labels?: string;
  limit?: number;
  index?: number[];
  image?: string[];
  'batch-size'?: number;
  examples?: number;
  errors?: boolean;
  int8?: boolean;
  json?: boolean;
}

export async function run({ options: raw, positionals }: Parsed): Promise<number> {
  const options = raw as PredictOptions;
  setEngineThreads(options.threads);
  // `--image a.png b.png` (a shell glob after --image): the extra words are pictures too.
  if (options.image && positionals.length > 0) options.image = [...options.image, ...positionals];
  else if (positionals.length > 0)
    throw new UsageError(
      `unexpected argument "${positionals[0]}" (did you mean --image ${positionals[0]}? see ${commandLine('predict --help')})`,
    );
  if (options.image) {
    const clash = (['data', 'images', 'labels', 'limit', 'index', 'errors'] as const).find(
      (k) => options[k] !== undefined,
    );
    if (clash)
      throw new UsageError(
        `--image does not go with --${clash} (pictures have no labels; see ${commandLine('predict --help')})`,
      );
  }
  if (options.index && options.limit !== undefined)
    throw new UsageError('--index and --limit do not go together (pick images by index, or the first N)');

  const model = await loadModel(options.model, options);
  printWarnings(model);
  // With --json, stdout holds the document only: what was assumed goes to stderr (beside the loader's warnings).
  const assumed = assumedLine(model.settings);
  if (options.json && assumed) process.stderr.write(`${assumed}\n`);
  const batchSize = options['batch-size'] ?? 256;
  const precision = options.int8 ? 'int8' : undefined;
  const out = process.stdout;
  const screen = { color: useColor(out), perRow: panelsPerRow(out) };
  if (options.image) {
    requireMnistShape(model, undefined);
    const { report, inputs } = await predictPictures(model, options.image, batchSize, precision);
    out.write(`${options.json ? safeJson(report) : renderPictures(report, inputs, screen)}\n`);
    return 0;
  }
  requireMnistShape(model, MNIST_CLASSES);
  const data = await loadDataset('t10k', options);
  const indices = chooseImages(data.images.count, options);
  const { report, inputs } = await predictTestSet(model, data, indices, batchSize, precision);
  const hint = settingsHint(report);
  if (options.json && hint) process.stderr.write(`${hint}\n`);
  const view: TestSetView = {
    ...screen,
    selection: options.index ? 'index' : options.limit !== undefined ? 'limit' : 'all',
    examples: options.examples ?? 4,
    listErrors: options.errors ?? false,
  };
  out.write(`${options.json ? safeJson(report) : renderTestSet(report, inputs, view)}\n`);
  return 0;
}

/** Images a hint needs: on fewer, an accuracy says little about the settings. */
const HINT_MIN_IMAGES = 1000;

/** Under 90% on the MNIST test set with assumed settings: the model was likely trained with others. */
function settingsHint(report: TestSetReport): string | undefined {
  const source = report.model.settingsSource;
  if (report.accuracy >= 0.9 || report.count < HINT_MIN_IMAGES) return undefined;
  if (source.activation !== 'assumed' && source.normalize !== 'assumed') return undefined;
  // The embedded model's settings are known, so only a user's file reaches here: model.source is its path.
  const probe = commandLine(`inspect ${safeText(report.model.source)} --probe`);
  return `hint: ${percent(report.accuracy)} is low for an MNIST model: it may have been trained with another activation or normalization; try --activation (e.g. tanh, sigmoid, gelu) and --normalize mnist, or see which reading fits best: ${probe}`;
}

/** The test images to run: those of --index (checked against the set), or the first --limit, or all. */
function chooseImages(total: number, options: PredictOptions): number[] {
  if (options.index) {
    const outOfRange = options.index.find((i) => i >= total);
    if (outOfRange !== undefined)
      throw new UsageError(
        `invalid --index: ${outOfRange} is out of range; the test set has ${int(total)} images (0..${total - 1})`,
        'CLI_BAD_VALUE',
      );
    return options.index;
  }
  return Array.from({ length: Math.min(options.limit ?? total, total) }, (_, i) => i);
}

// ---- compute: plain reports (the --json documents), no terminal in sight ----

/** One image's result: the predicted class, the softmax probabilities (float64) and the raw logits. */
interface Scores {
  prediction: number;
  probabilities: number[];
  logits: number[];
}

interface TestPrediction extends Scores {
  index: number;
  label: number;
}

/** What `predict --json` prints for test images. */
export interface TestSetReport {
  model: ModelSummary;
  data: string;
  count: number;
  accuracy: number;
  /** Mean cross-entropy. */
  loss: number;
  batchSize: number;
  /** Time in forward calls after a warm-up call. */
  seconds: number;
  imagesPerSecond: number;
  /** confusion[true][predicted] */
  confusion: number[][];
  /** Per class; NaN (null in JSON) when no image falls in the class. */
  precision: number[];
  recall: number[];
  /** Test-set indices of the misclassified images, in order. */
  mistakes: number[];
  predictions: TestPrediction[];
}

interface PicturePrediction extends Scores {
  file: string;
  width: number;
  height: number;
}

/** What `predict --image … --json` prints. */
export interface PictureReport {
  model: ModelSummary;
  count: number;
  accuracy: null;
  predictions: PicturePrediction[];
}

/** The report on the chosen test images, and their network inputs (for drawing them). */
async function predictTestSet(
  model: LoadedModel,
  data: Dataset,
  indices: number[],
  batchSize: number,
  precision?: Precision,
): Promise<{ report: TestSetReport; inputs: Float32Array }> {
  const count = indices.length,
    classes = model.mlp.classes;
  const net = await createNet(model, 0, precision);
  try {
    // `inputs` stay x/255 for drawing; the network gets them normalized when the model was trained so.
    const inputs = gather(data.images, indices, 0, count, new Float32Array(count * model.mlp.inputSize));
    const x = model.settings.normalize ? modelInputs(model.settings, inputs.slice()) : inputs;
    const { logits, seconds: elapsed } = forwardAll(net, x, count, batchSize);
    const scores = scoreRows(logits, count, classes);
    const predictions = indices.map((index, r) => ({ index, label: data.labels.labels[index]!, ...scores[r]! }));
    const { confusionCounts } = await loadViz();
    const counts = confusionCounts(
      predictions.map((p) => p.label),
      predictions.map((p) => p.prediction),
      classes,
    );
    const confusion = Array.from({ length: classes }, (_, t) =>
      Array.from(counts.subarray(t * classes, (t + 1) * classes)),
    );
    const mistakes = predictions.filter((p) => p.prediction !== p.label).map((p) => p.index);
    const loss = predictions.reduce((sum, p) => sum - Math.log(Math.max(p.probabilities[p.label]!, 1e-300)), 0);
    const report: TestSetReport = {
      model: modelSummary(model, net),
      data: data.source,
      count,
      accuracy: (count - mistakes.length) / count,
      loss: loss / count,
      batchSize,
      seconds: elapsed,
      imagesPerSecond: count / Math.max(elapsed, 1e-9),
      confusion,
      precision: confusion.map((_, c) => ratio(confusion[c]![c]!, sum(confusion.map((row) => row[c]!)))),
      recall: confusion.map((row, c) => ratio(row[c]!, sum(row))),
      mistakes,
      predictions,
    };
    return { report, inputs };
  } finally {
    net.dispose();
  }
}

/** The report on the user's pictures, and their network inputs (each preprocessed like MNIST). */
async function predictPictures(
  model: LoadedModel,
  files: string[],
  batchSize: number,
  precision?: Precision,
): Promise<{ report: PictureReport; inputs: Float32Array }> {
  const pictures = [];
  for (const file of files) pictures.push({ file, ...(await loadDigitImage(file)) });
  const size = model.mlp.inputSize;
  const inputs = new Float32Array(pictures.length * size);
  pictures.forEach((p, i) => inputs.set(p.input, i * size));
  const net = await createNet(model, 0, precision);
  try {
    const x = model.settings.normalize ? modelInputs(model.settings, inputs.slice()) : inputs;
    const { logits } = forwardAll(net, x, pictures.length, batchSize);
    const scores = scoreRows(logits, pictures.length, model.mlp.classes);
    const predictions = pictures.map((p, r) => ({
      file: p.file,
      width: p.picture.width,
      height: p.picture.height,
      ...scores[r]!,
    }));
    return {
      report: { model: modelSummary(model, net), count: predictions.length, accuracy: null, predictions },
      inputs,
    };
  } finally {
    net.dispose();
  }
}

/** Forward pass over the inputs in batches; returns the logits and the seconds spent in forward calls. */
function forwardAll(
  net: Mlp,
  x: Float32Array,
  count: number,
  batchSize: number,
): { logits: Float32Array; seconds: number } {
  const inputs = net.sizes[0]!,
    classes = net.classes;
  const logits = new Float32Array(count * classes);
  // Warm-up call (packs the weights, sizes the workspace) so the timing measures steady-state throughput.
  net.forward(x.subarray(0, Math.min(batchSize, count) * inputs), Math.min(batchSize, count));
  const t0 = performance.now();
  for (let start = 0; start < count; start += batchSize) {
    const b = Math.min(batchSize, count - start);
    logits.set(net.forward(x.subarray(start * inputs, (start + b) * inputs), b), start * classes);
  }
  return { logits, seconds: (performance.now() - t0) / 1000 };
}

function scoreRows(logits: Float32Array, rows: number, classes: number): Scores[] {
  const predictions = argmaxRows(logits, rows, classes);
  return Array.from({ length: rows }, (_, r) => ({
    prediction: predictions[r]!,
    probabilities: softmaxRow(logits, r, classes),
    logits: Array.from(logits.subarray(r * classes, (r + 1) * classes)),
  }));
}

/**
 * Softmax of one row of float32 logits, in float64 (max subtracted for stability). Not Mlp.probabilities: that
 * runs the network again and gives float32, while the report's probabilities and loss come from these logits.
 */
function softmaxRow(logits: Float32Array, row: number, classes: number): number[] {
  const values = Array.from(logits.subarray(row * classes, (row + 1) * classes));
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const total = sum(exps);
  return exps.map((e) => e / total);
}

function sum(values: number[]): number {
  return values.reduce((s, v) => s + v, 0);
}

/** a / b, or NaN (null in JSON, '-' on screen) when no image falls in the class. */
function ratio(a: number, b: number): number {
  return b === 0 ? NaN : a / b;
}

// ---- render: the reports as terminal text ----

interface Screen {
  color: boolean;
  /** Digit panels per row. */
  perRow: number;
}

interface TestSetView extends Screen {
  /** How the images were chosen: the whole set, the first N (--limit), or --index. */
  selection: 'all' | 'limit' | 'index';
  /** How many images and mistakes to draw (--examples). */
  examples: number;
  /** List every mistake (--errors) instead of a hint. */
  listErrors: boolean;
}

function renderTestSet(report: TestSetReport, inputs: Float32Array, view: TestSetView): string {
  const { color, perRow, selection } = view;
  const { count, confusion, mistakes, predictions, model } = report;
  const plural = (n: number, word: string) => `${word}${n === 1 ? '' : 's'}`;
  const chosen =
    selection === 'index'
      ? ` (--index ${predictions.map((p) => p.index).join(',')})`
      : selection === 'limit'
        ? ` (first ${int(count)})`
        : '';
  const lines = [
    `${bold('model', color)}     ${describeModel(model)}`,
    `${bold('settings', color)}  ${describeSettings(model)}`,
    ...optional(assumedLine(model)),
    `${bold('data', color)}      ${safeText(report.data)}: ${int(count)} ${plural(count, 'image')}${chosen}`,
    `${bold('engine', color)}    @mnist/core-wasm (${model.engine}${model.precision === 'int8' ? ', int8' : ''}, ${model.threads} ${plural(model.threads!, 'thread')}), batch ${report.batchSize}: ${seconds(report.seconds)}, ${int(report.imagesPerSecond)} images/s`,
    `${bold('accuracy', color)}  ${bold(percent(report.accuracy), color)} (${int(count - mistakes.length)} of ${int(count)} correct), mean cross-entropy loss ${report.loss.toFixed(4)}`,
    ...optional(settingsHint(report)),
  ];

  if (selection !== 'index') {
    lines.push('', 'confusion matrix (rows: true digit, columns: predicted digit)');
    const header = ['true \\ pred', ...confusion.map((_, c) => String(c))];
    lines.push(
      ...table(
        header,
        confusion.map((row, t) => [
          String(t),
          ...row.map((v, p) => (v === 0 ? '.' : t === p ? green(String(v), color) : red(String(v), color))),
        ]),
      ),
    );
    lines.push('', 'per class');
    lines.push(
      ...table(
        ['digit', 'precision', 'recall', 'images'],
        confusion.map((row, c) => [
          String(c),
          percentOrDash(report.precision[c]!),
          percentOrDash(report.recall[c]!),
          int(sum(row)),
        ]),
      ),
    );
  }

  const panel = (r: number) => {
    const p = predictions[r]!;
    const verdict = p.prediction === p.label ? green(`→ ${p.prediction} ✓`, color) : red(`→ ${p.prediction} ✗`, color);
    return [
      ...drawDigit(inputs.subarray(r * MNIST_PIXELS, (r + 1) * MNIST_PIXELS), color),
      `#${p.index}  true ${p.label} ${verdict}`,
      ...probabilityLines(p.probabilities),
    ];
  };
  const show = view.examples;
  if (selection === 'index') {
    lines.push(
      '',
      ...grid(
        predictions.map((_, r) => panel(r)),
        perRow,
      ),
    );
    return lines.join('\n');
  }
  if (show > 0) {
    lines.push('', `first ${Math.min(show, count)} test ${plural(show, 'image')}:`, '');
    lines.push(
      ...grid(
        predictions.slice(0, show).map((_, r) => panel(r)),
        perRow,
      ),
    );
    if (mistakes.length > 0) {
      const rows = predictions
        .map((p, r) => (p.prediction !== p.label ? r : -1))
        .filter((r) => r >= 0)
        .slice(0, show);
      lines.push('', `misclassified: ${int(mistakes.length)} of ${int(count)}; the first ${rows.length}:`, '');
      lines.push(...grid(rows.map(panel), perRow));
    }
  }
  if (mistakes.length > 0 && view.listErrors) {
    lines.push('', `all ${int(mistakes.length)} misclassified test images (index: true → predicted, confidence):`);
    const cells = predictions
      .filter((p) => p.prediction !== p.label)
      .map(
        (p) =>
          `${String(p.index).padStart(5)}: ${p.label} → ${p.prediction} ${percent(p.probabilities[p.prediction]!, 0).padStart(4)}`,
      );
    for (let i = 0; i < cells.length; i += 5) lines.push('  ' + cells.slice(i, i + 5).join('   '));
  } else if (mistakes.length > 0) {
    lines.push(
      '',
      `list all ${int(mistakes.length)} mistakes: ${commandLine('predict --errors')}    draw some: ${commandLine('predict --index')} ${mistakes.slice(0, 3).join(',')}`,
    );
  }
  return lines.join('\n');
}

function renderPictures(report: PictureReport, inputs: Float32Array, { color, perRow }: Screen): string {
  const panels = report.predictions.map((p, r) => {
    const name = safeText(path.basename(p.file));
    return [
      ...drawDigit(inputs.subarray(r * MNIST_PIXELS, (r + 1) * MNIST_PIXELS), color),
      name.length > 24 ? `…${name.slice(-23)}` : name,
      `${p.width}x${p.height} → ${bold(`prediction ${p.prediction}`, color)}`,
      ...probabilityLines(p.probabilities),
    ];
  });
  return [
    `${bold('model', color)}     ${describeModel(report.model)}`,
    `${bold('settings', color)}  ${describeSettings(report.model)}`,
    ...optional(assumedLine(report.model)),
    '',
    ...grid(panels, perRow),
  ].join('\n');
}

function optional(line: string | undefined): string[] {
  return line === undefined ? [] : [line];
}

function percentOrDash(v: number): string {
  return Number.isNaN(v) ? '-' : percent(v, 1);
}
