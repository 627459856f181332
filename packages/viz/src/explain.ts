// Explanation figures (issue 14): attributionMap (one image's signed attribution on the weights' diverging scale),
// attributionOverlay (the digit in grey under its attribution, translucent in proportion to |value|), weightDelta (the
// ΔW1 rows of the units that changed most, as tiles) and explanation (digit, overlay, probabilities, the top hidden
// units' contributions and an optional counterfactual, in one SVG). Each has a text alternative: aria-label and <desc>.

import * as Plot from '@observablehq/plot';
import { signedBars } from './bars.js';
import {
  divergingIndex,
  divergingLegend,
  divergingPalette,
  greyPalette,
  OVERLAY_INK,
  overlayPalette,
  symmetricExtent,
} from './color.js';
import { digitImage, greyIndex, type PixelOptions, pixelRange, squarePng, squareSide } from './digits.js';
import type { FigureOptions, FigureSvg } from './dom.js';
import { invalidInput, invalidOption } from './errors.js';
import {
  asSvg,
  beside,
  checkArray,
  checkClassNames,
  checkPositiveInteger,
  describeFigure,
  largest,
  resolveDocument,
  resolveWidth,
  squarePlot,
  stack,
} from './figure.js';
import { probabilityBars } from './metrics.js';
import { checkMaxAbs, warnNonFinite, weightTiles } from './weights.js';

/** A pixel of an attribution map: its value and position (row-major index, 0-based row and column). */
export interface PixelValue {
  value: number;
  index: number;
  row: number;
  column: number;
}

export interface AttributionSummary {
  side: number;
  /** The most positive and the most negative finite value (the first in row-major order on ties). */
  max: PixelValue;
  min: PixelValue;
  /** Sum of the positive values and sum of the negative values. */
  positive: number;
  negative: number;
  /** NaN and ±Infinity values (drawn black). */
  nonFinite: number;
}

/** The numbers the figures' text alternatives quote: extremes with their positions, and the signed sums. */
export function attributionSummary(attribution: ArrayLike<number>, side?: number): AttributionSummary {
  checkArray('attribution', attribution);
  const n = squareSide('attribution', attribution, side);
  const at = (index: number): PixelValue =>
    index < 0
      ? { value: Number.NaN, index, row: -1, column: -1 }
      : { value: attribution[index], index, row: Math.floor(index / n), column: index % n };
  let max = -1;
  let min = -1;
  let positive = 0;
  let negative = 0;
  let nonFinite = 0;
  for (let i = 0; i < attribution.length; i++) {
    const v = attribution[i];
    if (!Number.isFinite(v)) {
      nonFinite++;
      continue;
    }
    if (max < 0 || v > attribution[max]) max = i;
    if (min < 0 || v < attribution[min]) min = i;
    if (v > 0) positive += v;
    else negative += v;
  }
  return { side: n, max: at(max), min: at(min), positive, negative, nonFinite };
}

/** A signed number with 3 significant digits, for the text alternatives. */
function signed(value: number): string {
  return `${value > 0 ? '+' : ''}${+value.toPrecision(3)}`;
}

function describeAttribution(summary: AttributionSummary, maxAbs: number): string {
  const { side, max, min } = summary;
  const where = (p: PixelValue) => `${signed(p.value)} at row ${p.row}, column ${p.column}`;
  return [
    `A ${side}x${side} attribution map on a diverging scale centred on 0 (red positive, blue negative, ` +
      `colour limit ±${+maxAbs.toPrecision(3)})`,
    max.index < 0 ? 'No finite values' : `Most positive ${where(max)}; most negative ${where(min)}`,
    `Positive sum ${signed(summary.positive)}, negative sum ${signed(summary.negative)}` +
      (summary.nonFinite ? `; ${summary.nonFinite} non-finite values drawn black` : ''),
  ]
    .map((sentence) => `${sentence}.`)
    .join(' ');
}

export interface AttributionMapOptions extends FigureOptions {
  /** Image side (default sqrt(length), 28 for 784). */
  side?: number;
  /**
   * Fix the colour domain to [-maxAbs, maxAbs] (e.g. to compare maps). Default: max |value| (the rule of the weight
   * figures: the 99.5th percentile of |value| from 1000 values on).
   */
  maxAbs?: number;
  /** Colour legend label; default "attribution". */
  label?: string;
}

export interface AttributionOverlayOptions extends AttributionMapOptions, PixelOptions {
  /** Opacity of the attribution at ±maxAbs, in (0, 1]; it fades linearly to transparent at 0. Default 0.8. */
  opacity?: number;
}

interface AttributionPanel {
  svg: SVGSVGElement;
  summary: AttributionSummary;
  maxAbs: number;
}

/** Legend and square image of an attribution, over the digit when `pixels` is given; no title, no text alternative. */
function attributionPanel(
  figure: string,
  document: Document,
  attribution: ArrayLike<number>,
  pixels: ArrayLike<number> | undefined,
  size: number,
  options: AttributionOverlayOptions,
): AttributionPanel {
  checkArray('attribution', attribution);
  const side = squareSide('attribution', attribution, options.side);
  checkMaxAbs(options.maxAbs);
  const opacity = options.opacity ?? 0.8;
  if (!(Number.isFinite(opacity) && opacity > 0 && opacity <= 1))
    throw invalidOption(`invalid opacity: ${opacity} (expected a number in (0, 1])`);
  const extent = symmetricExtent(attribution);
  warnNonFinite(figure, extent.nonFinite);
  const maxAbs = options.maxAbs ?? extent.maxAbs;
  const index = (i: number) => divergingIndex(attribution[i], maxAbs);
  const sources: string[] = [];
  if (pixels) {
    checkArray('pixels', pixels);
    if (pixels.length !== attribution.length)
      throw invalidInput(
        `invalid attribution: expected ${pixels.length} values (one per pixel), got ${attribution.length}`,
      );
    sources.push(squarePng(side, greyIndex(pixels, pixelRange(pixels, options)), greyPalette(OVERLAY_INK)));
    sources.push(squarePng(side, index, overlayPalette(opacity)));
  } else sources.push(squarePng(side, index, divergingPalette()));
  const legend = divergingLegend(document, maxAbs, {
    label: options.label ?? 'attribution',
    width: size,
    max: extent.max,
  });
  const svg = stack(document, [{ svg: legend }, { svg: squarePlot(document, size, side, sources) }]);
  return { svg, summary: attributionSummary(attribution, side), maxAbs };
}

/**
 * One image's attribution (e.g. a saliency map: one signed value per pixel) on the diverging scale of the weight
 * figures: positive red, negative blue, 0 white, symmetric domain [-maxAbs, maxAbs]; `width` is the drawn size
 * (default 240).
 */
export function attributionMap(attribution: ArrayLike<number>, options: AttributionMapOptions = {}): FigureSvg {
  const document = resolveDocument(options);
  const size = resolveWidth(options, 240);
  const panel = attributionPanel('attributionMap', document, attribution, undefined, size, options);
  const svg = stack(document, [{ svg: panel.svg }], { title: options.title, subtitle: options.subtitle });
  describeFigure(document, svg, options.title ?? 'attribution map', describeAttribution(panel.summary, panel.maxAbs));
  return svg;
}

/**
 * The digit in grey (full ink drawn OVERLAY_INK, a mid grey) with its attribution over it: the diverging colours, each
 * pixel's opacity proportional to |value| / maxAbs (0 transparent, so the digit shows through where nothing is
 * attributed).
 */
export function attributionOverlay(
  pixels: ArrayLike<number>,
  attribution: ArrayLike<number>,
  options: AttributionOverlayOptions = {},
): FigureSvg {
  checkArray('pixels', pixels);
  const document = resolveDocument(options);
  const size = resolveWidth(options, 240);
  const panel = attributionPanel('attributionOverlay', document, attribution, pixels, size, options);
  const svg = stack(document, [{ svg: panel.svg }], { title: options.title, subtitle: options.subtitle });
  describeFigure(
    document,
    svg,
    options.title ?? 'attribution over the digit',
    `The digit in grey under its attribution, translucent where small. ${describeAttribution(panel.summary, panel.maxAbs)}`,
  );
  return svg;
}

export interface UnitChange {
  unit: number;
  /** L2 norm of the unit's row of the change. */
  norm: number;
}

/**
 * The units (rows of an out x in change, e.g. ΔW1 = W1 after - W1 before) whose weights changed, largest L2 norm
 * first (the lower unit first on ties), at most `top` of them.
 */
export function changedUnits(
  delta: ArrayLike<number>,
  options: { out: number; in?: number; top?: number },
): UnitChange[] {
  checkArray('delta', delta);
  const out = checkPositiveInteger('out', options.out);
  const inputs = checkPositiveInteger('in', options.in ?? 784);
  const top = options.top === undefined ? out : checkPositiveInteger('top', options.top);
  if (delta.length !== out * inputs)
    throw invalidInput(`invalid delta: expected out*in = ${out * inputs} values, got ${delta.length}`);
  const changes: UnitChange[] = [];
  for (let unit = 0; unit < out; unit++) {
    let sum = 0;
    for (let i = unit * inputs; i < (unit + 1) * inputs; i++) sum += delta[i] * delta[i];
    if (sum > 0 || Number.isNaN(sum)) changes.push({ unit, norm: Math.sqrt(sum) });
  }
  changes.sort((a, b) => b.norm - a.norm || a.unit - b.unit);
  return changes.slice(0, top);
}

export interface WeightDeltaOptions extends FigureOptions {
  /** Units (rows of ΔW1, PyTorch layout out x in). */
  out: number;
  /** Inputs per unit (a square number); default 784. */
  in?: number;
  /** Show these units, in this order; default the `top` units with the largest change (changedUnits). */
  units?: number[];
  /** How many units to show by default; 8. */
  top?: number;
  /** Tiles per row; default all in one row up to 8. */
  columns?: number;
  /** Fix the colour domain to [-maxAbs, maxAbs]; default as weightTiles over the shown rows. */
  maxAbs?: number;
  /** Colour legend label; default "ΔW1". */
  label?: string;
}

/**
 * A weight change (e.g. ΔW1 = -lr * gradient after one SGD step on one example) as the touched units' 28x28 tiles on
 * the diverging scale: red where a weight grew, blue where it shrank; each tile labelled with its unit.
 */
export function weightDelta(delta: ArrayLike<number>, options: WeightDeltaOptions): FigureSvg {
  if (!options) throw invalidOption('weightDelta: missing options (expected { out, in?: 784 })');
  const top = checkPositiveInteger('top', options.top ?? 8);
  const changed = changedUnits(delta, { out: options.out, in: options.in });
  const out = options.out;
  const units = options.units ?? changed.slice(0, top).map((c) => c.unit);
  const none = units.length === 0;
  const shown = none ? [0] : units;
  const subtitle =
    options.subtitle ??
    (none
      ? `no weight changed (all ${out} rows are 0)`
      : options.units
        ? `${changed.length} of ${out} units changed · red: weight grew, blue: shrank`
        : `${changed.length} of ${out} units changed · the ${shown.length} largest changes (L2 norm of the row), largest first · red: weight grew, blue: shrank`);
  const svg = weightTiles(delta, {
    out,
    in: options.in,
    units: shown,
    columns: options.columns,
    maxAbs: options.maxAbs,
    label: options.label ?? 'ΔW1',
    document: options.document,
    width: options.width,
    title: options.title,
    subtitle,
  });
  const norms = new Map(changed.map((c) => [c.unit, c.norm]));
  const list = shown.map((u) => `#${u} (${+(norms.get(u) ?? 0).toPrecision(3)})`).join(', ');
  describeFigure(
    resolveDocument(options),
    svg as SVGSVGElement,
    options.title ?? 'weight change',
    `Weight change of ${shown.length} unit${shown.length === 1 ? '' : 's'} as tiles on a diverging scale centred on 0 ` +
      `(red: weight grew, blue: shrank). ${changed.length} of ${out} units changed; shown, with the L2 norm of ` +
      `their change: ${list}.`,
  );
  return svg;
}

export interface ExplanationReport {
  /** The input image (one value per pixel; `range` as digitImage). */
  pixels: ArrayLike<number>;
  /** Its attribution for `target`, one signed value per pixel. */
  attribution: ArrayLike<number>;
  /** The class explained. */
  target: number;
  /** The input's class probabilities (softmax outputs); the prediction is the largest. */
  probabilities?: ArrayLike<number>;
  /** Hidden units and their contributions to the target's score (e.g. a[j] * W2[target, j]), in the order given. */
  units?: { unit: number; contribution: number }[];
  /** The changed image (e.g. one FGSM step) and its class probabilities. */
  counterfactual?: { pixels: ArrayLike<number>; probabilities: ArrayLike<number> };
}

export interface ExplanationOptions extends FigureOptions, PixelOptions {
  /** The attribution method's name, in the overlay's caption; default "attribution". */
  method?: string;
  /** Class names; default "0".."9". */
  classNames?: string[];
  /** Fix the attribution's colour domain to [-maxAbs, maxAbs]; default max |attribution|. */
  maxAbs?: number;
  /** Overlay opacity at ±maxAbs; default 0.8. */
  opacity?: number;
}

/** A bold one-line caption above a panel, as a Plot (so Plot's scoped style applies to it). */
function caption(document: Document, text: string, width: number): SVGSVGElement {
  return asSvg(
    Plot.plot({
      document,
      width,
      height: 20,
      margin: 0,
      marks: [Plot.text([text], { frameAnchor: 'left', dx: 2, fontWeight: 'bold', fontSize: 12 })],
    }),
  );
}

function captioned(document: Document, text: string, svg: SVGSVGElement): SVGSVGElement {
  return stack(document, [{ svg: caption(document, text, Number(svg.getAttribute('width'))) }, { svg }]);
}

const percent = (p: number) => `${(100 * p).toFixed(0)}%`;

/**
 * One explanation in one SVG: the input digit, the attribution over it, the input's probabilities, the hidden units'
 * contributions to the target as signed bars and, optionally, the counterfactual image with its probabilities.
 */
export function explanation(report: ExplanationReport, options: ExplanationOptions = {}): FigureSvg {
  if (!report || typeof report !== 'object')
    throw invalidInput(
      'invalid report: expected { pixels, attribution, target, probabilities?, units?, counterfactual? }',
    );
  const { pixels, attribution, target, probabilities, units, counterfactual } = report;
  checkArray('pixels', pixels);
  checkArray('attribution', attribution);
  const classes = probabilities?.length ?? options.classNames?.length ?? 10;
  const names = checkClassNames(classes, options.classNames);
  if (!(Number.isInteger(target) && target >= 0 && target < classes))
    throw invalidInput(`invalid target: ${target} (expected an integer in [0, ${classes}))`);
  if (counterfactual && counterfactual.pixels?.length !== pixels.length)
    throw invalidInput(
      `invalid counterfactual: expected ${pixels.length} pixels (as the input), got ${counterfactual.pixels?.length}`,
    );
  const document = resolveDocument(options);
  const width = resolveWidth(options, 600);
  const method = options.method ?? 'attribution';
  const digitSize = 120;
  const overlaySize = 180;
  const gap = 16;
  const barsWidth = Math.max(160, width - digitSize - overlaySize - 2 * gap);
  const range = options.range;
  const description: string[] = [];

  const digit = digitImage(pixels, { document, width: digitSize, range }) as SVGSVGElement;
  const overlay = attributionPanel('explanation', document, attribution, pixels, overlaySize, options);
  const first = [
    captioned(document, 'input', digit),
    captioned(document, `${method} for ${names[target]}`, overlay.svg),
  ];
  let subtitle = `${method} for class ${names[target]}`;
  if (probabilities) {
    const predicted = largest(probabilities);
    const bars = probabilityBars(probabilities, {
      document,
      width: barsWidth,
      height: 200,
      classNames: options.classNames,
    }) as SVGSVGElement;
    first.push(captioned(document, 'probabilities', bars));
    subtitle = `predicted ${names[predicted]} (${percent(probabilities[predicted])}) · ${subtitle}`;
    description.push(`The network predicts ${names[predicted]} (${percent(probabilities[predicted])}).`);
  }
  description.push(
    `${method[0].toUpperCase()}${method.slice(1)} for class ${names[target]} over the input digit (grey).`,
    describeAttribution(overlay.summary, overlay.maxAbs),
  );
  const rows: SVGSVGElement[] = [beside(document, first, gap)];
  const rowWidth = Number(rows[0].getAttribute('width'));
  if (units?.length) {
    const bars = signedBars(
      units.map((u) => u.contribution),
      {
        document,
        width: rowWidth,
        horizontal: true,
        names: units.map((u) => `#${u.unit}`),
        label: `contribution to ${names[target]}`,
      },
    ) as SVGSVGElement;
    rows.push(captioned(document, 'hidden units', bars));
    description.push(
      `Hidden units and their contributions to ${names[target]}: ` +
        `${units.map((u) => `#${u.unit} ${signed(u.contribution)}`).join(', ')}.`,
    );
  }
  if (counterfactual) {
    const predicted = largest(counterfactual.probabilities);
    const text = `counterfactual: predicted ${names[predicted]} (${percent(counterfactual.probabilities[predicted])})`;
    const image = digitImage(counterfactual.pixels, { document, width: digitSize, range }) as SVGSVGElement;
    const bars = probabilityBars(counterfactual.probabilities, {
      document,
      width: barsWidth,
      height: 160,
      classNames: options.classNames,
    }) as SVGSVGElement;
    rows.push(captioned(document, text, beside(document, [image, bars], gap)));
    description.push(
      `The changed image is predicted ${names[predicted]} (${percent(counterfactual.probabilities[predicted])}).`,
    );
  }
  const svg = stack(
    document,
    rows.map((row, i) => ({ svg: i === 0 ? row : spaced(document, row) })),
    { title: options.title, subtitle: options.subtitle ?? subtitle },
  );
  describeFigure(document, svg, options.title ?? `explanation of class ${names[target]}`, description.join(' '));
  return svg;
}

/** The row with 10 px of space above it. */
function spaced(document: Document, row: SVGSVGElement): SVGSVGElement {
  const spacer = asSvg(
    Plot.plot({ document, width: Number(row.getAttribute('width')), height: 10, margin: 0, marks: [] }),
  );
  return stack(document, [{ svg: spacer }, { svg: row }]);
}
