// Result figures: confusionMatrix (counts; correct cells blue by recall, mistakes orange-red by count),
// probabilityBars (softmax outputs, the prediction highlighted) and lossCurve (loss and accuracy over steps).

import * as Plot from '@observablehq/plot';
import { invalidInput, invalidOption, warn } from './errors.js';
import type { FigureOptions, FigureSvg } from './dom.js';
import {
  asSvg,
  checkArray,
  checkClassNames,
  checkHeight,
  checkPositiveInteger,
  describeFigure,
  describeNumber,
  largest,
  resolveDocument,
  resolveWidth,
  stack,
  type Panel,
} from './figure.js';
import { ACCENT_COLOR, ACCENT_LIGHT_COLOR, MISTAKE_COLOR } from './color.js';
import { thinned } from './grid.js';

export interface ConfusionMatrixOptions extends FigureOptions {
  /** Number of classes; default 10. */
  classes?: number;
}

/** counts[t * classes + p] = number of examples with true class t predicted as p. */
export function confusionCounts(labels: ArrayLike<number>, predictions: ArrayLike<number>, classes = 10): Uint32Array {
  checkArray('labels', labels);
  checkArray('predictions', predictions);
  if (labels.length !== predictions.length)
    throw invalidInput(`invalid predictions: expected ${labels.length} (one per label), got ${predictions.length}`);
  const counts = new Uint32Array(classes * classes);
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i];
    const p = predictions[i];
    if (!(Number.isInteger(t) && t >= 0 && t < classes))
      throw invalidInput(
        `invalid label at ${i}: ${t} (expected an integer in [0, ${classes}); pass classes for more classes)`,
      );
    if (!(Number.isInteger(p) && p >= 0 && p < classes))
      throw invalidInput(
        `invalid prediction at ${i}: ${p} (expected an integer in [0, ${classes}); pass classes for more classes)`,
      );
    counts[t * classes + p]++;
  }
  return counts;
}

const blues = Plot.scale({ color: { type: 'linear', scheme: 'blues', domain: [0, 1] } });
const oranges = Plot.scale({ color: { type: 'linear', scheme: 'oranges', domain: [0, 1] } });

/**
 * Rows are true classes, columns predictions; each non-zero cell shows its count. Diagonal cells are blue by recall
 * (share of the row), off-diagonal cells orange by count relative to the largest mistake, so rare mistakes stay visible.
 */
export function confusionMatrix(
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  options: ConfusionMatrixOptions = {},
): FigureSvg {
  const classes = checkPositiveInteger('classes', options.classes ?? 10);
  const counts = confusionCounts(labels, predictions, classes);
  if (labels.length === 0) throw invalidInput('invalid labels: empty (expected at least one example)');
  const document = resolveDocument(options);
  const rowTotals = Array.from({ length: classes }, (_, t) =>
    counts.slice(t * classes, (t + 1) * classes).reduce((a, b) => a + b, 0),
  );
  let maxMistake = 0;
  let correct = 0;
  for (let t = 0; t < classes; t++)
    for (let p = 0; p < classes; p++) {
      if (t === p) correct += counts[t * classes + p];
      else maxMistake = Math.max(maxMistake, counts[t * classes + p]);
    }
  const cells = Array.from({ length: classes * classes }, (_, i) => i);
  const shade = (i: number): number => {
    const t = Math.floor(i / classes);
    const p = i % classes;
    const count = counts[i];
    if (count === 0) return 0;
    return t === p ? count / rowTotals[t] : count / maxMistake;
  };
  const fill = (i: number): string => {
    if (counts[i] === 0) return '#f7f7f7';
    const diagonal = Math.floor(i / classes) === i % classes;
    // Mistakes stop at 70% of the orange ramp so that dozens of small counts do not drown the diagonal.
    return String((diagonal ? blues : oranges).apply(diagonal ? 0.15 + 0.85 * shade(i) : 0.1 + 0.6 * shade(i)));
  };
  const marginLeft = 44;
  const marginBottom = 38;
  const marginTop = 6;
  const available = resolveWidth(options, 440) - marginLeft - 10;
  const cell = available / classes;
  const range = Array.from({ length: classes }, (_, i) => i);
  const fontSize = Math.max(7, Math.min(12, cell / 3.2));
  const plot = asSvg(
    Plot.plot({
      document,
      width: Math.round(marginLeft + 10 + classes * cell),
      height: Math.round(marginTop + marginBottom + classes * cell),
      marginLeft,
      marginRight: 10,
      marginTop,
      marginBottom,
      x: {
        type: 'band',
        domain: range,
        label: 'predicted',
        labelAnchor: 'center',
        ticks: thinned(classes, cell, 16),
        tickSize: 0,
        padding: 0,
      },
      y: {
        type: 'band',
        domain: range,
        label: 'true',
        labelAnchor: 'center',
        ticks: thinned(classes, cell, 12),
        tickSize: 0,
        padding: 0,
      },
      marks: [
        Plot.cell(cells, {
          x: (i: number) => i % classes,
          y: (i: number) => Math.floor(i / classes),
          fill,
          inset: 0.5,
          title: (i: number) => `true ${Math.floor(i / classes)}, predicted ${i % classes}: ${counts[i]}`,
        }),
        Plot.text(
          cells.filter((i) => counts[i] > 0),
          {
            x: (i: number) => i % classes,
            y: (i: number) => Math.floor(i / classes),
            text: (i: number) => String(counts[i]),
            fill: (i: number) => (Math.floor(i / classes) === i % classes && shade(i) > 0.5 ? 'white' : 'black'),
            fontSize,
          },
        ),
      ],
    }),
  );
  const accuracy = (100 * correct) / labels.length;
  const subtitle =
    options.subtitle ??
    `accuracy ${accuracy.toFixed(2)}% (${correct} of ${labels.length}) · blue: correct · orange: mistakes`;
  const svg = stack(document, [{ svg: plot }], { title: options.title, subtitle });
  const mistakes = cells
    .filter((i) => Math.floor(i / classes) !== i % classes && counts[i] > 0)
    .sort((a, b) => counts[b] - counts[a] || a - b)
    .slice(0, 3)
    .map((i) => `true ${Math.floor(i / classes)} predicted ${i % classes} (${counts[i]})`);
  describeFigure(
    document,
    svg,
    options.title ?? 'confusion matrix',
    `Counts of ${labels.length} examples by true class (rows) and prediction (columns), ${classes} classes: ` +
      `accuracy ${accuracy.toFixed(2)}% (${correct} of ${labels.length}).` +
      (mistakes.length ? ` Most frequent mistakes: ${mistakes.join(', ')}.` : ' No mistakes.'),
  );
  return svg;
}

export interface ProbabilityBarsOptions extends FigureOptions {
  /** Class names; default "0".."9". */
  classNames?: string[];
  /** The true class, if known: its tick is bold, and its bar red-outlined when the prediction is wrong. */
  trueLabel?: number;
  /** Figure height; default 180. */
  height?: number;
}

/** Softmax outputs as bars (0..100%); the most probable class is dark, the others light. */
export function probabilityBars(probabilities: ArrayLike<number>, options: ProbabilityBarsOptions = {}): FigureSvg {
  checkArray('probabilities', probabilities);
  const n = probabilities.length;
  if (n === 0) throw invalidInput('invalid probabilities: empty (expected one value per class)');
  for (let i = 0; i < n; i++) {
    const p = probabilities[i];
    if (!(p >= 0 && p <= 1))
      throw invalidInput(
        `invalid probabilities: value at ${i} is ${p} (expected 0..1; pass softmax outputs, not logits)`,
      );
  }
  const best = largest(probabilities);
  const names = checkClassNames(n, options.classNames);
  const trueLabel = options.trueLabel;
  if (trueLabel !== undefined && !(Number.isInteger(trueLabel) && trueLabel >= 0 && trueLabel < n))
    throw invalidOption(`invalid trueLabel: ${trueLabel} (expected an integer in [0, ${n}))`);
  const document = resolveDocument(options);
  const height = checkHeight('height', options.height ?? 180);
  const classes = Array.from({ length: n }, (_, i) => i);
  const wrong = trueLabel !== undefined && trueLabel !== best ? [trueLabel] : [];
  const width = resolveWidth(options, 320);
  // a label of 9 px text is ~5.5 px per character: on bands narrower than "0.3%" the small ones would run into
  // their neighbours, so there only whole percents (and the best class) are labelled; every value stays in the title
  const band = ((width - 40 - 20) / n) * 0.85;
  const label = (i: number) => {
    const text = formatPercent(probabilities[i]);
    return i === best || band >= 5.5 * text.length + 2 || probabilities[i] >= 0.01 ? text : '';
  };
  const plot = asSvg(
    Plot.plot({
      document,
      width,
      height,
      marginTop: 22,
      marginLeft: 40,
      marginRight: 20,
      marginBottom: 30,
      x: {
        type: 'band',
        domain: classes,
        tickFormat: (i: number) => names[i],
        label: trueLabel === undefined ? 'class' : `class (true: ${names[trueLabel]})`,
        labelAnchor: 'center',
        tickSize: 0,
        padding: 0.15,
      },
      y: { domain: [0, 1], tickFormat: '.0%', label: 'probability', ticks: 5, grid: true },
      marks: [
        Plot.barY(classes, {
          x: (i: number) => i,
          y: (i: number) => probabilities[i],
          fill: (i: number) => (i === best ? ACCENT_COLOR : ACCENT_LIGHT_COLOR),
          title: (i: number) => `${names[i]}: ${(100 * probabilities[i]).toFixed(2)}%`,
        }),
        Plot.barY(wrong, {
          x: (i: number) => i,
          y1: 0,
          y2: 1,
          stroke: MISTAKE_COLOR,
          strokeWidth: 1.5,
          strokeDasharray: '3,2',
          fill: 'none',
        }),
        Plot.ruleY([0]),
        ...[false, true].map((top) =>
          Plot.text(
            classes.filter((i) => (i === best) === top),
            {
              x: (i: number) => i,
              y: (i: number) => probabilities[i],
              text: label,
              dy: -7,
              fontWeight: top ? 'bold' : 'normal',
              fontSize: 9,
            },
          ),
        ),
      ],
    }),
  );
  const svg = stack(document, [{ svg: plot }], { title: options.title, subtitle: options.subtitle });
  const others = classes
    .filter((i) => i !== best)
    .sort((a, b) => probabilities[b] - probabilities[a] || a - b)
    .slice(0, 2)
    .map((i) => `${names[i]} ${(100 * probabilities[i]).toFixed(1)}%`);
  describeFigure(
    document,
    svg,
    options.title ?? 'class probabilities',
    `Probability of each of ${n} classes: the most probable is ${names[best]} with ` +
      `${(100 * probabilities[best]).toFixed(1)}%${others.length ? `, then ${others.join(', ')}` : ''}.` +
      (trueLabel !== undefined ? ` The true class is ${names[trueLabel]}.` : ''),
  );
  return svg;
}

/**
 * Log-axis ticks at 1-2-5 (or 1..9 for short ranges) times powers of ten; explicit because Plot's log axis blanks
 * most labels on short panels.
 */
function logTicks(values: number[], height: number): number[] {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const room = Math.max(2, Math.floor(height / 25));
  const ticksFor = (mantissas: number[]) => {
    const ticks: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
      for (const m of mantissas) {
        const t = +(m * 10 ** e).toPrecision(3);
        if (t >= lo * 0.999 && t <= hi * 1.001) ticks.push(t);
      }
    return ticks;
  };
  const all = ticksFor([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  if (all.length <= room) return all.length ? all : [lo, hi];
  const nice = ticksFor([1, 2, 5]);
  if (nice.length >= 2 && nice.length <= room) return nice;
  const step = Math.ceil(all.length / room);
  return all.filter((_, i) => i % step === 0);
}

function formatPercent(p: number): string {
  const percent = 100 * p;
  if (percent >= 99.5 && percent < 100) return '>99%';
  if (percent >= 1) return `${Math.round(percent)}%`;
  if (percent >= 0.05) return `${percent.toFixed(1)}%`;
  return '';
}

export interface HistoryPoint {
  step: number;
  loss: number;
  accuracy?: number;
  epoch?: number;
}

export interface LossCurveOptions extends FigureOptions {
  /** Height of each panel (loss, and accuracy when present); default 180. */
  panelHeight?: number;
  /** Loss axis type; default "linear" ("log" helps long runs). */
  lossScale?: 'linear' | 'log';
}

/**
 * Loss over steps (a thin raw line and, with enough points, a moving average), and below it accuracy (0..1, drawn as
 * percent) wherever history entries carry one. Epoch boundaries, when entries carry an epoch, are grey rules.
 */
export function lossCurve(history: HistoryPoint[], options: LossCurveOptions = {}): FigureSvg {
  if (!Array.isArray(history))
    throw invalidInput(`invalid history: expected an array of { step, loss }, got ${typeof history}`);
  if (history.length === 0) throw invalidInput('invalid history: empty (expected at least one { step, loss })');
  history.forEach((point, i) => {
    if (!(point && Number.isFinite(point.step)))
      throw invalidInput(`invalid history at ${i}: step ${point?.step} (expected a finite number)`);
    if (typeof point.loss !== 'number')
      throw invalidInput(`invalid history at ${i}: loss ${point.loss} (expected a number)`);
    if (point.accuracy !== undefined && !(point.accuracy >= 0 && point.accuracy <= 1))
      throw invalidInput(`invalid history at ${i}: accuracy ${point.accuracy} (expected 0..1)`);
  });
  const document = resolveDocument(options);
  const width = resolveWidth(options, 640);
  const panelHeight = checkHeight('panelHeight', options.panelHeight ?? 180);
  const points = [...history].sort((a, b) => a.step - b.step);
  const steps: [number, number] = [points[0].step, points[points.length - 1].step];
  if (steps[0] === steps[1]) steps[1] = steps[0] + 1;
  const epochStarts = points.filter((p, i) => p.epoch !== undefined && i > 0 && p.epoch !== points[i - 1].epoch);
  const withAccuracy = points.filter((p) => p.accuracy !== undefined);
  const lossPoints = points.filter((p) => Number.isFinite(p.loss) && (options.lossScale !== 'log' || p.loss > 0));
  if (lossPoints.length < points.length)
    warn(
      `lossCurve: ${points.length - lossPoints.length} non-finite${options.lossScale === 'log' ? ' or non-positive' : ''} losses not drawn`,
    );
  const window = Math.max(1, Math.round(points.length / 25));
  const epochRules = (y: 'loss' | 'accuracy') => [
    Plot.ruleX(epochStarts, { x: 'step', stroke: '#bbb', strokeDasharray: '2,3' }),
    y === 'loss'
      ? Plot.text(epochStarts, {
          x: 'step',
          text: (p: HistoryPoint) => `epoch ${p.epoch}`,
          frameAnchor: 'top',
          textAnchor: 'start',
          dx: 3,
          dy: 2,
          fill: '#777',
        })
      : null,
  ];
  // The loss panel and the accuracy panel share the step axis and the layout.
  const panel = (xLabel: string | null, y: Plot.ScaleOptions, marks: Plot.Markish[]): Panel => ({
    svg: asSvg(
      Plot.plot({
        document,
        width,
        height: panelHeight,
        marginLeft: 50,
        marginTop: 22,
        x: { domain: steps, label: xLabel, labelAnchor: 'right' },
        y,
        marks,
      }),
    ),
  });
  const panels = [
    panel(
      withAccuracy.length ? null : 'step',
      options.lossScale === 'log'
        ? {
            type: 'log',
            label: 'loss',
            grid: true,
            ticks: logTicks(
              lossPoints.map((p) => p.loss),
              panelHeight,
            ),
            tickFormat: (d: number) => String(+d.toPrecision(2)),
          }
        : { type: 'linear', label: 'loss', grid: true, zero: true },
      [
        ...epochRules('loss'),
        Plot.lineY(lossPoints, { x: 'step', y: 'loss', stroke: window > 1 ? '#9ecae1' : ACCENT_COLOR, strokeWidth: 1 }),
        window > 1
          ? Plot.lineY(
              lossPoints,
              Plot.windowY(
                { k: window, anchor: 'middle' },
                { x: 'step', y: 'loss', stroke: ACCENT_COLOR, strokeWidth: 1.5 },
              ),
            )
          : null,
        lossPoints.length === 1 ? Plot.dot(lossPoints, { x: 'step', y: 'loss', fill: ACCENT_COLOR }) : null,
      ],
    ),
  ];
  if (withAccuracy.length) {
    panels.push(
      panel('step', { label: 'accuracy (%)', percent: true, grid: true, nice: true }, [
        ...epochRules('accuracy'),
        Plot.lineY(withAccuracy, { x: 'step', y: 'accuracy', stroke: '#2ca02c', strokeWidth: 1.5 }),
        Plot.dot(withAccuracy, {
          x: 'step',
          y: 'accuracy',
          fill: '#2ca02c',
          r: 2.5,
          title: (p: HistoryPoint) => `step ${p.step}: ${(100 * p.accuracy!).toFixed(2)}%`,
        }),
        Plot.text(withAccuracy.slice(-1), {
          x: 'step',
          y: 'accuracy',
          text: (p: HistoryPoint) => `${(100 * p.accuracy!).toFixed(2)}%`,
          dx: -4,
          dy: 14,
          textAnchor: 'end',
          fill: '#2ca02c',
          fontWeight: 'bold',
        }),
      ]),
    );
  }
  const svg = stack(document, panels, { title: options.title, subtitle: options.subtitle });
  const last = points[points.length - 1];
  const lastLoss = lossPoints[lossPoints.length - 1];
  const lastAccuracy = withAccuracy[withAccuracy.length - 1];
  describeFigure(
    document,
    svg,
    options.title ?? 'loss curve',
    `Loss over steps ${points[0].step} to ${last.step}` +
      (lossPoints.length
        ? `: first ${describeNumber(lossPoints[0].loss)}, last ${describeNumber(lastLoss.loss)}.`
        : ': no finite loss.') +
      (lastAccuracy ? ` Accuracy at step ${lastAccuracy.step}: ${(100 * lastAccuracy.accuracy!).toFixed(2)}%.` : ''),
  );
  return svg;
}
