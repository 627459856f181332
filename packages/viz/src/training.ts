// trainingCurves: a training run as the training driver reports it, in up to three panels sharing the step axis:
// loss (train per step, smoothed, and per epoch; validation per epoch), accuracy (train, validation and test per
// epoch; train per step when given) and the learning rate per step. Epoch boundaries are grey rules.

import * as Plot from '@observablehq/plot';
import { invalidInput, warn } from './errors.js';
import type { FigureOptions, FigureSvg } from './dom.js';
import { asSvg, checkHeight, describeFigure, resolveDocument, resolveWidth, stack, type Panel } from './figure.js';
import { ACCENT_COLOR, ACCENT_LIGHT_COLOR } from './color.js';

/** One point per training step (or the mean of the steps since the previous point). */
export interface TrainingStepPoint {
  /** Steps since the start of the run. */
  step: number;
  loss: number;
  /** Training accuracy of the step's batch(es), 0..1. */
  accuracy?: number;
  /** The learning rate the step used. */
  lr?: number;
  epoch?: number;
}

export interface TrainingMeasure {
  loss: number;
  /** 0..1 */
  accuracy: number;
}

/** One point per completed epoch, at the step it ended. */
export interface TrainingEpochPoint {
  step: number;
  epoch: number;
  train?: TrainingMeasure | null;
  validation?: TrainingMeasure | null;
  test?: TrainingMeasure | null;
}

export interface TrainingRun {
  steps: TrainingStepPoint[];
  epochs?: TrainingEpochPoint[];
}

export interface TrainingCurvesOptions extends FigureOptions {
  /** Height of each panel; default 150. */
  panelHeight?: number;
}

/** The series, their colours and the class names of their marks (`g.validation-accuracy circle` finds the points). */
const SERIES = {
  train: ACCENT_COLOR,
  validation: '#e6550d',
  test: '#2ca02c',
  lr: '#756bb1',
} as const;

type Series = 'train' | 'validation' | 'test';

const pct = (p: number) => `${(100 * p).toFixed(2)}%`;
const format = (what: 'loss' | 'accuracy', v: number) => (what === 'accuracy' ? pct(v) : v.toFixed(4));

function check(run: TrainingRun): void {
  if (!run || !Array.isArray(run.steps))
    throw invalidInput(`invalid run: expected { steps: [{ step, loss }], epochs? }, got ${typeof run}`);
  const epochs = run.epochs ?? [];
  if (!Array.isArray(epochs)) throw invalidInput(`invalid run.epochs: expected an array, got ${typeof epochs}`);
  if (run.steps.length === 0 && epochs.length === 0)
    throw invalidInput('invalid run: no steps and no epochs (expected at least one point)');
  run.steps.forEach((p, i) => {
    if (!(p && Number.isFinite(p.step))) throw invalidInput(`invalid steps[${i}].step: ${p?.step}`);
    if (typeof p.loss !== 'number') throw invalidInput(`invalid steps[${i}].loss: ${p.loss} (expected a number)`);
    if (p.accuracy !== undefined && !(p.accuracy >= 0 && p.accuracy <= 1))
      throw invalidInput(`invalid steps[${i}].accuracy: ${p.accuracy} (expected 0..1)`);
  });
  epochs.forEach((p, i) => {
    if (!(p && Number.isFinite(p.step) && Number.isFinite(p.epoch)))
      throw invalidInput(`invalid epochs[${i}]: expected finite step and epoch`);
    for (const s of ['train', 'validation', 'test'] as const) {
      const m = p[s];
      if (m && !(m.accuracy >= 0 && m.accuracy <= 1))
        throw invalidInput(`invalid epochs[${i}].${s}.accuracy: ${m.accuracy} (expected 0..1)`);
    }
  });
}

/**
 * A training run in up to three panels: loss, accuracy and learning rate over steps. Train loss per step is a thin
 * line with a moving average; per-epoch values (train, validation, test) are dots joined by lines, each series in its
 * own colour with its last value written beside it. The figure's title and description (role="img") state the last
 * epoch's numbers.
 */
export function trainingCurves(run: TrainingRun, options: TrainingCurvesOptions = {}): FigureSvg {
  check(run);
  const document = resolveDocument(options);
  const width = resolveWidth(options, 640);
  const panelHeight = checkHeight('panelHeight', options.panelHeight ?? 150);
  const steps = [...run.steps].sort((a, b) => a.step - b.step);
  const epochs = [...(run.epochs ?? [])].sort((a, b) => a.step - b.step);
  const all = [...steps.map((p) => p.step), ...epochs.map((p) => p.step)];
  const domain: [number, number] = [Math.min(0, ...all), Math.max(...all)];
  if (domain[0] === domain[1]) domain[1] = domain[0] + 1;
  const lossSteps = steps.filter((p) => Number.isFinite(p.loss));
  if (lossSteps.length < steps.length)
    warn(`trainingCurves: ${steps.length - lossSteps.length} non-finite losses not drawn`);
  const window = Math.max(1, Math.round(lossSteps.length / 25));
  const boundaries = epochs.slice(0, -1);

  const perEpoch = (series: Series, what: keyof TrainingMeasure) =>
    epochs.flatMap((p) => {
      const m = p[series];
      return m && Number.isFinite(m[what]) ? [{ step: p.step, epoch: p.epoch, value: m[what] }] : [];
    });
  type EpochValue = ReturnType<typeof perEpoch>[number];
  /** dots joined by a line */
  const epochSeries = (series: Series, what: keyof TrainingMeasure) => {
    const values = perEpoch(series, what);
    if (!values.length) return [];
    return [
      Plot.lineY(values, { x: 'step', y: 'value', stroke: SERIES[series], strokeWidth: 1.5 }),
      Plot.dot(values, {
        x: 'step',
        y: 'value',
        fill: SERIES[series],
        r: 3,
        className: `${series}-${what}`,
        title: (p: EpochValue) => `epoch ${p.epoch}, ${series} ${what} ${format(what, p.value)}`,
      }),
    ];
  };
  /** The panel's legend, top right: each series' name and latest value in its colour (text widths estimated). */
  const legend = (items: Array<{ name: keyof typeof SERIES; text: string }>) => {
    let right = 0;
    return items.reverse().map(({ name, text }) => {
      const mark = Plot.text([text], {
        text: (d: string) => d,
        frameAnchor: 'top-right',
        textAnchor: 'end',
        dx: -right,
        dy: -12,
        fill: SERIES[name],
        fontWeight: 'bold',
      });
      right += Math.ceil(text.length * 0.62 * 10) + 12;
      return mark;
    });
  };
  /** The latest value of a series: the last epoch's, else (train only) the last step point's. */
  const latest = (series: Series, what: keyof TrainingMeasure) => {
    const v = perEpoch(series, what).at(-1)?.value;
    const fromSteps =
      series === 'train' ? steps.filter((p) => Number.isFinite(p[what] ?? NaN)).at(-1)?.[what] : undefined;
    const value = v ?? fromSteps;
    return value === undefined ? [] : [{ name: series, text: `${series} ${format(what, value)}` }];
  };
  const rules = [Plot.ruleX(boundaries, { x: 'step', stroke: '#bbb', strokeDasharray: '2,3' })];
  const panel = (y: Plot.ScaleOptions, marks: Plot.Markish[], xLabel: string | null): Panel => ({
    svg: asSvg(
      Plot.plot({
        document,
        width,
        height: panelHeight,
        marginLeft: 54,
        marginTop: 20,
        x: { domain, label: xLabel, labelAnchor: 'right' },
        y,
        marks,
      }),
    ),
  });

  const hasLr = steps.some((p) => p.lr !== undefined && Number.isFinite(p.lr));
  const stepAccuracy = steps.filter((p) => p.accuracy !== undefined);
  const hasAccuracy = stepAccuracy.length > 0 || epochs.some((p) => p.train || p.validation || p.test);
  const panels: Panel[] = [];
  // the step axis is labelled under the bottom panel only
  const bottom = hasLr ? 'lr' : hasAccuracy ? 'accuracy' : 'loss';
  const last = (name: 'loss' | 'accuracy' | 'lr') => name === bottom;
  panels.push(
    panel(
      { type: 'linear', label: 'loss', grid: true, zero: true },
      [
        ...rules,
        Plot.lineY(lossSteps, {
          x: 'step',
          y: 'loss',
          stroke: window > 1 ? ACCENT_LIGHT_COLOR : SERIES.train,
          strokeWidth: 1,
          className: 'train-loss-steps',
        }),
        window > 1
          ? Plot.lineY(
              lossSteps,
              Plot.windowY(
                { k: window, anchor: 'middle' },
                { x: 'step', y: 'loss', stroke: SERIES.train, strokeWidth: 1.5 },
              ),
            )
          : null,
        ...epochSeries('train', 'loss'),
        ...epochSeries('validation', 'loss'),
        ...legend([...latest('train', 'loss'), ...latest('validation', 'loss')]),
      ],
      last('loss') ? 'step' : null,
    ),
  );
  if (hasAccuracy) {
    const accWindow = Math.max(1, Math.round(stepAccuracy.length / 25));
    panels.push(
      panel(
        { label: 'accuracy (%)', percent: true, grid: true, nice: true },
        [
          ...rules,
          stepAccuracy.length
            ? Plot.lineY(
                stepAccuracy,
                Plot.windowY(
                  { k: accWindow, anchor: 'middle' },
                  {
                    x: 'step',
                    y: 'accuracy',
                    stroke: ACCENT_LIGHT_COLOR,
                    strokeWidth: 1,
                    className: 'train-accuracy-steps',
                  },
                ),
              )
            : null,
          ...epochSeries('train', 'accuracy'),
          ...epochSeries('validation', 'accuracy'),
          ...epochSeries('test', 'accuracy'),
          ...legend([
            ...latest('train', 'accuracy'),
            ...latest('validation', 'accuracy'),
            ...latest('test', 'accuracy'),
          ]),
        ],
        last('accuracy') ? 'step' : null,
      ),
    );
  }
  if (hasLr) {
    const lrs = steps.filter((p) => p.lr !== undefined && Number.isFinite(p.lr));
    panels.push(
      panel(
        {
          type: 'linear',
          label: 'learning rate',
          grid: true,
          zero: true,
          tickFormat: (d: number) => String(+d.toPrecision(2)),
        },
        [
          ...rules,
          Plot.lineY(lrs, {
            x: 'step',
            y: 'lr',
            stroke: SERIES.lr,
            strokeWidth: 1.5,
            curve: 'step-after',
            className: 'lr',
          }),
          ...legend([{ name: 'lr', text: `lr ${+lrs.at(-1)!.lr!.toPrecision(3)}` }]),
        ],
        'step',
      ),
    );
  }
  const svg = stack(document, panels, { title: options.title, subtitle: options.subtitle });
  describeFigure(document, svg, options.title ?? 'Training curves', describe(steps, epochs));
  return svg;
}

/** The figure in words: the run's length and the last epoch's numbers. */
function describe(steps: TrainingStepPoint[], epochs: TrainingEpochPoint[]): string {
  const parts: string[] = [];
  const lastStep = steps.at(-1);
  if (lastStep)
    parts.push(`${steps.length} step points up to step ${lastStep.step}, last train loss ${lastStep.loss.toFixed(4)}`);
  const e = epochs.at(-1);
  if (e) {
    const m = (name: Series) => {
      const v = e[name];
      return v ? `${name} loss ${v.loss.toFixed(4)} accuracy ${pct(v.accuracy)}` : null;
    };
    parts.push(`epoch ${e.epoch}: ${[m('train'), m('validation'), m('test')].filter(Boolean).join(', ')}`);
  }
  const lr = steps.filter((p) => p.lr !== undefined).at(-1)?.lr;
  if (lr !== undefined) parts.push(`learning rate ${+lr.toPrecision(3)}`);
  return parts.join('; ');
}
