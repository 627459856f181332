// `mnist predict`: runs a model over the MNIST test set (accuracy, confusion matrix, per-class precision
// and recall, throughput, digits drawn in the terminal with their top-3 probabilities) or over the user's pictures.
import path from 'node:path';
import { describeOptions, indexList, nonEmpty, nonNegativeInt, positiveInt, type OptionSpecs, type Parsed } from '../args.js';
import { UsageError } from '../errors.js';
import { loadDataset, gather, type Dataset } from '../data.js';
import { loadDigitImage } from '../image.js';
import { createNet, setEngineThreads, describeModel, loadModel, modelSummary, printWarnings, requireMnistShape, MNIST_CLASSES, type LoadedModel } from '../model.js';
import { drawDigit, grid, int, panelsPerRow, percent, probabilityLines, table, useColor, bold, red, green, seconds, safeJson, safeText } from '../term.js';
import { COMMON_HELP, COMMON_OPTIONS, ENGINE_HELP, ENGINE_OPTIONS, FILE_OPTIONS, fileHelp, argmaxRow, softmaxRow } from './common.js';
import { commandLine } from '../invocation.js';

export const specs: OptionSpecs = {
  model: { kind: 'value', metavar: 'F.pth', parse: nonEmpty },
  data: { kind: 'value', metavar: 'DIR', parse: nonEmpty },
  images: { kind: 'value', metavar: 'F', parse: nonEmpty },
  labels: { kind: 'value', metavar: 'F', parse: nonEmpty },
  limit: { kind: 'value', metavar: 'N', parse: positiveInt },
  index: { kind: 'value', metavar: 'I', parse: indexList, multiple: true },
  image: { kind: 'value', metavar: 'FILE', parse: nonEmpty, multiple: true },
  'batch-size': { kind: 'value', metavar: 'B', parse: positiveInt },
  examples: { kind: 'value', metavar: 'N', parse: nonNegativeInt },
  errors: { kind: 'flag' },
  json: { kind: 'flag' },
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
  json: 'print one JSON document on stdout and nothing else there',
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
  mnist predict --index 247,321           draw these test images with their probabilities
  mnist predict --image digit.png --json`;
}

interface PredictOptions {
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
  json?: boolean;
}

export async function run({ options: raw, positionals }: Parsed): Promise<number> {
  const options = raw as PredictOptions;
  setEngineThreads(options.threads);
  // `--image a.png b.png` (a shell glob after --image): the extra words are pictures too.
  if (options.image && positionals.length > 0) options.image = [...options.image, ...positionals];
  else if (positionals.length > 0) throw new UsageError(`mnist predict: unexpected argument "${positionals[0]}" (did you mean --image ${positionals[0]}? see ${commandLine('predict --help')})`);
  if (options.image) {
    const clash = (['data', 'images', 'labels', 'limit', 'index', 'errors'] as const).find((k) => options[k] !== undefined);
    if (clash) throw new UsageError(`mnist predict: --image does not go with --${clash} (pictures have no labels; see ${commandLine('predict --help')})`);
  }
  if (options.index && options.limit !== undefined) throw new UsageError('mnist predict: --index and --limit do not go together (pick images by index, or the first N)');

  const model = await loadModel(options.model);
  printWarnings(model);
  const batchSize = options['batch-size'] ?? 256;
  if (options.image) return predictPictures(model, options.image, batchSize, options);
  requireMnistShape(model, MNIST_CLASSES);
  const data = await loadDataset('t10k', options, MNIST_CLASSES);
  return predictTestSet(model, data, batchSize, options);
}

/** Forward pass over the given inputs in batches; returns the logits and the seconds spent in forward calls. */
function forwardAll(net: Awaited<ReturnType<typeof createNet>>, x: Float32Array, count: number, inputs: number, classes: number, batchSize: number): { logits: Float32Array; seconds: number } {
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

async function predictTestSet(model: LoadedModel, data: Dataset, batchSize: number, options: PredictOptions): Promise<number> {
  const total = data.images.count;
  let indices: number[];
  if (options.index) {
    const outOfRange = options.index.find((i) => i >= total);
    if (outOfRange !== undefined) throw new UsageError(`invalid --index: ${outOfRange} is out of range; the test set has ${int(total)} images (0..${total - 1})`, 'CLI_BAD_VALUE');
    indices = options.index;
  } else {
    const count = Math.min(options.limit ?? total, total);
    indices = Array.from({ length: count }, (_, i) => i);
  }
  const count = indices.length;
  const inputs = model.mlp.inputSize, classes = model.mlp.classes;
  const net = await createNet(model.mlp);
  try {
    const x = gather(data.images, indices, 0, count, new Float32Array(count * inputs));
    const { logits, seconds: elapsed } = forwardAll(net, x, count, inputs, classes, batchSize);

    const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
    const predictions: Array<{ index: number; label: number; prediction: number; probabilities: number[]; logits: number[] }> = [];
    const mistakes: number[] = [];
    let correct = 0, loss = 0;
    for (let r = 0; r < count; r++) {
      const label = data.labels.labels[indices[r]!]!;
      const prediction = argmaxRow(logits, r, classes);
      const probabilities = softmaxRow(logits, r, classes);
      confusion[label]![prediction]!++;
      if (prediction === label) correct++;
      else mistakes.push(indices[r]!);
      loss -= Math.log(Math.max(probabilities[label]!, 1e-300));
      predictions.push({ index: indices[r]!, label, prediction, probabilities, logits: Array.from(logits.subarray(r * classes, (r + 1) * classes)) });
    }
    const accuracy = correct / count;
    const precision = confusion.map((_, c) => ratio(confusion[c]![c]!, confusion.reduce((s, row) => s + row[c]!, 0)));
    const recall = confusion.map((row, c) => ratio(row[c]!, row.reduce((s, v) => s + v, 0)));
    const imagesPerSecond = count / Math.max(elapsed, 1e-9);

    if (options.json) {
      writeJson({
        model: modelSummary(model, net),
        data: data.source,
        count,
        accuracy,
        loss: loss / count,
        batchSize,
        seconds: elapsed,
        imagesPerSecond,
        confusion,
        precision,
        recall,
        mistakes,
        predictions,
      });
      return 0;
    }

    const out = process.stdout;
    const color = useColor(out);
    const lines: string[] = [];
    lines.push(`${bold('model', color)}     ${describeModel(model)}`);
    lines.push(`${bold('data', color)}      ${safeText(data.source)}: ${int(count)} image${count === 1 ? '' : 's'}${options.index ? ` (--index ${indices.join(',')})` : options.limit ? ` (first ${int(count)})` : ''}`);
    lines.push(`${bold('engine', color)}    @mnist/core-wasm (${net.variant}, ${net.threads} thread${net.threads === 1 ? '' : 's'}), batch ${batchSize}: ${seconds(elapsed)}, ${int(imagesPerSecond)} images/s`);
    lines.push(`${bold('accuracy', color)}  ${bold(percent(accuracy), color)} (${int(correct)} of ${int(count)} correct), mean cross-entropy loss ${(loss / count).toFixed(4)}`);

    if (!options.index) {
      lines.push('', 'confusion matrix (rows: true digit, columns: predicted digit)');
      const header = ['true \\ pred', ...confusion.map((_, c) => String(c))];
      lines.push(...table(header, confusion.map((row, t) => [String(t), ...row.map((v, p) => (v === 0 ? '.' : t === p ? green(String(v), color) : red(String(v), color)))])));
      lines.push('', 'per class');
      lines.push(...table(['digit', 'precision', 'recall', 'images'], confusion.map((row, c) => [String(c), percentOrDash(precision[c]!), percentOrDash(recall[c]!), int(row.reduce((s, v) => s + v, 0))])));
    }

    const perRow = panelsPerRow(out);
    const panel = (r: number) => {
      const p = predictions[r]!;
      const ok = p.prediction === p.label;
      const verdict = ok ? green(`→ ${p.prediction} ✓`, color) : red(`→ ${p.prediction} ✗`, color);
      return [...drawDigit(x.subarray(r * inputs, (r + 1) * inputs), color), `#${p.index}  true ${p.label} ${verdict}`, ...probabilityLines(p.probabilities)];
    };
    const show = options.examples ?? 4;
    if (options.index) {
      lines.push('', ...grid(predictions.map((_, r) => panel(r)), perRow));
    } else if (show > 0) {
      lines.push('', `first ${Math.min(show, count)} test image${show === 1 ? '' : 's'}:`, '');
      lines.push(...grid(predictions.slice(0, show).map((_, r) => panel(r)), perRow));
      if (mistakes.length > 0) {
        const rows = predictions.map((p, r) => (p.prediction !== p.label ? r : -1)).filter((r) => r >= 0).slice(0, show);
        lines.push('', `misclassified: ${int(mistakes.length)} of ${int(count)}; the first ${rows.length}:`, '');
        lines.push(...grid(rows.map(panel), perRow));
      }
    }
    if (!options.index && mistakes.length > 0) {
      if (options.errors) {
        lines.push('', `all ${int(mistakes.length)} misclassified test images (index: true → predicted, confidence):`);
        const cells = predictions.filter((p) => p.prediction !== p.label).map((p) => `${String(p.index).padStart(5)}: ${p.label} → ${p.prediction} ${percent(p.probabilities[p.prediction]!, 0).padStart(4)}`);
        for (let i = 0; i < cells.length; i += 5) lines.push('  ' + cells.slice(i, i + 5).join('   '));
      } else {
        lines.push('', `list all ${int(mistakes.length)} mistakes: ${commandLine('predict --errors')}    draw some: ${commandLine('predict --index')} ${mistakes.slice(0, 3).join(',')}`);
      }
    }
    out.write(lines.join('\n') + '\n');
    return 0;
  } finally {
    net.dispose();
  }
}

async function predictPictures(model: LoadedModel, files: string[], batchSize: number, options: PredictOptions): Promise<number> {
  requireMnistShape(model, undefined);
  const pictures = [];
  for (const file of files) pictures.push({ file, ...(await loadDigitImage(file)) });
  const inputs = model.mlp.inputSize, classes = model.mlp.classes;
  const x = new Float32Array(pictures.length * inputs);
  pictures.forEach((p, i) => x.set(p.input, i * inputs));
  const net = await createNet(model.mlp);
  try {
    const { logits } = forwardAll(net, x, pictures.length, inputs, classes, batchSize);
    const predictions = pictures.map((p, r) => ({
      file: p.file,
      width: p.picture.width,
      height: p.picture.height,
      prediction: argmaxRow(logits, r, classes),
      probabilities: softmaxRow(logits, r, classes),
      logits: Array.from(logits.subarray(r * classes, (r + 1) * classes)),
    }));
    if (options.json) {
      writeJson({ model: modelSummary(model, net), count: predictions.length, accuracy: null, predictions });
      return 0;
    }
    const out = process.stdout;
    const color = useColor(out);
    const lines = [`${bold('model', color)}  ${describeModel(model)}`, ''];
    const panels = predictions.map((p, r) => {
      const name = safeText(path.basename(p.file));
      return [
        ...drawDigit(x.subarray(r * inputs, (r + 1) * inputs), color),
        name.length > 24 ? `…${name.slice(-23)}` : name,
        `${p.width}x${p.height} → ${bold(`prediction ${p.prediction}`, color)}`,
        ...probabilityLines(p.probabilities),
      ];
    });
    lines.push(...grid(panels, panelsPerRow(out)));
    out.write(lines.join('\n') + '\n');
    return 0;
  } finally {
    net.dispose();
  }
}

/** a / b, or NaN (null in JSON, '-' on screen) when no image falls in the class. */
function ratio(a: number, b: number): number {
  return b === 0 ? NaN : a / b;
}

function percentOrDash(v: number): string {
  return Number.isNaN(v) ? '-' : percent(v, 1);
}

function writeJson(value: unknown): void {
  process.stdout.write(safeJson(value) + '\n');
}
